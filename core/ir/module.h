// Spike IR module: a list of ops in SSA form over typed values.
#pragma once

#include "ir/attributes.h"
#include "ir/ops.h"
#include "ir/tensor.h"
#include "ir/types.h"
#include "util/diagnostics.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace stc::ir {

using ValueId = int32_t;
constexpr ValueId kNoValue = -1;

struct Value {
    std::string name; // unique within the module, printed as %name
    Type type;
    int32_t def = -1; // index of the defining op
    friend bool operator==(const Value&, const Value&) = default;
};

class CustomOpDef;

struct Op {
    OpKind kind = OpKind::Const;
    std::vector<ValueId> operands;
    ValueId result = kNoValue;
    Attributes attrs;
    TensorPtr constant;  // Const ops only
    std::string origin;  // model-level location (module path, torch source range), printed as loc("...")
    SourceLoc textLoc;   // where the op was parsed from; not part of equality
    std::shared_ptr<const CustomOpDef> custom; // OpKind::Custom only: its definition (compared by name)

    bool sameAs(const Op& other) const; // equality ignoring textLoc, constants compared by content
};

// An op's schema and name: its custom definition's for a custom op (the
// generic "custom" entry when it has none), else the built-in op table's.
// `op.kind` must be a valid OpKind.
const OpDef& opDefOf(const Op& op);
std::string_view opName(const Op& op);
// Result type and attribute value checks, dispatching to the custom definition.
InferResult inferOpType(const Op& op, const std::vector<Type>& operands);
std::string checkOpAttributes(const Op& op);

class Module {
public:
    std::string name = "main";
    int64_t timesteps = 1;
    Attributes attrs; // module attributes besides timesteps (e.g. source file, input range)

    const std::vector<Value>& values() const { return values_; }
    const std::vector<Op>& ops() const { return ops_; }
    std::vector<Op>& mutableOps() { return ops_; }
    const Value& value(ValueId id) const { return values_[static_cast<size_t>(id)]; }
    const Type& typeOf(ValueId id) const { return values_[static_cast<size_t>(id)].type; }
    const Op& definingOp(ValueId id) const { return ops_[static_cast<size_t>(values_[static_cast<size_t>(id)].def)]; }

    // Appends an op; creates its result value with `type` (unless the op has
    // no result). An empty name gets a fresh numeric name.
    ValueId append(Op op, Type type, std::string resultName = {});
    ValueId addConst(Tensor t, std::string name = {}, std::string origin = {});
    ValueId addInput(Type type, std::string name = {});
    void addOutput(std::vector<ValueId> values);

    // Appends an op whose result type is inferred; on failure returns
    // kNoValue and stores the reason in `error`.
    ValueId build(OpKind kind, std::vector<ValueId> operands, Attributes attrs, std::string origin,
                  std::string resultName, std::string* error);
    // The same for a custom op with definition `def`.
    ValueId buildCustom(std::shared_ptr<const CustomOpDef> def, std::vector<ValueId> operands, Attributes attrs,
                        std::string origin, std::string resultName, std::string* error);

    ValueId findValue(const std::string& name) const; // kNoValue if absent
    std::string freshName(const std::string& base) const;
    void setValueType(ValueId id, Type t) { values_[static_cast<size_t>(id)].type = std::move(t); }
    void renameValue(ValueId id, std::string name);

    std::vector<ValueId> inputs() const;
    std::vector<ValueId> outputs() const; // operands of the output op(s)
    // users[v] = indices of ops using value v.
    std::vector<std::vector<int32_t>> computeUsers() const;

    bool sameAs(const Module& other) const; // exact structural equality, weights included

private:
    std::vector<Value> values_;
    std::vector<Op> ops_;
    // Derived lookup state (not part of equality): name -> value, and the
    // next candidate for fresh numeric names, so building large modules stays linear.
    std::unordered_map<std::string, ValueId> nameIndex_;
    mutable size_t nextFresh_ = 0;
};

// Counts for reports: parameters (constant elements), spiking neurons per step.
int64_t parameterCount(const Module& m);
int64_t neuronCount(const Module& m);

} // namespace stc::ir

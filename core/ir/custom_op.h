// Custom ops: ops the built-in op set does not have, defined outside core
// (by custom-op plugins, org.stc.CustomOps/1) and written in the IR text by
// their registered name ("custom.sdt_mask_add"). A CustomOpDef supplies what
// core needs to treat the op like a built-in one:
//   - its schema (operand counts, attribute specs) and type inference, used by
//     the verifier, which reports problems at the op as for built-in ops;
//   - a reference f32 implementation, which the interpreter runs;
//   - optionally a lowering into built-in ops (pass `lower-custom`), after
//     which quantization, mapping and the chip simulator see built-in ops only.
// An ir::Op of kind OpKind::Custom holds its definition (Op::custom), so once
// a module is parsed or built nothing downstream needs the registry.
// Docs: docs/custom-ops.md.
#pragma once

#include "ir/module.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stc::ir {

// One operand of a reference kernel call: sample b of the operand starts at
// data + b * stride (stride 0: every sample sees the same data, e.g. a value
// computed from constants only).
struct KernelInput {
    const float* data = nullptr;
    int64_t stride = 0;
    const float* at(int64_t b) const { return data + b * stride; }
};

// What a reference kernel is created for: one op in one interpreter run.
struct KernelSetup {
    std::vector<Type> operands;
    Type result;
    const Attributes* attrs = nullptr;
    int64_t timesteps = 1; // the module's T
};

// The reference (f32) implementation of one custom op instance during one
// interpreter run; it may keep state across time steps (a neuron inside the op).
// A fresh kernel is created for every run, so every inference starts from
// fresh state.
class CustomKernel {
public:
    virtual ~CustomKernel() = default;
    // Called once per time step t = 0..T-1 when the result is per-step, once
    // with t = -1 when it is time-invariant. inputs[k] holds operand k (its
    // values for step t when it is per-step); out has batch samples of the
    // result's numElements() floats, row-major.
    virtual void step(int t, int64_t batch, const std::vector<KernelInput>& inputs, float* out) = 0;
};

// What a lowering builds with: new built-in ops appended to the module being
// rewritten (the values are that module's).
class LoweringBuilder {
public:
    virtual ~LoweringBuilder() = default;
    virtual const Type& typeOf(ValueId v) const = 0;
    // Appends an op with an inferred result type; kNoValue and `error` set
    // when the type cannot be inferred.
    virtual ValueId build(OpKind kind, std::vector<ValueId> operands, Attributes attrs, const std::string& nameHint,
                          std::string* error) = 0;
    virtual ValueId constant(Tensor t, const std::string& nameHint) = 0;
};

class CustomOpDef {
public:
    // `name` is "<namespace>.<op>" (checkCustomOpName); maxOperands -1 = variadic.
    CustomOpDef(std::string name, int minOperands, int maxOperands, std::vector<AttrSpec> attrs, std::string doc);
    virtual ~CustomOpDef() = default;
    CustomOpDef(const CustomOpDef&) = delete;
    CustomOpDef& operator=(const CustomOpDef&) = delete;

    const std::string& name() const { return name_; }
    const std::string& doc() const { return doc_; }
    // kind Custom, the registered name, operand counts, attribute specs (the
    // verifier checks kinds, required attributes and unknown names with it).
    const OpDef& schema() const { return schema_; }

    // Result type from the operand types (their count is already checked), or
    // an error saying what was expected.
    virtual InferResult inferType(const std::vector<Type>& operands, const Attributes& attrs) const = 0;
    // Value checks beyond kinds and presence; "" if fine.
    virtual std::string checkAttributes(const Attributes& attrs) const { return {}; }
    // The reference implementation for one run; nullptr and `error` set if it
    // cannot run this instance.
    virtual std::unique_ptr<CustomKernel> createKernel(const KernelSetup& setup, std::string* error) const = 0;
    // Lowering into built-in ops. `operands` are values of the module being
    // built; returns the value replacing the op's result (its type must equal
    // the op's result type), or kNoValue with `error` set.
    virtual bool hasLowering() const { return false; }
    virtual ValueId lower(LoweringBuilder& b, const std::vector<ValueId>& operands, const Attributes& attrs,
                          std::string* error) const;

private:
    std::string name_;
    std::string doc_;
    OpDef schema_;
};

// "" if `name` can name a custom op: "<namespace>.<op>", each part
// [A-Za-z_][A-Za-z0-9_]* (so it never collides with a built-in op name).
std::string checkCustomOpName(std::string_view name);

// The custom ops a parse can resolve, by name, with the plugin that provides
// each, and the ops plugins advertise in their metadata but could not provide
// (so a parse error can say which plugin would). Filled before parsing (the
// plugin host does it at load); const methods may then run concurrently.
class CustomOpRegistry {
public:
    struct Entry {
        std::shared_ptr<const CustomOpDef> def; // null for an unavailable op
        std::string provider;                   // plugin name (and file)
        std::string problem;                    // why an advertised op is unavailable
    };

    // "" or why the def is refused (bad name, name taken).
    std::string add(std::shared_ptr<const CustomOpDef> def, const std::string& provider);
    // An op named by a plugin that was refused or failed to load.
    void addUnavailable(const std::string& opName, const std::string& provider, const std::string& problem);

    std::shared_ptr<const CustomOpDef> find(std::string_view name) const;
    const std::map<std::string, Entry, std::less<>>& entries() const { return entries_; }
    // The parse error for an op name that does not resolve.
    std::string unknownOpMessage(std::string_view name) const;

private:
    std::map<std::string, Entry, std::less<>> entries_;
};

// The parse error for a custom op name when no registry was given.
std::string unknownCustomOpMessage(const CustomOpRegistry* registry, std::string_view name);

} // namespace stc::ir

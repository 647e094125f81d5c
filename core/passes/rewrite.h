// Helpers for passes that rewrite a module. Modules are SSA op lists in
// topological order; a pass builds a new module op by op (copying, replacing,
// inserting) through a Rewriter, which keeps value names stable so that the
// IDE's before/after diff lines up.
#pragma once

#include "ir/module.h"

#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

namespace stc::passes {

class Rewriter {
public:
    explicit Rewriter(const ir::Module& source);

    const ir::Module& source() const { return src_; }
    ir::Module& target() { return dst_; }

    // The new value standing for a source value (after copy or replace).
    ir::ValueId mapped(ir::ValueId sourceValue) const;
    bool isMapped(ir::ValueId sourceValue) const { return mapped(sourceValue) != ir::kNoValue; }
    void replace(ir::ValueId sourceValue, ir::ValueId newValue);

    // Copies source op `opIndex` with mapped operands, keeping its result name.
    // A delay's operand may be a back edge (defined later): it is filled in
    // when that value is mapped (copy or replace); finish() throws if it never is.
    ir::ValueId copy(int32_t opIndex);
    // Copies with other (new-module) operands and attributes; the result type
    // is inferred again. Keeps the name.
    ir::ValueId copyWith(int32_t opIndex, std::vector<ir::ValueId> newOperands, ir::Attributes attrs);
    // A new op on new-module operands; throws std::logic_error when the type
    // cannot be inferred (a pass bug).
    ir::ValueId build(ir::OpKind kind, std::vector<ir::ValueId> newOperands, ir::Attributes attrs,
                      const std::string& origin, const std::string& nameHint);
    // Builds a new op that replaces source value `replaced` under its name
    // (the source op must not be copied as well).
    ir::ValueId buildAs(ir::ValueId replaced, ir::OpKind kind, std::vector<ir::ValueId> newOperands,
                        ir::Attributes attrs, const std::string& origin);
    ir::ValueId constant(ir::Tensor t, const std::string& nameHint, const std::string& origin = {});

    // A name not used by any source or new value.
    std::string uniqueName(const std::string& hint);

    ir::Module finish(); // the rewritten module (the Rewriter is spent)

private:
    const ir::Module& src_;
    ir::Module dst_;
    std::vector<ir::ValueId> map_;
    std::unordered_set<std::string> used_;
    struct BackEdge {
        size_t op;            // index into dst_'s ops
        size_t operand;       // operand slot of that op
        ir::ValueId source;   // the source value it stands for
    };
    std::vector<BackEdge> backEdges_;
};

// Index of the first delay op in `m`, or -1. Passes that do not handle back
// edges refuse a module with one (PassInfo::handlesDelay).
int32_t firstDelayOp(const ir::Module& m);

// Removes ops whose results are not used (transitively) by the outputs.
// Inputs are kept; `mayRemove` restricts what may go (default: anything).
// Returns the number of ops removed.
int64_t removeDeadOps(ir::Module& m, const std::function<bool(const ir::Op&)>& mayRemove = {});

// Maps a per-channel axis of a view op's result (permute/reshape/flatten) back
// to its operand: the operand axis whose elements keep their channel index,
// or -1 if the view mixes that axis with others.
int64_t mapAxisThroughView(const ir::Module& m, const ir::Op& view, int64_t resultAxis);
bool isViewOp(ir::OpKind k);

// The single user op of value v, or -1 if it has zero or several users.
int32_t singleUser(const std::vector<std::vector<int32_t>>& users, ir::ValueId v);

// Whether f is a positive, finite power of two (scaling by it is exact in binary floating point).
bool isPowerOfTwo(double f);

// Constant tensor defined by value v, or nullptr if v is not a Const result.
const ir::Tensor* constantOf(const ir::Module& m, ir::ValueId v);

} // namespace stc::passes

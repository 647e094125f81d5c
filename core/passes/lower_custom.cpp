// lower-custom: every custom op (ir/custom_op.h) replaced by the built-in ops
// its definition's lowering builds, so quantization, mapping and the chip
// simulator see built-in ops only. The last value of a lowering takes the
// custom op's result name and must have exactly its type; a custom op without
// a lowering is an error at that op (it can still run in the interpreter).
#include "ir/custom_op.h"
#include "passes/builtin_passes.h"
#include "passes/rewrite.h"

namespace stc::passes {

namespace {

class RewriterBuilder final : public ir::LoweringBuilder {
public:
    RewriterBuilder(Rewriter& rw, std::string origin) : rw_(rw), origin_(std::move(origin)) {}
    const ir::Type& typeOf(ir::ValueId v) const override { return rw_.target().typeOf(v); }
    ir::ValueId build(ir::OpKind kind, std::vector<ir::ValueId> operands, ir::Attributes attrs,
                      const std::string& nameHint, std::string* error) override
    {
        if (kind == ir::OpKind::Custom || kind == ir::OpKind::Input || kind == ir::OpKind::Output ||
            kind == ir::OpKind::Const) {
            if (error)
                *error = "a lowering may only build computing built-in ops (use constant() for constants)";
            return ir::kNoValue;
        }
        const auto nvalues = static_cast<ir::ValueId>(rw_.target().values().size());
        for (ir::ValueId v : operands)
            if (v < 0 || v >= nvalues) {
                if (error)
                    *error = "operand #" + std::to_string(v) + " is not a value of the module being built";
                return ir::kNoValue;
            }
        return rw_.target().build(kind, std::move(operands), std::move(attrs), origin_, rw_.uniqueName(nameHint),
                                  error);
    }
    ir::ValueId constant(ir::Tensor t, const std::string& nameHint) override
    {
        return rw_.constant(std::move(t), nameHint, origin_);
    }

private:
    Rewriter& rw_;
    std::string origin_;
};

void runLowerCustom(ir::Module& m, PassRun& run)
{
    Rewriter rw(m);
    ir::Module& dst = rw.target();
    int64_t lowered = 0, failed = 0, added = 0;
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        run.checkCancelled();
        const ir::Op& op = m.ops()[size_t(i)];
        if (op.kind != ir::OpKind::Custom) {
            rw.copy(i);
            continue;
        }
        const std::string label = "%" + m.value(op.result).name + " = " + std::string(ir::opName(op));
        if (!op.custom || !op.custom->hasLowering()) {
            run.error(op.custom ? "custom op " + op.custom->name() + " has no lowering into built-in ops (it runs in "
                                      "the f32 interpreter only; its plugin would have to provide one)"
                                : "custom op without a definition",
                      label, op.origin);
            ++failed;
            rw.copy(i);
            continue;
        }
        std::vector<ir::ValueId> operands;
        for (ir::ValueId v : op.operands)
            operands.push_back(rw.mapped(v));
        const size_t before = dst.ops().size();
        RewriterBuilder builder(rw, op.origin);
        std::string error;
        const ir::ValueId r = op.custom->lower(builder, operands, op.attrs, &error);
        const ir::Type& declared = m.typeOf(op.result);
        if (r == ir::kNoValue || r < 0 || size_t(r) >= dst.values().size() || !(dst.typeOf(r) == declared)) {
            if (error.empty())
                error = r == ir::kNoValue || r < 0 || size_t(r) >= dst.values().size()
                            ? "the lowering returned no value"
                            : "the lowering produced " + ir::toString(dst.typeOf(r)) + ", the op's type is " +
                                  ir::toString(declared);
            run.error("lowering of " + op.custom->name() + " failed: " + error, label, op.origin);
            ++failed;
            return; // the module is partly rewritten; the runner restores the IR from before the pass
        }
        dst.renameValue(r, m.value(op.result).name);
        rw.replace(op.result, r);
        added += int64_t(dst.ops().size() - before);
        ++lowered;
    }
    run.stats().set("custom-ops-lowered", lowered);
    run.stats().set("ops-added", added);
    if (failed == 0)
        m = rw.finish();
}

} // namespace

PassDef makeLowerCustomPass()
{
    PassInfo info;
    info.name = "lower-custom";
    info.description = "custom ops (from custom-op plugins) -> the built-in ops their lowering builds";
    info.provides = {prop::kCustomLowered};
    return {std::move(info), runLowerCustom};
}

} // namespace stc::passes

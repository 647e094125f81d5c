// dce: removes ops whose results never reach the module outputs (unused
// values, and whole unused sub-graphs such as a training-only branch or the
// never-called LayerNorms of a Spikformer block, with their weights).
#include "passes/builtin_passes.h"
#include "passes/rewrite.h"

namespace stc::passes {

namespace {

void runDce(ir::Module& m, PassRun& run)
{
    const int64_t paramsBefore = ir::parameterCount(m);
    int64_t constsBefore = 0;
    for (const auto& op : m.ops())
        constsBefore += op.kind == ir::OpKind::Const;
    const int64_t removed = removeDeadOps(m);
    int64_t constsAfter = 0;
    for (const auto& op : m.ops())
        constsAfter += op.kind == ir::OpKind::Const;
    run.stats().set("ops-removed", removed);
    run.stats().set("constants-removed", constsBefore - constsAfter);
    run.stats().set("parameters-removed", paramsBefore - ir::parameterCount(m));
    for (ir::ValueId in : m.inputs()) {
        bool used = false;
        for (const auto& op : m.ops())
            for (ir::ValueId v : op.operands)
                used = used || v == in;
        if (!used)
            run.warning("input %" + m.value(in).name + " is unused (kept: it is part of the module signature)");
    }
}

} // namespace

PassDef makeDcePass()
{
    PassInfo info;
    info.name = "dce";
    info.handlesDelay = true;
    info.description = "remove ops and constants that do not contribute to the outputs";
    return {std::move(info), runDce};
}

} // namespace stc::passes

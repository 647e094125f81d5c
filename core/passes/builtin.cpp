// registerBuiltinPasses: the built-in passes and the IR properties their
// order constraints are stated in.
#include "passes/builtin_passes.h"
#include "passes/registry.h"

namespace stc::passes {

namespace {

bool noOpOfKind(const ir::Module& m, ir::OpKind k)
{
    for (const auto& op : m.ops())
        if (op.kind == k)
            return false;
    return true;
}

void registerBuiltinProperties(PassRegistry& r)
{
    r.registerProperty({prop::kBnFolded, "no batchnorm op is left",
                        [](const ir::Module& m) { return noOpOfKind(m, ir::OpKind::BatchNorm); }});
    r.registerProperty({prop::kAttentionLowered, "no matmul between two per-step values is left",
                        [](const ir::Module& m) {
                            for (const auto& op : m.ops())
                                if (op.kind == ir::OpKind::MatMul && m.typeOf(op.operands[0]).perStep() &&
                                    m.typeOf(op.operands[1]).perStep())
                                    return false;
                            return true;
                        }});
    r.registerProperty({prop::kCustomLowered, "no custom op (from a custom-op plugin) is left",
                        [](const ir::Module& m) { return noOpOfKind(m, ir::OpKind::Custom); }});
    r.registerProperty({prop::kFused, "neuron inputs fused (module attribute fused=true)",
                        [](const ir::Module& m) { return m.attrs.getBool("fused"); }});
    r.registerProperty({prop::kQuantized, "weights and neuron state in fixed point (module attribute quantized=true)",
                        [](const ir::Module& m) { return m.attrs.getBool("quantized"); }});
    r.registerProperty({prop::kTimeScheduled, "per-layer time-step offsets assigned",
                        [](const ir::Module& m) { return m.attrs.has("schedule.latency"); }});
    r.registerProperty({prop::kBuffersLaidOut, "spike buffer layout assigned",
                        [](const ir::Module& m) { return m.attrs.has("buffers.bytes"); }});
}

} // namespace

void registerBuiltinPasses(PassRegistry& r)
{
    registerBuiltinProperties(r);
    r.registerPass(makeFoldBnPass());
    r.registerPass(makeDcePass());
    r.registerPass(makeCanonicalizePass());
    r.registerPass(makePrunePass());
    r.registerPass(makeLowerAttentionPass());
    r.registerPass(makeReassociateMatmulPass());
    r.registerPass(makeLowerCustomPass());
    r.registerPass(makeFusePass());
    r.registerPass(makeQuantizePass());
    r.registerPass(makeScheduleTimePass());
    r.registerPass(makeLayoutBuffersPass());
    r.registerPass(makeSetTimestepsPass());
    r.registerPass(makeScaleThresholdsPass());
}

} // namespace stc::passes

// schedule-time: temporal spike scheduling. On the chip a spike crosses one
// synaptic layer per hardware step, so a neuron layer at depth d (neuron
// layers on the longest path from the input) handles time step t of a sample
// at hardware step t + d: all layers run concurrently, each on its own time
// step. Annotations: sched.offset (int) on every per-step op, sched.delay on an
// add whose operands arrive at different steps (the earlier operand waits in
// a delay buffer of that many steps, as in Spikformer's residuals).
//   mode=throughput: samples stream back to back, each layer resets at its own
//                    offset: a new sample every T steps (interval T), latency
//                    T + D - 1 for D neuron layers.
//   mode=latency:    one sample at a time (global reset between samples):
//                    same latency, interval T + D - 1, no per-layer resets.
// Statistics give both modes; module attributes schedule.latency/interval/mode
// record the chosen one.
// Delay ops (y[t] = x[t - k]): a delay of an earlier value arrives with it
// (the chip adds k to the synaptic delay); a back edge (the operand is
// defined later: a recurrent loop) constrains no offset: the chip aligns it
// with a synaptic delay of its own (target/network_rates.cpp).
#include "passes/builtin_passes.h"
#include "passes/rewrite.h"

#include <algorithm>

namespace stc::passes {

namespace {

using ir::OpKind;

void runScheduleTime(ir::Module& m, PassRun& run)
{
    const std::string mode = run.options().getString("mode");
    std::vector<int64_t> arrive(m.values().size(), 0); // step offset at which a value is available
    std::vector<char> backEdge(m.values().size(), 0);   // the result of a delay reading a later value
    int64_t depth = 0, delayBits = 0, delayed = 0, backEdges = 0;
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        ir::Op& op = m.mutableOps()[size_t(i)];
        op.attrs.erase("sched.offset");
        op.attrs.erase("sched.delay");
        if (op.result == ir::kNoValue || op.kind == OpKind::Const || op.kind == OpKind::Input)
            continue;
        if (op.kind == OpKind::Delay && m.value(op.operands[0]).def > i) {
            backEdge[size_t(op.result)] = 1;
            ++backEdges;
            continue;
        }
        int64_t lo = INT64_MAX, hi = 0;
        for (ir::ValueId v : op.operands) {
            if (!m.typeOf(v).perStep() || backEdge[size_t(v)])
                continue;
            lo = std::min(lo, arrive[size_t(v)]);
            hi = std::max(hi, arrive[size_t(v)]);
        }
        if (lo == INT64_MAX)
            lo = hi = 0;
        int64_t at = hi;
        if (op.kind == OpKind::Lif) {
            at = hi + 1; // one synaptic hop into this neuron layer
            depth = std::max(depth, at);
        }
        if (hi > lo) {
            op.attrs.set("sched.delay", hi - lo);
            ++delayed;
            for (ir::ValueId v : op.operands)
                if (m.typeOf(v).perStep() && !backEdge[size_t(v)] && arrive[size_t(v)] < hi) {
                    const ir::Type& t = m.typeOf(v);
                    const int64_t bits = t.elem == ir::ElemType::Spike ? 1 : 8;
                    delayBits += (hi - arrive[size_t(v)]) * t.numElements() * bits;
                }
        }
        arrive[size_t(op.result)] = at;
        if (m.typeOf(op.result).perStep())
            op.attrs.set("sched.offset", at);
    }
    const int64_t T = m.timesteps;
    const int64_t latency = T + std::max<int64_t>(depth, 1) - 1;
    const int64_t interval = mode == "throughput" ? T : latency;
    m.attrs.set("schedule.mode", mode);
    m.attrs.set("schedule.latency", latency);
    m.attrs.set("schedule.interval", interval);
    run.stats().set("neuron-layer-depth", depth);
    run.stats().set("timesteps", T);
    run.stats().set("latency-steps.throughput-mode", latency);
    run.stats().set("interval-steps.throughput-mode", T);
    run.stats().set("latency-steps.latency-mode", latency);
    run.stats().set("interval-steps.latency-mode", latency);
    run.stats().set("delayed-joins", delayed);
    run.stats().set("delay-buffer-bits", delayBits);
    run.stats().set("recurrent-back-edges", backEdges);
}

} // namespace

PassDef makeScheduleTimePass()
{
    PassInfo info;
    info.name = "schedule-time";
    info.description = "assign per-layer time-step offsets (pipelining across time steps); report latency";
    info.options = {OptionSpec::enumeration("mode", "throughput", {"throughput", "latency"},
                                            "throughput: samples overlap (interval T); latency: one sample at a time")};
    info.provides = {prop::kTimeScheduled};
    info.handlesDelay = true;
    return {std::move(info), runScheduleTime};
}

} // namespace stc::passes

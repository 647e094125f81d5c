// layout-buffers: memory layout of the spike buffers between neuron groups.
// Binary spikes are packed bit vectors (1 bit per neuron); graded values get
// the width their integer range needs (from the fixed-point bounds when the
// module is quantized, else 8 bits), rounded up to 1, 2, 4, 8, 16 or 32 bits
// so that elements never straddle a 32-bit word. Each buffer is word aligned
// inside its group's region (the group from `fuse`, else one per neuron
// layer); delay buffers from `schedule-time` count as (delay + 1) copies.
// Annotations: buf.bits, buf.bytes, buf.offset on each buffered value's op;
// module attribute buffers.bytes. Statistics: bytes per group (the cores to
// be), the largest group and totals.
#include "fixedpoint/qmodel.h"
#include "passes/builtin_passes.h"
#include "passes/rewrite.h"

#include <algorithm>
#include <map>

namespace stc::passes {

namespace {

using ir::OpKind;

int64_t widthFor(int64_t bound, bool isSigned)
{
    int64_t bits = 1;
    while ((int64_t{1} << bits) - 1 < bound)
        ++bits;
    bits += isSigned ? 1 : 0;
    for (int64_t w : {1, 2, 4, 8, 16, 32})
        if (bits <= w)
            return w;
    return 32;
}

void runLayoutBuffers(ir::Module& m, PassRun& run)
{
    fixedpoint::Analysis qa;
    const bool quantized = m.attrs.getBool("quantized");
    if (quantized)
        qa = fixedpoint::analyzeQuantized(m);
    const auto users = m.computeUsers();
    std::map<int64_t, int64_t> groupBytes;
    int64_t total = 0, binary = 0, graded = 0, buffers = 0;
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        ir::Op& op = m.mutableOps()[size_t(i)];
        op.attrs.erase("buf.bits");
        op.attrs.erase("buf.bytes");
        op.attrs.erase("buf.offset");
        if (op.result == ir::kNoValue)
            continue;
        const ir::Type& t = m.typeOf(op.result);
        // Buffered: per-step integer values produced by a neuron or a spike
        // add/matmul/sum (what travels between groups).
        const bool producer = op.kind == OpKind::Lif || op.kind == OpKind::Add || op.kind == OpKind::MatMul ||
                              op.kind == OpKind::Sum || op.kind == OpKind::MaxPool2d;
        if (!t.perStep() || t.elem == ir::ElemType::F32 || !producer || users[size_t(op.result)].empty())
            continue;
        int64_t bits = 1;
        if (t.elem != ir::ElemType::Spike) {
            const bool known = quantized && qa.ok() && qa.values[size_t(op.result)].known;
            bits = known ? widthFor(qa.values[size_t(op.result)].bound, true) : 8;
        }
        const int64_t copies = 1 + op.attrs.getInt("sched.delay", 0);
        const int64_t bytes = ((t.numElements() * bits + 31) / 32) * 4 * copies;
        int64_t group = op.attrs.getInt("fuse.group", -1);
        if (group < 0)
            group = 1000000 + i; // its own region
        int64_t& region = groupBytes[group];
        op.attrs.set("buf.bits", bits);
        op.attrs.set("buf.bytes", bytes);
        op.attrs.set("buf.offset", region);
        region += bytes;
        total += bytes;
        ++buffers;
        (bits == 1 ? binary : graded) += 1;
        run.checkCancelled();
    }
    int64_t maxGroup = 0;
    for (const auto& [g, b] : groupBytes) {
        maxGroup = std::max(maxGroup, b);
        if (g < 1000000)
            run.stats().set("bytes.group-" + std::to_string(g), b);
    }
    m.attrs.set("buffers.bytes", total);
    run.stats().set("buffers", buffers);
    run.stats().set("binary-buffers", binary);
    run.stats().set("graded-buffers", graded);
    run.stats().set("total-bytes", total);
    run.stats().set("regions", int64_t(groupBytes.size()));
    run.stats().set("max-region-bytes", maxGroup);
}

} // namespace

PassDef makeLayoutBuffersPass()
{
    PassInfo info;
    info.name = "layout-buffers";
    info.description = "lay out spike buffers: packed bits for spikes, graded widths; bytes per group (core-to-be)";
    info.provides = {prop::kBuffersLaidOut};
    return {std::move(info), runLayoutBuffers};
}

} // namespace stc::passes

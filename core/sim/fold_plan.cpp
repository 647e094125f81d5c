// FoldPlan: which slices core-major sends by summing at the sender
// (fold_plan.h).
#include "sim/fold_plan.h"

#include <map>

namespace stc::sim::detail {

namespace {
// Tables with equal contents share one copy.
template <typename T>
struct Interned {
    std::map<std::vector<T>, std::shared_ptr<const std::vector<T>>> known;
    std::shared_ptr<const std::vector<T>> operator()(std::vector<T> v)
    {
        auto it = known.find(v);
        if (it == known.end())
            it = known.emplace(v, std::make_shared<const std::vector<T>>(v)).first;
        return it->second;
    }
};

struct Candidate {
    int32_t node;
    std::vector<uint32_t> blocks; // its destination blocks, in first-route order
};

// Whether every neuron of node v has at most one route, each into a
// one-synapse record of a row block of a later component (and at least one
// route, to at most 256 blocks).
bool candidate(const SimProgram& prog, const CoreGraph& g, const BlockIndex& bi, int32_t v, Candidate& out)
{
    const auto [c, k] = g.nodes[size_t(v)];
    const CoreProgram& cp = prog.cores[size_t(c)];
    const SliceInfo& si = cp.slices[size_t(k)];
    out.node = v;
    std::map<uint32_t, int> seen;
    for (int64_t n = si.first; n < si.first + si.count; ++n) {
        const uint32_t r0 = cp.routeStart[size_t(n)], r1 = cp.routeStart[size_t(n) + 1];
        if (r1 - r0 > 1)
            return false;
        if (r1 == r0)
            continue;
        const RouteHop& rt = cp.routes[r0];
        const SynapseBlock& b = prog.cores[size_t(rt.destCore)].inputs[size_t(rt.destInput)];
        const int32_t w = g.sliceBase[size_t(rt.destCore)] + b.slice;
        if (b.conv || g.componentOf[size_t(w)] <= g.componentOf[size_t(v)] || rt.entry + 6 > b.rows.size())
            return false;
        const int32_t* r = b.rows.data() + rt.entry;
        const SliceInfo& ds = prog.cores[size_t(rt.destCore)].slices[size_t(b.slice)];
        if (r[0] != 1 || r[1] != 1 || r[4] != 1 || r[3] < ds.first || r[3] >= ds.first + ds.count)
            return false;
        const uint32_t blk = uint32_t(bi.at(rt));
        if (seen.emplace(blk, 0).second)
            out.blocks.push_back(blk);
    }
    return !out.blocks.empty() && out.blocks.size() <= 256;
}
} // namespace

FoldPlan foldPlan(const SimProgram& prog, const CoreGraph& g, const BlockIndex& bi)
{
    FoldPlan fp;
    fp.receiverOf.assign(bi.slice.size(), -1);
    fp.nodeFold.assign(g.nodes.size(), -1);
    fp.nodeStart.assign(g.nodes.size() + 1, 0);
    if (!g.bySlice)
        return fp;
    auto phaseOf = [&](int32_t v) {
        const auto [c, k] = g.nodes[size_t(v)];
        return prog.populations[size_t(prog.cores[size_t(c)].slices[size_t(k)].pop)].phase;
    };
    std::vector<Candidate> cands;
    std::vector<int64_t> blockPhase(bi.slice.size(), -1); // -2: senders of two phases
    for (int32_t v = 0; v < int32_t(g.nodes.size()); ++v) {
        Candidate cd;
        if (!candidate(prog, g, bi, v, cd))
            continue;
        for (uint32_t b : cd.blocks) {
            int64_t& p = blockPhase[b];
            p = p == -1 || p == phaseOf(v) ? phaseOf(v) : -2;
        }
        cands.push_back(std::move(cd));
    }
    Interned<uint32_t> codes;
    Interned<int32_t> weights;
    for (const Candidate& cd : cands) {
        bool ok = true;
        for (uint32_t b : cd.blocks)
            ok &= blockPhase[b] >= 0;
        if (!ok)
            continue;
        const auto [c, k] = g.nodes[size_t(cd.node)];
        const CoreProgram& cp = prog.cores[size_t(c)];
        const SliceInfo& si = cp.slices[size_t(k)];
        FoldPlan::Node nd;
        std::map<uint32_t, uint32_t> kindOf;
        std::vector<uint32_t> code(size_t(si.count), FoldPlan::kNoRoute);
        std::vector<int32_t> weight(size_t(si.count), 0);
        for (int64_t i = 0; i < si.count; ++i) {
            const uint32_t r0 = cp.routeStart[size_t(si.first + i)];
            if (cp.routeStart[size_t(si.first + i) + 1] == r0)
                continue;
            const RouteHop& rt = cp.routes[r0];
            const uint32_t b = uint32_t(bi.at(rt));
            const SynapseBlock& blk = prog.cores[size_t(rt.destCore)].inputs[size_t(rt.destInput)];
            const SliceInfo& ds = prog.cores[size_t(rt.destCore)].slices[size_t(blk.slice)];
            if (fp.receiverOf[b] < 0) {
                fp.receiverOf[b] = int32_t(fp.receivers.size());
                FoldPlan::Receiver rc;
                rc.block = b, rc.core = rt.destCore, rc.input = rt.destInput;
                rc.node = g.sliceBase[size_t(rt.destCore)] + blk.slice;
                rc.compartment = blk.compartment, rc.delay = blk.delay, rc.lastSend = blk.lastSend;
                rc.first = uint32_t(ds.first), rc.count = uint32_t(ds.count), rc.phase = blockPhase[b];
                fp.receivers.push_back(rc);
            }
            // One kind per (block, mesh path): routes into one block from one core share the path.
            auto [it, fresh] = kindOf.emplace(b, uint32_t(nd.kinds.size()));
            const int32_t* r = blk.rows.data() + rt.entry;
            if (fresh)
                nd.kinds.push_back({uint32_t(fp.receiverOf[b]), rt, r[1], r[2]});
            const RouteHop& kr = nd.kinds[it->second].route;
            if (kr.hopsEw != rt.hopsEw || kr.hopsNs != rt.hopsNs || kr.chipLinks != rt.chipLinks ||
                kr.latencyNs != rt.latencyNs || nd.kinds[it->second].bytes != r[2]) {
                ok = false;
                break;
            }
            code[size_t(i)] = it->second << 24 | uint32_t(r[3] - int32_t(ds.first));
            weight[size_t(i)] = r[5];
        }
        if (!ok) // (the receivers made stay, unused: they only cost their table entry)
            continue;
        nd.code = codes(std::move(code));
        nd.weight = weights(std::move(weight));
        fp.nodeFold[size_t(cd.node)] = int32_t(fp.folds.size());
        fp.folds.push_back(std::move(nd));
    }
    for (const FoldPlan::Receiver& rc : fp.receivers)
        ++fp.nodeStart[size_t(rc.node) + 1];
    for (size_t v = 0; v < g.nodes.size(); ++v)
        fp.nodeStart[v + 1] += fp.nodeStart[v];
    fp.nodeReceivers.resize(fp.receivers.size());
    std::vector<uint32_t> fill(fp.nodeStart.begin(), fp.nodeStart.end() - 1);
    for (uint32_t r = 0; r < fp.receivers.size(); ++r)
        fp.nodeReceivers[fill[size_t(fp.receivers[r].node)]++] = r;
    return fp;
}

} // namespace stc::sim::detail

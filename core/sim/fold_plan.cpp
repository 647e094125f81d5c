// FoldPlan: which slices core-major sends by summing at the sender
// (fold_plan.h).
#include "sim/fold_plan.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

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
bool candidate(const SimProgram& prog, const CoreGraph& g, const BlockIndex& bi, int32_t v, Candidate& out,
               std::vector<char>& seen)
{
    const auto [c, k] = g.nodes[size_t(v)];
    const CoreProgram& cp = prog.cores[size_t(c)];
    const SliceInfo& si = cp.slices[size_t(k)];
    out.node = v;
    // (seen: per global block, cleared for the blocks found before returning)
    struct Clear {
        std::vector<char>& seen;
        const std::vector<uint32_t>& blocks;
        ~Clear()
        {
            for (uint32_t b : blocks)
                seen[b] = 0;
        }
    } clear{seen, out.blocks};
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
        if (!seen[blk])
            seen[blk] = 1, out.blocks.push_back(blk);
        if (out.blocks.size() > 256)
            return false;
    }
    return !out.blocks.empty();
}


// f(begin, end, seen) over [0, n) in contiguous parts on the host's threads
// (each with its own per-global-block scratch).
template <typename F>
void onThreads(size_t n, size_t blocks, F&& f)
{
    const size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), std::max<size_t>(n, 1));
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t)
        pool.emplace_back([&, t]() {
            std::vector<char> seen(blocks, 0);
            f(n * t / threads, n * (t + 1) / threads, seen);
        });
    for (std::thread& th : pool)
        th.join();
}

// A candidate's node: its kinds in first-route order (receiver: the global
// block until the receivers are made), or ok == false.
struct Built {
    bool ok = false;
    FoldPlan::Node nd;
};

Built build(const SimProgram& prog, const CoreGraph& g, const BlockIndex& bi, const Candidate& cd,
            std::vector<uint32_t>& kindOf, Interned<uint32_t>& codes, Interned<int32_t>& weights, std::mutex& mu)
{
    Built out;
    const auto [c, k] = g.nodes[size_t(cd.node)];
    const CoreProgram& cp = prog.cores[size_t(c)];
    const SliceInfo& si = cp.slices[size_t(k)];
    for (size_t j = 0; j < cd.blocks.size(); ++j)
        kindOf[cd.blocks[j]] = uint32_t(j);
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
        // One kind per block (the candidate's order), with one mesh path:
        // routes into one block from one core share it.
        const uint32_t kind = kindOf[b];
        const int32_t* r = blk.rows.data() + rt.entry;
        if (kind == out.nd.kinds.size())
            out.nd.kinds.push_back({b, rt, r[1], r[2]});
        const RouteHop& kr = out.nd.kinds[kind].route;
        if (kr.hopsEw != rt.hopsEw || kr.hopsNs != rt.hopsNs || kr.chipLinks != rt.chipLinks ||
            kr.latencyNs != rt.latencyNs || out.nd.kinds[kind].bytes != r[2])
            return out;
        code[size_t(i)] = kind << 24 | uint32_t(r[3] - int32_t(ds.first));
        weight[size_t(i)] = r[5];
    }
    std::lock_guard lock(mu);
    out.nd.code = codes(std::move(code));
    out.nd.weight = weights(std::move(weight));
    out.ok = true;
    return out;
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
    // Candidates, on all host threads (they read every route and its record).
    std::vector<Candidate> found(g.nodes.size());
    onThreads(g.nodes.size(), bi.slice.size(), [&](size_t begin, size_t end, std::vector<char>& seen) {
        for (size_t v = begin; v < end; ++v)
            if (!candidate(prog, g, bi, int32_t(v), found[v], seen))
                found[v].blocks.clear();
    });
    auto phaseOf = [&](int32_t v) {
        const auto [c, k] = g.nodes[size_t(v)];
        return prog.populations[size_t(prog.cores[size_t(c)].slices[size_t(k)].pop)].phase;
    };
    std::vector<int64_t> blockPhase(bi.slice.size(), -1); // -2: senders of two phases
    for (const Candidate& cd : found)
        for (uint32_t b : cd.blocks) {
            int64_t& p = blockPhase[b];
            p = p == -1 || p == phaseOf(cd.node) ? phaseOf(cd.node) : -2;
        }
    std::vector<const Candidate*> cands;
    for (const Candidate& cd : found)
        if (!cd.blocks.empty() &&
            std::all_of(cd.blocks.begin(), cd.blocks.end(), [&](uint32_t b) { return blockPhase[b] >= 0; }))
            cands.push_back(&cd);
    Interned<uint32_t> codes;
    Interned<int32_t> weights;
    std::mutex mu;
    std::vector<Built> built(cands.size());
    onThreads(cands.size(), 0, [&](size_t begin, size_t end, std::vector<char>&) {
        std::vector<uint32_t> kindOf(bi.slice.size(), 0); // per global block: its kind in the node being built
        for (size_t j = begin; j < end; ++j)
            built[j] = build(prog, g, bi, *cands[j], kindOf, codes, weights, mu);
    });
    for (size_t j = 0; j < cands.size(); ++j) {
        if (!built[j].ok)
            continue;
        for (FoldPlan::Kind& kd : built[j].nd.kinds) {
            const uint32_t b = kd.receiver;
            if (fp.receiverOf[b] < 0) {
                const SynapseBlock& blk = prog.cores[size_t(kd.route.destCore)].inputs[size_t(kd.route.destInput)];
                const SliceInfo& ds = prog.cores[size_t(kd.route.destCore)].slices[size_t(blk.slice)];
                fp.receiverOf[b] = int32_t(fp.receivers.size());
                FoldPlan::Receiver rc;
                rc.block = b, rc.core = kd.route.destCore, rc.input = kd.route.destInput;
                rc.node = g.sliceBase[size_t(rc.core)] + blk.slice;
                rc.first = uint32_t(ds.first), rc.count = uint32_t(ds.count), rc.phase = blockPhase[b];
                fp.receivers.push_back(rc);
            }
            kd.receiver = uint32_t(fp.receiverOf[b]);
        }
        fp.nodeFold[size_t(cands[j]->node)] = int32_t(fp.folds.size());
        fp.folds.push_back(std::move(built[j].nd));
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

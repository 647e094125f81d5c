// The slice graph of a program's routes (sim::coreGraph) and the cache of
// what core-major execution derives from them (GraphCache).
#include "sim/block_index.h"
#include "sim/pull_plan.h"
#include "sim/simulator.h"

#include <algorithm>

namespace stc::sim {

using detail::BlockIndex;

CoreGraph coreGraph(const SimProgram& prog, bool bySlice)
{
    CoreGraph g;
    g.bySlice = bySlice;
    for (size_t c = 0; c < prog.cores.size(); ++c) {
        g.sliceBase.push_back(int32_t(g.nodes.size()));
        const size_t k = bySlice ? prog.cores[c].slices.size() : 1;
        for (size_t i = 0; i < k; ++i)
            g.nodes.push_back({int32_t(c), bySlice ? int32_t(i) : -1});
    }
    const int32_t n = int32_t(g.nodes.size());
    const BlockIndex blocks(prog);
    // Successors per node, deduplicated.
    std::vector<std::vector<int32_t>> next(static_cast<size_t>(n));
    std::vector<int32_t> seen(static_cast<size_t>(n), -1);
    std::vector<char> selfLoop(static_cast<size_t>(n), 0);
    for (size_t c = 0; c < prog.cores.size(); ++c) {
        const CoreProgram& cp = prog.cores[c];
        for (uint32_t local = 0; local + 1 < cp.routeStart.size(); ++local) {
            const int32_t from = g.sliceBase[c] + (bySlice ? cp.neuronSlice[local] : 0);
            for (uint32_t r = cp.routeStart[local]; r < cp.routeStart[local + 1]; ++r) {
                const RouteHop& rt = cp.routes[r];
                const int32_t to = g.sliceBase[size_t(rt.destCore)] + (bySlice ? blocks.slice[blocks.at(rt)] : 0);
                if (to == from)
                    selfLoop[size_t(from)] = 1;
                else if (seen[size_t(to)] != from) {
                    seen[size_t(to)] = from;
                    next[size_t(from)].push_back(to);
                }
            }
        }
    }
    // Tarjan's algorithm, iterative: components come out in reverse
    // topological order (every component after the ones it sends to).
    g.componentOf.assign(size_t(n), -1);
    std::vector<int32_t> index(size_t(n), -1), low(size_t(n), 0), stack;
    std::vector<char> onStack(size_t(n), 0);
    std::vector<std::pair<int32_t, size_t>> call; // (node, next successor to visit)
    int32_t counter = 0;
    for (int32_t root = 0; root < n; ++root) {
        if (index[size_t(root)] >= 0)
            continue;
        call.push_back({root, 0});
        while (!call.empty()) {
            auto& [v, i] = call.back();
            if (i == 0 && index[size_t(v)] < 0) {
                index[size_t(v)] = low[size_t(v)] = counter++;
                stack.push_back(v);
                onStack[size_t(v)] = 1;
            }
            if (i < next[size_t(v)].size()) {
                const int32_t w = next[size_t(v)][i++];
                if (index[size_t(w)] < 0)
                    call.push_back({w, 0});
                else if (onStack[size_t(w)])
                    low[size_t(v)] = std::min(low[size_t(v)], index[size_t(w)]);
                continue;
            }
            const int32_t done = v;
            call.pop_back();
            if (!call.empty())
                low[size_t(call.back().first)] = std::min(low[size_t(call.back().first)], low[size_t(done)]);
            if (low[size_t(done)] != index[size_t(done)])
                continue;
            std::vector<int32_t> comp;
            int32_t w;
            do {
                w = stack.back();
                stack.pop_back();
                onStack[size_t(w)] = 0;
                comp.push_back(w);
            } while (w != done);
            std::sort(comp.begin(), comp.end());
            g.components.push_back(std::move(comp));
        }
    }
    std::reverse(g.components.begin(), g.components.end());
    for (size_t k = 0; k < g.components.size(); ++k) {
        const auto& comp = g.components[k];
        for (int32_t v : comp)
            g.componentOf[size_t(v)] = int32_t(k);
        if (comp.size() > 1 || selfLoop[size_t(comp[0])]) {
            ++g.cyclicComponents;
            g.nodesInCycles += int64_t(comp.size());
        }
    }
    return g;
}


namespace {
// What a cached plan depends on besides the route tables' contents.
std::vector<uint64_t> planKey(const SimProgram& prog)
{
    std::vector<uint64_t> key;
    for (const CoreProgram& cp : prog.cores) {
        key.insert(key.end(), {uint64_t(cp.neurons), cp.slices.size(), cp.inputs.size(), cp.routes.size(),
                               cp.routeStart.size(), cp.routes.version(), cp.routeStart.version()});
        for (const SliceInfo& si : cp.slices)
            key.insert(key.end(), {uint64_t(si.first), uint64_t(si.count)});
        for (const SynapseBlock& b : cp.inputs) {
            key.push_back(uint64_t(uint32_t(b.slice)));
            // ProductForms and FoldPlan read row records (targets, weights)
            if (!b.conv)
                key.insert(key.end(), {b.rows.generation(), uint64_t(reinterpret_cast<uintptr_t>(b.rows.data()))});
        }
    }
    return key;
}
} // namespace

std::shared_ptr<const detail::CoreMajorPlan> detail::coreMajorPlan(const SimProgram& prog)
{
    auto plan = std::make_shared<CoreMajorPlan>();
    plan->graph = coreGraph(prog, true);
    plan->pull = pullPlan(prog, plan->graph);
    const BlockIndex bi(prog);
    plan->products = productForms(prog, bi);
    plan->folds = foldPlan(prog, plan->graph, bi);
    return plan;
}

std::shared_ptr<const detail::CoreMajorPlan> GraphCache::get(const SimProgram& prog)
{
    std::vector<uint64_t> key = planKey(prog);
    std::lock_guard lock(mu_);
    if (!plan_ || key != key_) {
        plan_ = detail::coreMajorPlan(prog);
        key_ = std::move(key);
    }
    return plan_;
}

std::shared_ptr<const detail::CoreMajorPlan> GraphCache::rebuild(const SimProgram& prog)
{
    std::vector<uint64_t> key = planKey(prog);
    auto plan = detail::coreMajorPlan(prog);
    std::lock_guard lock(mu_);
    plan_ = plan;
    key_ = std::move(key);
    return plan;
}

void GraphCache::reset()
{
    std::lock_guard lock(mu_);
    plan_.reset();
    key_.clear();
}

} // namespace stc::sim

#include "sim/pull_plan.h"

#include "sim/block_index.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <tuple>
#include <unordered_map>

namespace stc::sim::detail {

namespace {

// What a core contributes to the plan, before the cores are merged.
struct CorePart {
    std::vector<PullPlan::NodeMap> nodes; // per slice of the core (classBase, map.table: in this part)
    std::vector<PullPlan::ClassSlot> classTable;
    std::vector<PullPlan::ClassCounts> counts;
    struct SubPart {
        uint32_t block;
        uint64_t tile; // tileKey of its routes
        PullPlan::Sub sub; // entry.table: offset in this part's entries
        PullPlan::SubTile form; // row.table: offset in this part's rows
        PullPlan::SubScatter scatter; // target.table, weight.table: offsets in this part's scatter
    };
    std::vector<SubPart> subs;
    std::vector<uint32_t> entries, rows, scatter;
    PullPlan::Push push;
    int64_t pulled = 0, pushed = 0;
};

// Into a conv_shared block: the group and tap list of the route's axon
// (the axons of one input position share them, and conv delivery sums the
// kernel rows of consecutive such messages as one tile, conv_tiles.h);
// else 0.
uint64_t tileKey(const SimProgram& prog, const RouteHop& r)
{
    const SynapseBlock& b = prog.cores[size_t(r.destCore)].inputs[size_t(r.destInput)];
    if (!b.conv)
        return 0;
    const ConvPlan::Axon& a = b.plan.axons[r.entry];
    return uint64_t(uint32_t(a.group)) << 32 | uint32_t(a.tapBegin);
}

// A route as a class compares it: destination block, mesh path, and tile
// key (so that a class's messages into a conv block form whole tiles).
bool sameRoute(const SimProgram& prog, const RouteHop& a, const RouteHop& b)
{
    return a.destCore == b.destCore && a.destInput == b.destInput && a.hopsEw == b.hopsEw &&
           a.hopsNs == b.hopsNs && a.chipLinks == b.chipLinks &&
           std::memcmp(&a.latencyNs, &b.latencyNs, sizeof(float)) == 0 && tileKey(prog, a) == tileKey(prog, b);
}

uint64_t routeHash(const SimProgram& prog, uint64_t h, const RouteHop& r)
{
    uint32_t lat;
    std::memcpy(&lat, &r.latencyNs, sizeof lat);
    for (uint64_t v : {uint64_t(uint32_t(r.destCore)) << 32 | uint32_t(r.destInput),
                       uint64_t(r.hopsEw) << 48 | uint64_t(r.hopsNs) << 32 | uint64_t(r.chipLinks) << 16,
                       uint64_t(lat), tileKey(prog, r)}) {
        h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
        h *= 0xff51afd7ed558ccdull;
    }
    return h;
}

// Appends the periodic form of the sequence v (mod 2^32) to `table`: its
// table offset and period, and the step between periods.
std::pair<Periodic, uint32_t> appendPeriodic(std::vector<uint32_t>& table, const std::vector<uint32_t>& v)
{
    const uint32_t p = periodOf(v, [](uint32_t a, uint32_t b) { return a - b; });
    const Periodic form{p, uint32_t(table.size())};
    table.insert(table.end(), v.begin(), v.begin() + p);
    return {form, p < v.size() ? v[p] - v[0] : 0};
}

class CorePlanner {
public:
    CorePlanner(const SimProgram& prog, const CoreGraph& g, const BlockIndex& blocks,
                const std::vector<int32_t>& blockComponent)
        : prog_(prog), g_(g), blocks_(blocks), blockComponent_(blockComponent)
    {
    }

    CorePart plan(size_t c)
    {
        const CoreProgram& cp = prog_.cores[c];
        CorePart part;
        part.nodes.assign(cp.slices.size(), PullPlan::NodeMap());
        pulledRoute_.assign(cp.routes.size(), 0);
        for (size_t k = 0; k < cp.slices.size(); ++k)
            planSlice(c, k, part);
        int64_t pulled = 0;
        for (char p : pulledRoute_)
            pulled += p;
        part.pulled = pulled;
        part.pushed = int64_t(cp.routes.size()) - pulled;
        if (pulled > 0) {
            part.push.own = false;
            part.push.start.assign(cp.routeStart.size(), 0);
            for (size_t n = 0; n + 1 < cp.routeStart.size(); ++n) {
                for (uint32_t r = cp.routeStart[n]; r < cp.routeStart[n + 1]; ++r)
                    if (!pulledRoute_[r])
                        part.push.routes.push_back(cp.routes[r]);
                part.push.start[n + 1] = uint32_t(part.push.routes.size());
            }
        }
        return part;
    }

private:
    // A route into a later component than the sender's is pulled.
    bool pulls(int32_t component, const RouteHop& rt) const { return blockComponent_[blocks_.at(rt)] > component; }

    void planSlice(size_t c, size_t k, CorePart& part)
    {
        const CoreProgram& cp = prog_.cores[c];
        const SliceInfo& si = cp.slices[k];
        const int32_t node = g_.sliceBase[c] + int32_t(k);
        const int32_t component = g_.componentOf[size_t(node)];
        // Classes: the neurons whose pulled routes are the same sequence.
        std::unordered_map<uint64_t, std::vector<uint32_t>> byHash; // hash -> classes
        std::vector<int64_t> rep;                                  // per class: its first neuron
        std::vector<std::vector<uint32_t>> members;
        std::vector<int32_t> cls(size_t(si.count), -1);
        auto pulledOf = [&](int64_t n, std::vector<const RouteHop*>& out) {
            out.clear();
            for (uint32_t r = cp.routeStart[size_t(n)]; r < cp.routeStart[size_t(n) + 1]; ++r)
                if (pulls(component, cp.routes[r]))
                    out.push_back(&cp.routes[r]);
        };
        std::vector<const RouteHop*> mine, theirs;
        for (int64_t i = 0; i < si.count; ++i) {
            const int64_t n = si.first + i;
            pulledOf(n, mine);
            if (mine.empty())
                continue;
            uint64_t h = mine.size();
            for (const RouteHop* r : mine)
                h = routeHash(prog_, h, *r);
            std::vector<uint32_t>& candidates = byHash[h];
            int32_t found = -1;
            for (uint32_t k2 : candidates) {
                pulledOf(rep[k2], theirs);
                if (theirs.size() == mine.size() &&
                    std::equal(mine.begin(), mine.end(), theirs.begin(),
                               [&](const RouteHop* a, const RouteHop* b) { return sameRoute(prog_, *a, *b); })) {
                    found = int32_t(k2);
                    break;
                }
            }
            if (found < 0) {
                found = int32_t(rep.size());
                candidates.push_back(uint32_t(found));
                rep.push_back(n);
                members.emplace_back();
            }
            cls[size_t(i)] = found;
            members[size_t(found)].push_back(uint32_t(n));
            if (rep.size() > size_t(si.count) / 4)
                return; // too many classes to pay: every route of the slice is pushed
        }
        if (rep.empty())
            return;
        PullPlan::NodeMap& nm = part.nodes[k];
        nm.classes = uint32_t(rep.size());
        nm.classBase = uint32_t(part.counts.size());
        // Class and slot per neuron, in periodic form.
        std::vector<PullPlan::ClassSlot> cs(size_t(si.count), {-1, 0});
        for (size_t q = 0; q < rep.size(); ++q)
            for (uint32_t s = 0; s < members[q].size(); ++s)
                cs[size_t(members[q][s] - si.first)] = {int32_t(q), s};
        const bool everyNeuron = std::none_of(cls.begin(), cls.end(), [](int32_t x) { return x < 0; });
        const uint32_t period = everyNeuron ? periodOf(cs, [](const PullPlan::ClassSlot& a, const PullPlan::ClassSlot& b) {
            return std::pair<int64_t, int64_t>(int64_t(a.cls) - b.cls, int64_t(a.slot) - int64_t(b.slot));
        })
                                            : uint32_t(si.count);
        nm.map = {period, uint32_t(part.classTable.size())};
        if (period < cs.size())
            nm.classStep = cs[period].cls - cs[0].cls, nm.slotStep = int32_t(cs[period].slot) - int32_t(cs[0].slot);
        part.classTable.insert(part.classTable.end(), cs.begin(), cs.begin() + period);
        std::vector<uint32_t> entries;
        for (size_t q = 0; q < rep.size(); ++q) {
            pulledOf(rep[q], mine);
            PullPlan::ClassCounts cc;
            for (const RouteHop* r : mine) {
                ++cc.messages;
                cc.hopsEw += r->hopsEw, cc.hopsNs += r->hopsNs, cc.chipLinks += r->chipLinks;
                cc.chipMessages += r->chipLinks > 0;
                cc.maxNs = std::max(cc.maxNs, r->latencyNs);
            }
            part.counts.push_back(cc);
            // One subscription per position j in the class's route sequence:
            // the entries of its members' j-th pulled routes, in periodic form.
            const std::vector<uint32_t>& mem = members[q];
            for (size_t j = 0; j < mine.size(); ++j) {
                entries.clear();
                for (uint32_t n : mem) {
                    uint32_t seen = 0;
                    for (uint32_t r = cp.routeStart[n]; r < cp.routeStart[n + 1]; ++r)
                        if (pulls(component, cp.routes[r]) && seen++ == j) {
                            entries.push_back(cp.routes[r].entry);
                            pulledRoute_[r] = 1;
                            break;
                        }
                }
                const auto [entry, step] = appendPeriodic(part.entries, entries);
                const PullPlan::Sub sub{node, uint32_t(q), entry, step};
                const uint32_t block = uint32_t(blocks_.at(*mine[j]));
                part.subs.push_back({block, tileKey(prog_, *mine[j]), sub, subTile(*mine[j], entries, part),
                                     subScatter(*mine[j], entries, part)});
            }
        }
    }

    // The tile form of a subscription with these axon entries (every
    // member's), when they share a contiguous group and tap list.
    PullPlan::SubTile subTile(const RouteHop& rt, const std::vector<uint32_t>& entries, CorePart& part) const
    {
        const SynapseBlock& b = prog_.cores[size_t(rt.destCore)].inputs[size_t(rt.destInput)];
        if (!b.conv || entries.empty())
            return {};
        const ConvPlan& p = b.plan;
        const ConvPlan::Axon& a0 = p.axons[entries[0]];
        if (!p.groups[size_t(a0.group)].contiguous)
            return {};
        std::vector<uint32_t> rows(entries.size());
        for (size_t m = 0; m < entries.size(); ++m) {
            const ConvPlan::Axon& a = p.axons[entries[m]];
            if (a.group != a0.group || a.tapBegin != a0.tapBegin || a.tapEnd != a0.tapEnd)
                return {};
            rows[m] = uint32_t(a.kernelRow);
        }
        const auto [row, rowStep] = appendPeriodic(part.rows, rows);
        return {a0.group, a0.tapBegin, a0.tapEnd, rowStep, row};
    }

    // The scatter form of a subscription with these record entries, when
    // every record is one synapse and they read the same table bytes.
    PullPlan::SubScatter subScatter(const RouteHop& rt, const std::vector<uint32_t>& entries, CorePart& part) const
    {
        const SynapseBlock& b = prog_.cores[size_t(rt.destCore)].inputs[size_t(rt.destInput)];
        if (b.conv || !b.unitRunsValid() || entries.empty())
            return {};
        constexpr int kTarget = SynapseBlock::kRowHeader, kWeight = kTarget + SynapseBlock::kRunHeader;
        std::vector<uint32_t> targets(entries.size()), weights(entries.size());
        const int32_t bytes = b.rows[entries[0] + 2];
        for (size_t m = 0; m < entries.size(); ++m) {
            const int32_t* r = b.rows.data() + entries[m];
            if (r[0] != 1 || r[1] != 1 || r[2] != bytes)
                return {};
            targets[m] = uint32_t(r[kTarget]), weights[m] = uint32_t(r[kWeight]);
        }
        PullPlan::SubScatter sc;
        std::tie(sc.target, sc.targetStep) = appendPeriodic(part.scatter, targets);
        std::tie(sc.weight, sc.weightStep) = appendPeriodic(part.scatter, weights);
        sc.bytes = bytes;
        return sc;
    }

    const SimProgram& prog_;
    const CoreGraph& g_;
    const BlockIndex& blocks_;
    const std::vector<int32_t>& blockComponent_;
    std::vector<char> pulledRoute_;
};

} // namespace

PullPlan pullPlan(const SimProgram& prog, const CoreGraph& g, int threads)
{
    PullPlan plan;
    const size_t cores = prog.cores.size();
    const BlockIndex blocks(prog);
    std::vector<int32_t> blockComponent(blocks.slice.size());
    for (size_t c = 0; c < cores; ++c)
        for (size_t i = 0; i < prog.cores[c].inputs.size(); ++i)
            blockComponent[blocks.base[c] + i] = g.componentOf[size_t(g.sliceBase[c] + blocks.slice[blocks.base[c] + i])];
    plan.nodes.assign(g.nodes.size(), PullPlan::NodeMap());
    plan.push.resize(cores);
    if (!g.bySlice)
        return plan; // every route pushed

    std::vector<CorePart> parts(cores);
    if (threads < 1)
        threads = int(std::max(1u, std::thread::hardware_concurrency()));
    std::atomic<size_t> next{0};
    auto body = [&]() {
        CorePlanner planner(prog, g, blocks, blockComponent);
        for (size_t c; (c = next++) < cores;)
            parts[c] = planner.plan(c);
    };
    std::vector<std::thread> pool;
    for (int k = 1; k < threads && size_t(k) < cores; ++k)
        pool.emplace_back(body);
    body();
    for (auto& t : pool)
        t.join();

    // Merge: the cores' tables one after the other, subscriptions per block.
    std::vector<uint32_t> entryBase(cores, 0), rowBase(cores, 0), scatterBase(cores, 0);
    std::vector<uint32_t> subCount(blocks.slice.size() + 1, 0);
    for (size_t c = 0; c < cores; ++c) {
        CorePart& p = parts[c];
        for (size_t k = 0; k < p.nodes.size(); ++k) {
            PullPlan::NodeMap nm = p.nodes[k];
            nm.classBase += uint32_t(plan.classCounts.size());
            nm.map.table += uint32_t(plan.classTable.size());
            plan.nodes[size_t(g.sliceBase[c]) + k] = nm;
        }
        plan.classCounts.insert(plan.classCounts.end(), p.counts.begin(), p.counts.end());
        plan.classTable.insert(plan.classTable.end(), p.classTable.begin(), p.classTable.end());
        entryBase[c] = uint32_t(plan.entries.size());
        plan.entries.insert(plan.entries.end(), p.entries.begin(), p.entries.end());
        rowBase[c] = uint32_t(plan.rows.size());
        plan.rows.insert(plan.rows.end(), p.rows.begin(), p.rows.end());
        scatterBase[c] = uint32_t(plan.scatter.size());
        plan.scatter.insert(plan.scatter.end(), p.scatter.begin(), p.scatter.end());
        for (const CorePart::SubPart& s : p.subs)
            ++subCount[s.block + 1];
        plan.pulledRoutes += p.pulled, plan.pushedRoutes += p.pushed;
        plan.push[c] = std::move(p.push);
    }
    for (size_t b = 0; b < blocks.slice.size(); ++b)
        subCount[b + 1] += subCount[b];
    plan.blockSubStart = subCount;
    plan.subs.resize(subCount.back());
    plan.subTiles.resize(subCount.back());
    plan.subScatters.resize(subCount.back());
    std::vector<uint64_t> tiles(plan.subs.size());
    for (size_t c = 0; c < cores; ++c) {
        for (const CorePart::SubPart& s : parts[c].subs) {
            PullPlan::Sub sub = s.sub;
            sub.entry.table += entryBase[c];
            PullPlan::SubTile tile = s.form;
            tile.row.table += rowBase[c];
            PullPlan::SubScatter sc = s.scatter;
            sc.target.table += scatterBase[c], sc.weight.table += scatterBase[c];
            tiles[subCount[s.block]] = s.tile;
            plan.subTiles[subCount[s.block]] = tile;
            plan.subScatters[subCount[s.block]] = sc;
            plan.subs[subCount[s.block]++] = sub;
        }
        parts[c] = CorePart();
    }
    // A block's subscriptions by tile key: the messages of one input
    // position from every sending slice follow each other in its records,
    // and conv delivery sums them as tiles.
    std::vector<uint32_t> order;
    auto reorder = [&](auto& v, uint32_t s0) { // v[s0 ..] in `order`
        std::decay_t<decltype(v)> sorted;
        for (uint32_t k : order)
            sorted.push_back(v[k]);
        std::copy(sorted.begin(), sorted.end(), v.begin() + s0);
    };
    for (size_t b = 0; b < blocks.slice.size(); ++b) {
        const uint32_t s0 = plan.blockSubStart[b], s1 = plan.blockSubStart[b + 1];
        order.resize(s1 - s0);
        for (uint32_t k = 0; k < order.size(); ++k)
            order[k] = s0 + k;
        std::stable_sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) { return tiles[x] < tiles[y]; });
        reorder(plan.subs, s0), reorder(plan.subTiles, s0), reorder(plan.subScatters, s0);
    }
    return plan;
}

} // namespace stc::sim::detail


#include "target/mapper.h"
#include "target/package_encoder.h"

#include "interp/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

namespace stc::target {

namespace {

std::string problemForBudget(const Network& net, const ChipDescriptor& chip, const Partition& p, int chips,
                             int64_t budget)
{
    std::vector<std::pair<int64_t, int32_t>> perPop(net.populations.size());
    for (size_t i = 0; i < perPop.size(); ++i)
        perPop[i] = {0, int32_t(i)};
    for (const auto& core : p.cores) {
        std::set<int32_t> pops;
        for (int32_t s : core)
            pops.insert(p.slices[size_t(s)].pop);
        for (int32_t pop : pops)
            perPop[size_t(pop)].first += 1;
    }
    std::sort(perPop.begin(), perPop.end(), [](auto& a, auto& b) { return a.first > b.first; });
    std::ostringstream os;
    const int64_t need = int64_t(p.cores.size());
    os << "the model needs " << need << " cores; " << chips << " " << chip.id << " chip" << (chips > 1 ? "s" : "")
       << " have " << budget << " usable cores (short by " << need - budget << ", "
       << int64_t(std::round(100.0 * double(need - budget) / double(std::max<int64_t>(1, budget))))
       << " %). Largest: ";
    for (size_t i = 0; i < std::min<size_t>(3, perPop.size()); ++i) {
        const Population& pop = net.populations[size_t(perPop[i].second)];
        os << (i ? ", " : "") << "%" << pop.name << " " << perPop[i].first << " cores";
    }
    const int64_t perChip = std::max(1, chip.coresPerChip());
    os << ". Try --chips " << (need + perChip - 1) / perChip;
    return os.str();
}

} // namespace

Traffic computeTraffic(const Network& net, const ChipDescriptor& chip, const Partition& part,
                       const std::vector<int32_t>& sliceCore, int threads, const NeuronLocator& locator)
{
    Traffic t;
    // The axons of each destination slice and the slice holding each source
    // neuron are found on `threads` threads, a chunk of slices at a time; the
    // rates are then added in slice order, the same additions as on one thread.
    interp::ThreadPool pool(threads < 1 ? 0 : threads);
    std::vector<std::unique_ptr<SliceAnalyzer>> analyzers(size_t(pool.size()));
    struct Axons {
        std::vector<int64_t> neuron;   // every projection's axons, in order
        std::vector<int32_t> srcSlice; // slice of each source neuron
        std::vector<size_t> end;       // per incoming projection: end of its axons
    };
    const size_t chunk = 256;
    std::vector<Axons> found(std::min(chunk, part.slices.size()));
    // Sums per (source core, destination core), found by hashing and moved
    // into the ordered map at the end: each sum gets the same additions in
    // the same order as when added in the map directly.
    std::unordered_map<uint64_t, size_t> slot;
    std::vector<std::pair<std::pair<int32_t, int32_t>, std::pair<double, int64_t>>> sums;
    for (size_t d0 = 0; d0 < part.slices.size(); d0 += chunk) {
        const size_t d1 = std::min(part.slices.size(), d0 + chunk);
        pool.parallelFor(int64_t(d1 - d0), [&](int64_t k, int w) {
            static thread_local std::vector<int64_t> axons;
            Axons& out = found[size_t(k)];
            out.neuron.clear();
            out.srcSlice.clear();
            out.end.clear();
            const size_t d = d0 + size_t(k);
            const Slice& ds = part.slices[d];
            // The partition's axon lists when it kept them (same order as collectAxons).
            const bool stored = d < part.axons.size() && part.axons[d].size() == part.inputs[d].size();
            size_t j = 0;
            for (int32_t pi : net.incoming(ds.pop)) {
                const int32_t src = net.projections[size_t(pi)].src;
                if (stored) {
                    for (int32_t n : *part.axons[d][j++]) {
                        out.neuron.push_back(n);
                        out.srcSlice.push_back(locator.slice(src, n));
                    }
                } else {
                    auto& an = analyzers[size_t(w)];
                    if (!an)
                        an = std::make_unique<SliceAnalyzer>(net, chip);
                    an->collectAxons(ds, pi, axons);
                    for (int64_t n : axons) {
                        out.neuron.push_back(n);
                        out.srcSlice.push_back(locator.slice(src, n));
                    }
                }
                out.end.push_back(out.neuron.size());
            }
        });
        for (size_t d = d0; d < d1; ++d) {
            const Slice& ds = part.slices[d];
            const Axons& in = found[d - d0];
            size_t a = 0, j = 0;
            for (int32_t pi : net.incoming(ds.pop)) {
                const Projection& pr = net.projections[size_t(pi)];
                const Population& sp = net.populations[size_t(pr.src)];
                // Consecutive axons mostly come from the same source slice: cache the last lookup.
                std::pair<int32_t, int32_t> lastKey{-1, -1};
                std::pair<double, int64_t>* acc = nullptr;
                for (const size_t end = in.end[j++]; a < end; ++a) {
                    const int64_t n = in.neuron[a];
                    const std::pair<int32_t, int32_t> key{sliceCore[size_t(in.srcSlice[a])], sliceCore[d]};
                    if (key != lastKey) {
                        const uint64_t h = (uint64_t(uint32_t(key.first)) << 32) | uint32_t(key.second);
                        const auto [it, added] = slot.try_emplace(h, sums.size());
                        if (added)
                            sums.push_back({key, {0.0, 0}});
                        acc = &sums[it->second].second;
                        lastKey = key;
                    }
                    acc->first += sp.rateOf(n);
                    acc->second += 1;
                }
            }
        }
    }
    std::sort(sums.begin(), sums.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [key, val] : sums)
        t.edges.emplace_hint(t.edges.end(), key, val);
    return t;
}

void partitionStep(const Network& net, const ChipDescriptor& chip, const MapOptions& opt, Mapping& m,
                   Partition* partitionOut)
{
    m = Mapping{};
    m.chipId = chip.id;
    m.projectedChip = chip.projectedChip;
    m.chipsRequested = opt.chips;
    m.objective = opt.objective;
    m.seed = opt.seed;
    std::optional<PackageDraftJob> encoding;
    if (opt.encodeWhilePlacing)
        encoding.emplace(net, m, chip);
    const BoardLayout board = makeBoardLayout(chip, opt.chips);
    const int64_t budget = int64_t(board.cores.size());
    PartitionOptions po;
    po.shareCores = opt.shareCores;
    po.threads = opt.threads;
    Partition best = partitionNetwork(net, chip, po);
    if (!best.ok()) {
        m.fits = false;
        m.problems = best.problems;
        if (partitionOut)
            *partitionOut = std::move(best);
        return;
    }
    if (opt.objective != "min-cores" && int64_t(best.cores.size()) <= budget) {
        // Lower the per-core time cap (the step's critical path) while the
        // partition still fits: "latency" within all cores of the chips,
        // "balanced" within 25 % more cores than the fewest possible, so that
        // heavy layers get more, lighter cores without emptying the others.
        const int64_t allowed =
            opt.objective == "latency" ? budget
                                       : std::min<int64_t>(budget, int64_t(best.cores.size()) * 5 / 4);
        double cap = best.criticalTimeNs;
        Partition current = best;
        for (int k = 0; k < 10 && cap > 0; ++k) {
            cap *= 0.6;
            po.timeCapNs = cap;
            po.previous = &current;
            Partition p = partitionNetwork(net, chip, po);
            if (!p.ok() || int64_t(p.cores.size()) > allowed)
                break;
            current = std::move(p);
            if (current.criticalTimeNs < best.criticalTimeNs)
                best = current;
        }
    }
    m.slices = best.slices;
    m.sliceUsage = best.usage;
    m.sliceInputs = best.inputs;
    m.sliceAxons = best.axons;
    m.sliceCore.assign(best.slices.size(), -1);
    m.popBlock = best.block;
    m.popFirstSlice = best.firstSlice;
    for (size_t c = 0; c < best.cores.size(); ++c) {
        CoreAssignment ca;
        ca.slices = best.cores[c];
        ca.usage = best.coreUsage[c];
        for (int32_t s : ca.slices)
            m.sliceCore[size_t(s)] = int32_t(c);
        m.cores.push_back(std::move(ca));
    }
    m.criticalCoreTimeNs = best.criticalTimeNs;
    if (int64_t(best.cores.size()) > budget) {
        m.fits = false;
        FitProblem fp;
        fp.resource = Resource::Neurons;
        fp.needed = double(best.cores.size());
        fp.available = double(budget);
        fp.message = problemForBudget(net, chip, best, board.chips, budget);
        m.problems.push_back(fp);
    }
    if (partitionOut)
        *partitionOut = std::move(best);
}

void placeStep(const Network& net, const ChipDescriptor& chip, const MapOptions& opt, const Partition& part,
               Mapping& m)
{
    if (!m.fits)
        return;
    m.seed = opt.seed;
    std::optional<PackageDraftJob> encoding;
    if (opt.encodeWhilePlacing)
        encoding.emplace(net, m, chip);
    const BoardLayout board = makeBoardLayout(chip, opt.chips);
    auto locator = std::make_shared<const NeuronLocator>(net, part.block, part.firstSlice, part.slices, opt.threads);
    const Traffic traffic = computeTraffic(net, chip, part, m.sliceCore, opt.threads, *locator);
    m.neuronLocator = std::move(locator);
    const auto coords = placeCores(chip, board, int(m.cores.size()), traffic, opt.seed, opt.annealIterations);
    std::set<int> chipsUsed;
    for (size_t c = 0; c < m.cores.size(); ++c) {
        m.cores[c].coord = coords[c];
        chipsUsed.insert(coords[c].chip);
    }
    m.chipsUsed = int(chipsUsed.size());
    m.routes.clear();
    for (const auto& [key, val] : traffic.edges) {
        if (key.first == key.second)
            continue;
        Route r;
        r.from = key.first;
        r.to = key.second;
        r.spikesPerStep = val.first;
        m.routes.push_back(std::move(r));
    }
    if (encoding)
        m.packageDraft = encoding->finish(opt.threads, m);
}

void routeStep(const Network& net, const ChipDescriptor& chip, Mapping& m)
{
    if (!m.fits)
        return;
    const BoardLayout board = makeBoardLayout(chip, m.chipsRequested);
    double maxRouteNs = 0;
    m.trafficPerStep = m.weightedHops = m.interChipTrafficPerStep = 0;
    m.totalHops = 0;
    for (Route& r : m.routes) {
        if (!routeBetween(chip, board, m.cores[size_t(r.from)].coord, m.cores[size_t(r.to)].coord, r)) {
            m.fits = false;
            FitProblem fp;
            fp.message = "no path between core " + std::to_string(r.from) + " and core " + std::to_string(r.to) +
                         " around the dead links of " + chip.id;
            m.problems.push_back(fp);
            continue;
        }
        const int hops = r.hopsEw + r.hopsNs + r.chipLinks;
        const double ns = r.hopsEw * chip.latencyNs.hopEw + r.hopsNs * chip.latencyNs.hopNs +
                          r.chipLinks * chip.latencyNs.chipLink + chip.latencyNs.spikeWithinTile;
        maxRouteNs = std::max(maxRouteNs, ns);
        m.trafficPerStep += r.spikesPerStep;
        m.weightedHops += r.spikesPerStep * hops;
        m.totalHops += hops;
        if (r.chipLinks > 0)
            m.interChipTrafficPerStep += r.spikesPerStep;
    }
    std::vector<CoreCoord> used;
    for (const auto& c : m.cores)
        used.push_back(c.coord);
    const double barrier = barrierTimeNs(chip, board, used);
    m.criticalCoreTimeNs = 0;
    for (const auto& c : m.cores)
        m.criticalCoreTimeNs = std::max(m.criticalCoreTimeNs, c.usage.timeNs);
    m.stepTimeNs = m.criticalCoreTimeNs + maxRouteNs + barrier;
    double sumStatic = 0, sumWithTime = 0;
    std::vector<ChipUsage> chips(size_t(board.chips));
    for (size_t k = 0; k < chips.size(); ++k) {
        chips[k].chip = int(k);
        chips[k].coresAvailable = 0;
    }
    for (const auto& cc : board.cores)
        chips[size_t(cc.chip)].coresAvailable++;
    for (auto& c : m.cores) {
        c.utilization = utilizationOf(c.usage, chip, m.criticalCoreTimeNs);
        sumStatic += c.utilization.bindingValue();
        sumWithTime += std::max(c.utilization.bindingValue(), c.utilization.of[int(Resource::StepTime)]);
        ChipUsage& cu = chips[size_t(c.coord.chip)];
        cu.coresUsed++;
        cu.meanBindingUtilization += c.utilization.bindingValue();
        cu.synOpsPerStep += c.usage.synOpsPerStep;
    }
    for (auto& cu : chips)
        if (cu.coresUsed)
            cu.meanBindingUtilization /= cu.coresUsed;
    m.chips = std::move(chips);
    const double n = double(std::max<size_t>(1, m.cores.size()));
    m.meanBindingUtilization = sumStatic / n;
    m.meanUtilizationWithTime = sumWithTime / n;
    (void)net;
}

Mapping mapNetwork(const Network& net, const ChipDescriptor& chip, const MapOptions& opt)
{
    Mapping m;
    Partition part;
    partitionStep(net, chip, opt, m, &part);
    placeStep(net, chip, opt, part, m);
    routeStep(net, chip, m);
    return m;
}

} // namespace stc::target

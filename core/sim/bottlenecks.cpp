// Bottleneck detection from a simulation's counters and its ledger (see
// ledger.h): which cores set the step time, which layers spend the energy,
// whether the mesh dominates, each explained with the numbers behind it and
// the pipeline change that would relieve it.
#include "sim/ledger.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace stc::sim {

namespace {

std::string pct(double share)
{
    char b[32];
    std::snprintf(b, sizeof b, "%.1f %%", 100 * share);
    return b;
}

// 3900 -> "3,900"
std::string grouped(double v)
{
    const std::string digits = std::to_string(int64_t(std::llround(std::abs(v))));
    std::string out = v < 0 ? "-" : "";
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

double coreNs(const target::EventCosts& t, const EventCounts& e)
{
    return double(e.synapticOps) * t.synapticOp + double(e.neuronActive) * t.neuronUpdateActive +
           double(e.neuronIdle) * t.neuronUpdateIdle;
}

} // namespace

std::vector<Bottleneck> findBottlenecks(const SimProgram& prog, const Counters& c, const Ledger& l, int top)
{
    std::vector<Bottleneck> out;
    const double perSample = c.samples > 0 ? 1.0 / double(c.samples) : 0.0;
    const target::EventCosts& t = prog.chip.latencyNs;

    // Layers: cores they span, synapses into them.
    std::map<int32_t, std::set<int32_t>> popCores;
    std::map<int32_t, int64_t> popSynapses;
    for (const CoreProgram& core : prog.cores) {
        for (const SliceInfo& s : core.slices)
            popCores[s.pop].insert(core.index);
        for (const SynapseBlock& b : core.inputs)
            popSynapses[b.dstPop] += b.structuralSynapses;
    }

    // --- cores on the critical path (latency mode) ---------------------------
    const LatencyModel& lat = l.latency;
    std::vector<double> critical(size_t(c.cores), 0.0), total(size_t(c.cores), 0.0), synTime(size_t(c.cores), 0.0);
    double criticalSum = 0;
    for (size_t s = 0; s < lat.criticalCore.size(); ++s)
        if (lat.criticalCore[s] >= 0) {
            critical[size_t(lat.criticalCore[s])] += lat.coreNs[s];
            criticalSum += lat.coreNs[s];
        }
    std::vector<double> synOps(size_t(c.cores), 0.0);
    for (int k = 0; k < c.cores; ++k)
        for (int s = 0; s < c.steps; ++s) {
            const EventCounts& e = c.at(k, s);
            total[size_t(k)] += coreNs(t, e) * perSample;
            synTime[size_t(k)] += double(e.synapticOps) * t.synapticOp * perSample;
            synOps[size_t(k)] += double(e.synapticOps) * perSample;
        }
    std::map<std::string, double> coreEnergy, layerEnergy;
    for (const LedgerLine& line : l.lines) {
        if (line.scope == "core")
            coreEnergy[line.item] += line.energyPj;
        else if (line.scope == "layer")
            layerEnergy[line.item] += line.energyPj;
    }
    std::vector<int> order;
    for (int k = 0; k < c.cores; ++k)
        if (critical[size_t(k)] > 0)
            order.push_back(k);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return critical[size_t(a)] > critical[size_t(b)]; });
    // The time the busiest core would have to come down to: the next-busiest core's.
    std::vector<double> byTotal = total;
    std::sort(byTotal.rbegin(), byTotal.rend());
    for (size_t i = 0; i < order.size() && int(i) < top && criticalSum > 0; ++i) {
        const int k = order[i];
        const CoreProgram& core = prog.cores[size_t(k)];
        Bottleneck b;
        b.kind = Bottleneck::Kind::Core;
        b.core = k;
        b.latencyShare = critical[size_t(k)] / criticalSum;
        b.synapticOps = synOps[size_t(k)];
        b.neurons = core.neurons;
        for (const SynapseBlock& blk : core.inputs)
            b.synapses += blk.structuralSynapses;
        int64_t most = -1;
        for (const SliceInfo& s : core.slices) {
            const std::string& name = prog.populations[size_t(s.pop)].name;
            if (std::find(b.layers.begin(), b.layers.end(), name) == b.layers.end())
                b.layers.push_back(name);
            if (s.count > most) {
                most = s.count;
                b.layer = name;
                b.layerCores = int(popCores[s.pop].size());
            }
        }
        if (l.dynamicPj > 0)
            b.energyShare = coreEnergy[std::to_string(k)] / l.dynamicPj;
        const double next = byTotal.size() > 1 ? byTotal[1] : 0;
        const double mine = total[size_t(k)];
        b.splitInto = next > 0 && mine > next ? int(std::ceil(mine / next)) : 1;
        b.explanation = "core " + std::to_string(k) + ": " + pct(b.latencyShare) + " of the critical path, fan-in " +
                        grouped(double(b.synapses)) + " synapses, " + grouped(b.synapticOps) +
                        " synaptic ops per inference, layer %" + b.layer + " (on " + std::to_string(b.layerCores) +
                        " core" + (b.layerCores == 1 ? "" : "s") + ")";
        if (b.layers.size() > 1)
            b.explanation += " shared with " + std::to_string(b.layers.size() - 1) + " other layer(s)";
        const bool synapseBound = synTime[size_t(k)] > 0.5 * mine;
        if (b.splitInto >= 2 && synapseBound)
            b.suggestion = "split its share of %" + b.layer + " across " + std::to_string(b.splitInto) +
                           " cores (partition{objective=latency} balances synaptic-op load), or prune the synapses "
                           "into %" + b.layer + " (prune{sparsity=...})";
        else if (b.splitInto >= 2)
            b.suggestion = "neuron updates dominate: fewer neurons per core (partition{objective=latency})";
        else if (b.layers.size() > 1)
            b.suggestion = "give its layers their own cores (partition{share-cores=false})";
        else
            b.suggestion = "balanced already: the cores are within one core's time of each other";
        out.push_back(std::move(b));
    }

    // --- layers by dynamic energy --------------------------------------------
    std::map<std::string, int32_t> popIndex;
    for (size_t p = 0; p < prog.populations.size(); ++p)
        popIndex[prog.populations[p].name] = int32_t(p);
    std::vector<std::pair<double, std::string>> layers;
    for (const auto& [name, pj] : layerEnergy)
        layers.push_back({pj, name});
    std::sort(layers.rbegin(), layers.rend());
    for (size_t i = 0; i < layers.size() && int(i) < top && l.dynamicPj > 0; ++i) {
        Bottleneck b;
        b.kind = Bottleneck::Kind::Layer;
        b.layer = layers[i].second;
        b.energyShare = layers[i].first / l.dynamicPj;
        if (auto it = popIndex.find(b.layer); it != popIndex.end()) {
            const int32_t p = it->second;
            b.neurons = prog.populations[size_t(p)].size;
            b.synapses = popSynapses[p];
            b.layerCores = int(popCores[p].size());
            if (size_t(p) < c.perPopulation.size())
                b.synapticOps = double(c.perPopulation[size_t(p)].synapticOps) * perSample;
        }
        b.explanation = "layer %" + b.layer + ": " + pct(b.energyShare) + " of the dynamic energy, " +
                        grouped(b.synapticOps) + " synaptic ops per inference into " + grouped(double(b.neurons)) +
                        " neurons on " + std::to_string(b.layerCores) + " core" + (b.layerCores == 1 ? "" : "s");
        b.suggestion = b.synapticOps > 0
                           ? "fewer spikes into it (scale-thresholds{factor=1.25} on the model, fewer time steps "
                             "with set-timesteps) or fewer synapses (prune{sparsity=...}); stc sweep measures the "
                             "accuracy each costs"
                           : "its energy is neuron updates: fewer neurons (prune{mode=channel})";
        out.push_back(std::move(b));
    }

    // --- the mesh ----------------------------------------------------------------
    double mesh = 0;
    for (double v : lat.meshNs)
        mesh += v;
    if (lat.latencyModeNs > 0 && mesh / lat.latencyModeNs > 0.25) {
        Bottleneck b;
        b.kind = Bottleneck::Kind::Mesh;
        b.latencyShare = mesh / lat.latencyModeNs;
        b.explanation = "mesh: " + pct(b.latencyShare) + " of the latency is spike delivery over the mesh" +
                        (l.chips > 1 ? " and " + std::to_string(l.chips) + " chips' links" : std::string{});
        b.suggestion = l.chips > 1 ? "fewer chips (partition{chips=...}) keep traffic off the chip links"
                                   : "a longer placement search (place{iterations=...}) shortens the routes";
        out.push_back(std::move(b));
    }
    return out;
}

} // namespace stc::sim

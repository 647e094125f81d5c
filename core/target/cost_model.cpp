#include "target/cost_model.h"

#include <algorithm>
#include <cstdio>

namespace stc::target {

Estimate estimateCost(const Network& net, const Mapping& m, const ChipDescriptor& chip)
{
    Estimate e;
    e.projectedChip = chip.projectedChip;
    e.projectedNumbers = chip.projectedCount();
    e.ratesMeasured = net.ratesMeasured;
    e.steps = net.timesteps + net.depth;
    e.stepTimeNs = m.stepTimeNs;
    e.latencyNs = double(e.steps) * m.stepTimeNs;
    e.throughputPerSecond = m.stepTimeNs > 0 ? 1e9 / (double(net.timesteps) * m.stepTimeNs) : 0;
    const double T = double(net.timesteps);
    const EventCosts& E = chip.energyPj;
    double synOps = 0, neuronE = 0;
    for (const auto& c : m.cores)
        synOps += c.usage.synOpsPerStep;
    for (const auto& p : net.populations) {
        const double active = std::clamp(p.rate, 0.0, 1.0);
        neuronE += double(p.size()) * (active * E.neuronUpdateActive + (1.0 - active) * E.neuronUpdateIdle);
    }
    double netE = 0;
    for (const auto& r : m.routes)
        netE += r.spikesPerStep *
                (r.hopsEw * E.hopEw + r.hopsNs * E.hopNs + r.chipLinks * E.chipLink + E.spikeWithinTile);
    e.synOpsPerInference = synOps * T;
    e.spikesPerInference = m.trafficPerStep * T;
    e.synapticPj = synOps * T * E.synapticOp;
    e.neuronPj = neuronE * T;
    e.networkPj = netE * T;
    e.staticPj = chip.staticPowerMw * 1e-3 * double(std::max(1, m.chipsUsed)) * e.latencyNs * 1e-9 * 1e12;
    // Literature baseline: SOPs at 0.9 pJ plus the input layer's MACs at 4.6 pJ.
    double inputMacs = 0;
    for (const auto& pr : net.projections)
        if (net.populations[size_t(pr.src)].kind == PopulationKind::Input)
            inputMacs += double(pr.synapseCount());
    e.literatureBaselinePj = 0.9 * e.synOpsPerInference + 4.6 * inputMacs * T;
    e.notes.push_back("estimate: descriptor per-event constants x modelled event counts");
    e.notes.push_back(net.ratesMeasured ? "firing rates measured with the reference interpreter"
                                        : "firing rates assumed (no calibration input given)");
    if (chip.projectedChip)
        e.notes.push_back("PROJECTED chip: " + chip.projectionNote);
    else if (e.projectedNumbers > 0)
        e.notes.push_back(std::to_string(e.projectedNumbers) + " descriptor numbers of " + chip.id +
                          " are projections (see its JSON)");
    return e;
}

std::string formatSummary(const Network& net, const Mapping& m, const Estimate& e, const ChipDescriptor& chip)
{
    std::string out;
    char buf[512];
    auto line = [&](const char* fmt, auto... args) {
        std::snprintf(buf, sizeof buf, fmt, args...);
        out += buf;
        out += '\n';
    };
    line("chip        %s (%s)%s", chip.id.c_str(), chip.name.c_str(),
         chip.projectedChip ? "  ** PROJECTED: no public specification **" : "");
    line("network     %zu populations, %lld neurons, %lld synapses, T=%lld (+%d pipeline steps)",
         net.populations.size(), (long long)net.neuronCount(), (long long)net.synapseCount(),
         (long long)net.timesteps, net.depth);
    if (!m.fits) {
        line("result      DOES NOT FIT");
        for (const auto& p : m.problems)
            line("  - %s", p.message.c_str());
        return out;
    }
    line("mapping     %zu cores on %d of %d chip(s), objective %s, seed %llu", m.cores.size(), m.chipsUsed,
         m.chipsRequested, m.objective.c_str(), (unsigned long long)m.seed);
    line("utilization %.1f %% of the binding resource (static limits), %.1f %% counting step time",
         100 * m.meanBindingUtilization, 100 * m.meanUtilizationWithTime);
    for (const auto& c : m.chips)
        if (c.coresUsed)
            line("  chip %-3d  %4d/%d cores, %.1f %% binding utilization", c.chip, c.coresUsed, c.coresAvailable,
                 100 * c.meanBindingUtilization);
    line("traffic     %.1f spikes/step, %lld route hops, %.1f hop-weighted spikes/step, %.1f inter-chip spikes/step",
         m.trafficPerStep, (long long)m.totalHops, m.weightedHops, m.interChipTrafficPerStep);
    const char* tag = chip.projectedChip ? "ESTIMATE, PROJECTED" : "ESTIMATE";
    line("latency     %.2f us per inference (%lld steps x %.1f ns)  [%s]", e.latencyNs * 1e-3, (long long)e.steps,
         e.stepTimeNs, tag);
    line("energy      %.3f uJ per inference: synaptic %.3f, neuron %.3f, network %.3f, static %.3f  [%s]",
         e.totalPj() * 1e-6, e.synapticPj * 1e-6, e.neuronPj * 1e-6, e.networkPj * 1e-6, e.staticPj * 1e-6, tag);
    line("baseline    %.3f uJ (literature SNN estimate: 0.9 pJ/SOP + 4.6 pJ/MAC input layer, 45 nm)",
         e.literatureBaselinePj * 1e-6);
    for (const auto& n : e.notes)
        line("note        %s", n.c_str());
    return out;
}

} // namespace stc::target

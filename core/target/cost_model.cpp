#include "target/cost_model.h"

#include <algorithm>
#include <cstdio>

namespace stc::target {

namespace {

// Latency mode runs one inference at a time through the pipeline: in step s
// a core works only for the slices whose population handles a model step
// then (phase <= s < phase + T); mesh and barrier time are the mapping's.
double latencyModeNs(const Network& net, const Mapping& m)
{
    const int64_t steps = net.timesteps + net.depth;
    const double overheadNs = m.stepTimeNs - m.criticalCoreTimeNs;
    std::vector<double> core(m.cores.size());
    double total = 0;
    for (int64_t s = 0; s < steps; ++s) {
        std::fill(core.begin(), core.end(), 0.0);
        for (size_t k = 0; k < m.slices.size() && k < m.sliceUsage.size() && k < m.sliceCore.size(); ++k) {
            const int phase = net.populations[size_t(m.slices[k].pop)].phase;
            if (s >= phase && s < phase + net.timesteps && m.sliceCore[k] >= 0 && size_t(m.sliceCore[k]) < core.size())
                core[size_t(m.sliceCore[k])] += m.sliceUsage[k].timeNs;
        }
        total += (core.empty() ? 0.0 : *std::max_element(core.begin(), core.end())) + overheadNs;
    }
    return total;
}

} // namespace

Estimate estimateCost(const Network& net, const Mapping& m, const ChipDescriptor& chip)
{
    Estimate e;
    e.projectedChip = chip.projectedChip;
    e.projectedNumbers = chip.projectedCount();
    e.ratesMeasured = net.ratesMeasured;
    e.steps = net.timesteps + net.depth;
    e.stepTimeNs = m.stepTimeNs;
    e.latencyNs = latencyModeNs(net, m);
    e.intervalNs = double(net.timesteps) * m.stepTimeNs;
    e.throughputPerSecond = e.intervalNs > 0 ? 1e9 / e.intervalNs : 0;
    e.scheduleMode = net.scheduleMode == "throughput" ? "throughput" : "latency";
    e.staticTimeNs = e.scheduleMode == "throughput" ? e.intervalNs : e.latencyNs;
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
    // mW x ns = pJ, for the time one inference occupies the chip(s) in the schedule's mode.
    e.staticPj = chip.staticPowerMw * double(std::max(1, m.chipsUsed)) * e.staticTimeNs;
    // Literature baseline: SOPs at 0.9 pJ plus the input layer's MACs at 4.6 pJ.
    double inputMacs = 0;
    for (const auto& pr : net.projections)
        if (net.populations[size_t(pr.src)].kind == PopulationKind::Input)
            inputMacs += double(pr.synapseCount());
    e.literatureBaselinePj = 0.9 * e.synOpsPerInference + 4.6 * inputMacs * T;
    e.notes.push_back("estimate: descriptor per-event constants x modelled event counts");
    e.notes.push_back(net.ratesMeasured ? "firing rates measured with the reference interpreter"
                                        : "firing rates assumed (no calibration input given): such estimates can be "
                                          "off several-fold; give calibration data (stc compile --calibration "
                                          "fashion-mnist:64) or measure with stc simulate");
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
    line("latency     %.2f us per inference in latency mode (%lld steps, busy layers only); throughput mode: "
         "%.2f us between inferences (%lld steps x %.1f ns)  [%s]",
         e.latencyNs * 1e-3, (long long)e.steps, e.intervalNs * 1e-3, (long long)net.timesteps, e.stepTimeNs, tag);
    line("energy      %.3f uJ per inference: synaptic %.3f, neuron %.3f, network %.3f, static %.3f  [%s]",
         e.totalPj() * 1e-6, e.synapticPj * 1e-6, e.neuronPj * 1e-6, e.networkPj * 1e-6, e.staticPj * 1e-6, tag);
    line("static      %.0f mW x %d chip(s) x %.2f us = the time one inference occupies the chips in the package's "
         "%s schedule", chip.staticPowerMw, std::max(1, m.chipsUsed), e.staticTimeNs * 1e-3, e.scheduleMode.c_str());
    line("baseline    %.3f uJ (literature SNN estimate: 0.9 pJ/SOP + 4.6 pJ/MAC input layer, 45 nm)",
         e.literatureBaselinePj * 1e-6);
    for (const auto& n : e.notes)
        line("note        %s", n.c_str());
    return out;
}

} // namespace stc::target

namespace stc::target {

const char* toString(EventKind k)
{
    switch (k) {
    case EventKind::SynapticOp: return "synaptic_op";
    case EventKind::NeuronUpdateActive: return "neuron_update_active";
    case EventKind::NeuronUpdateIdle: return "neuron_update_idle";
    case EventKind::SpikeWithinTile: return "spike_within_tile";
    case EventKind::HopEw: return "hop_ew";
    case EventKind::HopNs: return "hop_ns";
    case EventKind::ChipLink: return "chip_link";
    }
    return "?";
}

double unitCost(const EventCosts& c, EventKind k)
{
    switch (k) {
    case EventKind::SynapticOp: return c.synapticOp;
    case EventKind::NeuronUpdateActive: return c.neuronUpdateActive;
    case EventKind::NeuronUpdateIdle: return c.neuronUpdateIdle;
    case EventKind::SpikeWithinTile: return c.spikeWithinTile;
    case EventKind::HopEw: return c.hopEw;
    case EventKind::HopNs: return c.hopNs;
    case EventKind::ChipLink: return c.chipLink;
    }
    return 0;
}

double EventTally::energyPj(const EventCosts& e) const
{
    double pj = 0;
    for (int k = 0; k < kEventKindCount; ++k)
        pj += count[size_t(k)] * unitCost(e, EventKind(k));
    return pj;
}

EventTally& EventTally::operator+=(const EventTally& o)
{
    for (size_t k = 0; k < count.size(); ++k)
        count[k] += o.count[k];
    return *this;
}

CostBreakdown estimateBreakdown(const Network& net, const Mapping& m, const ChipDescriptor& chip)
{
    (void)chip;
    CostBreakdown b;
    const double T = double(net.timesteps);
    const size_t pops = net.populations.size();
    b.perPopulation.assign(pops, {});
    b.perCore.assign(m.cores.size(), {});
    b.perStep.assign(size_t(std::max<int64_t>(1, net.timesteps + net.depth)), {});
    auto add = [](EventTally& t, EventKind k, double v) { t.count[size_t(k)] += v; };

    // Synaptic ops and neuron updates per slice (slices of a population
    // partition its neurons, so per-population sums equal estimateCost's).
    // Spikes out per core and population, to share route traffic.
    std::vector<std::vector<std::pair<int32_t, double>>> coreSpikes(m.cores.size());
    for (size_t s = 0; s < m.slices.size() && s < m.sliceUsage.size(); ++s) {
        const Slice& sl = m.slices[s];
        const Usage& u = m.sliceUsage[s];
        const Population& p = net.populations[size_t(sl.pop)];
        const double active = std::clamp(p.rate, 0.0, 1.0);
        const double n = double(sl.neurons());
        EventTally t;
        add(t, EventKind::SynapticOp, u.synOpsPerStep * T);
        add(t, EventKind::NeuronUpdateActive, n * active * T);
        add(t, EventKind::NeuronUpdateIdle, n * (1.0 - active) * T);
        b.perPopulation[size_t(sl.pop)] += t;
        const int32_t core = s < m.sliceCore.size() ? m.sliceCore[s] : -1;
        if (core >= 0 && size_t(core) < m.cores.size()) {
            b.perCore[size_t(core)] += t;
            coreSpikes[size_t(core)].push_back({sl.pop, u.spikesOutPerStep});
        }
    }
    for (const Route& r : m.routes) {
        if (r.from < 0 || size_t(r.from) >= m.cores.size())
            continue;
        EventTally t;
        add(t, EventKind::SpikeWithinTile, r.spikesPerStep * T);
        add(t, EventKind::HopEw, r.spikesPerStep * r.hopsEw * T);
        add(t, EventKind::HopNs, r.spikesPerStep * r.hopsNs * T);
        add(t, EventKind::ChipLink, r.spikesPerStep * r.chipLinks * T);
        b.perCore[size_t(r.from)] += t;
        const auto& shares = coreSpikes[size_t(r.from)];
        if (shares.empty()) {
            b.total += t; // a core without slices sends nothing; kept for completeness
            continue;
        }
        double sum = 0;
        for (const auto& [pop, spikes] : shares)
            sum += spikes;
        for (const auto& [pop, spikes] : shares) {
            const double f = sum > 0 ? spikes / sum : 1.0 / double(shares.size());
            EventTally part;
            for (size_t k = 0; k < part.count.size(); ++k)
                part.count[k] = t.count[k] * f;
            b.perPopulation[size_t(pop)] += part;
        }
    }
    // Population p works in hardware steps [phase, phase + T).
    for (size_t p = 0; p < pops; ++p) {
        const int phase = net.populations[p].phase;
        for (int64_t t = 0; t < net.timesteps; ++t) {
            const size_t step = size_t(std::min<int64_t>(int64_t(b.perStep.size()) - 1, phase + t));
            for (size_t k = 0; k < b.perStep[step].count.size(); ++k)
                b.perStep[step].count[k] += b.perPopulation[p].count[k] / T;
        }
        b.total += b.perPopulation[p];
    }
    return b;
}

} // namespace stc::target

// The chip-simulator stage of the document layer: one image through core/sim
// (the package mapModule built), LIF spikes collected through the sim's
// TraceSink API for the raster, and the energy ledger turned into the charts'
// measured data. Part of stages.h; runs inside a JobRunner job.
#include "document/stages.h"

#include "sim/ledger.h"
#include "sim/simulator.h"
#include "sim/trace.h"

#include <algorithm>

namespace stc::views {

namespace {

namespace csim = ::stc::sim;

QString qs(const std::string& s) { return QString::fromStdString(s); }

// Spikes of the traced populations, kept per population as (hardware step,
// neuron) until the run ends; reports progress by the latest step seen.
class LayerCollector : public csim::TraceSink {
public:
    LayerCollector(const csim::SimProgram& program, const std::vector<int32_t>& traced,
                   std::function<void(double)> progress)
        : program_(program), slot_(program.populations.size(), -1), spikes_(traced.size()),
          progress_(std::move(progress))
    {
        for (size_t i = 0; i < traced.size(); ++i)
            slot_[size_t(traced[i])] = int(i);
        for (const auto& p : program.populations)
            firstIds_.push_back(p.firstId);
    }

    void onChunk(std::span<const csim::SpikeRecord> records) override
    {
        int latest = 0;
        for (const csim::SpikeRecord& r : records) {
            // Populations are numbered consecutively by firstId.
            const auto it = std::upper_bound(firstIds_.begin(), firstIds_.end(), int64_t(r.neuron));
            const size_t pop = size_t(it - firstIds_.begin()) - 1;
            if (it == firstIds_.begin() || slot_[pop] < 0)
                continue;
            spikes_[size_t(slot_[pop])].push_back({r.step, uint32_t(int64_t(r.neuron) - firstIds_[pop])});
            latest = std::max(latest, int(r.step));
        }
        const int steps = int(program_.timesteps) + program_.depth;
        if (progress_ && steps > 0)
            progress_(double(latest + 1) / double(steps));
    }

    // (hardware step, population-local neuron) of traced population `slot`.
    std::vector<std::pair<uint16_t, uint32_t>>& spikes(int slot) { return spikes_[size_t(slot)]; }

private:
    const csim::SimProgram& program_;
    std::vector<int64_t> firstIds_;
    std::vector<int> slot_;
    std::vector<std::vector<std::pair<uint16_t, uint32_t>>> spikes_;
    std::function<void(double)> progress_;
};

std::shared_ptr<EnergyChartData> energyFromLedger(const csim::Ledger& l, const ChipPackage& package,
                                                  const QString& sample)
{
    auto d = std::make_shared<EnergyChartData>();
    d->measured = true;
    d->origin = QString("bit-accurate chip simulator (core/sim), %1: the simulated event "
                        "counts of this one inference × the descriptor's per-event constants (%2 schedule)")
                    .arg(sample, qs(l.latency.mode));
    d->chipId = qs(l.chipId);
    d->projectedChip = l.projectedChip;
    d->projectionNote = qs(l.projectionNote);
    for (const csim::LedgerLine& line : l.lines) {
        EnergyLine e;
        e.scope = qs(line.scope);
        e.item = qs(line.item);
        e.kind = qs(line.kind);
        e.count = line.count;
        e.unitPj = line.unitPj;
        e.constant = qs(line.constant);
        e.source = qs(line.source);
        e.projected = line.projected;
        e.energyPj = line.energyPj;
        if (line.scope == "total" && line.kind != "static")
            d->kinds << e.kind;
        d->lines.push_back(std::move(e));
    }
    for (const auto& p : package.program->populations)
        d->layers << qs(p.name);
    d->stepLatencyNs = l.latency.stepNs;
    d->latencyConstant = "measured: slowest core's simulated events × timing_ns.synaptic_op / neuron_update_* + "
                         "slowest message (hops × timing_ns.hop_*) + barrier (timing_ns.barrier_min..barrier_max)";
    d->latencySource = QString("per step of this inference in latency mode; %1").arg(qs(l.latency.mode));
    d->coreUtilization = package.coreUtilization;
    d->dynamicPj = l.dynamicPj;
    d->staticPj = l.staticPj;
    d->latencyNs = l.latency.mode == "throughput" ? l.latency.throughputLatencyNs : l.latency.latencyModeNs;
    return d;
}

// Per core: the ledger's dynamic energy lines (scope "core", item = core
// index) and the counters' spikes per inference over the T model steps; per
// layer: its dynamic energy lines (scope "layer", item = population name).
std::shared_ptr<FloorMeasurement> measurementOf(const csim::Ledger& l, const csim::Counters& counters,
                                                const csim::SimProgram& prog, const QString& sample)
{
    auto m = std::make_shared<FloorMeasurement>();
    m->label = "chip simulator, " + sample;
    const size_t n = prog.cores.size();
    m->energyPj.assign(n, 0.0);
    m->spikesPerStep.assign(n, 0.0);
    for (const csim::LedgerLine& line : l.lines) {
        if (line.kind == "static")
            continue;
        if (line.scope == "layer") {
            m->layerEnergyPj[QString::fromStdString(line.item)] += line.energyPj;
            continue;
        }
        if (line.scope != "core")
            continue;
        const size_t k = size_t(std::stoul(line.item));
        if (k < n)
            m->energyPj[k] += line.energyPj;
    }
    const double perStep = 1.0 / (double(std::max<int64_t>(1, counters.samples)) * double(std::max<int64_t>(1, prog.timesteps)));
    for (size_t k = 0; k < n && int(k) < counters.cores; ++k)
        m->spikesPerStep[k] = double(counters.core(int(k)).spikes) * perStep;
    return m;
}

} // namespace

ChipRunOutcome runChipSimulation(const ChipPackage& package, const ir::Module* document, const std::vector<float>& image,
                                 const QString& sample, const std::atomic<bool>* cancel,
                                 std::function<void(double, const std::string&)> progress)
{
    ChipRunOutcome out;
    sim::SimTrace& trace = out.trace;
    const csim::SimProgram& prog = *package.program;
    trace.engine = "bit-accurate chip simulator (core/sim) on " + prog.chipId + (prog.projectedChip ? ", projected" : "");
    trace.timesteps = prog.timesteps;
    if (int64_t(image.size()) != prog.inputSize()) {
        trace.error = "the package's input populations take " + std::to_string(prog.inputSize()) +
                      " values, the image has " + std::to_string(image.size());
        return out;
    }
    std::vector<int32_t> traced;
    std::vector<char> mask(prog.populations.size(), 0);
    for (size_t p = 0; p < prog.populations.size(); ++p)
        if (prog.populations[p].kind == csim::NeuronKind::Lif) {
            traced.push_back(int32_t(p));
            mask[p] = 1;
        }
    LayerCollector collector(prog, traced, [&](double f) {
        if (progress)
            progress(0.05 + 0.85 * std::min(1.0, f), "simulating hardware steps");
    });
    csim::RunControl control;
    control.cancelWith(cancel);
    csim::SimOptions opt;
    opt.threads = 1; // the GUI thread keeps the other core
    opt.parallel = csim::Parallel::Cores;
    opt.trace = &collector;
    opt.tracePopulations = mask;
    opt.traceChunk = 4096;
    opt.control = &control;
    if (progress)
        progress(0.02, "simulating on " + prog.chipId);
    const csim::SimResult r = csim::simulate(prog, image, 1, opt);
    trace.seconds = r.seconds;
    trace.cancelled = r.cancelled;
    trace.error = r.error;
    if (!r.ok())
        return out;

    const int64_t T = prog.timesteps;
    for (size_t slot = 0; slot < traced.size(); ++slot) {
        const csim::PopulationInfo& p = prog.populations[size_t(traced[slot])];
        sim::LayerTrace l;
        l.name = p.name;
        l.origin = p.origin;
        l.neurons = p.size;
        if (document)
            if (ir::ValueId v = document->findValue(p.name); v != ir::kNoValue)
                l.opIndex = document->value(v).def;
        auto& spikes = collector.spikes(int(slot));
        std::sort(spikes.begin(), spikes.end());
        // Hardware step -> model step: the population's pipeline phase.
        l.stepOffset.assign(size_t(T) + 1, 0);
        for (const auto& [step, neuron] : spikes) {
            const int64_t t = int64_t(step) - p.phase;
            if (t < 0 || t >= T)
                continue;
            l.neuron.push_back(int32_t(neuron));
            ++l.stepOffset[size_t(t) + 1];
        }
        for (int64_t t = 0; t < T; ++t) {
            l.spikesPerStep.push_back(l.stepOffset[size_t(t) + 1]);
            l.stepOffset[size_t(t) + 1] += l.stepOffset[size_t(t)];
        }
        l.total = int64_t(l.neuron.size());
        trace.layers.push_back(std::move(l));
    }
    if (progress)
        progress(0.93, "energy ledger");
    if (!prog.readoutPops.empty()) {
        const csim::PopulationInfo& head = prog.populations[size_t(prog.readoutPops.front())];
        std::vector<float> out0 = csim::sampleOutputs(prog, r, 0);
        out0.resize(size_t(head.size * (head.perStepOutput ? T : 1)));
        sim::setPrediction(trace, out0, head.perStepOutput ? T : 1);
    }
    const csim::Ledger ledger = csim::buildLedger(prog, r.counters);
    out.energy = energyFromLedger(ledger, package, sample);
    out.cores = measurementOf(ledger, r.counters, prog, sample);
    out.bottlenecks = std::make_shared<const std::vector<csim::Bottleneck>>(ledger.bottleneckItems);
    out.ledgerText = csim::formatLedger(ledger);
    return out;
}

} // namespace stc::views

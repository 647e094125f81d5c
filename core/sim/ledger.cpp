// Energy ledger and latency model from simulator counters (see ledger.h).
#include "sim/ledger.h"

#include "target/placement.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>

namespace stc::sim {

namespace {

struct Kind {
    const char* key;                   // descriptor key below energy_pj / timing_ns
    double target::EventCosts::*cost;  // the constant
    double (*count)(const EventCounts&);
};

// Every message is delivered through its destination tile's router
// (spike_within_tile, as the cost model charges it) plus its mesh hops and
// chip-link crossings.
const std::array<Kind, 7> kKinds = {{
    {"synaptic_op", &target::EventCosts::synapticOp, [](const EventCounts& e) { return double(e.synapticOps); }},
    {"neuron_update_active", &target::EventCosts::neuronUpdateActive,
     [](const EventCounts& e) { return double(e.neuronActive); }},
    {"neuron_update_idle", &target::EventCosts::neuronUpdateIdle,
     [](const EventCounts& e) { return double(e.neuronIdle); }},
    {"spike_within_tile", &target::EventCosts::spikeWithinTile, [](const EventCounts& e) { return double(e.messages); }},
    {"hop_ew", &target::EventCosts::hopEw, [](const EventCounts& e) { return double(e.hopsEw); }},
    {"hop_ns", &target::EventCosts::hopNs, [](const EventCounts& e) { return double(e.hopsNs); }},
    {"chip_link", &target::EventCosts::chipLink, [](const EventCounts& e) { return double(e.chipLinks); }},
}};

target::Provenance provenanceOf(const target::ChipDescriptor& chip, const std::string& path)
{
    auto it = chip.provenance.find(path);
    return it == chip.provenance.end() ? target::Provenance{"(no provenance recorded)", true} : it->second;
}

// Compute time of one core in one step from its (per-inference) counts.
double coreTimeNs(const target::EventCosts& t, const EventCounts& e, double perSample)
{
    return (double(e.synapticOps) * t.synapticOp + double(e.neuronActive) * t.neuronUpdateActive +
            double(e.neuronIdle) * t.neuronUpdateIdle) *
           perSample;
}

std::string fmt(const char* f, double a)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, f, a);
    return buf;
}

} // namespace

Ledger buildLedger(const SimProgram& prog, const Counters& c, const std::string& modeIn)
{
    Ledger l;
    const target::ChipDescriptor& chip = prog.chip;
    l.chipId = prog.chipId;
    l.chipName = prog.chipName;
    l.projectedChip = prog.projectedChip;
    l.projectionNote = prog.projectionNote;
    l.samples = c.samples;
    l.timesteps = prog.timesteps;
    l.depth = prog.depth;
    l.chips = std::max(1, prog.chipsUsed);
    const double inv = c.samples > 0 ? 1.0 / double(c.samples) : 0.0;
    if (c.samples <= 0)
        l.notes.push_back("no sample was simulated: every count is 0");

    // --- latency (needed for static energy) -------------------------------
    LatencyModel& lat = l.latency;
    lat.mode = modeIn.empty() ? prog.scheduleMode : modeIn;
    const target::BoardLayout board = target::makeBoardLayout(chip, std::max(1, prog.chipsUsed));
    std::vector<target::CoreCoord> used;
    for (const auto& core : prog.cores)
        used.push_back(core.coord);
    lat.barrierNs = used.empty() ? 0.0 : target::barrierTimeNs(chip, board, used);
    const int steps = c.steps, cores = c.cores;
    lat.stepNs.assign(size_t(steps), 0.0);
    lat.coreNs.assign(size_t(steps), 0.0);
    lat.meshNs.assign(size_t(steps), 0.0);
    lat.criticalCore.assign(size_t(steps), -1);
    for (int s = 0; s < steps; ++s) {
        for (int k = 0; k < cores; ++k) {
            const EventCounts& e = c.at(k, s);
            const double ns = coreTimeNs(chip.latencyNs, e, inv);
            if (ns > lat.coreNs[size_t(s)])
                lat.coreNs[size_t(s)] = ns, lat.criticalCore[size_t(s)] = k;
            lat.meshNs[size_t(s)] = std::max(lat.meshNs[size_t(s)], e.maxMessageNs);
        }
        lat.stepNs[size_t(s)] = lat.coreNs[size_t(s)] + lat.meshNs[size_t(s)] + lat.barrierNs;
        lat.latencyModeNs += lat.stepNs[size_t(s)];
    }
    // Throughput mode: samples overlap, steady step r carries step indices i = r (mod T).
    const int64_t T = std::max<int64_t>(1, prog.timesteps);
    lat.steadyStepNs.assign(size_t(T), 0.0);
    lat.steadyCriticalCore.assign(size_t(T), -1);
    for (int64_t r = 0; r < T; ++r) {
        double worst = 0, mesh = 0;
        for (int k = 0; k < cores; ++k) {
            double ns = 0;
            for (int64_t i = r; i < steps; i += T) {
                ns += coreTimeNs(chip.latencyNs, c.at(k, int(i)), inv);
                mesh = std::max(mesh, c.at(k, int(i)).maxMessageNs);
            }
            if (ns > worst)
                worst = ns, lat.steadyCriticalCore[size_t(r)] = k;
        }
        lat.steadyStepNs[size_t(r)] = worst + mesh + lat.barrierNs;
        lat.throughputIntervalNs += lat.steadyStepNs[size_t(r)];
    }
    lat.throughputLatencyNs = lat.throughputIntervalNs / double(T) * double(steps);

    // --- energy -------------------------------------------------------------
    const EventCounts total = c.total();
    l.perInference = total;
    using Field = int64_t EventCounts::*;
    for (Field f : std::initializer_list<Field>{&EventCounts::synapticOps, &EventCounts::neuronActive, &EventCounts::neuronIdle,
                    &EventCounts::spikes, &EventCounts::messages, &EventCounts::hopsEw, &EventCounts::hopsNs,
                    &EventCounts::chipMessages, &EventCounts::chipLinks, &EventCounts::memReadBytes})
        l.perInference.*f = c.samples > 0 ? int64_t(std::llround(double(total.*f) * inv)) : 0;
    auto addLines = [&](const std::string& scope, const std::string& item, const EventCounts& e, bool keepZero) {
        double pj = 0;
        for (const Kind& k : kKinds) {
            const double n = k.count(e) * inv;
            if (n == 0 && !keepZero)
                continue;
            const std::string path = std::string("energy_pj.") + k.key;
            const target::Provenance pv = provenanceOf(chip, path);
            LedgerLine line{scope, item, k.key, n, chip.energyPj.*k.cost, path, pv.text, pv.projected,
                            n * chip.energyPj.*k.cost};
            pj += line.energyPj;
            l.lines.push_back(std::move(line));
        }
        return pj;
    };
    l.dynamicPj = addLines("total", "", total, true);
    {
        const double latencyNs = lat.mode == "throughput" ? lat.throughputIntervalNs : lat.latencyModeNs;
        const target::Provenance pv = provenanceOf(chip, "static_power_mw");
        // mW x ns = 1e-3 W x 1e-9 s = 1e-12 J = 1 pJ.
        l.staticPj = chip.staticPowerMw * double(l.chips) * latencyNs;
        l.lines.push_back({"total", "", "static", double(l.chips) * latencyNs, chip.staticPowerMw, "static_power_mw",
                           pv.text, pv.projected, l.staticPj});
        l.notes.push_back("static energy: " + fmt("%.0f", chip.staticPowerMw) + " mW x " + std::to_string(l.chips) +
                          " chip(s) x " + fmt("%.1f", latencyNs) + " ns (" + lat.mode + " mode time per inference)");
    }
    for (size_t p = 0; p < prog.populations.size() && p < c.perPopulation.size(); ++p)
        addLines("layer", prog.populations[p].name, c.perPopulation[p], false);
    for (int k = 0; k < cores; ++k)
        addLines("core", std::to_string(k), c.core(k), false);
    for (int s = 0; s < steps; ++s)
        addLines("step", std::to_string(s), c.step(s), false);
    l.notes.push_back("layer lines: synaptic ops and neuron updates are charged to the receiving layer, messages and "
                      "hops to the sending layer");
    l.notes.push_back("memory reads (" + std::to_string(l.perInference.memReadBytes) +
                      " synapse-table bytes per inference) are counted, not priced: the descriptor's synaptic_op "
                      "energy includes the synapse read (Davies et al. 2018)");

    // --- baselines ------------------------------------------------------------
    Baselines& b = l.baselines;
    double inputStructural = 0, denseStructural = 0;
    for (const auto& core : prog.cores)
        for (const auto& in : core.inputs) {
            const NeuronKind src = prog.populations[size_t(in.srcPop)].kind;
            const NeuronKind dst = prog.populations[size_t(core.slices[size_t(in.slice)].pop)].kind;
            if (src == NeuronKind::Input)
                inputStructural += double(in.structuralSynapses);
            if (dst != NeuronKind::Product) // operand gathers are not MACs; the sum of products is one MAC each
                denseStructural += double(in.structuralSynapses);
        }
    b.firstLayerMacs = inputStructural * double(T);
    b.sops = double(total.synapticOps - c.inputSynapticOps) * inv;
    b.literaturePj = kHorowitzMacPj * b.firstLayerMacs + kHorowitzAcPj * b.sops;
    b.denseMacs = denseStructural * double(T);
    b.denseHorowitzPj = kHorowitzMacPj * b.denseMacs;
    b.denseGpuPj = kGpuPjPerMac * b.denseMacs;
    b.assumptions = {
        "literature formula (SNN papers): E = E_MAC x MACs(first layer, dense over T steps) + E_AC x SOPs, "
        "E_MAC = 4.6 pJ, E_AC = 0.9 pJ (Horowitz, ISSCC 2014, 32-bit float, 45 nm); SOPs = measured synaptic ops of "
        "the spiking layers",
        "dense-equivalent MACs: every synapse of every layer every time step (zeros included), one MAC per product "
        "term of attention (operand gathers not counted), as a dense forward computes them",
        "dense at 4.6 pJ/MAC: compute only (no memory traffic), 45 nm",
        "GPU-equivalent: 41 pJ/MAC = A100 SXM 400 W board power / 19.5 TFLOPS FP32 at 100 % utilization; real "
        "utilization is lower (energy higher), batching and lower precision lower it",
    };

    // --- bottlenecks ------------------------------------------------------------
    l.bottleneckItems = findBottlenecks(prog, c, l);
    for (const Bottleneck& b : l.bottleneckItems)
        l.bottlenecks.push_back(b.explanation + (b.suggestion.empty() ? "" : " — " + b.suggestion));
    if (prog.projectedChip)
        l.notes.push_back("PROJECTED chip: " + prog.projectionNote);
    if (!prog.fromQuantizedModule)
        l.notes.push_back("the package's integer parameters were not produced by the quantize pass");
    return l;
}

std::string formatLedger(const Ledger& l, int maxRows)
{
    std::string out;
    char buf[1024];
    auto line = [&](const char* f, auto... a) {
        std::snprintf(buf, sizeof buf, f, a...);
        out += buf;
        out += '\n';
    };
    const char* tag = l.projectedChip ? "PROJECTED" : "modelled";
    line("chip     %s (%s)%s", l.chipId.c_str(), l.chipName.c_str(),
         l.projectedChip ? "  ** PROJECTED: no public specification **" : "");
    line("samples  %lld simulated, T=%lld, pipeline depth %d, %d chip(s)", (long long)l.samples,
         (long long)l.timesteps, l.depth, l.chips);
    line("energy   %.4f uJ per inference (dynamic %.4f, static %.4f)  [%s, from simulated event counts]",
         l.totalPj() * 1e-6, l.dynamicPj * 1e-6, l.staticPj * 1e-6, tag);
    line("");
    line("%-22s %14s %10s %12s  %s", "event kind", "per inference", "pJ each", "uJ", "descriptor constant / source");
    for (const auto& x : l.lines)
        if (x.scope == "total")
            line("%-22s %14.0f %10.3f %12.5f  %s: %s%s", x.kind.c_str(), x.count, x.unitPj, x.energyPj * 1e-6,
                 x.constant.c_str(), x.projected ? "PROJECTED " : "", x.source.c_str());
    auto top = [&](const char* scope, const char* title) {
        std::map<std::string, double> sum;
        for (const auto& x : l.lines)
            if (x.scope == scope)
                sum[x.item] += x.energyPj;
        std::vector<std::pair<double, std::string>> v;
        for (const auto& [k, pj] : sum)
            v.push_back({pj, k});
        std::sort(v.rbegin(), v.rend());
        line("");
        line("%s (top %d of %zu, dynamic energy per inference)", title, maxRows, v.size());
        for (int i = 0; i < maxRows && size_t(i) < v.size(); ++i)
            line("  %-40s %12.5f uJ  %5.1f %%", v[size_t(i)].second.c_str(), v[size_t(i)].first * 1e-6,
                 l.dynamicPj > 0 ? 100 * v[size_t(i)].first / l.dynamicPj : 0.0);
    };
    top("layer", "layers");
    top("core", "cores");
    const LatencyModel& m = l.latency;
    line("");
    line("latency  [%s, descriptor timing_ns]", tag);
    line("  latency mode    %.3f us per inference (%zu steps, barrier %.1f ns each)", m.latencyModeNs * 1e-3,
         m.stepNs.size(), m.barrierNs);
    line("  throughput mode %.3f us between inferences (%.0f inferences/s), %.3f us latency",
         m.throughputIntervalNs * 1e-3, m.throughputIntervalNs > 0 ? 1e9 / m.throughputIntervalNs : 0.0,
         m.throughputLatencyNs * 1e-3);
    line("  %-5s %12s %12s %12s  %s", "step", "total ns", "compute ns", "mesh ns", "critical core");
    for (size_t s = 0; s < m.stepNs.size(); ++s)
        line("  %-5zu %12.1f %12.1f %12.1f  %d", s, m.stepNs[s], m.coreNs[s], m.meshNs[s], m.criticalCore[s]);
    const Baselines& b = l.baselines;
    line("");
    line("baselines (not measurements; assumptions below)");
    line("  literature SNN formula  %.4f uJ = 4.6 pJ x %.0f first-layer MACs + 0.9 pJ x %.0f SOPs",
         b.literaturePj * 1e-6, b.firstLayerMacs, b.sops);
    line("  dense, 4.6 pJ/MAC       %.4f uJ (%.0f MACs)", b.denseHorowitzPj * 1e-6, b.denseMacs);
    line("  dense, GPU 41 pJ/MAC    %.4f uJ  -> chip/GPU energy ratio %.3g", b.denseGpuPj * 1e-6,
         b.denseGpuPj > 0 ? l.totalPj() / b.denseGpuPj : 0.0);
    for (const auto& a : b.assumptions)
        line("  * %s", a.c_str());
    line("");
    line("bottlenecks");
    for (const auto& s : l.bottlenecks)
        line("  - %s", s.c_str());
    for (const auto& n : l.notes)
        line("note     %s", n.c_str());
    return out;
}

std::string ledgerJson(const Ledger& l)
{
    using nlohmann::json;
    json j;
    j["chip"] = {{"id", l.chipId}, {"name", l.chipName}, {"projected", l.projectedChip},
                 {"projection_note", l.projectionNote}};
    j["label"] = l.label();
    j["samples"] = l.samples;
    j["timesteps"] = l.timesteps;
    j["pipeline_depth"] = l.depth;
    j["chips"] = l.chips;
    j["energy_pj_per_inference"] = {{"total", l.totalPj()}, {"dynamic", l.dynamicPj}, {"static", l.staticPj}};
    const EventCounts& e = l.perInference;
    j["events_per_inference"] = {{"synaptic_ops", e.synapticOps}, {"neuron_updates_active", e.neuronActive},
                                 {"neuron_updates_idle", e.neuronIdle}, {"spikes", e.spikes},
                                 {"messages", e.messages}, {"hops_ew", e.hopsEw}, {"hops_ns", e.hopsNs},
                                 {"chip_messages", e.chipMessages}, {"chip_links", e.chipLinks},
                                 {"memory_read_bytes", e.memReadBytes}};
    json lines = json::array();
    for (const auto& x : l.lines)
        lines.push_back({{"scope", x.scope}, {"item", x.item}, {"kind", x.kind}, {"count", x.count},
                         {"unit_pj", x.unitPj}, {"constant", x.constant},
                         {x.projected ? "projected" : "source", x.source}, {"energy_pj", x.energyPj}});
    j["lines"] = std::move(lines);
    const LatencyModel& m = l.latency;
    j["latency"] = {{"mode", m.mode},
                    {"barrier_ns", m.barrierNs},
                    {"latency_mode_ns", m.latencyModeNs},
                    {"step_ns", m.stepNs},
                    {"compute_ns", m.coreNs},
                    {"mesh_ns", m.meshNs},
                    {"critical_core", m.criticalCore},
                    {"throughput_interval_ns", m.throughputIntervalNs},
                    {"throughput_latency_ns", m.throughputLatencyNs},
                    {"steady_step_ns", m.steadyStepNs},
                    {"steady_critical_core", m.steadyCriticalCore}};
    const Baselines& b = l.baselines;
    j["baselines"] = {{"first_layer_macs", b.firstLayerMacs}, {"sops", b.sops},
                      {"literature_pj", b.literaturePj},      {"dense_macs", b.denseMacs},
                      {"dense_horowitz_pj", b.denseHorowitzPj}, {"dense_gpu_pj", b.denseGpuPj},
                      {"assumptions", b.assumptions}};
    j["bottlenecks"] = l.bottlenecks;
    nlohmann::json items = nlohmann::json::array();
    for (const Bottleneck& b : l.bottleneckItems) {
        static const char* kinds[] = {"core", "layer", "mesh"};
        items.push_back({{"kind", kinds[int(b.kind)]}, {"core", b.core}, {"layer", b.layer}, {"layers", b.layers},
                         {"latency_share", b.latencyShare}, {"energy_share", b.energyShare},
                         {"synapses", b.synapses}, {"synaptic_ops", b.synapticOps}, {"neurons", b.neurons},
                         {"layer_cores", b.layerCores}, {"split_into", b.splitInto},
                         {"explanation", b.explanation}, {"suggestion", b.suggestion}});
    }
    j["bottleneck_items"] = items;
    j["notes"] = l.notes;
    return j.dump(1);
}

} // namespace stc::sim

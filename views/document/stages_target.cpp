// The mapping stage of the document layer: core/target (extract, partition,
// place, route, cost model) turned into the plain values the floorplan and
// the charts draw. Part of stages.h; runs inside a JobRunner job.
#include "document/stages.h"
#include "document/stages_internal.h"

#include <QElapsedTimer>

#include "sim/program.h"
#include "plugin_host.h"
#include "target/cost_model.h"
#include "target/layer_check.h"
#include "target/mapper.h"
#include "target/network_extract.h"
#include "target/package.h"
#include "target/placement.h"

#include <algorithm>
#include <map>

namespace stc::views {

QString floorResourceName(int r)
{
    static const char* names[kFloorResourceCount] = {"neurons",         "fan-in axons", "fan-out axons",
                                                     "synaptic memory", "core memory",  "step time"};
    return r >= 0 && r < kFloorResourceCount ? names[r] : "?";
}

void FloorplanData::index()
{
    coreOfCell.assign(size_t(std::max(0, cellCount())), kUnused);
    for (const auto& d : deadCores)
        if (d[0] < chips)
            coreOfCell[size_t(cellOf(d[0], d[1], d[2], d[3]))] = kDead;
    for (size_t i = 0; i < cores.size(); ++i) {
        const FloorCore& c = cores[i];
        if (c.chip < chips)
            coreOfCell[size_t(cellOf(c.chip, c.tileX, c.tileY, c.core))] = int(i);
    }
}

std::vector<const EnergyLine*> EnergyChartData::linesOf(const QString& scope) const
{
    std::vector<const EnergyLine*> out;
    for (const auto& l : lines)
        if (l.scope == scope)
            out.push_back(&l);
    return out;
}

const EnergyLine* EnergyChartData::find(const QString& scope, const QString& item, const QString& kind) const
{
    for (const auto& l : lines)
        if (l.scope == scope && l.item == item && l.kind == kind)
            return &l;
    return nullptr;
}

std::vector<double> EnergyChartData::stepEnergyPj() const
{
    std::map<int, double> byStep;
    for (const auto& l : lines)
        if (l.scope == "step")
            byStep[l.item.toInt()] += l.energyPj;
    std::vector<double> out;
    for (const auto& [step, pj] : byStep) {
        if (step >= 0 && size_t(step) >= out.size())
            out.resize(size_t(step) + 1, 0.0);
        if (step >= 0)
            out[size_t(step)] = pj;
    }
    return out;
}

std::shared_ptr<FloorplanData> floorplanOfMapping(const target::Mapping& m, const target::ChipDescriptor& chip,
                                                  std::vector<FloorLayer> layers, const ir::Module* document)
{
    auto f = std::make_shared<FloorplanData>();
    f->chipId = QString::fromStdString(chip.id);
    f->chipName = QString::fromStdString(chip.name);
    f->projectedChip = chip.projectedChip;
    f->projectionNote = QString::fromStdString(chip.projectionNote);
    f->projectedNumbers = chip.projectedCount();
    f->objective = QString::fromStdString(m.objective);
    f->chips = std::max(1, m.chipsRequested);
    const target::BoardLayout board = target::makeBoardLayout(chip, f->chips);
    f->chips = board.chips;
    f->chipPos = board.chipPos;
    f->tilesX = chip.tilesX;
    f->tilesY = chip.tilesY;
    f->coresPerTile = chip.coresPerTile;
    for (const auto& d : chip.deadCores)
        f->deadCores.push_back({d.chip, d.tileX, d.tileY, d.core});
    f->capacity = {double(chip.limits.neurons),        double(chip.limits.fanInAxons),
                   double(chip.limits.fanOutAxons),    double(chip.limits.synapticMemoryBytes),
                   double(chip.limits.coreMemoryBytes), 0.0};
    f->layers = std::move(layers);
    if (document)
        for (FloorLayer& l : f->layers) {
            ir::ValueId v = document->findValue(l.name.toStdString());
            if (v != ir::kNoValue)
                l.opIndex = document->value(v).def;
        }
    for (size_t i = 0; i < m.cores.size(); ++i) {
        const target::CoreAssignment& a = m.cores[i];
        FloorCore c;
        c.chip = a.coord.chip;
        c.tileX = a.coord.tileX;
        c.tileY = a.coord.tileY;
        c.core = a.coord.core;
        std::map<int, int64_t> neuronsOf;
        for (int32_t s : a.slices) {
            const int pop = m.slices[size_t(s)].pop;
            neuronsOf[pop] += m.slices[size_t(s)].neurons();
        }
        int64_t best = -1;
        for (const auto& [pop, n] : neuronsOf) {
            if (pop < 0 || pop >= int(f->layers.size()))
                continue;
            c.layers.push_back(pop);
            f->layers[size_t(pop)].cores.push_back(int(i));
            if (n > best) {
                best = n;
                c.layer = pop;
            }
        }
        c.neurons = a.usage.neurons;
        c.fanIn = a.usage.fanInAxons;
        c.fanOut = a.usage.fanOutAxons;
        c.synapticBytes = a.usage.synapticBytes;
        c.stateBytes = a.usage.stateBytes;
        for (int r = 0; r < kFloorResourceCount; ++r)
            c.utilization[size_t(r)] = a.utilization.of[r];
        c.binding = int(a.utilization.binding);
        f->cores.push_back(std::move(c));
    }
    for (const auto& r : m.routes) {
        FloorRoute fr;
        fr.from = r.from;
        fr.to = r.to;
        fr.hops = r.hopsEw + r.hopsNs;
        fr.chipLinks = r.chipLinks;
        fr.path = r.path;
        f->routes.push_back(std::move(fr));
    }
    f->stepTimeNs = m.stepTimeNs;
    f->meanBindingUtilization = m.meanBindingUtilization;
    f->index();
    return f;
}

std::shared_ptr<ChipPackage> chipPackageOf(const target::Package& pkg, const target::Mapping& m, std::string* error)
{
    ::stc::sim::ProgramLoad load = ::stc::sim::buildProgram(pkg);
    if (!load.ok()) {
        if (error)
            *error = load.error;
        return nullptr;
    }
    auto p = std::make_shared<ChipPackage>();
    p->program = std::make_shared<const ::stc::sim::SimProgram>(std::move(*load.program));
    p->chipId = QString::fromStdString(pkg.chipId);
    p->chipName = QString::fromStdString(pkg.chipName);
    p->projectedChip = pkg.projectedChip;
    p->cores = int(m.cores.size());
    for (const auto& c : m.cores)
        p->coreUtilization.push_back(c.utilization.bindingValue());
    return p;
}

std::vector<std::string> availableChips() { return target::availableChipIds(); }

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

std::shared_ptr<EnergyChartData> energyFromEstimate(const target::Network& net, const target::Mapping& m,
                                                    const target::ChipDescriptor& chip, const target::Estimate& e,
                                                    const target::CostBreakdown& b)
{
    auto d = std::make_shared<EnergyChartData>();
    d->measured = false;
    d->origin = QString("Estimated by the core/target cost model: descriptor per-event constants × modelled event "
                        "counts at %1 firing rates")
                    .arg(net.ratesMeasured ? "measured" : "assumed (LIF 15 %, inputs 100 %)");
    d->chipId = qs(chip.id);
    d->projectedChip = chip.projectedChip;
    d->projectionNote = qs(chip.projectionNote);
    auto provenance = [&](const std::string& path, bool* projected) {
        auto it = chip.provenance.find(path);
        *projected = it != chip.provenance.end() && it->second.projected;
        return it == chip.provenance.end() ? QString("(no source recorded)") : qs(it->second.text);
    };
    struct Kind {
        QString key, constant, source;
        double unit;
        bool projected;
    };
    std::vector<Kind> kinds;
    for (int k = 0; k < target::kEventKindCount; ++k) {
        Kind kind;
        kind.key = target::toString(target::EventKind(k));
        kind.constant = "energy_pj." + kind.key;
        kind.unit = target::unitCost(chip.energyPj, target::EventKind(k));
        kind.source = provenance(kind.constant.toStdString(), &kind.projected);
        kinds.push_back(kind);
        d->kinds << kind.key;
    }
    auto addLines = [&](const QString& scope, const QString& item, const target::EventTally& t) {
        for (size_t k = 0; k < kinds.size(); ++k) {
            EnergyLine l;
            l.scope = scope;
            l.item = item;
            l.kind = kinds[k].key;
            l.count = t.count[k];
            l.unitPj = kinds[k].unit;
            l.constant = kinds[k].constant;
            l.source = kinds[k].source;
            l.projected = kinds[k].projected;
            l.energyPj = l.count * l.unitPj;
            d->lines.push_back(std::move(l));
        }
    };
    addLines("total", {}, b.total);
    for (size_t p = 0; p < net.populations.size(); ++p) {
        d->layers << qs(net.populations[p].name);
        addLines("layer", d->layers.back(), b.perPopulation[p]);
    }
    for (size_t c = 0; c < b.perCore.size(); ++c)
        addLines("core", QString::number(c), b.perCore[c]);
    for (size_t s = 0; s < b.perStep.size(); ++s)
        addLines("step", QString::number(s), b.perStep[s]);
    bool staticProjected = false;
    EnergyLine st;
    st.scope = "total";
    st.kind = "static";
    st.count = e.latencyNs * 1e-9; // seconds per inference
    st.unitPj = chip.staticPowerMw * 1e9 * double(std::max(1, m.chipsUsed)); // pJ per second (all chips)
    st.constant = "static_power_mw";
    st.source = provenance("static_power_mw", &staticProjected);
    st.projected = staticProjected;
    st.energyPj = e.staticPj;
    d->lines.push_back(st);
    // The estimate's step time is the same for every step: slowest core +
    // routing + barrier (target::Mapping::stepTimeNs).
    d->stepLatencyNs.assign(b.perStep.size(), m.stepTimeNs);
    bool p1 = false, p2 = false;
    const QString bmin = provenance("timing_ns.barrier_min", &p1), bmax = provenance("timing_ns.barrier_max", &p2);
    d->latencyConstant = "slowest core (timing_ns.synaptic_op, timing_ns.neuron_update_*) + routing + barrier "
                         "(timing_ns.barrier_min..barrier_max)";
    d->latencySource = QString("barrier: %1%2").arg(bmin, bmax != bmin ? " / " + bmax : QString());
    for (const auto& c : m.cores)
        d->coreUtilization.push_back(c.utilization.bindingValue());
    d->dynamicPj = e.synapticPj + e.neuronPj + e.networkPj;
    d->staticPj = e.staticPj;
    d->latencyNs = e.latencyNs;
    return d;
}

std::shared_ptr<FloorplanData> floorplanFrom(const target::Network& net, const target::Mapping& m,
                                             const target::ChipDescriptor& chip, const target::Estimate& e,
                                             const target::CostBreakdown& b, const ir::Module* document)
{
    std::vector<FloorLayer> layers;
    for (const auto& p : net.populations) {
        FloorLayer l;
        l.name = qs(p.name);
        l.origin = qs(p.origin);
        l.kind = target::toString(p.kind);
        l.neurons = p.size();
        layers.push_back(std::move(l));
    }
    auto f = floorplanOfMapping(m, chip, std::move(layers), document);
    f->ratesMeasured = net.ratesMeasured;
    for (size_t i = 0; i < m.cores.size(); ++i) {
        const target::CoreAssignment& a = m.cores[i];
        FloorCore& c = f->cores[i];
        c.synOpsPerStep = a.usage.synOpsPerStep;
        c.spikesOutPerStep = a.usage.spikesOutPerStep;
        c.timeNs = a.usage.timeNs;
        c.energyPj = i < b.perCore.size() ? b.perCore[i].energyPj(chip.energyPj) : 0.0;
    }
    for (size_t p = 0; p < net.populations.size() && p < b.perPopulation.size(); ++p)
        f->layers[p].energyPj = b.perPopulation[p].energyPj(chip.energyPj);
    for (size_t r = 0; r < m.routes.size(); ++r)
        f->routes[r].spikesPerStep = m.routes[r].spikesPerStep;
    f->capacity[size_t(FloorResource::StepTime)] = m.criticalCoreTimeNs;
    f->latencyNs = e.latencyNs;
    f->dynamicPj = e.synapticPj + e.neuronPj + e.networkPj;
    f->staticPj = e.staticPj;
    f->summary = qs(target::formatSummary(net, m, e, chip));
    return f;
}

// The package the backend would write, kept in memory and decoded for core/sim.
std::shared_ptr<const ChipPackage> packageFor(const target::Network& net, const target::Mapping& m,
                                              const target::ChipDescriptor& chip, const target::Estimate& e,
                                              const std::string& pipeline, Diagnostics& diagnostics)
{
    QElapsedTimer timer;
    timer.start();
    std::string error;
    try {
        const target::Package pkg = target::buildPackage(net, m, chip, pipeline, e);
        if (auto p = chipPackageOf(pkg, m, &error)) {
            p->buildSeconds = double(timer.nsecsElapsed()) / 1e9;
            return p;
        }
    } catch (const std::exception& ex) {
        error = ex.what();
    }
    diagnostics.warning({}, {}, "no deployment package for the chip simulator: " + error +
                                    " (the Simulator panel offers the f32 reference interpreter only)");
    return nullptr;
}

} // namespace

namespace {
MapOutcome mapModuleImpl(const ir::Module& compiled, const ir::Module* document, const MapRequest& request,
                         const std::atomic<bool>* cancel, std::function<void(double, const std::string&)> progress)
{
    MapOutcome out;
    QElapsedTimer timer;
    timer.start();
    auto step = [&](double f, const std::string& what) {
        if (progress)
            progress(f, what);
        return !(cancel && cancel->load());
    };
    auto cancelled = [&] {
        out.error = "cancelled";
        return out;
    };
    if (!step(0.02, "loading the " + request.chip + " descriptor"))
        return cancelled();
    target::DescriptorLoad d = target::findChip(request.chip);
    out.diagnostics.append(d.diagnostics);
    if (!d.chip) {
        out.error = "cannot load chip descriptor '" + request.chip + "'";
        return out;
    }
    const target::ChipDescriptor& chip = *d.chip;
    // Unsupported layers are listed before mapping: the descriptor's rules,
    // then the chip's backend plugin's (which replace them for the same op).
    std::vector<target::LayerIssue> issues = target::checkLayersAgainstDescriptor(compiled, chip);
    QString noBackend;
    if (auto* backend = plugins::PluginHost::instance().backendFor(QString::fromStdString(chip.id), &noBackend)) {
        const auto specific = backend->checkLayers(compiled, chip);
        std::erase_if(issues, [&](const target::LayerIssue& g) {
            return std::any_of(specific.begin(), specific.end(), [&](const auto& b) { return b.op == g.op; });
        });
        issues.insert(issues.end(), specific.begin(), specific.end());
    }
    for (const auto& issue : issues)
        out.diagnostics.error({}, issue.label, issue.reason, issue.origin);
    if (!issues.empty()) {
        out.error = std::to_string(issues.size()) + " layer(s) unsupported on " + chip.id + " (see Diagnostics)";
        return out;
    }
    if (!step(0.05, "extracting the network"))
        return cancelled();
    target::ExtractResult ex = target::extractNetwork(compiled, &chip);
    out.diagnostics.append(ex.diagnostics);
    if (!ex.ok()) {
        out.error = "the module cannot be mapped onto " + chip.id + " (see Diagnostics)";
        return out;
    }
    target::MapOptions opt;
    opt.chips = std::clamp(request.chips, 1, chip.maxChips());
    opt.objective = request.objective;
    opt.seed = request.seed;
    target::Mapping m;
    target::Partition part;
    if (!step(0.15, "partition"))
        return cancelled();
    target::partitionStep(ex.network, chip, opt, m, &part);
    if (!m.fits) {
        std::string why;
        for (const auto& p : m.problems) {
            out.diagnostics.error({}, {}, p.message);
            why += (why.empty() ? "" : "; ") + p.message;
        }
        out.error = "does not fit on " + std::to_string(opt.chips) + " " + chip.id + " chip(s): " + why;
        return out;
    }
    if (!step(0.55, "placement (annealing)"))
        return cancelled();
    target::placeStep(ex.network, chip, opt, part, m);
    if (!step(0.85, "routing"))
        return cancelled();
    target::routeStep(ex.network, chip, m);
    if (!step(0.95, "cost model"))
        return cancelled();
    const target::Estimate e = target::estimateCost(ex.network, m, chip);
    const target::CostBreakdown b = target::estimateBreakdown(ex.network, m, chip);
    out.floorplan = floorplanFrom(ex.network, m, chip, e, b, document);
    out.energy = energyFromEstimate(ex.network, m, chip, e, b);
    if (!step(0.97, "deployment package for the chip simulator"))
        return cancelled();
    const std::string pipeline = (request.pipeline.empty() ? std::string("(studio pass pipeline)") : request.pipeline) +
                                 ",partition{chip=" + chip.id + " chips=" + std::to_string(opt.chips) +
                                 " objective=" + opt.objective + "},place{seed=" + std::to_string(opt.seed) + "},route";
    out.package = packageFor(ex.network, m, chip, e, pipeline, out.diagnostics);
    out.seconds = double(timer.nsecsElapsed()) / 1e9;
    step(1.0, "mapped");
    return out;
}
} // namespace

MapOutcome mapModule(const ir::Module& compiled, const ir::Module* document, const MapRequest& request,
                     const std::atomic<bool>* cancel, std::function<void(double, const std::string&)> progress)
{
    try {
        return mapModuleImpl(compiled, document, request, cancel, std::move(progress));
    } catch (const std::exception& e) {
        MapOutcome out;
        out.error = std::string("mapping failed: ") + e.what();
        return out;
    }
}

} // namespace stc::views

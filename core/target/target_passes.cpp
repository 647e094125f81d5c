#include "target/target_passes.h"

#include "passes/context.h"

#include <algorithm>

namespace stc::target {

using passes::OptionSpec;
using passes::PassDef;
using passes::PassInfo;
using passes::PassKind;
using passes::PassRun;

namespace {

void partitionPass(TargetSession& s, const ir::Module& m, PassRun& run)
{
    const auto& o = run.options();
    std::string chipName = o.getString("chip");
    if (chipName.empty())
        chipName = run.context().target.empty() ? "loihi3" : run.context().target;
    DescriptorLoad d = findChip(chipName);
    for (const auto& diag : d.diagnostics.items())
        run.diagnostics().add(diag);
    if (!d.chip)
        return;
    // The caller's layer check and host thread count outlive the reset.
    LayerCheck check = std::move(s.layerCheck);
    const int threads = s.options.threads;
    const bool encodeWhilePlacing = s.options.encodeWhilePlacing;
    s = TargetSession{};
    s.layerCheck = check;
    s.options.threads = threads;
    s.options.encodeWhilePlacing = encodeWhilePlacing;
    s.chip = std::move(*d.chip);
    // Unsupported layers are reported per layer before anything is mapped.
    s.layerIssues = checkLayersAgainstDescriptor(m, *s.chip);
    if (s.layerCheck) {
        // The backend's reasons are more precise: they replace the generic
        // ones for the same op (one issue per op and reason source).
        std::vector<LayerIssue> specific = s.layerCheck(m, *s.chip);
        std::erase_if(s.layerIssues, [&](const LayerIssue& g) {
            return std::any_of(specific.begin(), specific.end(), [&](const LayerIssue& b) { return b.op == g.op; });
        });
        for (auto& issue : specific)
            if (std::find(s.layerIssues.begin(), s.layerIssues.end(), issue) == s.layerIssues.end())
                s.layerIssues.push_back(std::move(issue));
    }
    std::stable_sort(s.layerIssues.begin(), s.layerIssues.end(),
                     [](const LayerIssue& a, const LayerIssue& b) { return a.op < b.op; });
    for (const auto& issue : s.layerIssues)
        run.error(issue.reason, issue.label, issue.origin);
    if (!s.layerIssues.empty()) {
        run.error(std::to_string(s.layerIssues.size()) + " layer(s) unsupported on " + s.chip->id +
                  "; nothing was mapped");
        return;
    }
    if (run.context().calibration) {
        passes::CalibrationSet cal = run.context().calibration(o.getInt("calibration-samples"));
        std::string err;
        s.rates = measureRates(m, cal.samples, &err);
        if (!err.empty())
            run.warning("firing rates not measured: " + err);
    }
    ExtractOptions eo;
    eo.relaySums = o.getString("relay-sums");
    eo.threads = s.options.threads;
    eo.rates = s.rates.empty() ? nullptr : &s.rates;
    ExtractResult ex = extractNetwork(m, &*s.chip, eo);
    for (const auto& diag : ex.diagnostics.items())
        run.diagnostics().add(diag);
    if (!ex.ok())
        return;
    run.checkCancelled();
    s.network = std::move(ex.network);
    s.options.chips = int(o.getInt("chips"));
    s.options.objective = o.getString("objective");
    s.options.shareCores = o.getBool("share-cores");
    partitionStep(s.network, *s.chip, s.options, s.mapping, &s.partition);
    for (const auto& p : s.mapping.problems)
        run.error(p.message, p.pop >= 0 ? "%" + s.network.populations[size_t(p.pop)].name : std::string{},
                  p.pop >= 0 ? s.network.populations[size_t(p.pop)].origin : std::string{});
    auto& st = run.stats();
    st.set("populations", int64_t(s.network.populations.size()));
    st.set("neurons", s.network.neuronCount());
    st.set("synapses", s.network.synapseCount());
    st.set("slices", int64_t(s.mapping.slices.size()));
    st.set("cores", int64_t(s.mapping.cores.size()));
    s.partitioned = s.mapping.fits;
    if (s.chip->projectedChip)
        run.warning("chip " + s.chip->id + " is projected: " + s.chip->projectionNote);
}

void placePass(TargetSession& s, PassRun& run)
{
    if (!s.partitioned) {
        run.error("place needs a successful partition before it");
        return;
    }
    s.options.seed = uint64_t(run.options().getInt("seed"));
    s.options.annealIterations = int(run.options().getInt("iterations"));
    placeStep(s.network, *s.chip, s.options, s.partition, s.mapping);
    s.placed = true;
    run.stats().set("chips-used", int64_t(s.mapping.chipsUsed));
    run.stats().set("routes", int64_t(s.mapping.routes.size()));
}

void routePass(TargetSession& s, PassRun& run)
{
    if (!s.placed) {
        run.error("route needs place before it");
        return;
    }
    routeStep(s.network, *s.chip, s.mapping);
    for (const auto& p : s.mapping.problems)
        run.error(p.message);
    s.routed = s.mapping.fits;
    auto& st = run.stats();
    st.set("total-hops", s.mapping.totalHops);
    st.set("weighted-hops-per-step", s.mapping.weightedHops);
    st.set("inter-chip-spikes-per-step", s.mapping.interChipTrafficPerStep);
    st.set("binding-utilization", s.mapping.meanBindingUtilization);
    st.set("utilization-with-step-time", s.mapping.meanUtilizationWithTime);
    st.set("step-time-ns", s.mapping.stepTimeNs);
}

} // namespace

void registerTargetPasses(passes::PassRegistry& reg, std::shared_ptr<TargetSession> session)
{
    reg.registerProperty({"partitioned", "network extracted and cut into core slices (target session)", {}});
    reg.registerProperty({"placed", "logical cores placed on physical cores (target session)", {}});
    reg.registerProperty({"routed", "spike routes computed (target session)", {}});
    {
        PassInfo info;
        info.name = "partition";
        info.description = "extract populations/projections and cut them into core-sized slices for a chip";
        info.kind = PassKind::Analysis;
        info.options = {
            OptionSpec::string("chip", "", "chip descriptor id or path (default: the compile target, else loihi3)"),
            OptionSpec::integer("chips", 1, 1, 4096, "chips to use"),
            OptionSpec::enumeration("objective", "balanced", {"min-cores", "balanced", "latency"},
                                    "min-cores: fewest cores; balanced: cores x step time; latency: fastest step"),
            OptionSpec::enumeration("relay-sums", "auto", {"auto", "always", "never"},
                                    "relay residual sums through graded-spike neurons"),
            OptionSpec::boolean("share-cores", true, "pack slices of different layers onto one core"),
            OptionSpec::integer("calibration-samples", 8, 1, 1024, "samples for measured firing rates"),
        };
        info.provides = {"partitioned"};
        info.handlesDelay = true; // delay ops become synaptic delays (recurrent loops: docs/targets.md)
        reg.registerPass({std::move(info), [session](ir::Module& m, PassRun& run) { partitionPass(*session, m, run); }});
    }
    {
        PassInfo info;
        info.name = "place";
        info.description = "place logical cores on the mesh minimising traffic-weighted hops (annealing)";
        info.kind = PassKind::Analysis;
        info.options = {OptionSpec::integer("seed", 1, 0, 1e15, "annealing seed (results are deterministic)"),
                        OptionSpec::integer("iterations", -1, -1, 1e9, "annealing moves (-1: automatic)")};
        info.needs = {"partitioned"};
        info.provides = {"placed"};
        info.handlesDelay = true;
        reg.registerPass({std::move(info), [session](ir::Module&, PassRun& run) { placePass(*session, run); }});
    }
    {
        PassInfo info;
        info.name = "route";
        info.description = "dimension-order routes around dead links; utilization and step time";
        info.kind = PassKind::Analysis;
        info.needs = {"placed"};
        info.provides = {"routed"};
        info.handlesDelay = true;
        reg.registerPass({std::move(info), [session](ir::Module&, PassRun& run) { routePass(*session, run); }});
    }
}

} // namespace stc::target

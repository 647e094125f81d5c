// stc project: look into a project file (.stcproj) from the command line.
#include "cli_args.h"
#include "commands.h"

#include "store/project.h"

#include <cstdio>
#include <string>

namespace stc::cli {

namespace {

constexpr const char* kUsage =
    "usage: stc project info FILE.stcproj\n"
    "       stc project runs FILE.stcproj [--kind compile|accuracy|simulation] [--sweep ID] [--limit N]\n"
    "       stc project pareto FILE.stcproj [--x energy] [--y accuracy] [--sweep ID]\n"
    "metrics: accuracy energy latency cores utilization compile-time sim-energy sim-latency\n";

void printInfo(const store::Project& p)
{
    const store::ProjectInfo info = p.info();
    std::printf("project   %s\nfile      %s (schema %d%s)\nchip      %s\ncreated   %s by stc %s\n", info.name.c_str(),
                p.path().c_str(), info.schemaVersion, p.readOnly() ? ", read-only" : "",
                info.chip.empty() ? "—" : info.chip.c_str(), info.createdAt.c_str(), info.createdBy.c_str());
    if (!info.notes.empty())
        std::printf("notes     %s\n", info.notes.c_str());
    if (info.model) {
        std::string shape;
        for (int64_t d : info.model->inputShape)
            shape += (shape.empty() ? "" : "x") + std::to_string(d);
        std::printf("model     %s (sha256 %.16s…, input %s, T=%lld)\n", info.model->path.c_str(),
                    info.model->sha256.c_str(), shape.c_str(), (long long)info.model->timesteps);
    }
    std::printf("models    %zu version(s)\n", p.models().size());
    for (const auto& pl : p.pipelines())
        std::printf("pipeline  %s: %s\n", pl.name.c_str(), pl.text.c_str());
    for (const auto& s : p.sweeps())
        std::printf("sweep %-3lld %s  %s\n", (long long)s.id, s.createdAt.c_str(), s.description.c_str());
    for (store::RunKind k : {store::RunKind::Compile, store::RunKind::Accuracy, store::RunKind::Simulation}) {
        store::RunFilter f;
        f.kind = k;
        std::printf("runs      %zu %s\n", p.listRuns(f).size(), store::toString(k));
    }
}

std::string metricText(store::Metric m, std::optional<double> v)
{
    if (!v)
        return "—";
    char buf[48];
    switch (m) {
    case store::Metric::Accuracy:
    case store::Metric::Utilization: std::snprintf(buf, sizeof buf, "%.2f %%", 100.0 * *v); break;
    case store::Metric::EnergyPj:
    case store::Metric::SimEnergyPj: std::snprintf(buf, sizeof buf, "%.4g µJ", *v * 1e-6); break;
    case store::Metric::LatencyNs:
    case store::Metric::SimLatencyNs: std::snprintf(buf, sizeof buf, "%.4g µs", *v * 1e-3); break;
    case store::Metric::CompileSeconds: std::snprintf(buf, sizeof buf, "%.2f s", *v); break;
    case store::Metric::Cores: std::snprintf(buf, sizeof buf, "%.0f", *v); break;
    }
    return buf;
}

std::string paramsText(const store::RunMeta& m)
{
    std::string s;
    for (const auto& [k, v] : m.params)
        s += (s.empty() ? "" : " ") + k + "=" + v;
    return s;
}

void printRuns(const store::Project& p, const store::RunFilter& f)
{
    std::printf("| run | kind | created | chip | label | result |\n| ---: | --- | --- | --- | --- | --- |\n");
    for (const store::RunMeta& m : p.listRuns(f)) {
        std::string result;
        if (m.kind == store::RunKind::Compile) {
            const auto c = p.compileRun(m.id);
            result = std::string(store::toString(c->result.status)) + ", ";
            result += c->result.mapped ? std::to_string(c->result.coresUsed) + " cores, " +
                                             metricText(store::Metric::EnergyPj, c->result.energyPj) + ", " +
                                             metricText(store::Metric::LatencyNs, c->result.latencyNs)
                                       : "not mapped: " + c->result.notMappedReason;
        } else if (m.kind == store::RunKind::Accuracy) {
            const auto a = p.accuracyRun(m.id);
            result = metricText(store::Metric::Accuracy, a->result.accuracy()) + " on " +
                     std::to_string(a->result.samples) + " " + a->result.dataset + " " + a->result.split + " (" +
                     store::toString(a->result.path) + ")";
            if (m.compileRunId)
                result += " of run " + std::to_string(m.compileRunId);
        } else {
            const auto s = p.simulationRun(m.id);
            result = metricText(store::Metric::SimEnergyPj, s->result.energyPj) + ", " +
                     metricText(store::Metric::SimLatencyNs, s->result.latencyNs) + " over " +
                     std::to_string(s->result.samples) + " samples";
        }
        const std::string label = m.label.empty() ? paramsText(m) : m.label;
        std::printf("| %lld | %s | %s | %s | %s | %s |\n", (long long)m.id, store::toString(m.kind),
                    m.createdAt.c_str(), m.chip.c_str(), label.c_str(), result.c_str());
    }
}

} // namespace

int runProjectCommand(const Args& argsIn)
{
    Args args = argsIn;
    const auto kind = takeOption(args, "--kind");
    const auto sweep = takeOption(args, "--sweep");
    const auto limit = takeOption(args, "--limit");
    const auto xName = takeOption(args, "--x");
    const auto yName = takeOption(args, "--y");
    if (reportUnknownOptions(args, "project"))
        return 2;
    if (args.size() != 2 || (args[0] != "info" && args[0] != "runs" && args[0] != "pareto")) {
        std::fprintf(stderr, "%s", kUsage);
        return 2;
    }
    store::RunFilter filter;
    if (kind) {
        filter.kind = store::parseRunKind(*kind);
        if (!filter.kind) {
            std::fprintf(stderr, "stc project: unknown run kind '%s'\n%s", kind->c_str(), kUsage);
            return 2;
        }
    }
    filter.sweepId = sweep ? std::atoll(sweep->c_str()) : 0;
    filter.limit = limit ? std::atoi(limit->c_str()) : 0;
    const auto x = store::parseMetric(xName.value_or("energy"));
    const auto y = store::parseMetric(yName.value_or("accuracy"));
    if (!x || !y) {
        std::fprintf(stderr, "stc project: unknown metric\n%s", kUsage);
        return 2;
    }
    try {
        const store::Project p = store::Project::open(args[1], store::OpenMode::ReadOnly);
        if (args[0] == "info") {
            printInfo(p);
        } else if (args[0] == "runs") {
            printRuns(p, filter);
        } else {
            const auto front = p.paretoFront(*x, *y, filter);
            std::printf("Pareto front of %s (%s) vs %s (%s): %zu configuration(s)\n", store::toString(*x),
                        store::higherIsBetter(*x) ? "higher is better" : "lower is better", store::toString(*y),
                        store::higherIsBetter(*y) ? "higher is better" : "lower is better", front.size());
            for (const auto& c : front)
                std::printf("  run %-4lld %-12s %-12s %s\n", (long long)c.meta.id, metricText(*x, c.value(*x)).c_str(),
                            metricText(*y, c.value(*y)).c_str(),
                            (c.meta.label.empty() ? paramsText(c.meta) : c.meta.label).c_str());
        }
        return 0;
    } catch (const store::Error& e) {
        std::fprintf(stderr, "stc project: %s\n", e.what());
        return 1;
    }
}

} // namespace stc::cli

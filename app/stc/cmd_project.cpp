// stc project: create a project file (.stcproj), record model versions, look
// into its run history, tag deployed compile results. compare and export are
// in cmd_project_compare.cpp and cmd_project_export.cpp.
#include "cli_args.h"
#include "commands.h"
#include "model_input.h"
#include "project_cli.h"

#include "store/project.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

namespace stc::cli {

namespace {

constexpr const char* kUsage =
    "usage: stc project new FILE.stcproj [--name N] [--chip loihi3] [--notes TEXT] [--model MODEL.pt|MODEL.sir]\n"
    "                       [--input-shape 1,1,28,28]\n"
    "       stc project add FILE.stcproj MODEL.pt|MODEL.sir [--input-shape 1,1,28,28]\n"
    "       stc project info FILE.stcproj\n"
    "       stc project runs FILE.stcproj [--kind compile|accuracy|simulation] [--sweep ID] [--limit N]\n"
    "       stc project compare FILE.stcproj [--models ID,ID | --runs ID,ID,...] [--json]\n"
    "       stc project pareto FILE.stcproj [--x energy] [--y accuracy] [--sweep ID]\n"
    "       stc project export FILE.stcproj --run COMPILE_RUN_ID -o OUT.stcpkg\n"
    "       stc project deploy FILE.stcproj --run COMPILE_RUN_ID [--tag deployed] [--note TEXT] [--remove]\n"
    "       stc project tags FILE.stcproj [--run ID]\n"
    "metrics: accuracy energy latency cores utilization compile-time sim-energy sim-latency\n";

int usage(const char* why = nullptr)
{
    if (why)
        std::fprintf(stderr, "stc project: %s\n", why);
    std::fprintf(stderr, "%s", kUsage);
    return 2;
}

std::string shapeText(const std::vector<int64_t>& shape)
{
    std::string s;
    for (int64_t d : shape)
        s += (s.empty() ? "" : "x") + std::to_string(d);
    return s.empty() ? "default" : s;
}

void printModel(const char* heading, const store::ModelSource& m)
{
    std::printf("%-9s %lld: %s (sha256 %.16s…, input %s, T=%lld)\n", heading, (long long)m.id, m.path.c_str(),
                m.sha256.c_str(), shapeText(m.inputShape).c_str(), (long long)m.timesteps);
}

void printInfo(const store::Project& p)
{
    const store::ProjectInfo info = p.info();
    std::printf("project   %s\nfile      %s (schema %d%s)\nchip      %s\ncreated   %s by stc %s\n", info.name.c_str(),
                p.path().c_str(), info.schemaVersion, p.readOnly() ? ", read-only" : "",
                info.chip.empty() ? "—" : info.chip.c_str(), info.createdAt.c_str(), info.createdBy.c_str());
    if (!info.notes.empty())
        std::printf("notes     %s\n", info.notes.c_str());
    if (info.model)
        printModel("model", *info.model);
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
    const auto tags = p.tags();
    if (!tags.empty())
        std::printf("tags      %zu (stc project tags)\n", tags.size());
}

std::string tagsText(const store::Project& p, int64_t runId)
{
    std::string s;
    for (const auto& t : p.tags(runId))
        s += (s.empty() ? "" : ", ") + t.tag;
    return s;
}

void printRuns(const store::Project& p, const store::RunFilter& f)
{
    std::printf("| run | kind | created | model | chip | label | result | tags |\n"
                "| ---: | --- | --- | ---: | --- | --- | --- | --- |\n");
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
        const std::string model = m.modelId ? std::to_string(m.modelId) : "—";
        std::printf("| %lld | %s | %s | %s | %s | %s | %s | %s |\n", (long long)m.id, store::toString(m.kind),
                    m.createdAt.c_str(), model.c_str(), m.chip.c_str(), label.c_str(), result.c_str(),
                    tagsText(p, m.id).c_str());
    }
}

void printTags(const store::Project& p, int64_t runId)
{
    const auto tags = p.tags(runId);
    if (tags.empty()) {
        std::printf("no tags%s\n", runId ? (" on run " + std::to_string(runId)).c_str() : "");
        return;
    }
    std::printf("| run | tag | since | tool | note |\n| ---: | --- | --- | --- | --- |\n");
    for (const auto& t : tags)
        std::printf("| %lld | %s | %s | %s | %s |\n", (long long)t.runId, t.tag.c_str(), t.createdAt.c_str(),
                    t.toolVersion.c_str(), t.note.c_str());
}

// Loads a model through the same loader as `stc compile` and records it as
// the project's current model version.
int addModel(store::Project& p, const std::string& modelPath, const std::vector<int64_t>& inputShape)
{
    std::string diagnostics;
    const auto module = loadModelFile("stc project", modelPath, inputShape, &diagnostics);
    if (!module) {
        std::fprintf(stderr, "stc project: %s: not recorded (the import failed)\n", modelPath.c_str());
        return 1;
    }
    bool added = false;
    const int64_t id = p.setModel(describeLoadedModel(modelPath, *module, inputShape, diagnostics), &added);
    const auto m = p.model(id);
    printModel(added ? "added" : "unchanged", *m);
    if (!added)
        std::printf("          (this file, hash, input shape and T were already recorded; now current again)\n");
    if (!m->diagnostics.empty())
        std::printf("          import diagnostics recorded: %zu line(s)\n",
                    size_t(std::count(m->diagnostics.begin(), m->diagnostics.end(), '\n')));
    return 0;
}

std::optional<int64_t> positiveId(const std::optional<std::string>& text)
{
    if (!text)
        return std::nullopt;
    const auto ids = parseIntList(*text);
    if (!ids || ids->size() != 1 || (*ids)[0] < 1)
        return std::nullopt;
    return (*ids)[0];
}

} // namespace

int runProjectCommand(const Args& argsIn)
{
    Args args = argsIn;
    if (args.empty())
        return usage();
    const std::string sub = args[0];
    if (sub == "compare")
        return runProjectCompare(Args(args.begin() + 1, args.end()));
    if (sub == "export")
        return runProjectExport(Args(args.begin() + 1, args.end()));
    const auto kind = takeOption(args, "--kind");
    const auto sweep = takeOption(args, "--sweep");
    const auto limit = takeOption(args, "--limit");
    const auto xName = takeOption(args, "--x");
    const auto yName = takeOption(args, "--y");
    const auto name = takeOption(args, "--name");
    const auto chip = takeOption(args, "--chip");
    const auto notes = takeOption(args, "--notes");
    const auto model = takeOption(args, "--model");
    const auto shapeOpt = takeOption(args, "--input-shape");
    const auto run = takeOption(args, "--run");
    const auto tag = takeOption(args, "--tag");
    const auto note = takeOption(args, "--note");
    const bool remove = takeFlag(args, "--remove");
    if (reportUnknownOptions(args, "project"))
        return 2;
    const bool known = sub == "info" || sub == "runs" || sub == "pareto" || sub == "new" || sub == "add" ||
                       sub == "deploy" || sub == "tags";
    if (!known || args.size() != (sub == "add" ? 3u : 2u))
        return usage();
    store::RunFilter filter;
    if (kind) {
        filter.kind = store::parseRunKind(*kind);
        if (!filter.kind)
            return usage(("unknown run kind '" + *kind + "'").c_str());
    }
    filter.sweepId = sweep ? std::atoll(sweep->c_str()) : 0;
    filter.limit = limit ? std::atoi(limit->c_str()) : 0;
    const auto x = store::parseMetric(xName.value_or("energy"));
    const auto y = store::parseMetric(yName.value_or("accuracy"));
    if (!x || !y)
        return usage("unknown metric");
    std::vector<int64_t> inputShape;
    if (shapeOpt) {
        const auto s = parseIntList(*shapeOpt);
        if (!s || s->empty())
            return usage(("bad --input-shape '" + *shapeOpt + "' (expected e.g. 1,1,28,28, batch first)").c_str());
        inputShape = *s;
    }
    const auto runId = positiveId(run);
    if (run && !runId)
        return usage(("bad --run '" + *run + "' (a run id, see stc project runs)").c_str());
    if (sub == "deploy" && !runId)
        return usage("deploy needs --run COMPILE_RUN_ID");
    const std::string& file = args[1];
    try {
        if (sub == "new") {
            store::ProjectInfo info;
            info.name = name.value_or(std::filesystem::path(file).stem().string());
            info.chip = chip.value_or("loihi3");
            info.notes = notes.value_or("");
            store::Project p = store::Project::create(file, info);
            std::printf("created   %s (project '%s', chip %s, schema %d)\n", file.c_str(), info.name.c_str(),
                        info.chip.c_str(), p.info().schemaVersion);
            return model ? addModel(p, *model, inputShape) : 0;
        }
        if (sub == "add") {
            store::Project p = store::Project::open(file);
            return addModel(p, args[2], inputShape);
        }
        if (sub == "deploy") {
            store::Project p = store::Project::open(file);
            const std::string t = tag.value_or("deployed");
            if (remove) {
                const bool removed = p.untagRun(*runId, t);
                std::printf("run %lld: %s\n", (long long)*runId,
                            removed ? ("tag '" + t + "' removed").c_str() : ("had no tag '" + t + "'").c_str());
                return removed ? 0 : 1;
            }
            const bool added = p.tagRun(*runId, t, note.value_or(""));
            std::printf("run %lld: %s\n", (long long)*runId,
                        added ? ("tagged '" + t + "'").c_str() : ("already tagged '" + t + "'").c_str());
            return 0;
        }
        const store::Project p = openProjectForReading(file, "stc project");
        if (sub == "info") {
            printInfo(p);
        } else if (sub == "runs") {
            printRuns(p, filter);
        } else if (sub == "tags") {
            printTags(p, runId.value_or(0));
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

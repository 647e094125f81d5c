// stc project compare: model versions and their compile runs side by side
// (accuracy, estimated energy/latency, cores, utilization, simulated energy,
// tags), as a Markdown table or JSON.
#include "cli_args.h"
#include "project_cli.h"

#include "store/project.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>

namespace stc::cli {

namespace {

constexpr const char* kUsage = "usage: stc project compare FILE.stcproj [--models ID,ID | --runs ID,ID,...] [--json]\n"
                               "  default: every model version with all its compile runs\n";

struct Group {
    std::optional<store::ModelSource> model; // none: runs recorded without a model
    std::vector<store::ConfigPoint> runs;
};

std::vector<std::string> tagNames(const store::Project& p, int64_t runId)
{
    std::vector<std::string> out;
    for (const auto& t : p.tags(runId))
        out.push_back(t.tag);
    return out;
}

std::string joined(const std::vector<std::string>& items)
{
    std::string s;
    for (const auto& i : items)
        s += (s.empty() ? "" : ", ") + i;
    return s;
}

std::string accuracyText(const store::ConfigPoint& c)
{
    if (!c.accuracy)
        return "—";
    return metricText(store::Metric::Accuracy, c.accuracy->accuracy()) + " (" + std::to_string(c.accuracy->samples) +
           ", " + store::toString(c.accuracy->path) + ")";
}

void printTable(const store::Project& p, const std::vector<Group>& groups)
{
    std::printf("model versions\n\n| model | file | sha256 | input | T | added | compile runs | import diagnostics |\n"
                "| ---: | --- | --- | --- | ---: | --- | ---: | ---: |\n");
    for (const Group& g : groups) {
        if (!g.model) {
            std::printf("| — | (no model recorded) | | | | | %zu | |\n", g.runs.size());
            continue;
        }
        const store::ModelSource& m = *g.model;
        std::string shape;
        for (int64_t d : m.inputShape)
            shape += (shape.empty() ? "" : "x") + std::to_string(d);
        const size_t diagLines = size_t(std::count(m.diagnostics.begin(), m.diagnostics.end(), '\n'));
        std::printf("| %lld | %s | %.12s | %s | %lld | %s | %zu | %zu |\n", (long long)m.id, m.path.c_str(),
                    m.sha256.c_str(), shape.empty() ? "default" : shape.c_str(), (long long)m.timesteps,
                    m.addedAt.c_str(), g.runs.size(), diagLines);
    }
    std::printf("\ncompile runs (energy and latency: cost-model estimates per inference; sim: measured by stc-sim)\n\n"
                "| model | run | created | chip | label | status | top-1 | energy | latency | cores | utilization | "
                "sim energy | sim latency | tags |\n"
                "| ---: | ---: | --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (const Group& g : groups)
        for (const auto& c : g.runs) {
            const std::string model = g.model ? std::to_string(g.model->id) : "—";
            const std::string label = c.meta.label.empty() ? paramsText(c.meta) : c.meta.label;
            std::printf("| %s | %lld | %s | %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", model.c_str(),
                        (long long)c.meta.id, c.meta.createdAt.c_str(), c.meta.chip.c_str(),
                        c.compile.projectedChip ? " (projected)" : "", label.c_str(), store::toString(c.compile.status),
                        accuracyText(c).c_str(), metricText(store::Metric::EnergyPj, c.value(store::Metric::EnergyPj)).c_str(),
                        metricText(store::Metric::LatencyNs, c.value(store::Metric::LatencyNs)).c_str(),
                        metricText(store::Metric::Cores, c.value(store::Metric::Cores)).c_str(),
                        metricText(store::Metric::Utilization, c.value(store::Metric::Utilization)).c_str(),
                        metricText(store::Metric::SimEnergyPj, c.simEnergyPj).c_str(),
                        metricText(store::Metric::SimLatencyNs, c.simLatencyNs).c_str(), joined(tagNames(p, c.meta.id)).c_str());
        }
}

nlohmann::json optionalNumber(std::optional<double> v)
{
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

void printJson(const store::Project& p, const std::vector<Group>& groups)
{
    using nlohmann::json;
    json models = json::array();
    for (const Group& g : groups) {
        json jm = json::object();
        if (g.model) {
            const store::ModelSource& m = *g.model;
            jm = {{"id", m.id},           {"path", m.path},
                  {"sha256", m.sha256},   {"format", m.format},
                  {"input_shape", m.inputShape}, {"timesteps", m.timesteps},
                  {"added_at", m.addedAt}, {"diagnostics", m.diagnostics}};
        } else {
            jm["id"] = nullptr;
        }
        json runs = json::array();
        for (const auto& c : g.runs) {
            json acc = nullptr;
            if (c.accuracy)
                acc = {{"top1", c.accuracy->accuracy()}, {"correct", c.accuracy->correct},
                       {"samples", c.accuracy->samples}, {"dataset", c.accuracy->dataset},
                       {"split", c.accuracy->split},     {"path", store::toString(c.accuracy->path)},
                       {"run", c.accuracyRunId}};
            runs.push_back({{"run", c.meta.id},
                            {"created_at", c.meta.createdAt},
                            {"tool_version", c.meta.toolVersion},
                            {"chip", c.meta.chip},
                            {"pipeline", c.meta.pipeline},
                            {"label", c.meta.label},
                            {"params", c.meta.params},
                            {"status", store::toString(c.compile.status)},
                            {"mapped", c.compile.mapped},
                            {"projected_chip", c.compile.projectedChip},
                            {"accuracy", acc},
                            {"energy_pj", optionalNumber(c.value(store::Metric::EnergyPj))},
                            {"latency_ns", optionalNumber(c.value(store::Metric::LatencyNs))},
                            {"cores", optionalNumber(c.value(store::Metric::Cores))},
                            {"utilization", optionalNumber(c.value(store::Metric::Utilization))},
                            {"sim_energy_pj", optionalNumber(c.simEnergyPj)},
                            {"sim_latency_ns", optionalNumber(c.simLatencyNs)},
                            {"tags", tagNames(p, c.meta.id)}});
        }
        jm["runs"] = std::move(runs);
        models.push_back(std::move(jm));
    }
    json out = {{"project", p.path()}, {"models", std::move(models)}};
    std::printf("%s\n", out.dump(2).c_str());
}

} // namespace

int runProjectCompare(const Args& argsIn)
{
    Args args = argsIn;
    const auto modelsText = takeOption(args, "--models");
    const auto runsText = takeOption(args, "--runs");
    const bool json = takeFlag(args, "--json");
    if (reportUnknownOptions(args, "project compare"))
        return 2;
    if (args.size() != 1 || (modelsText && runsText)) {
        std::fprintf(stderr, "%s", kUsage);
        return 2;
    }
    std::optional<std::vector<int64_t>> modelIds, runIds;
    if (modelsText && !(modelIds = parseIntList(*modelsText))) {
        std::fprintf(stderr, "stc project compare: bad --models '%s' (ids, e.g. 1,2)\n%s", modelsText->c_str(), kUsage);
        return 2;
    }
    if (runsText && !(runIds = parseIntList(*runsText))) {
        std::fprintf(stderr, "stc project compare: bad --runs '%s' (ids, e.g. 3,7)\n%s", runsText->c_str(), kUsage);
        return 2;
    }
    try {
        const store::Project p = openProjectForReading(args[0], "stc project compare");
        std::vector<Group> groups;
        if (runIds) {
            store::RunFilter f;
            f.runIds = *runIds;
            const auto configs = p.configurations(f);
            for (int64_t id : *runIds)
                if (std::none_of(configs.begin(), configs.end(), [&](const auto& c) { return c.meta.id == id; })) {
                    std::fprintf(stderr, "stc project compare: %s: run %lld is not a compile run\n", args[0].c_str(),
                                 (long long)id);
                    return 1;
                }
            std::map<int64_t, size_t> byModel;
            for (const auto& c : configs) {
                auto [it, fresh] = byModel.try_emplace(c.meta.modelId, groups.size());
                if (fresh)
                    groups.push_back({c.meta.modelId ? p.model(c.meta.modelId) : std::nullopt, {}});
                groups[it->second].runs.push_back(c);
            }
        } else {
            std::vector<store::ModelSource> models;
            if (modelIds) {
                for (int64_t id : *modelIds) {
                    auto m = p.model(id);
                    if (!m) {
                        std::fprintf(stderr, "stc project compare: %s: no model version %lld (stc project info)\n",
                                     args[0].c_str(), (long long)id);
                        return 1;
                    }
                    models.push_back(*m);
                }
            } else {
                models = p.models();
            }
            for (const auto& m : models) {
                store::RunFilter f;
                f.modelId = m.id;
                groups.push_back({m, p.configurations(f)});
            }
        }
        if (json)
            printJson(p, groups);
        else
            printTable(p, groups);
        return 0;
    } catch (const store::Error& e) {
        std::fprintf(stderr, "stc project compare: %s\n", e.what());
        return 1;
    }
}

} // namespace stc::cli

#include "project_cli.h"

#include "store/schema.h"

#include <cstdio>
#include <filesystem>

namespace stc::cli {

store::Project openOrCreateProject(const std::string& path, const std::string& modelPath, const std::string& chip)
{
    if (std::filesystem::exists(path))
        return store::Project::open(path);
    store::ProjectInfo info;
    info.name = std::filesystem::path(modelPath).stem().string();
    info.chip = chip;
    return store::Project::create(path, info);
}

store::ModelSource describeLoadedModel(const std::string& modelPath, const ir::Module& module,
                                       const std::vector<int64_t>& givenInputShape, const std::string& diagnostics)
{
    std::vector<int64_t> shape = module.attrs.getInts("input_shape", givenInputShape);
    store::ModelSource m = store::describeModelFile(modelPath, shape, module.timesteps);
    m.diagnostics = diagnostics;
    return m;
}

int64_t recordCompileRun(const std::string& projectPath, const std::string& modelPath, const ir::Module& module,
                         const std::vector<int64_t>& givenInputShape, const std::string& importDiagnostics,
                         const PackageRequest& request, const PackageOutcome& outcome)
{
    try {
        store::Project project = openOrCreateProject(projectPath, modelPath, request.chip);
        int64_t runId = 0;
        project.transaction([&] {
            store::RunMeta meta;
            meta.modelId = project.setModel(describeLoadedModel(modelPath, module, givenInputShape, importDiagnostics));
            meta.chip = request.chip;
            meta.pipeline = outcome.pipeline;
            meta.label = std::filesystem::path(request.output).filename().string();
            if (request.calibration)
                meta.params["calibration"] = *request.calibration;
            runId = project.addCompileRun(meta, outcome.record);
        });
        return runId;
    } catch (const store::Error& e) {
        std::fprintf(stderr, "stc compile: not recorded in the project: %s\n", e.what());
        return 0;
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

store::Project openProjectForReading(const std::string& path, const char* command)
{
    try {
        return store::Project::open(path, store::OpenMode::ReadOnly);
    } catch (const store::Error& e) {
        if (e.kind() != store::ErrorKind::OlderSchema)
            throw;
    }
    store::Project p = store::Project::open(path, store::OpenMode::ReadWrite);
    std::fprintf(stderr, "%s: note: upgraded %s to project schema %d\n", command, path.c_str(), store::kSchemaVersion);
    return p;
}

int64_t recordSimulationRun(const std::string& projectPath, const std::string& packagePath, int64_t compileRunId,
                            const std::string& chip, const store::SimulationLedger& ledger,
                            const std::optional<store::AccuracyResult>& accuracy, int64_t* accuracyRunId)
{
    try {
        store::Project project = store::Project::open(projectPath);
        std::error_code ec;
        const std::string absolute = std::filesystem::absolute(packagePath, ec).lexically_normal().string();
        if (compileRunId == 0) {
            store::RunFilter f;
            f.kind = store::RunKind::Compile;
            f.newestFirst = true;
            for (const store::RunMeta& m : project.listRuns(f)) {
                const auto run = project.compileRun(m.id);
                if (run && std::filesystem::path(run->result.packagePath).lexically_normal().string() == absolute) {
                    compileRunId = m.id;
                    break;
                }
            }
            if (compileRunId == 0)
                std::fprintf(stderr, "stc simulate: note: no compile run of %s wrote %s (give --run ID to link the "
                                     "simulation to one); recorded unlinked\n",
                             projectPath.c_str(), absolute.c_str());
        } else if (!project.compileRun(compileRunId)) {
            std::fprintf(stderr, "stc simulate: %s has no compile run %lld\n", projectPath.c_str(),
                         (long long)compileRunId);
            return 0;
        }
        store::RunMeta meta;
        meta.chip = chip;
        meta.compileRunId = compileRunId;
        meta.label = "stc simulate " + std::filesystem::path(packagePath).filename().string();
        meta.params = {{"package", absolute}, {"samples", std::to_string(ledger.samples)}};
        if (compileRunId)
            if (const auto run = project.compileRun(compileRunId))
                meta.pipeline = run->meta.pipeline;
        int64_t simId = 0;
        project.transaction([&] {
            simId = project.addSimulationRun(meta, ledger);
            if (accuracy) {
                const int64_t id = project.addAccuracyRun(meta, *accuracy);
                if (accuracyRunId)
                    *accuracyRunId = id;
            }
        });
        return simId;
    } catch (const store::Error& e) {
        std::fprintf(stderr, "stc simulate: %s\n", e.what());
        return 0;
    }
}

} // namespace stc::cli

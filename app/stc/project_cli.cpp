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

} // namespace stc::cli

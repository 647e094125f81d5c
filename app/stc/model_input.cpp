#include "model_input.h"

#include "crash_guard.h"

#include "plugin_host.h"

#include "data/fashion_mnist.h"
#include "ir/ir_io.h"
#include "passes/runner.h"

#include <QString>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>

namespace stc::cli {

ir::LoadOptions sirLoadOptions(bool verify)
{
    ir::LoadOptions opts;
    opts.verify = verify;
    opts.customOps = &plugins::PluginHost::instance().customOps();
    return opts;
}

void isolateImport(const std::string& command, const std::string& path, const frontend::Importer& importer,
                   frontend::ImportOptions& options)
{
    const std::string reader = importer.name() == "torchscript" ? "LibTorch" : "the " + importer.name() + " importer";
    options.callerIsolatesCrashes = runRestIsolated(command, path, reader);
    if (options.callerIsolatesCrashes)
        options.progress = [previous = options.progress](double f, const std::string& what) {
            reportImportStage(what);
            if (previous)
                previous(f, what);
        };
}

std::optional<ir::Module> loadModelFile(const std::string& command, const std::string& path,
                                        const std::vector<int64_t>& inputShape, std::string* diagnostics)
{
    if (path.ends_with(".sir")) {
        ir::LoadResult in = ir::loadModule(path, sirLoadOptions());
        if (diagnostics)
            *diagnostics = in.diagnostics.format();
        if (!in.ok()) {
            std::fprintf(stderr, "%s", in.diagnostics.format().c_str());
            return std::nullopt;
        }
        return std::move(*in.module);
    }
    QString err;
    frontend::Importer* importer = plugins::PluginHost::instance().importerFor(QString::fromStdString(path), &err);
    if (!importer) {
        std::fprintf(stderr, "%s: %s\n", command.c_str(), qPrintable(err));
        return std::nullopt;
    }
    frontend::ImportOptions opt;
    opt.inputShape = inputShape;
    isolateImport(command, path, *importer, opt);
    frontend::ImportResult r = importer->importFile(path, opt);
    reportImportDone();
    if (diagnostics)
        *diagnostics = r.diagnostics.format();
    if (!r.diagnostics.empty())
        std::fprintf(stderr, "%s", r.diagnostics.format().c_str());
    return std::move(r.module);
}

std::optional<ir::Module> loadModelWithPipeline(const std::string& command, const std::string& path,
                                                const std::vector<int64_t>& inputShape,
                                                const std::optional<std::string>& pipelineText)
{
    auto module = loadModelFile(command, path, inputShape);
    if (!module || !pipelineText)
        return module;
    const passes::PassRegistry registry = passes::makeBuiltinRegistry();
    Diagnostics pd;
    auto pipeline = passes::parsePipeline(*pipelineText, registry, pd);
    if (!pipeline) {
        std::fprintf(stderr, "%s", pd.format().c_str());
        return std::nullopt;
    }
    passes::CompileContext ctx;
    passes::RunResult r = passes::runPipeline(*module, *pipeline, registry, ctx);
    if (!r.ok()) {
        std::fprintf(stderr, "%s", r.allDiagnostics().format().c_str());
        return std::nullopt;
    }
    return std::move(r.module);
}

std::optional<passes::CalibrationProvider> fashionMnistCalibration(const std::string& command, int64_t images)
{
    if (images <= 0)
        return passes::CalibrationProvider{};
    auto loaded = data::loadFashionMnist(data::Split::Train, data::defaultFashionMnistDir(), images);
    if (!loaded.ok()) {
        std::fprintf(stderr, "%s: %s\n", command.c_str(), loaded.error.c_str());
        return std::nullopt;
    }
    return passes::imageSetCalibration(std::make_shared<data::ImageSet>(std::move(loaded.value)));
}

} // namespace stc::cli

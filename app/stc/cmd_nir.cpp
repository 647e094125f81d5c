// stc export-nir / stc import-nir: the NIR bridge (docs/nir.md).
#include "cli_args.h"
#include "commands.h"
#include "model_input.h"

#include "interop/nir_export.h"
#include "interop/nir_hdf5.h"
#include "interop/nir_import.h"
#include "ir/ir_io.h"
#include "passes/runner.h"

#include <cstdio>
#include <cstdlib>

namespace stc::cli {

namespace {

std::optional<double> parseSeconds(const std::optional<std::string>& text, const char* command)
{
    if (!text)
        return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(text->c_str(), &end);
    if (end == text->c_str() || *end || !(v > 0.0)) {
        std::fprintf(stderr, "%s: --dt needs a positive number of seconds, got '%s'\n", command, text->c_str());
        return -1.0;
    }
    return v;
}

} // namespace

int runExportNirCommand(const Args& argsIn)
{
    Args args = argsIn;
    const auto out = takeOption(args, "--output", "-o");
    const auto pipelineText = takeOption(args, "--pipeline", "-p");
    const auto dtText = takeOption(args, "--dt");
    bool badShape = false;
    const auto inputShape = takeInputShape(args, "export-nir", badShape);
    if (badShape || reportUnknownOptions(args, "export-nir"))
        return 2;
    if (args.size() != 1 || !out) {
        std::fprintf(stderr, "usage: stc export-nir MODEL.sir|MODEL.pt -o OUT.nir [-p PIPELINE] [--dt SECONDS] "
                             "[--input-shape 1,1,28,28]\n");
        return 2;
    }
    const auto dt = parseSeconds(dtText, "stc export-nir");
    if (dt && *dt < 0)
        return 2;
    auto module = loadModelWithPipeline("stc export-nir", args[0], inputShape.value_or(std::vector<int64_t>{}),
                                        pipelineText);
    if (!module)
        return 1;
    interop::NirExportOptions options;
    if (dt)
        options.dt = *dt;
    interop::NirExportResult r = interop::exportToNir(*module, options);
    std::fprintf(stderr, "%s", r.diagnostics.format().c_str());
    if (!r.graph) {
        std::fprintf(stderr, "stc export-nir: %zu op(s) NIR cannot express; nothing written\n",
                     r.diagnostics.errorCount());
        return 1;
    }
    Diagnostics saved = interop::writeNirFile(*r.graph, *out);
    if (saved.hasErrors()) {
        std::fprintf(stderr, "%s", saved.format().c_str());
        return 1;
    }
    std::printf("wrote %s: %zu NIR nodes, %zu edges (NIR %s, dt = %g s, T = %lld)\n", out->c_str(), r.graph->nodes.size(),
                r.graph->edges.size(), interop::kNirVersion, options.dt, static_cast<long long>(module->timesteps));
    return 0;
}

int runImportNirCommand(const Args& argsIn)
{
    Args args = argsIn;
    const auto out = takeOption(args, "--output", "-o");
    const auto dtText = takeOption(args, "--dt");
    const auto stepsText = takeOption(args, "--timesteps");
    if (reportUnknownOptions(args, "import-nir"))
        return 2;
    if (args.size() != 1 || !out) {
        std::fprintf(stderr, "usage: stc import-nir FILE.nir -o OUT.sir [--timesteps T] [--dt SECONDS]\n");
        return 2;
    }
    interop::NirImportOptions options;
    options.dt = parseSeconds(dtText, "stc import-nir");
    if (options.dt && *options.dt < 0)
        return 2;
    if (stepsText) {
        char* end = nullptr;
        const long long t = std::strtoll(stepsText->c_str(), &end, 10);
        if (end == stepsText->c_str() || *end || t < 1) {
            std::fprintf(stderr, "stc import-nir: --timesteps needs a positive integer, got '%s'\n", stepsText->c_str());
            return 2;
        }
        options.timesteps = t;
    }
    interop::NirReadResult file = interop::readNirFile(args[0]);
    std::fprintf(stderr, "%s", file.diagnostics.format().c_str());
    if (!file.graph)
        return 1;
    interop::NirImportResult r = interop::importFromNir(*file.graph, options, args[0]);
    std::fprintf(stderr, "%s", r.diagnostics.format().c_str());
    if (!r.module)
        return 1;
    Diagnostics saved = ir::saveModule(*r.module, *out);
    if (saved.hasErrors()) {
        std::fprintf(stderr, "%s", saved.format().c_str());
        return 1;
    }
    std::printf("wrote %s: %zu ops from %zu NIR nodes (T = %lld)\n", out->c_str(), r.module->ops().size(),
                file.graph->nodes.size(), static_cast<long long>(r.module->timesteps));
    return 0;
}

} // namespace stc::cli

// stc compile: model -> pass pipeline -> partition/place/route -> package.
#include "cli_args.h"
#include "commands.h"
#include "compile_package.h"
#include "model_input.h"
#include "project_cli.h"
#include "target/compile.h"

#include <chrono>
#include <cstdio>

namespace stc::cli {

namespace {

// The default pipeline line is printed from target::kDefaultCompilePipeline.
constexpr const char* kUsage =
    "usage: stc compile MODEL.pt|MODEL.sir --chip loihi3 [--chips N] [-p PIPELINE] [--objective "
    "min-cores|balanced|latency]\n"
    "                   [--seed S] [--calibration fashion-mnist[:N]] [--input-shape 1,1,28,28] -o OUT.stcpkg\n"
    "                   [--project FILE.stcproj] [--time-passes]\n"
    "default PIPELINE: %s (none for a quantized .sir)\n"
    "--project records the model version and the compile run (created if missing), for `stc project export`\n"
    "--time-passes prints each pass's wall time, mapping passes included (stderr)\n";

} // namespace

int runCompileCommand(const Args& argsIn)
{
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    Args args = argsIn;
    const auto chip = takeOption(args, "--chip");
    const auto chips = takeOption(args, "--chips");
    const auto pipelineText = takeOption(args, "--pipeline", "-p");
    const auto objective = takeOption(args, "--objective");
    const auto seed = takeOption(args, "--seed");
    const auto calib = takeOption(args, "--calibration");
    const auto shape = takeOption(args, "--input-shape");
    const auto out = takeOption(args, "--output", "-o");
    const auto projectPath = takeOption(args, "--project");
    const bool timePasses = takeFlag(args, "--time-passes");
    if (reportUnknownOptions(args, "compile"))
        return 2;
    if (args.size() != 1 || !chip || !out) {
        std::fprintf(stderr, kUsage, target::kDefaultCompilePipeline);
        return 2;
    }
    std::vector<int64_t> inputShape;
    if (shape) {
        auto s = parseIntList(*shape);
        if (!s) {
            std::fprintf(stderr, "stc compile: bad --input-shape '%s'\n", shape->c_str());
            return 2;
        }
        inputShape = *s;
    }
    const int nChips = chips ? std::atoi(chips->c_str()) : 1;
    if (nChips < 1) {
        std::fprintf(stderr, "stc compile: --chips needs a positive number\n");
        return 2;
    }
    std::string importDiagnostics;
    auto module = loadModelFile("stc compile", args[0], inputShape, projectPath ? &importDiagnostics : nullptr);
    const double loadSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!module)
        return 1;
    PackageRequest request;
    request.chip = *chip;
    request.chips = nChips;
    request.pipeline = pipelineText;
    request.objective = objective;
    request.seed = seed;
    request.calibration = calib;
    request.output = *out;
    request.timePasses = timePasses;
    const PackageOutcome done = compileToPackage("stc compile", *module, request);
    int exitCode = done.exitCode;
    if (exitCode == 0) {
        const std::string summary = done.listing.substr(0, done.listing.find("\ncores:\n"));
        std::printf("%s", summary.c_str());
        std::printf("package     %s (%zu core blobs)\n", out->c_str(), done.cores);
        std::printf("time        %.2f s %s, %.2f s compile (pipeline + mapping), %.2f s package, %.2f s total\n",
                    loadSeconds, args[0].ends_with(".sir") ? "read" : "import", done.record.seconds,
                    done.packageSeconds, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    if (projectPath && exitCode != 2) {
        const int64_t runId = recordCompileRun(*projectPath, args[0], *module, inputShape, importDiagnostics, request,
                                               done);
        if (runId > 0)
            std::printf("project     %s (compile run %lld)\n", projectPath->c_str(), (long long)runId);
        else
            exitCode = 1;
    }
    return exitCode;
}

} // namespace stc::cli

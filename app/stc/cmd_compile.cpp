// stc compile: model -> pass pipeline -> partition/place/route -> package.
#include "cli_args.h"
#include "commands.h"
#include "model_input.h"
#include "plugin_host.h"

#include "ir/ir_io.h"
#include "passes/calibration.h"
#include "passes/runner.h"
#include "target/cost_model.h"
#include "target/target_passes.h"

#include <QString>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace stc::cli {

namespace {

constexpr const char* kUsage =
    "usage: stc compile MODEL.pt|MODEL.sir --chip loihi3 [--chips N] [-p PIPELINE] [--objective "
    "min-cores|balanced|latency]\n"
    "                   [--seed S] [--calibration fashion-mnist[:N]] [--input-shape 1,1,28,28] -o OUT.stcpkg\n"
    "default PIPELINE: fold-bn,canonicalize,dce,quantize{bits=8},schedule-time (none for a quantized .sir)\n";

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
    if (reportUnknownOptions(args, "compile"))
        return 2;
    if (args.size() != 1 || !chip || !out) {
        std::fprintf(stderr, "%s", kUsage);
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
    auto module = loadModelFile("stc compile", args[0], inputShape);
    if (!module)
        return 1;

    auto session = std::make_shared<target::TargetSession>();
    passes::PassRegistry registry = passes::makeBuiltinRegistry();
    target::registerTargetPasses(registry, session);
    // The package carries the quantize pass's integer model (exact against the
    // fixed-point reference); an already quantized module is taken as it is.
    std::string text =
        pipelineText.value_or(module->attrs.getBool("quantized") ? "" : "fold-bn,canonicalize,dce,quantize{bits=8},schedule-time");
    if (text.find("partition") == std::string::npos) {
        text += std::string(text.empty() ? "" : ",") + "partition{chip=" + *chip + " chips=" + std::to_string(nChips);
        if (objective)
            text += " objective=" + *objective;
        text += "},place";
        if (seed)
            text += "{seed=" + *seed + "}";
        text += ",route";
    }
    Diagnostics pd;
    auto pipeline = passes::parsePipeline(text, registry, pd);
    if (!pipeline) {
        std::fprintf(stderr, "%s\n  in pipeline: %s\n", pd.format().c_str(), text.c_str());
        return 2;
    }
    // One quantization path: the package always carries the quantize pass's
    // integer model (what the fixed-point reference and core/sim run).
    if (!module->attrs.getBool("quantized")) {
        auto& e = pipeline->entries;
        const auto part = std::find_if(e.begin(), e.end(), [](const auto& x) { return x.pass == "partition"; });
        if (std::none_of(e.begin(), part, [](const auto& x) { return x.pass == "quantize" && x.enabled; })) {
            e.insert(part, passes::PipelineEntry{"quantize", {}, true, 0});
            text = pipeline->print(registry);
            std::fprintf(stderr, "stc compile: note: the pipeline does not quantize; added quantize before partition "
                                 "(packages carry the quantize pass's integer model)\n");
        }
    }
    passes::CompileContext ctx;
    ctx.target = *chip;
    if (calib) {
        const std::string name = calib->substr(0, calib->find(':'));
        const int64_t limit = calib->find(':') == std::string::npos ? 64 : std::stoll(calib->substr(calib->find(':') + 1));
        if (name != "fashion-mnist") {
            std::fprintf(stderr, "stc compile: unknown calibration data set '%s' (known: fashion-mnist)\n", name.c_str());
            return 2;
        }
        auto loaded = data::loadFashionMnist(data::Split::Train, data::defaultFashionMnistDir(), limit);
        if (!loaded.ok()) {
            std::fprintf(stderr, "stc compile: %s\n", loaded.error.c_str());
            return 1;
        }
        ctx.calibration = passes::imageSetCalibration(std::make_shared<data::ImageSet>(std::move(loaded.value)));
    }
    passes::RunResult r = passes::runPipeline(*module, *pipeline, registry, ctx);
    const Diagnostics all = r.allDiagnostics();
    if (!all.empty())
        std::fprintf(stderr, "%s", all.format().c_str());
    const double compileSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!r.ok() || !session->routed) {
        if (session->chip && !session->mapping.problems.empty()) {
            std::printf("%s", target::formatSummary(session->network, session->mapping,
                                                    target::estimateCost(session->network, session->mapping,
                                                                         *session->chip),
                                                    *session->chip)
                                  .c_str());
        }
        std::fprintf(stderr, "stc compile: failed (pipeline %s)\n", text.c_str());
        return 1;
    }
    const target::ChipDescriptor& cd = *session->chip;
    QString err;
    target::Backend* backend = plugins::PluginHost::instance().backendFor(QString::fromStdString(cd.id), &err);
    std::string listing, error;
    bool ok;
    if (backend) {
        ok = backend->emitPackage(session->network, session->mapping, cd, text, *out, &listing, &error);
    } else {
        std::fprintf(stderr, "stc compile: note: %s; writing the package with the built-in Loihi writer\n",
                     qPrintable(err));
        ok = target::emitLoihiPackage(session->network, session->mapping, cd, text, *out, &listing, &error);
    }
    if (!ok) {
        std::fprintf(stderr, "stc compile: %s\n", error.c_str());
        return 1;
    }
    const std::string summary = listing.substr(0, listing.find("\ncores:\n"));
    std::printf("%s", summary.c_str());
    std::printf("package     %s (%zu core blobs)\n", out->c_str(), session->mapping.cores.size());
    std::printf("time        %.2f s compile (pipeline + mapping), %.2f s total\n", compileSeconds,
                std::chrono::duration<double>(Clock::now() - t0).count());
    return 0;
}

} // namespace stc::cli

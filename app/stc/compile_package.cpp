#include "model_input.h"
#include "compile_package.h"

#include "plugin_host.h"

#include "data/fashion_mnist.h"
#include "passes/calibration.h"
#include "passes/instruments.h"
#include "passes/runner.h"
#include "store/convert.h"
#include "store/sha256.h"
#include "target/compile.h"
#include "target/cost_model.h"
#include "target/target_passes.h"

#include <QString>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>

namespace stc::cli {

PackageOutcome compileToPackage(const char* command, const ir::Module& module, const PackageRequest& req)
{
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    PackageOutcome out;
    out.record.status = store::CompileStatus::Failed; // until the passes ran
    out.record.notMappedReason = "not compiled";
    auto session = std::make_shared<target::TargetSession>();
    session->options.threads = 0; // one compile per process: map on every host thread
    session->options.encodeWhilePlacing = true; // a package is written right after mapping
    // The chip's backend plugin may add per-layer rules, run by `partition`
    // before mapping (descriptor-driven rules run for every chip).
    session->layerCheck = [](const ir::Module& m, const target::ChipDescriptor& chip) {
        QString ignored;
        target::Backend* b = plugins::PluginHost::instance().backendFor(QString::fromStdString(chip.id), &ignored);
        return b ? b->checkLayers(m, chip) : std::vector<target::LayerIssue>{};
    };
    passes::PassRegistry registry = passes::makeBuiltinRegistry();
    target::registerTargetPasses(registry, session);
    // The package carries the quantize pass's integer model (exact against the
    // fixed-point reference); an already quantized module is taken as it is.
    std::string text =
        req.pipeline.value_or(module.attrs.getBool("quantized") ? "" : target::kDefaultCompilePipeline);
    if (text.find("partition") == std::string::npos) {
        text += std::string(text.empty() ? "" : ",") + "partition{chip=" + req.chip + " chips=" + std::to_string(req.chips);
        if (req.objective)
            text += " objective=" + *req.objective;
        text += "},place";
        if (req.seed)
            text += "{seed=" + *req.seed + "}";
        text += ",route";
    }
    Diagnostics pd;
    auto pipeline = passes::parsePipeline(text, registry, pd);
    if (!pipeline) {
        std::fprintf(stderr, "%s\n  in pipeline: %s\n", pd.format().c_str(), text.c_str());
        out.exitCode = 2;
        return out;
    }
    // One quantization path: the package always carries the quantize pass's
    // integer model (what the fixed-point reference and core/sim run).
    if (!module.attrs.getBool("quantized")) {
        auto& e = pipeline->entries;
        const auto part = std::find_if(e.begin(), e.end(), [](const auto& x) { return x.pass == "partition"; });
        if (std::none_of(e.begin(), part, [](const auto& x) { return x.pass == "quantize" && x.enabled; })) {
            e.insert(part, passes::PipelineEntry{"quantize", {}, true, 0});
            text = pipeline->print(registry);
            std::fprintf(stderr, "%s: note: the pipeline does not quantize; added quantize before partition "
                                 "(packages carry the quantize pass's integer model)\n", command);
        }
    }
    out.pipeline = text;
    passes::CompileContext ctx;
    ctx.target = req.chip;
    if (req.calibration) {
        const std::string& calib = *req.calibration;
        const size_t colon = calib.find(':');
        const std::string name = calib.substr(0, colon);
        int64_t limit = 64;
        if (colon != std::string::npos) {
            const char* first = calib.data() + colon + 1;
            const char* last = calib.data() + calib.size();
            const auto [end, ec] = std::from_chars(first, last, limit);
            if (ec != std::errc{} || end != last || limit < 1) {
                std::fprintf(stderr, "%s: bad --calibration '%s' (expected fashion-mnist or fashion-mnist:N, N >= 1)\n",
                             command, calib.c_str());
                out.exitCode = 2;
                return out;
            }
        }
        if (name != "fashion-mnist") {
            std::fprintf(stderr, "%s: unknown calibration data set '%s' (known: fashion-mnist)\n", command, name.c_str());
            out.exitCode = 2;
            return out;
        }
        auto calibration = fashionMnistCalibration(command, limit);
        if (!calibration) {
            out.exitCode = 1;
            return out;
        }
        ctx.calibration = std::move(*calibration);
    }
    auto timing = std::make_shared<passes::TimingInstrument>();
    if (req.timePasses)
        ctx.instruments.push_back(timing);
    passes::RunResult r = passes::runPipeline(module, *pipeline, registry, ctx);
    if (req.timePasses)
        std::fprintf(stderr, "%s", timing->report().c_str());
    const Diagnostics all = r.allDiagnostics();
    if (!all.empty())
        std::fprintf(stderr, "%s", all.format().c_str());
    out.record.status = store::toCompileStatus(r.status);
    out.record.passes = store::toPassRows(r.records);
    out.record.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (session->chip)
        out.record.chipSha256 = store::sha256Hex(session->chip->sourceText);
    if (!r.ok() || !session->routed) {
        if (out.record.status == store::CompileStatus::Ok)
            out.record.status = store::CompileStatus::Failed; // the passes ran, the mapping did not route
        out.record.notMappedReason = r.ok() ? "mapping failed" : "compile failed";
        if (session->chip && !session->mapping.problems.empty()) {
            std::printf("%s", target::formatSummary(session->network, session->mapping,
                                                    target::estimateCost(session->network, session->mapping,
                                                                         *session->chip),
                                                    *session->chip)
                                  .c_str());
        }
        std::fprintf(stderr, "%s: failed (pipeline %s)\n", command, text.c_str());
        out.exitCode = 1;
        return out;
    }
    const target::ChipDescriptor& cd = *session->chip;
    store::setMapping(out.record, session->mapping, target::estimateCost(session->network, session->mapping, cd));
    QString err;
    target::Backend* backend = plugins::PluginHost::instance().backendFor(QString::fromStdString(cd.id), &err);
    std::string error;
    bool ok;
    const auto emitStart = Clock::now();
    if (backend) {
        ok = backend->emitPackage(session->network, session->mapping, cd, text, req.output, &out.listing, &error);
    } else if (!cd.id.starts_with("loihi")) {
        std::fprintf(stderr, "%s: %s\n", command, qPrintable(err));
        out.record.status = store::CompileStatus::Failed;
        out.exitCode = 1;
        return out;
    } else {
        std::fprintf(stderr, "%s: note: %s; writing the package with the built-in Loihi writer\n", command,
                     qPrintable(err));
        ok = target::emitLoihiPackage(session->network, session->mapping, cd, text, req.output, &out.listing, &error);
    }
    if (!ok) {
        std::fprintf(stderr, "%s: %s\n", command, error.c_str());
        out.record.status = store::CompileStatus::Failed;
        out.exitCode = 1;
        return out;
    }
    out.packageSeconds = std::chrono::duration<double>(Clock::now() - emitStart).count();
    std::error_code ec;
    out.record.packagePath = std::filesystem::absolute(req.output, ec).lexically_normal().string();
    out.cores = session->mapping.cores.size();
    return out;
}

} // namespace stc::cli

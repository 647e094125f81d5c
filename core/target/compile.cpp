#include "target/compile.h"

#include "passes/pipeline.h"
#include "passes/runner.h"

namespace stc::target {

CompileOutput compileModule(const ir::Module& module, const CompileRequest& req)
{
    CompileOutput out;
    out.session = std::make_shared<TargetSession>();
    passes::PassRegistry registry = passes::makeBuiltinRegistry();
    registerTargetPasses(registry, out.session);
    out.pipeline = req.pipeline;
    out.pipeline += std::string(out.pipeline.empty() ? "" : ",") + "partition{chip=" + req.chip +
                    " chips=" + std::to_string(req.chips) + (req.objective.empty() ? "" : " objective=" + req.objective) +
                    "},place{seed=" + std::to_string(req.seed) + "},route";
    auto pipeline = passes::parsePipeline(out.pipeline, registry, out.diagnostics);
    if (!pipeline) {
        out.error = "bad pipeline: " + out.diagnostics.format();
        return out;
    }
    passes::CompileContext ctx;
    ctx.target = req.chip;
    ctx.calibration = req.calibration;
    passes::RunResult r = passes::runPipeline(module, *pipeline, registry, ctx);
    out.diagnostics = r.allDiagnostics();
    out.module = std::move(r.module);
    if (!r.ok() || !out.session->routed) {
        out.error = "compile failed: " + out.diagnostics.format();
        return out;
    }
    const TargetSession& s = *out.session;
    try {
        out.estimate = estimateCost(s.network, s.mapping, *s.chip);
        out.package = buildPackage(s.network, s.mapping, *s.chip, out.pipeline, out.estimate);
    } catch (const std::exception& e) {
        out.error = std::string("package encoding failed: ") + e.what();
    }
    return out;
}

} // namespace stc::target

// Test helpers for the trained models in resources/models and for running a
// pipeline given as text (what several core tests need; throws on failure).
#pragma once

#include "ir/ir_io.h"
#include "passes/pipeline.h"
#include "passes/registry.h"
#include "passes/runner.h"

#include <stdexcept>
#include <string>

namespace stc::testutil {

inline ir::Module loadBundledModel(const std::string& name)
{
    ir::LoadResult r = ir::loadModule(std::string(STC_RESOURCE_DIR) + "/models/" + name);
    if (!r.ok())
        throw std::runtime_error(r.diagnostics.format());
    return std::move(*r.module);
}

// Parses `text` with the built-in passes and runs it (the result may have failed; check ok()).
inline passes::RunResult runPipelineText(const ir::Module& m, const std::string& text)
{
    const passes::PassRegistry registry = passes::makeBuiltinRegistry();
    Diagnostics d;
    auto p = passes::parsePipeline(text, registry, d);
    if (!p)
        throw std::runtime_error(d.format());
    passes::CompileContext ctx;
    return passes::runPipeline(m, *p, registry, ctx);
}

} // namespace stc::testutil

// Runs a pipeline on a copy of a module: the input is never modified, also not
// on failure or cancellation. Produces one record per pipeline entry (what
// the IDE's pass panel shows: status, time, statistics, diagnostics, changed).
#pragma once

#include "ir/module.h"
#include "passes/context.h"
#include "passes/pass.h"
#include "passes/pipeline.h"
#include "passes/registry.h"

#include <string>
#include <vector>

namespace stc::passes {

enum class PassStatus : uint8_t {
    NotRun,    // a pass before it failed or the run was cancelled
    Ok,
    Failed,
    Skipped,   // disabled entry or disabled in the context
    Cancelled, // cancellation arrived during this pass
};
const char* toString(PassStatus s);

struct PassRecord {
    int entryIndex = -1;
    std::string pass;
    std::string entryText; // the entry as printed in the pipeline
    PassStatus status = PassStatus::NotRun;
    double seconds = 0.0;  // wall time
    Statistics stats;
    Diagnostics diagnostics;
    bool changed = false;  // the IR after differs from the IR before
};

enum class RunStatus : uint8_t { Ok, Failed, Cancelled };
const char* toString(RunStatus s);

struct RunResult {
    RunStatus status = RunStatus::Ok;
    std::vector<PassRecord> records; // one per entry, pipeline order
    // The IR after the last pass that completed (the whole pipeline when Ok).
    ir::Module module;
    Diagnostics diagnostics; // pipeline-level: validation, order constraints
    double seconds = 0.0;

    bool ok() const { return status == RunStatus::Ok; }
    // All diagnostics: pipeline-level first, then per pass.
    Diagnostics allDiagnostics() const;
};

// Validates the pipeline (names, options, order constraints against `input`)
// before running anything; a pass that throws fails with the exception text.
RunResult runPipeline(const ir::Module& input, const Pipeline& pipeline, const PassRegistry& registry,
                      CompileContext& ctx);

} // namespace stc::passes

// One call from a module to a deployment package in memory: the pass
// pipeline (default: the quantized pipeline whose integer model the package
// carries), partition/place/route and buildPackage. The CLI, tests and
// benchmarks share it; `stc compile` writes the result through the backend.
#pragma once

#include "passes/context.h"
#include "target/cost_model.h"
#include "target/package.h"
#include "target/target_passes.h"

#include <memory>
#include <string>

namespace stc::target {

inline constexpr const char* kDefaultCompilePipeline = "fold-bn,canonicalize,reassociate-matmul,dce,quantize{bits=8},schedule-time";

struct CompileRequest {
    std::string chip = "loihi3";
    int chips = 1;
    std::string pipeline = kDefaultCompilePipeline; // without partition/place/route (added)
    std::string objective;                          // empty: partition's default
    uint64_t seed = 1;
    passes::CalibrationProvider calibration;
};

struct CompileOutput {
    std::string pipeline; // the full pipeline text that ran
    ir::Module module;    // after the pipeline (quantized)
    std::shared_ptr<TargetSession> session;
    Estimate estimate;
    Package package;
    Diagnostics diagnostics;
    std::string error; // empty on success
    bool ok() const { return error.empty(); }
};

CompileOutput compileModule(const ir::Module& module, const CompileRequest& request);

} // namespace stc::target

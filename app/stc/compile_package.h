// The part of `stc compile` after loading the model: pipeline text (default
// pipeline, quantize ensured, partition/place/route appended), calibration,
// the pass run, and the package written by the chip's backend plugin (or the
// built-in Loihi writer). `stc project export` rebuilds a recorded package
// through the same function, so both produce the same bytes for the same input.
#pragma once

#include "ir/module.h"
#include "store/project.h"

#include <optional>
#include <string>

namespace stc::cli {

struct PackageRequest {
    std::string chip;
    int chips = 1;
    std::optional<std::string> pipeline; // nullopt: the default pipeline
    std::optional<std::string> objective, seed;
    std::optional<std::string> calibration; // "fashion-mnist[:N]"
    std::string output;                     // package directory
    bool timePasses = false;                // print each pass's wall time (stderr)
};

struct PackageOutcome {
    int exitCode = 0;           // 0 written, 1 failed, 2 bad request (pipeline or calibration name)
    std::string pipeline;       // the full pipeline text that ran
    store::CompileResult record; // what a project records (status, passes, mapping, estimate, provenance)
    std::string listing;        // the package listing (summary + cores)
    size_t cores = 0;
    double packageSeconds = 0; // writing the package (record.seconds: pipeline + mapping)
};

// Diagnostics and errors go to stderr prefixed with `command`.
PackageOutcome compileToPackage(const char* command, const ir::Module& module, const PackageRequest& request);

} // namespace stc::cli

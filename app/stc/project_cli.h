// What the commands that write into a project share: opening (or creating)
// the project file, describing a loaded model version, recording a compile.
// Errors are printed with the command name; functions return 0 / nullopt then.
#pragma once

#include "commands.h"
#include "compile_package.h"

#include "ir/module.h"
#include "store/project.h"

#include <optional>
#include <string>
#include <vector>

namespace stc::cli {

// Opens `path` read-write, or creates it (named after the model file, for
// `chip`) when it does not exist. Throws store::Error.
store::Project openOrCreateProject(const std::string& path, const std::string& modelPath, const std::string& chip);

// A model version as the store records it: the file's hash, and the input
// shape the importer used (batch first; what reproduces the import), T and
// the import diagnostics. Throws store::Error.
store::ModelSource describeLoadedModel(const std::string& modelPath, const ir::Module& module,
                                       const std::vector<int64_t>& givenInputShape, const std::string& diagnostics);

// Records the model version and the compile (success or failure) in the
// project at `projectPath`. Returns the run id, or 0 after printing why not.
int64_t recordCompileRun(const std::string& projectPath, const std::string& modelPath, const ir::Module& module,
                         const std::vector<int64_t>& givenInputShape, const std::string& importDiagnostics,
                         const PackageRequest& request, const PackageOutcome& outcome);

// Records a simulation of the package at `packagePath` (its ledger, and the
// chip simulator's top-1 when `accuracy` is given) in the existing project at
// `projectPath`, linked to compile run `compileRunId`, or when 0 to the
// newest compile run that wrote this package. Returns the simulation run id,
// or 0 after printing why not.
int64_t recordSimulationRun(const std::string& projectPath, const std::string& packagePath, int64_t compileRunId,
                            const std::string& chip, const store::SimulationLedger& ledger,
                            const std::optional<store::AccuracyResult>& accuracy, int64_t* accuracyRunId);

// Opens a project for reading. An older schema is upgraded first (read-write,
// one transaction, noted on stderr) so read commands work on old files.
store::Project openProjectForReading(const std::string& path, const char* command);

// "87.20 %", "1.234 µJ", "—" for a missing value.
std::string metricText(store::Metric m, std::optional<double> v);
// "bits=8 sparsity=0.25" from a run's parameters.
std::string paramsText(const store::RunMeta& m);

int runProjectCompare(const Args& args); // stc project compare ...
int runProjectExport(const Args& args);  // stc project export ...

} // namespace stc::cli

// Loads the model a command was given: a Spike IR text file (.sir) directly,
// anything else through the frontend plugin that claims its extension (loaded
// lazily). Diagnostics go to stderr prefixed with the command name, and, with
// `diagnostics`, are also returned formatted (what a project records).
#pragma once

#include "frontend/importer.h"
#include "ir/ir_io.h"
#include "ir/module.h"
#include "passes/calibration.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stc::cli {

// Options for loading a .sir: custom ops resolve through the custom-op
// plugins the PluginHost finds (loaded on first use).
ir::LoadOptions sirLoadOptions(bool verify = true);

// From here on the command runs in a child process whose crash the parent
// reports (crash_guard.h); the import then skips its own crash probe.
void isolateImport(const std::string& command, const std::string& path, const frontend::Importer& importer,
                   frontend::ImportOptions& options);

std::optional<ir::Module> loadModelFile(const std::string& command, const std::string& path,
                                        const std::vector<int64_t>& inputShape, std::string* diagnostics = nullptr);

// loadModelFile, then the passes of `pipelineText` (e.g. "fold-bn,canonicalize,dce")
// when given; what the export commands (export-nir, export-netx) run first.
std::optional<ir::Module> loadModelWithPipeline(const std::string& command, const std::string& path,
                                                const std::vector<int64_t>& inputShape,
                                                const std::optional<std::string>& pipelineText);

// Calibration data for quantize and the mapping's firing rates: the first
// `images` Fashion-MNIST training images (none when images <= 0). nullopt
// after printing why the data set could not be read.
std::optional<passes::CalibrationProvider> fashionMnistCalibration(const std::string& command, int64_t images);

} // namespace stc::cli

// NIR graph -> Spike IR (see docs/nir.md for the node mapping).
#pragma once

#include "interop/nir_graph.h"
#include "ir/module.h"
#include "util/diagnostics.h"

#include <optional>
#include <string>

namespace stc::interop {

struct NirImportOptions {
    std::optional<int64_t> timesteps; // default: the file's stc_timesteps; required if it has none
    std::optional<double> dt;         // default: the file's stc_dt, else 1e-4 s
};

struct NirImportResult {
    std::optional<ir::Module> module; // set when there are no errors; verified
    Diagnostics diagnostics;          // located at file + node
};

// True when the graph records its number of time steps (metadata
// stc_timesteps, one value); otherwise importFromNir needs
// NirImportOptions::timesteps (the CLI's --timesteps, the IDE's prompt).
bool nirHasTimesteps(const NirGraph& g);

// `fileName` only locates diagnostics.
NirImportResult importFromNir(const NirGraph& g, const NirImportOptions& options, const std::string& fileName);

} // namespace stc::interop

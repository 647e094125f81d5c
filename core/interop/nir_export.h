// Spike IR -> NIR graph: the subset NIR can express (see docs/nir.md).
#pragma once

#include "interop/nir_graph.h"
#include "ir/module.h"
#include "util/diagnostics.h"

#include <optional>

namespace stc::interop {

struct NirExportOptions {
    double dt = 1e-4; // seconds per time step of our discrete model (snnTorch's and Norse's NIR default)
};

struct NirExportResult {
    std::optional<NirGraph> graph; // set when there are no errors
    // One error per op NIR cannot express (with its location and what to do);
    // warnings for what tools other than stc lose (NIR's fixed reset, v > threshold).
    Diagnostics diagnostics;
};

NirExportResult exportToNir(const ir::Module& m, const NirExportOptions& options = {});

} // namespace stc::interop

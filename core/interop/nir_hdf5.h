// Reading and writing .nir files (HDF5, the layout of NIR's nir/serialization.py).
// Without HDF5 at configure time the functions report "not yet available".
#pragma once

#include "interop/nir_graph.h"
#include "util/diagnostics.h"

#include <optional>
#include <string>

namespace stc::interop {

bool nirFilesAvailable();

struct NirReadResult {
    std::optional<NirGraph> graph;
    Diagnostics diagnostics; // located at file + HDF5 path
};

NirReadResult readNirFile(const std::string& path);
// Replaces `path` atomically (written next to it, then renamed).
Diagnostics writeNirFile(const NirGraph& g, const std::string& path);

} // namespace stc::interop

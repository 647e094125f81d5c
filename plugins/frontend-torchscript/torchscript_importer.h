// The TorchScript importer behind the std-only frontend interface. Tests and
// benchmarks link it directly; the CLI and IDE get it through the Qt plugin.
#pragma once

#include "frontend/importer.h"

#include <memory>

namespace stc::torchscript {

std::unique_ptr<frontend::Importer> makeTorchScriptImporter();

} // namespace stc::torchscript

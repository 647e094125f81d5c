// Qt plugin interfaces. A plugin declares one of these IIDs plus JSON metadata
// (name, version, compatVersion, kind, fileExtensions); the host reads the
// metadata before loading the shared library and refuses a mismatch.
#pragma once

#include "frontend/importer.h"
#include "ir/custom_op.h"
#include "target/backend.h"

#include <QtPlugin>
#include <memory>
#include <vector>

namespace stc::plugins {

// Bump the number in the IID whenever the interface or core ABI changes.
inline constexpr const char* kFrontendIid = "org.stc.Frontend/3";
inline constexpr const char* kBackendIid = "org.stc.Backend/5";
inline constexpr const char* kCustomOpsIid = "org.stc.CustomOps/1";
inline constexpr int kPluginApiVersion = 1;

class FrontendPlugin {
public:
    virtual ~FrontendPlugin() = default;
    virtual std::unique_ptr<stc::frontend::Importer> createImporter() = 0;
};

// A target: code generator and optional per-layer constraint check
// (target::Backend) for a family of chips. Metadata (read before loading):
// "chips": ["spinnaker2", ...] and optionally "descriptors": chip descriptor
// files relative to the plugin file ("chips/spinnaker2.json"), whose
// directories the host adds to the descriptor search path. Version 2 added
// Backend::checkLayers and "descriptors" (docs/backends.md).
class BackendPlugin {
public:
    virtual ~BackendPlugin() = default;
    virtual std::unique_ptr<stc::target::Backend> createBackend() = 0;
};

// Custom Spike IR ops (ir/custom_op.h; docs/custom-ops.md). Metadata kind
// "customops" and "ops": [every op name it registers]; the host registers the
// defs at load, before any .sir is parsed, and refuses a def whose name the
// metadata does not list.
class CustomOpsPlugin {
public:
    virtual ~CustomOpsPlugin() = default;
    virtual std::vector<std::shared_ptr<const stc::ir::CustomOpDef>> customOps() = 0;
};

} // namespace stc::plugins

Q_DECLARE_INTERFACE(stc::plugins::FrontendPlugin, "org.stc.Frontend/3")
Q_DECLARE_INTERFACE(stc::plugins::BackendPlugin, "org.stc.Backend/5")
Q_DECLARE_INTERFACE(stc::plugins::CustomOpsPlugin, "org.stc.CustomOps/1")

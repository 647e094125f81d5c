// Qt plugin interfaces. A plugin declares one of these IIDs plus JSON metadata
// (name, version, compatVersion, kind, fileExtensions); the host reads the
// metadata before loading the shared library and refuses a mismatch.
#pragma once

#include "frontend/importer.h"
#include "target/backend.h"

#include <QtPlugin>
#include <memory>

namespace stc::plugins {

// Bump the number in the IID whenever the interface or core ABI changes.
inline constexpr const char* kFrontendIid = "org.stc.Frontend/2";
inline constexpr const char* kBackendIid = "org.stc.Backend/2";
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

} // namespace stc::plugins

Q_DECLARE_INTERFACE(stc::plugins::FrontendPlugin, "org.stc.Frontend/2")
Q_DECLARE_INTERFACE(stc::plugins::BackendPlugin, "org.stc.Backend/2")

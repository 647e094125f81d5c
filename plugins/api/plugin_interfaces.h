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
inline constexpr const char* kBackendIid = "org.stc.Backend/1";
inline constexpr int kPluginApiVersion = 1;

class FrontendPlugin {
public:
    virtual ~FrontendPlugin() = default;
    virtual std::unique_ptr<stc::frontend::Importer> createImporter() = 0;
};

// A code generator for a family of chips (metadata "chips": ["loihi3", ...]).
class BackendPlugin {
public:
    virtual ~BackendPlugin() = default;
    virtual std::unique_ptr<stc::target::Backend> createBackend() = 0;
};

} // namespace stc::plugins

Q_DECLARE_INTERFACE(stc::plugins::FrontendPlugin, "org.stc.Frontend/2")
Q_DECLARE_INTERFACE(stc::plugins::BackendPlugin, "org.stc.Backend/1")

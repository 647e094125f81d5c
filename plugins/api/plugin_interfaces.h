// Qt plugin interfaces. A plugin declares one of these IIDs plus JSON metadata
// (name, version, compatVersion, kind, fileExtensions); the host reads the
// metadata before loading the shared library and refuses a mismatch.
#pragma once

#include "frontend/importer.h"

#include <QtPlugin>
#include <memory>

namespace stc::plugins {

// Bump the number in the IID whenever the interface or core ABI changes.
inline constexpr const char* kFrontendIid = "org.stc.Frontend/1";
inline constexpr int kPluginApiVersion = 1;

class FrontendPlugin {
public:
    virtual ~FrontendPlugin() = default;
    virtual std::unique_ptr<stc::frontend::Importer> createImporter() = 0;
};

} // namespace stc::plugins

Q_DECLARE_INTERFACE(stc::plugins::FrontendPlugin, "org.stc.Frontend/1")

// Finds plugins, checks their metadata without loading them, and loads a
// frontend lazily on first use (LibTorch costs ~0.4 s at load time, so the
// IDE and CLI start without it).
#pragma once

#include "frontend/importer.h"
#include "ir/custom_op.h"
#include "target/backend.h"

#include <QString>
#include <QStringList>
#include <memory>
#include <mutex>
#include <vector>

class QPluginLoader;

namespace stc::plugins {

struct PluginInfo {
    QString file;
    QString iid;
    QString name;
    QString kind;    // "frontend", "backend" or "customops"
    QString version;
    int compatVersion = 0;
    QStringList fileExtensions;
    QStringList chips; // backends: chip ids they package for
    QStringList ops;   // custom-op plugins: the op names they register
    QStringList descriptors; // backends: absolute paths of the chip descriptors they ship
    QString description;
    bool usable = false;
    QString problem; // why it is not usable (IID or version mismatch, bad metadata)
};

class PluginHost {
public:
    // Search path: $STC_PLUGIN_PATH (colon separated), then <exe dir>/../plugins,
    // then <exe dir>/plugins, then the build tree's plugin directory.
    static PluginHost& instance();
    explicit PluginHost(QStringList searchPath);
    ~PluginHost();

    const std::vector<PluginInfo>& plugins(); // scans once, does not load
    // The importer for a file (by extension); loads its plugin on first use.
    // Returns nullptr and sets `error` if none fits or loading fails.
    stc::frontend::Importer* importerFor(const QString& path, QString* error);
    // Adds the directories of every usable backend's "descriptors" to the chip
    // descriptor search path (target::addChipSearchDirectory); scans first.
    // The CLI and the IDE call it at startup, so `--chip ID` and the chip
    // lists find descriptors that plugins ship without core or views knowing.
    void registerChipDescriptors();
    // The backend for a chip id (metadata "chips"); loads its plugin on first use.
    stc::target::Backend* backendFor(const QString& chip, QString* error);
    bool isLoaded(const QString& name) const;
    // Every usable custom-op plugin loaded (on the first call) and its ops
    // registered; ops advertised by plugins that are refused or fail to load
    // are noted, so that parsing them names the plugin and the reason. Pass it
    // to ir::parseModule / LoadOptions::customOps.
    const stc::ir::CustomOpRegistry& customOps();
    // Problems met while loading custom-op plugins (empty when all loaded).
    QStringList customOpProblems();

private:
    void scan();
    QStringList searchPath_;
    bool scanned_ = false;
    bool customOpsLoaded_ = false;
    stc::ir::CustomOpRegistry customOps_;
    QStringList customOpProblems_;
    std::vector<PluginInfo> infos_;
    struct Loaded;
    std::vector<std::unique_ptr<Loaded>> loaded_;
    mutable std::mutex mutex_;
};

} // namespace stc::plugins

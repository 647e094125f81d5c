#include "plugin_host.h"

#include "plugin_interfaces.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QPluginLoader>

#ifndef STC_BUILD_PLUGIN_DIR
#define STC_BUILD_PLUGIN_DIR ""
#endif

namespace stc::plugins {

struct PluginHost::Loaded {
    QString name;
    std::unique_ptr<QPluginLoader> loader;
    std::unique_ptr<stc::frontend::Importer> importer;
    std::unique_ptr<stc::target::Backend> backend;
};

PluginHost& PluginHost::instance()
{
    static PluginHost host([] {
        QStringList path;
        const QByteArray env = qgetenv("STC_PLUGIN_PATH");
        if (!env.isEmpty())
            path += QString::fromLocal8Bit(env).split(':', Qt::SkipEmptyParts);
        const QString exeDir = QCoreApplication::instance() ? QCoreApplication::applicationDirPath() : QString();
        if (!exeDir.isEmpty()) {
            path << QDir(exeDir).filePath("../plugins") << QDir(exeDir).filePath("plugins")
                 << QDir(exeDir).filePath("../lib/stc/plugins");
        }
        path << QStringLiteral(STC_BUILD_PLUGIN_DIR);
        return path;
    }());
    return host;
}

PluginHost::PluginHost(QStringList searchPath) : searchPath_(std::move(searchPath)) {}

PluginHost::~PluginHost()
{
    // Importers are destroyed before their libraries are unloaded.
    for (auto& l : loaded_) {
        l->importer.reset();
        l->backend.reset();
    }
}

void PluginHost::scan()
{
    scanned_ = true;
    QStringList seen;
    for (const QString& dirPath : searchPath_) {
        QDir dir(dirPath);
        if (dirPath.isEmpty() || !dir.exists())
            continue;
        for (const QFileInfo& fi : dir.entryInfoList({"*.so", "*.dylib", "*.dll"}, QDir::Files)) {
            const QString canonical = fi.canonicalFilePath();
            if (seen.contains(fi.fileName()))
                continue; // first one on the search path wins
            seen << fi.fileName();
            QPluginLoader probe(canonical);
            const QJsonObject meta = probe.metaData(); // reads metadata, does not load the library
            PluginInfo info;
            info.file = canonical;
            info.iid = meta.value("IID").toString();
            const QJsonObject md = meta.value("MetaData").toObject();
            info.name = md.value("name").toString();
            info.kind = md.value("kind").toString();
            info.version = md.value("version").toString();
            info.compatVersion = md.value("compatVersion").toInt(-1);
            for (const auto& e : md.value("fileExtensions").toArray())
                info.fileExtensions << e.toString().toLower();
            for (const auto& c : md.value("chips").toArray())
                info.chips << c.toString();
            for (const auto& o : md.value("ops").toArray())
                info.ops << o.toString();
            info.description = md.value("description").toString();
            QStringList missing;
            for (const auto& d : md.value("descriptors").toArray()) {
                const QString path = QDir(fi.absolutePath()).filePath(d.toString());
                if (QFileInfo(path).isFile())
                    info.descriptors << QFileInfo(path).absoluteFilePath();
                else
                    missing << d.toString();
            }
            if (meta.isEmpty())
                info.problem = "not a Qt plugin (no metadata)";
            else if (info.name.isEmpty() || info.kind.isEmpty())
                info.problem = "metadata lacks name or kind";
            else if (info.kind == "frontend" && info.iid != QLatin1String(kFrontendIid))
                info.problem = QString("interface %1, this host needs %2").arg(info.iid, kFrontendIid);
            else if (info.kind == "backend" && info.iid != QLatin1String(kBackendIid))
                info.problem = QString("interface %1, this host needs %2").arg(info.iid, kBackendIid);
            else if (info.kind == "customops" && info.iid != QLatin1String(kCustomOpsIid))
                info.problem = QString("interface %1, this host needs %2").arg(info.iid, kCustomOpsIid);
            else if (info.kind == "customops" && info.ops.isEmpty())
                info.problem = "custom-op plugin metadata lists no \"ops\"";
            else if (info.compatVersion != kPluginApiVersion)
                info.problem = QString("plugin API version %1, this host needs %2")
                                   .arg(info.compatVersion)
                                   .arg(kPluginApiVersion);
            else if (!missing.isEmpty())
                info.problem = QString("chip descriptor(s) %1 missing next to the plugin (%2)")
                                   .arg(missing.join(", "), fi.absolutePath());
            info.usable = info.problem.isEmpty();
            infos_.push_back(info);
        }
    }
}

const std::vector<PluginInfo>& PluginHost::plugins()
{
    std::lock_guard lock(mutex_);
    if (!scanned_)
        scan();
    return infos_;
}

void PluginHost::registerChipDescriptors()
{
    std::lock_guard lock(mutex_);
    if (!scanned_)
        scan();
    for (const PluginInfo& info : infos_)
        if (info.kind == "backend" && info.usable)
            for (const QString& d : info.descriptors)
                stc::target::addChipSearchDirectory(QFileInfo(d).absolutePath().toStdString());
}

bool PluginHost::isLoaded(const QString& name) const
{
    std::lock_guard lock(mutex_);
    for (const auto& l : loaded_)
        if (l->name == name)
            return true;
    return false;
}

stc::frontend::Importer* PluginHost::importerFor(const QString& path, QString* error)
{
    std::lock_guard lock(mutex_);
    if (!scanned_)
        scan();
    const QString suffix = "." + QFileInfo(path).suffix().toLower();
    QStringList problems;
    for (const PluginInfo& info : infos_) {
        if (info.kind != "frontend" || !info.fileExtensions.contains(suffix))
            continue;
        if (!info.usable) {
            problems << QString("%1 (%2): %3").arg(info.name, info.file, info.problem);
            continue;
        }
        for (auto& l : loaded_)
            if (l->name == info.name)
                return l->importer.get();
        auto loaded = std::make_unique<Loaded>();
        loaded->name = info.name;
        loaded->loader = std::make_unique<QPluginLoader>(info.file);
        QObject* root = loaded->loader->instance();
        auto* frontend = root ? qobject_cast<FrontendPlugin*>(root) : nullptr;
        if (!frontend) {
            problems << QString("%1: failed to load: %2").arg(info.file, loaded->loader->errorString());
            continue;
        }
        loaded->importer = frontend->createImporter();
        auto* importer = loaded->importer.get();
        loaded_.push_back(std::move(loaded));
        return importer;
    }
    if (error) {
        *error = problems.isEmpty()
                     ? QString("no frontend plugin handles '%1' files (searched: %2)").arg(suffix, searchPath_.join(", "))
                     : problems.join("; ");
    }
    return nullptr;
}

stc::target::Backend* PluginHost::backendFor(const QString& chip, QString* error)
{
    std::lock_guard lock(mutex_);
    if (!scanned_)
        scan();
    QStringList problems;
    for (const PluginInfo& info : infos_) {
        if (info.kind != "backend" || !info.chips.contains(chip))
            continue;
        if (!info.usable) {
            problems << QString("%1 (%2): %3").arg(info.name, info.file, info.problem);
            continue;
        }
        for (auto& l : loaded_)
            if (l->name == info.name && l->backend)
                return l->backend.get();
        auto loaded = std::make_unique<Loaded>();
        loaded->name = info.name;
        loaded->loader = std::make_unique<QPluginLoader>(info.file);
        QObject* root = loaded->loader->instance();
        auto* backend = root ? qobject_cast<BackendPlugin*>(root) : nullptr;
        if (!backend) {
            problems << QString("%1: failed to load: %2").arg(info.file, loaded->loader->errorString());
            continue;
        }
        loaded->backend = backend->createBackend();
        auto* b = loaded->backend.get();
        loaded_.push_back(std::move(loaded));
        return b;
    }
    if (error)
        *error = problems.isEmpty() ? QString("no backend plugin packages for chip '%1' (searched: %2)")
                                          .arg(chip, searchPath_.join(", "))
                                    : problems.join("; ");
    return nullptr;
}

} // namespace stc::plugins

namespace stc::plugins {

const stc::ir::CustomOpRegistry& PluginHost::customOps()
{
    std::lock_guard lock(mutex_);
    if (!scanned_)
        scan();
    if (customOpsLoaded_)
        return customOps_;
    customOpsLoaded_ = true;
    for (const PluginInfo& info : infos_) {
        if (info.kind != "customops")
            continue;
        const std::string provider = "'" + info.name.toStdString() + "' (" + info.file.toStdString() + ")";
        auto unavailable = [&](const QString& problem) {
            customOpProblems_ << QString("%1 (%2): %3").arg(info.name, info.file, problem);
            for (const QString& op : info.ops)
                customOps_.addUnavailable(op.toStdString(), provider, problem.toStdString());
        };
        if (!info.usable) {
            unavailable(info.problem);
            continue;
        }
        auto loaded = std::make_unique<Loaded>();
        loaded->name = info.name;
        loaded->loader = std::make_unique<QPluginLoader>(info.file);
        QObject* root = loaded->loader->instance();
        auto* plugin = root ? qobject_cast<CustomOpsPlugin*>(root) : nullptr;
        if (!plugin) {
            unavailable("failed to load: " + loaded->loader->errorString());
            continue;
        }
        for (auto& def : plugin->customOps()) {
            const QString name = def ? QString::fromStdString(def->name()) : QString("<null>");
            std::string why;
            if (!info.ops.contains(name))
                why = "registers " + name.toStdString() + ", which its metadata \"ops\" does not list";
            else
                why = customOps_.add(std::move(def), provider);
            if (!why.empty())
                customOpProblems_ << QString("%1 (%2): %3").arg(info.name, info.file, QString::fromStdString(why));
        }
        for (const QString& op : info.ops)
            if (!customOps_.find(op.toStdString())) {
                const QString problem = "its metadata lists " + op + " but the plugin does not register it";
                customOpProblems_ << QString("%1 (%2): %3").arg(info.name, info.file, problem);
                customOps_.addUnavailable(op.toStdString(), provider, problem.toStdString());
            }
        loaded_.push_back(std::move(loaded));
    }
    return customOps_;
}

QStringList PluginHost::customOpProblems()
{
    customOps();
    std::lock_guard lock(mutex_);
    return customOpProblems_;
}

} // namespace stc::plugins

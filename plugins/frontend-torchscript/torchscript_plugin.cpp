// The Qt plugin wrapper: metadata (torchscript.json) is read by the
// PluginHost before the library (and LibTorch with it) is loaded.
#include "plugin_interfaces.h"
#include "torchscript_importer.h"

#include <QObject>

namespace stc::torchscript {

class TorchScriptFrontendPlugin final : public QObject, public plugins::FrontendPlugin {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.stc.Frontend/3" FILE "torchscript.json")
    Q_INTERFACES(stc::plugins::FrontendPlugin)

public:
    std::unique_ptr<frontend::Importer> createImporter() override { return makeTorchScriptImporter(); }
};

} // namespace stc::torchscript

#include "torchscript_plugin.moc"

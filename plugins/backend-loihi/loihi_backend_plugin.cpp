// The Loihi backend plugin. Thin on purpose: the encoding is in core/target
// (package.h) so the simulator and tests use it without Qt.
#include "plugin_interfaces.h"

#include <QObject>

namespace {

class LoihiBackend : public stc::target::Backend {
public:
    std::string name() const override { return "loihi"; }
    std::vector<std::string> chips() const override { return {"loihi1", "loihi2", "loihi3"}; }
    bool emitPackage(const stc::target::Network& net, const stc::target::Mapping& mapping,
                     const stc::target::ChipDescriptor& chip, const std::string& pipeline, const std::string& outDir,
                     std::string* listing, std::string* error) override
    {
        return stc::target::emitLoihiPackage(net, mapping, chip, pipeline, outDir, listing, error);
    }
};

} // namespace

class LoihiBackendPlugin : public QObject, public stc::plugins::BackendPlugin {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.stc.Backend/5" FILE "meta.json")
    Q_INTERFACES(stc::plugins::BackendPlugin)
public:
    std::unique_ptr<stc::target::Backend> createBackend() override { return std::make_unique<LoihiBackend>(); }
};

#include "loihi_backend_plugin.moc"

// Test fixture for tests/plugins/test_custom_ops.cpp: the real SDT attention op
// (plugins/customop-sdt-attention/sdt_mask_add.cpp) in a plugin whose metadata
// declares plugin API version 0. The host must refuse it from its metadata,
// without loading the library, and say so when a .sir uses its op.
#include "plugin_interfaces.h"
#include "sdt_mask_add.h"

#include <QObject>

class BadAbiSdtPlugin : public QObject, public stc::plugins::CustomOpsPlugin {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.stc.CustomOps/1" FILE "meta.json")
    Q_INTERFACES(stc::plugins::CustomOpsPlugin)
public:
    std::vector<std::shared_ptr<const stc::ir::CustomOpDef>> customOps() override
    {
        return {std::make_shared<stc::customops::SdtMaskAddOp>()};
    }
};

#include "badabi_plugin.moc"

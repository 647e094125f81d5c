// The custom-op plugin of the Spike-Driven Transformer's attention: registers
// custom.sdt_mask_add (sdt_mask_add.h). Thin on purpose: the op is plain C++.
#include "plugin_interfaces.h"
#include "sdt_mask_add.h"

#include <QObject>

class SdtAttentionPlugin : public QObject, public stc::plugins::CustomOpsPlugin {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.stc.CustomOps/1" FILE "meta.json")
    Q_INTERFACES(stc::plugins::CustomOpsPlugin)
public:
    std::vector<std::shared_ptr<const stc::ir::CustomOpDef>> customOps() override
    {
        return {std::make_shared<stc::customops::SdtMaskAddOp>()};
    }
};

#include "sdt_attention_plugin.moc"

// custom.sdt_mask_add: the spike-driven self-attention (SDSA) of the
// Spike-Driven Transformer (Yao et al., NeurIPS 2023; BICLab/Spike-Driven-
// Transformer, module/ms_conv.py, MS_SSA_Conv.forward):
//   kv = k.mul(v); kv = kv.sum(dim=-2, keepdim=True); kv = talking_heads_lif(kv); x = q.mul(kv)
// i.e. out = Q ⊙ SN(Σ_tokens K ⊙ V) with SN a SpikingJelly LIF (tau 2.0,
// v_threshold 0.5, hard reset to 0, decay_input). Mask and add only: the
// products are ANDs of spikes, the sum a count.
// Plain C++ (core only): the Qt plugin wrapper is sdt_attention_plugin.cpp.
#pragma once

#include "ir/custom_op.h"

namespace stc::customops {

class SdtMaskAddOp final : public ir::CustomOpDef {
public:
    static constexpr const char* kName = "custom.sdt_mask_add";
    SdtMaskAddOp();

    ir::InferResult inferType(const std::vector<ir::Type>& operands, const ir::Attributes& attrs) const override;
    std::string checkAttributes(const ir::Attributes& attrs) const override;
    std::unique_ptr<ir::CustomKernel> createKernel(const ir::KernelSetup& setup, std::string* error) const override;
    bool hasLowering() const override { return true; }
    ir::ValueId lower(ir::LoweringBuilder& b, const std::vector<ir::ValueId>& operands, const ir::Attributes& attrs,
                      std::string* error) const override;
};

} // namespace stc::customops

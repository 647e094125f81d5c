// Per-layer constraint check before mapping: which ops of a network a chip
// cannot run, and why. The generic part reads the descriptor's optional
// capability lists (core.layer_ops, core.weight_bit_widths,
// core.input_weight_bit_widths) and core.neuron_models; a backend plugin adds
// target-specific rules (target::Backend::checkLayers). The partition pass runs
// both and reports every issue as a located error before it extracts or maps
// anything (docs/backends.md).
#pragma once

#include "ir/module.h"
#include "target/chip_descriptor.h"

#include <functional>
#include <string>
#include <vector>

namespace stc::target {

struct LayerIssue {
    int32_t op = -1;     // index into Module::ops()
    std::string label;   // "%name = kind"
    std::string origin;  // model-level location of the op
    std::string reason;  // "unsupported on <chip>: ..."
    friend bool operator==(const LayerIssue&, const LayerIssue&) = default;
};

using LayerCheck = std::function<std::vector<LayerIssue>(const ir::Module&, const ChipDescriptor&)>;

// The descriptor-driven check (no target-specific code): one issue per op
// whose kind is not in layer_ops, per lif op whose neuron model the chip
// lacks, and per weight layer whose quantized width (module attribute
// quant.weight_bits) is not among the chip's widths.
std::vector<LayerIssue> checkLayersAgainstDescriptor(const ir::Module& m, const ChipDescriptor& chip);

// Helpers for backend checks.
LayerIssue makeLayerIssue(const ir::Module& m, int32_t opIndex, const ChipDescriptor& chip, const std::string& why);
// The neuron model name of a lif op ("lif", "if", "leaky").
std::string lifModelName(const ir::Op& op);
// Weight ops: conv1d, conv2d, linear, matmul with a constant right operand.
bool isWeightLayer(const ir::Module& m, const ir::Op& op);
// True when `v` is (a view/normalization of) an encoded model input.
bool isFedByModelInput(const ir::Module& m, ir::ValueId v);
// True when `v` is produced by a spiking op (lif, or a view/pool of one).
bool isSpikeValue(const ir::Module& m, ir::ValueId v);

} // namespace stc::target

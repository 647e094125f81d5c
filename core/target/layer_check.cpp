#include "target/layer_check.h"

#include <algorithm>

namespace stc::target {

namespace {

bool isView(ir::OpKind k)
{
    using K = ir::OpKind;
    return k == K::Reshape || k == K::Flatten || k == K::Permute;
}

std::string widthList(const std::vector<int>& w)
{
    std::string s;
    for (int b : w)
        s += (s.empty() ? "" : ", ") + std::to_string(b);
    return s;
}

} // namespace

LayerIssue makeLayerIssue(const ir::Module& m, int32_t opIndex, const ChipDescriptor& chip, const std::string& why)
{
    const ir::Op& op = m.ops()[size_t(opIndex)];
    LayerIssue i;
    i.op = opIndex;
    i.label = std::string(ir::opName(op.kind));
    if (op.result != ir::kNoValue)
        i.label = "%" + m.value(op.result).name + " = " + i.label;
    i.origin = op.origin;
    i.reason = "unsupported on " + chip.id + ": " + why;
    return i;
}

std::string lifModelName(const ir::Op& op) { return op.attrs.getString("neuron", "lif"); }

bool isWeightLayer(const ir::Module& m, const ir::Op& op)
{
    using K = ir::OpKind;
    if (op.kind == K::Conv1d || op.kind == K::Conv2d || op.kind == K::Linear)
        return true;
    return op.kind == K::MatMul && op.operands.size() == 2 && m.definingOp(op.operands[1]).kind == K::Const;
}

bool isFedByModelInput(const ir::Module& m, ir::ValueId v)
{
    using K = ir::OpKind;
    for (int guard = 0; guard < 64 && v != ir::kNoValue; ++guard) {
        const ir::Op& d = m.definingOp(v);
        if (d.kind == K::Encode || d.kind == K::Input)
            return true;
        if (!(isView(d.kind) || d.kind == K::BatchNorm || d.kind == K::Scale) || d.operands.empty())
            return false;
        v = d.operands[0];
    }
    return false;
}

bool isSpikeValue(const ir::Module& m, ir::ValueId v)
{
    using K = ir::OpKind;
    for (int guard = 0; guard < 64 && v != ir::kNoValue; ++guard) {
        const ir::Op& d = m.definingOp(v);
        if (d.kind == K::Lif)
            return true;
        if (!(isView(d.kind) || d.kind == K::MaxPool2d) || d.operands.empty())
            return false;
        v = d.operands[0];
    }
    return false;
}

std::vector<LayerIssue> checkLayersAgainstDescriptor(const ir::Module& m, const ChipDescriptor& chip)
{
    using K = ir::OpKind;
    std::vector<LayerIssue> out;
    const int64_t bits = m.attrs.getBool("quantized") ? m.attrs.getInt("quant.weight_bits", 0) : 0;
    const auto& ops = m.ops();
    for (int32_t i = 0; i < int32_t(ops.size()); ++i) {
        const ir::Op& op = ops[size_t(i)];
        if (op.kind == K::Input || op.kind == K::Const || op.kind == K::Output)
            continue;
        const std::string name(ir::opName(op.kind));
        if (!chip.layerOps.empty() &&
            std::find(chip.layerOps.begin(), chip.layerOps.end(), name) == chip.layerOps.end()) {
            out.push_back(makeLayerIssue(m, i, chip, "op kind '" + name + "' is not among the chip's layer ops (" +
                                                         "descriptor core.layer_ops)"));
            continue;
        }
        if (op.kind == K::Lif && !chip.supportsModel(lifModelName(op)))
            out.push_back(makeLayerIssue(m, i, chip, "neuron model \"" + lifModelName(op) +
                                                         "\" is not among the chip's neuron models (core.neuron_models)"));
        if (bits > 0 && isWeightLayer(m, op)) {
            const bool first = !chip.inputWeightBitWidths.empty() && isFedByModelInput(m, op.operands[0]);
            const std::vector<int>& widths = first ? chip.inputWeightBitWidths : chip.weightBitWidths;
            if (!widths.empty() && std::find(widths.begin(), widths.end(), int(bits)) == widths.end())
                out.push_back(makeLayerIssue(
                    m, i, chip,
                    std::to_string(bits) + "-bit weights (quantize{bits=" + std::to_string(bits) + "}); " +
                        (first ? "input layers take " : "layers take ") + widthList(widths) + "-bit weights (core." +
                        (first ? "input_weight_bit_widths" : "weight_bit_widths") + ")"));
        }
    }
    return out;
}

} // namespace stc::target

#include "passes/quantize_align.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

namespace stc::passes::quantalign {

namespace {

using ir::OpKind;

bool isLayer(OpKind k) { return k == OpKind::Conv1d || k == OpKind::Conv2d || k == OpKind::Linear; }

// Ops whose integer result is the operand's integers rearranged or selected:
// the real scale is the operand's times `factor` (1 except for `scale`).
bool scaleView(const ir::Op& op, double& factor)
{
    switch (op.kind) {
    case OpKind::Reshape:
    case OpKind::Flatten:
    case OpKind::Permute:
    case OpKind::MaxPool2d: factor = 1.0; return true;
    case OpKind::Scale: factor = op.attrs.getFloat("factor"); return factor != 0.0;
    default: return false;
    }
}

// Follows v back through scale views; `factor` becomes scale(v) / scale(root).
ir::ValueId viewRoot(const ir::Module& m, ir::ValueId v, double& factor)
{
    factor = 1.0;
    while (true) {
        const ir::Op& op = m.definingOp(v);
        double f = 1.0;
        if (op.operands.empty() || !scaleView(op, f))
            return v;
        factor *= f;
        v = op.operands[0];
    }
}

// The scale v will have, if it is known now: from the infos of values already
// quantized, or a neuron's spikes (always scale 1, whatever its input).
std::optional<double> knownScale(const ir::Module& m, ir::ValueId v, const std::vector<fixedpoint::ValueQ>& infos)
{
    if (infos[size_t(v)].known)
        return infos[size_t(v)].scale;
    double f = 1.0;
    const ir::ValueId root = viewRoot(m, v, f);
    if (infos[size_t(root)].known)
        return infos[size_t(root)].scale * f;
    if (m.definingOp(root).kind == OpKind::Lif)
        return f;
    return std::nullopt;
}

struct AddUse {
    int32_t addOp;
    int operand;   // which operand of the add our chain is
    double factor; // scale(that operand) / scale(layer result)
};

void collectAdds(const ir::Module& m, const std::vector<std::vector<int32_t>>& users, ir::ValueId v, double factor,
                 std::vector<AddUse>& out)
{
    for (int32_t u : users[size_t(v)]) {
        const ir::Op& op = m.ops()[size_t(u)];
        double f = 1.0;
        if (op.kind == OpKind::Add) {
            for (int k = 0; k < 2; ++k)
                if (op.operands[size_t(k)] == v)
                    out.push_back({u, k, factor});
        } else if (op.operands[0] == v && scaleView(op, f)) {
            collectAdds(m, users, op.result, factor * f, out);
        }
    }
}

std::string sourceOf(const ir::Module& m, ir::ValueId v, const std::vector<fixedpoint::ValueQ>& infos)
{
    double f = 1.0;
    const ir::Op& def = m.definingOp(viewRoot(m, v, f));
    std::ostringstream s;
    s << "%" << m.value(v).name;
    if (infos[size_t(v)].known)
        s << " (scale " << infos[size_t(v)].scale << ")";
    s << " comes from " << (isLayer(def.kind) ? "layer " : "") << fixedpoint::describe(m, int32_t(&def - m.ops().data()));
    return s.str();
}

} // namespace

UnitChoice alignedUnit(const ir::Module& m, int32_t layerOp, double inScale, double ideal,
                       const std::vector<fixedpoint::ValueQ>& infos)
{
    UnitChoice c;
    c.unit = ideal;
    const auto users = m.computeUsers();
    std::vector<AddUse> adds;
    collectAdds(m, users, m.ops()[size_t(layerOp)].result, 1.0, adds);
    for (const AddUse& a : adds) {
        const ir::ValueId other = m.ops()[size_t(a.addOp)].operands[size_t(1 - a.operand)];
        const std::optional<double> s = knownScale(m, other, infos);
        if (!s || !(inScale > 0.0))
            continue; // decided when the other operand's layer is quantized
        // scale of our operand = inScale * unit * factor; it must be s * 2^k.
        const double base = std::fabs(*s / (inScale * a.factor));
        const double l = std::log2(ideal / base);
        if (std::fabs(l - std::round(l)) <= 1e-12)
            return c; // already aligned: keep the unconstrained unit bit for bit
        // The next coarser grid point: no mantissa grows past the clamp.
        const double k = std::ceil(l - 1e-9);
        c.unit = std::ldexp(base, int(k));
        c.bitsLost = std::max(0.0, std::log2(c.unit / ideal)); // a unit a hair below ideal counts as 0
        return c;
    }
    return c;
}

std::string explainMisalignedAdd(const ir::Module& m, int32_t addOp, const std::vector<fixedpoint::ValueQ>& infos)
{
    const ir::Op& op = m.ops()[size_t(addOp)];
    std::ostringstream s;
    s << "; " << sourceOf(m, op.operands[0], infos) << ", " << sourceOf(m, op.operands[1], infos) << ". ";
    double f0 = 1.0, f1 = 1.0;
    const bool layer0 = isLayer(m.definingOp(viewRoot(m, op.operands[0], f0)).kind);
    const bool layer1 = isLayer(m.definingOp(viewRoot(m, op.operands[1], f1)).kind);
    if (!layer0 && !layer1)
        s << "quantize aligns an add by choosing the weight unit of a conv/linear layer that feeds it (through "
             "reshape, flatten, permute, maxpool or scale); neither operand comes from one";
    else
        s << "the layer's weight unit was already fixed by an earlier add it feeds, or the other operand's scale was "
             "not known when the layer was quantized";
    return s.str();
}

} // namespace stc::passes::quantalign

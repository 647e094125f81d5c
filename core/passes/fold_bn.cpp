// fold-bn: inference batch norm folded into the preceding conv1d/conv2d/linear
// (y = x*s + t with s = gamma/sqrt(var+eps), t = beta - mean*s), also through
// permute/reshape/flatten ops that keep the channel axis (Spikformer's
// Linear -> transpose -> BN1d -> transpose and Conv1d -> BN1d forms). A BN
// with no foldable producer becomes mul+add by per-channel constants, so
// afterwards no batchnorm op is left.
#include "passes/builtin_passes.h"
#include "passes/rewrite.h"

#include <cmath>
#include <map>

namespace stc::passes {

namespace {

struct Fold {
    int32_t producer = -1;
    std::vector<double> scale, shift;
};

bool bnAffine(const ir::Module& m, const ir::Op& bn, std::vector<double>& scale, std::vector<double>& shift)
{
    const ir::Tensor* mean = constantOf(m, bn.operands[1]);
    const ir::Tensor* var = constantOf(m, bn.operands[2]);
    const ir::Tensor* gamma = constantOf(m, bn.operands[3]);
    const ir::Tensor* beta = constantOf(m, bn.operands[4]);
    if (!mean || !var || !gamma || !beta)
        return false;
    const double eps = bn.attrs.getFloat("eps");
    const int64_t c = mean->numElements();
    scale.resize(static_cast<size_t>(c));
    shift.resize(static_cast<size_t>(c));
    for (int64_t i = 0; i < c; ++i) {
        // Same rounding steps as ATen's eval batch norm: float sqrt of (var + eps).
        const float denom = std::sqrt(static_cast<float>(var->at(i)) + static_cast<float>(eps));
        const double s = gamma->at(i) / static_cast<double>(denom);
        scale[size_t(i)] = s;
        shift[size_t(i)] = beta->at(i) - mean->at(i) * s;
    }
    return true;
}

// Walks from the BN's input back through single-use view ops to a conv or
// linear whose output channel axis is the BN's channel axis.
int32_t findProducer(const ir::Module& m, const std::vector<std::vector<int32_t>>& users, int32_t bnIndex)
{
    const ir::Op& bn = m.ops()[size_t(bnIndex)];
    ir::ValueId cur = bn.operands[0];
    int64_t axis = bn.attrs.getInt("axis", 0);
    if (axis < 0)
        axis += m.typeOf(cur).rank();
    int32_t consumer = bnIndex;
    while (true) {
        if (singleUser(users, cur) != consumer)
            return -1;
        const int32_t defIndex = m.value(cur).def;
        const ir::Op& def = m.ops()[size_t(defIndex)];
        if (isViewOp(def.kind)) {
            axis = mapAxisThroughView(m, def, axis);
            if (axis < 0)
                return -1;
            consumer = defIndex;
            cur = def.operands[0];
            continue;
        }
        const bool conv = def.kind == ir::OpKind::Conv1d || def.kind == ir::OpKind::Conv2d;
        const bool linear = def.kind == ir::OpKind::Linear;
        if (!conv && !linear)
            return -1;
        if ((conv && axis != 0) || (linear && axis != m.typeOf(cur).rank() - 1))
            return -1;
        for (size_t i = 1; i < def.operands.size(); ++i) {
            const ir::Tensor* t = constantOf(m, def.operands[i]);
            if (!t || t->elem() != ir::ElemType::F32)
                return -1;
        }
        return defIndex;
    }
}

ir::ValueId perChannelConst(Rewriter& rw, const std::vector<double>& v, int64_t axis, int64_t rank,
                            const std::string& name, const std::string& origin)
{
    ir::Shape shape{static_cast<int64_t>(v.size())};
    for (int64_t i = axis + 1; i < rank; ++i)
        shape.push_back(1);
    std::vector<float> f(v.begin(), v.end());
    return rw.constant(ir::Tensor::fromFloats(shape, f), name, origin);
}

void runFoldBn(ir::Module& m, PassRun& run)
{
    const auto users = m.computeUsers();
    std::map<int32_t, Fold> byProducer; // producer op -> fold
    std::map<int32_t, int32_t> bnToProducer;
    int64_t lowered = 0, left = 0;
    for (int32_t i = 0; i < static_cast<int32_t>(m.ops().size()); ++i) {
        const ir::Op& op = m.ops()[size_t(i)];
        if (op.kind != ir::OpKind::BatchNorm)
            continue;
        Fold f;
        if (!bnAffine(m, op, f.scale, f.shift)) {
            run.warning("batch norm statistics are not constants; left as is", "%" + m.value(op.result).name,
                        op.origin);
            ++left;
            continue;
        }
        f.producer = findProducer(m, users, i);
        if (f.producer >= 0) {
            bnToProducer[i] = f.producer;
            byProducer[f.producer] = std::move(f);
        } else {
            bnToProducer[i] = -1;
        }
    }

    Rewriter rw(m);
    for (int32_t i = 0; i < static_cast<int32_t>(m.ops().size()); ++i) {
        const ir::Op& op = m.ops()[size_t(i)];
        if (auto it = byProducer.find(i); it != byProducer.end()) {
            const Fold& f = it->second;
            const ir::Tensor& w = *constantOf(m, op.operands[1]);
            std::vector<float> wf = w.toFloats();
            const int64_t outCh = w.shape()[0];
            const int64_t per = w.numElements() / outCh;
            for (int64_t o = 0; o < outCh; ++o)
                for (int64_t k = 0; k < per; ++k)
                    wf[size_t(o * per + k)] = static_cast<float>(wf[size_t(o * per + k)] * f.scale[size_t(o)]);
            std::vector<float> bf(size_t(outCh), 0.0f);
            const ir::Tensor* b = op.operands.size() > 2 ? constantOf(m, op.operands[2]) : nullptr;
            for (int64_t o = 0; o < outCh; ++o)
                bf[size_t(o)] =
                    static_cast<float>((b ? b->at(o) : 0.0) * f.scale[size_t(o)] + f.shift[size_t(o)]);
            const std::string base = m.value(op.result).name;
            ir::ValueId nw = rw.constant(ir::Tensor::fromFloats(w.shape(), std::move(wf)), base + ".weight",
                                         m.definingOp(op.operands[1]).origin);
            ir::ValueId nb = rw.constant(ir::Tensor::fromFloats({outCh}, std::move(bf)), base + ".bias", op.origin);
            rw.copyWith(i, {rw.mapped(op.operands[0]), nw, nb}, op.attrs);
            continue;
        }
        if (auto it = bnToProducer.find(i); it != bnToProducer.end()) {
            if (it->second >= 0) {
                rw.replace(op.result, rw.mapped(op.operands[0]));
                run.stats().add("bn-folded", 1);
                continue;
            }
            std::vector<double> scale, shift;
            bnAffine(m, op, scale, shift);
            const ir::Type& t = m.typeOf(op.operands[0]);
            int64_t axis = op.attrs.getInt("axis", 0);
            if (axis < 0)
                axis += t.rank();
            const std::string base = m.value(op.result).name;
            ir::ValueId s = perChannelConst(rw, scale, axis, t.rank(), base + ".scale", op.origin);
            ir::ValueId sh = perChannelConst(rw, shift, axis, t.rank(), base + ".shift", op.origin);
            ir::ValueId mul = rw.build(ir::OpKind::Mul, {rw.mapped(op.operands[0]), s}, {}, op.origin, base + ".mul");
            rw.buildAs(op.result, ir::OpKind::Add, {mul, sh}, {}, op.origin);
            ++lowered;
            continue;
        }
        rw.copy(i);
    }
    m = rw.finish();
    removeDeadOps(m, [](const ir::Op& op) { return op.kind == ir::OpKind::Const; });
    if (!run.stats().find("bn-folded"))
        run.stats().set("bn-folded", int64_t{0});
    run.stats().set("bn-lowered-to-affine", lowered);
    if (left)
        run.error(std::to_string(left) + " batch norm op(s) could not be folded or lowered");
}

} // namespace

PassDef makeFoldBnPass()
{
    PassInfo info;
    info.name = "fold-bn";
    info.handlesDelay = true;
    info.description = "fold inference batch norm into the preceding conv/linear (through channel-preserving views)";
    info.kind = PassKind::Transform;
    info.provides = {prop::kBnFolded};
    return {std::move(info), runFoldBn};
}

} // namespace stc::passes

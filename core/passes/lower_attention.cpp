// lower-attention: spike matmuls of self-attention rewritten into what a
// neuromorphic core executes, with explicit synaptic accumulation:
//   matmul(a[..., n, k], b[..., k, m])
//     -> sum( mul(reshape(a)[..., n, k, 1], reshape(b)[..., 1, k, m]), axis -2 )
// The mul of two spikes is an AND (a coincidence / product neuron); of a graded
// count and a spike it gates the count (graded spike); the sum is accumulation
// over synapses of weight 1 into a graded value. A power-of-two `scale` on the
// way from such a matmul to a neuron (Spikformer's * 0.125) is removed and the
// neuron's threshold (and reset value) divided by it instead. Values are small
// integers and the scaling is by a power of two, so the rewrite is exact in
// float: outputs and spikes are bit-identical. Recurrent loops (delay ops) are
// carried: a delay reading a lowered matmul reads its accumulation instead.
#include "passes/builtin_passes.h"
#include "passes/rewrite.h"

#include <map>
#include <set>

namespace stc::passes {

namespace {

using ir::OpKind;

bool isSpikeLike(const ir::Type& t) { return t.perStep() && t.elem != ir::ElemType::F32; }

// Follows single users from a scale through ops that are linear in that
// operand (views, matmul, mul, sum) to a lif; returns its op index or -1.
int32_t scaleTarget(const ir::Module& m, const std::vector<std::vector<int32_t>>& users, int32_t scaleOp)
{
    ir::ValueId v = m.ops()[size_t(scaleOp)].result;
    while (true) {
        const int32_t u = singleUser(users, v);
        if (u < 0)
            return -1;
        const ir::Op& op = m.ops()[size_t(u)];
        if (op.kind == OpKind::Lif)
            return u;
        const bool linear = isViewOp(op.kind) || op.kind == OpKind::Sum || op.kind == OpKind::MatMul ||
                            (op.kind == OpKind::Mul && op.operands[0] != op.operands[1]);
        if (!linear)
            return -1;
        v = op.result;
    }
}

void runLowerAttention(ir::Module& m, PassRun& run)
{
    const auto users = m.computeUsers();
    std::set<int32_t> foldedScales;
    std::map<int32_t, double> lifFactor; // lif op -> product of folded factors
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        const ir::Op& op = m.ops()[size_t(i)];
        if (op.kind != OpKind::Scale)
            continue;
        const double f = op.attrs.getFloat("factor");
        if (!isPowerOfTwo(f) || !isSpikeLike(m.typeOf(op.operands[0])))
            continue;
        const int32_t lif = scaleTarget(m, users, i);
        if (lif < 0)
            continue;
        foldedScales.insert(i);
        lifFactor.try_emplace(lif, 1.0).first->second *= f;
    }

    Rewriter rw(m);
    ir::Module& dst = rw.target();
    int64_t lowered = 0, products = 0;
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        const ir::Op& op = m.ops()[size_t(i)];
        // A delay is copied as is: its operand may be a back edge (defined later), which
        // the Rewriter fills in once that value is copied or rebuilt (a lowered matmul).
        if (op.kind == OpKind::Const || op.kind == OpKind::Input || op.kind == OpKind::Output ||
            op.kind == OpKind::Delay) {
            rw.copy(i);
            continue;
        }
        if (foldedScales.count(i)) {
            rw.replace(op.result, rw.mapped(op.operands[0]));
            continue;
        }
        std::vector<ir::ValueId> ins;
        for (ir::ValueId v : op.operands)
            ins.push_back(rw.mapped(v));
        if (op.kind == OpKind::MatMul && isSpikeLike(dst.typeOf(ins[0])) && isSpikeLike(dst.typeOf(ins[1]))) {
            const std::string base = m.value(op.result).name;
            ir::Shape sa = dst.typeOf(ins[0]).shape, sb = dst.typeOf(ins[1]).shape;
            sa.push_back(1);                          // [..., n, k, 1]
            sb.insert(sb.end() - 2, 1);               // [..., 1, k, m]
            ir::Attributes ra, rb, sum;
            ra.set("shape", ir::IntList(sa));
            rb.set("shape", ir::IntList(sb));
            sum.set("axes", ir::IntList{-2});
            const ir::ValueId a = rw.build(OpKind::Reshape, {ins[0]}, ra, op.origin, base + ".lhs");
            const ir::ValueId b = rw.build(OpKind::Reshape, {ins[1]}, rb, op.origin, base + ".rhs");
            const ir::ValueId prod = rw.build(OpKind::Mul, {a, b}, {}, op.origin, base + ".products");
            rw.buildAs(op.result, OpKind::Sum, {prod}, sum, op.origin);
            products += dst.typeOf(prod).numElements();
            ++lowered;
            continue;
        }
        ir::Attributes attrs = op.attrs;
        if (auto it = lifFactor.find(i); it != lifFactor.end()) {
            attrs.set("v_threshold", attrs.getFloat("v_threshold") / it->second);
            if (attrs.has("v_reset"))
                attrs.set("v_reset", attrs.getFloat("v_reset") / it->second);
        }
        rw.copyWith(i, ins, attrs); // types are inferred again (a folded scale turns f32 into graded)
    }
    m = rw.finish();
    // A delay keeps its declared type; the values this pass retypes (the chain from a folded
    // scale to its neuron) have a single user each, so no delay reads one. Checked anyway.
    for (const ir::Op& op : m.ops())
        if (op.kind == OpKind::Delay && m.typeOf(op.result) != m.typeOf(op.operands[0]))
            run.error("internal: the rewrite changed the type of the value this delay carries to " +
                          ir::toString(m.typeOf(op.operands[0])),
                      "%" + m.value(op.result).name, op.origin);
    run.stats().set("matmuls-lowered", lowered);
    run.stats().set("scales-folded-into-thresholds", int64_t(foldedScales.size()));
    run.stats().set("product-units-per-step", products);
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        const ir::Op& op = m.ops()[size_t(i)];
        if (op.kind == OpKind::MatMul && m.typeOf(op.operands[0]).perStep() && m.typeOf(op.operands[1]).perStep())
            run.warning("matmul of per-step float values left as is (not spikes)", "%" + m.value(op.result).name,
                        op.origin);
    }
}

} // namespace

PassDef makeLowerAttentionPass()
{
    PassInfo info;
    info.name = "lower-attention";
    info.description = "spike matmuls -> product units + synaptic accumulation; attention scale into thresholds";
    info.provides = {prop::kAttentionLowered};
    // Only matmuls of spikes and scales on a single-user path to a neuron are rewritten; a
    // delay is copied and its back edge follows the rewritten value (test_ir_delay).
    info.handlesDelay = true;
    return {std::move(info), runLowerAttention};
}

} // namespace stc::passes

// reassociate-matmul: a chain of two spike matmuls computed in the order that
// needs fewer product units.
//   matmul(scale*(matmul(a[.., n, k], b[.., k, m])), c[.., m, p])
//     -> scale*(matmul(a, matmul(b, c)))     when k m p + n k p < n k m + n m p
// and the mirror image (a (b c) -> (a b) c). On a neuromorphic core every
// term of a spike matmul is a product unit (lower-attention, the chip's
// product populations), so this is the order of Spikformer attention with
// the fewer units: Q (K^T V) has 2 N d^2 of them per head, (Q K^T) V 2 N^2 d,
// 3x fewer for the bundled model's N = 49 tokens and d = 16 features a head.
//
// Exact: a, b and c are spikes (0 or 1), so both orders sum the same small
// integers (exactly representable in f32 while below 2^24, which is checked),
// and the scales in between are powers of two, moved past the outer matmul
// (scaling by 2^e commutes with the integer sums exactly). So outputs and
// spikes are bit-identical, in float and after quantize (tests in
// core_test_pass_lowering).
#include "passes/builtin_passes.h"
#include "passes/rewrite.h"

#include <algorithm>
#include <map>
#include <set>

namespace stc::passes {

namespace {

using ir::OpKind;

bool isBinarySpike(const ir::Module& m, ir::ValueId v)
{
    const ir::Type& t = m.typeOf(v);
    return t.perStep() && t.elem == ir::ElemType::Spike && t.shape.size() >= 2 && !constantOf(m, v);
}

// A chain to reassociate: inner = matmul(a, b), then power-of-two scales
// (single users all along), then outer = matmul(that, c) (innerLeft) or
// matmul(c, that).
struct Chain {
    int32_t inner = -1, outer = -1;
    std::vector<int32_t> scales; // in order from inner to outer
    bool innerLeft = true;
    int64_t unitsBefore = 0, unitsAfter = 0; // product units a step, in the order written and the other
};

// The chain whose outer matmul is op `outer`, if it is one and the other
// order needs fewer product units.
bool findChain(const ir::Module& m, const std::vector<std::vector<int32_t>>& users, int32_t outer, Chain& c)
{
    const ir::Op& out = m.ops()[size_t(outer)];
    if (out.kind != OpKind::MatMul || out.operands.size() != 2)
        return false;
    for (int side = 0; side < 2; ++side) {
        // Walk back from the outer operand through scales to a matmul.
        ir::ValueId v = out.operands[size_t(side)];
        std::vector<int32_t> scales;
        int32_t def = m.value(v).def;
        while (def >= 0 && m.ops()[size_t(def)].kind == OpKind::Scale &&
               isPowerOfTwo(m.ops()[size_t(def)].attrs.getFloat("factor")) && singleUser(users, v) >= 0) {
            scales.insert(scales.begin(), def);
            v = m.ops()[size_t(def)].operands[0];
            def = m.value(v).def;
        }
        if (def < 0 || singleUser(users, v) < 0)
            continue;
        const ir::Op& in = m.ops()[size_t(def)];
        const ir::ValueId other = out.operands[size_t(1 - side)];
        if (in.kind != OpKind::MatMul || in.operands.size() != 2 || !isBinarySpike(m, in.operands[0]) ||
            !isBinarySpike(m, in.operands[1]) || !isBinarySpike(m, other))
            continue;
        // x y z with x [.., n, k], y [.., k, m], z [.., m, p] (the chain's order).
        const ir::Shape& x = m.typeOf(side == 0 ? in.operands[0] : other).shape;
        const ir::Shape& y = m.typeOf(side == 0 ? in.operands[1] : in.operands[0]).shape;
        const ir::Shape& z = m.typeOf(side == 0 ? other : in.operands[1]).shape;
        if (x.size() != y.size() || y.size() != z.size() || !std::equal(x.begin(), x.end() - 2, y.begin()) ||
            !std::equal(y.begin(), y.end() - 2, z.begin()))
            continue; // broadcasting: left as is
        const int64_t n = x[x.size() - 2], k = x.back(), mm = y.back(), p = z.back();
        if (y[y.size() - 2] != k || z[z.size() - 2] != mm || k * mm >= (int64_t(1) << 24))
            continue;
        const int64_t lead = ir::numElements(x) / (n * k); // batch elements (heads)
        const int64_t leftFirst = lead * (n * k * mm + n * mm * p), rightFirst = lead * (k * mm * p + n * k * p);
        c.unitsBefore = side == 0 ? leftFirst : rightFirst;
        c.unitsAfter = side == 0 ? rightFirst : leftFirst;
        if (c.unitsAfter >= c.unitsBefore)
            continue;
        c.inner = def, c.outer = outer, c.scales = std::move(scales), c.innerLeft = side == 0;
        return true;
    }
    return false;
}

void runReassociateMatmul(ir::Module& m, PassRun& run)
{
    const auto users = m.computeUsers();
    // Chains never share an op: an inner matmul's operands and a chain's
    // other operand are spikes, the values a chain dissolves are not.
    std::map<int32_t, Chain> byOuter;
    std::set<int32_t> dissolved; // inner matmuls and scales rebuilt at their outer matmul
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        Chain c;
        if (!findChain(m, users, i, c))
            continue;
        dissolved.insert(c.inner);
        dissolved.insert(c.scales.begin(), c.scales.end());
        byOuter.emplace(i, std::move(c));
    }
    Rewriter rw(m);
    int64_t unitsBefore = 0, unitsAfter = 0;
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        const ir::Op& op = m.ops()[size_t(i)];
        if (dissolved.count(i))
            continue;
        const auto it = byOuter.find(i);
        if (it == byOuter.end()) {
            rw.copy(i);
            continue;
        }
        const Chain& c = it->second;
        const ir::Op& in = m.ops()[size_t(c.inner)];
        const ir::ValueId other = op.operands[c.innerLeft ? 1 : 0];
        const ir::ValueId a = rw.mapped(in.operands[0]), b = rw.mapped(in.operands[1]), o = rw.mapped(other);
        const std::string name = m.value(op.result).name;
        // (a b) o -> a (b o); o (a b) -> (o a) b.
        const ir::ValueId first = c.innerLeft ? rw.build(OpKind::MatMul, {b, o}, {}, op.origin, name + ".inner")
                                              : rw.build(OpKind::MatMul, {o, a}, {}, op.origin, name + ".inner");
        std::vector<ir::ValueId> outer = c.innerLeft ? std::vector<ir::ValueId>{a, first}
                                                     : std::vector<ir::ValueId>{first, b};
        unitsBefore += c.unitsBefore, unitsAfter += c.unitsAfter;
        if (c.scales.empty()) {
            rw.buildAs(op.result, OpKind::MatMul, outer, {}, op.origin);
        } else {
            ir::ValueId v = rw.build(OpKind::MatMul, outer, {}, op.origin, name + ".unscaled");
            for (size_t s = 0; s < c.scales.size(); ++s) {
                const ir::Op& sc = m.ops()[c.scales[s]];
                v = s + 1 < c.scales.size() ? rw.build(OpKind::Scale, {v}, sc.attrs, sc.origin, name + ".scaled")
                                            : rw.buildAs(op.result, OpKind::Scale, {v}, sc.attrs, sc.origin);
            }
        }
    }
    m = rw.finish();
    run.stats().set("matmul-chains-reassociated", int64_t(byOuter.size()));
    run.stats().set("product-units-per-step-before", unitsBefore);
    run.stats().set("product-units-per-step-after", unitsAfter);
}

} // namespace

PassDef makeReassociateMatmulPass()
{
    PassInfo info;
    info.name = "reassociate-matmul";
    info.description = "chains of two spike matmuls (attention) in the order with fewer product units; exact";
    // Rewrites only matmul/scale chains; a delay is copied and its back edge
    // follows the rewritten value (Rewriter::copy).
    info.handlesDelay = true;
    return {std::move(info), runReassociateMatmul};
}

} // namespace stc::passes

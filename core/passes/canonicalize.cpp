// canonicalize: local simplifications applied to a fixed point:
//   reshape/flatten chains -> one reshape; identity reshape/permute dropped;
//   permute(permute(x)) -> one permute; scale(scale(x)) -> one scale (the
//   factors multiplied in double, then rounded: not bit-exact in general);
//   scale by 1 of an f32 value dropped; ops whose operands are all f32
//   constants (add, mul, scale, reshape, flatten, permute) folded.
// Finishes with dead-code removal.
#include "passes/builtin_passes.h"
#include "passes/rewrite.h"

namespace stc::passes {

namespace {

using ir::OpKind;

std::vector<int64_t> stridesOf(const ir::Shape& s)
{
    std::vector<int64_t> st(s.size(), 1);
    for (size_t i = s.size(); i-- > 1;)
        st[i - 1] = st[i] * s[i];
    return st;
}

// Index into a tensor of shape `in` broadcast to `out` (numpy rules).
std::vector<int64_t> broadcastIndex(const ir::Shape& in, const ir::Shape& out)
{
    const auto inStr = stridesOf(in);
    std::vector<int64_t> idx(static_cast<size_t>(ir::numElements(out)));
    const size_t off = out.size() - in.size();
    std::vector<int64_t> pos(out.size(), 0);
    for (size_t flat = 0; flat < idx.size(); ++flat) {
        int64_t src = 0;
        for (size_t d = off; d < out.size(); ++d)
            if (in[d - off] != 1)
                src += pos[d] * inStr[d - off];
        idx[flat] = src;
        for (size_t d = out.size(); d-- > 0;) {
            if (++pos[d] < out[d])
                break;
            pos[d] = 0;
        }
    }
    return idx;
}

std::optional<ir::Tensor> foldConstant(const ir::Op& op, const std::vector<const ir::Tensor*>& in, const ir::Type& rt)
{
    for (const auto* t : in)
        if (!t || t->elem() != ir::ElemType::F32)
            return std::nullopt;
    if (rt.elem != ir::ElemType::F32 || rt.perStep())
        return std::nullopt;
    const auto a = in[0]->as<float>();
    std::vector<float> out(static_cast<size_t>(rt.numElements()));
    switch (op.kind) {
    case OpKind::Reshape:
    case OpKind::Flatten: out.assign(a.begin(), a.end()); break;
    case OpKind::Scale: {
        const auto f = static_cast<float>(op.attrs.getFloat("factor"));
        for (size_t i = 0; i < out.size(); ++i)
            out[i] = a[i] * f;
        break;
    }
    case OpKind::Permute: {
        const auto perm = op.attrs.getInts("perm");
        const auto inStr = stridesOf(in[0]->shape());
        std::vector<int64_t> pos(rt.shape.size(), 0);
        for (size_t flat = 0; flat < out.size(); ++flat) {
            int64_t src = 0;
            for (size_t d = 0; d < pos.size(); ++d) {
                int64_t p = perm[d] < 0 ? perm[d] + int64_t(pos.size()) : perm[d];
                src += pos[d] * inStr[size_t(p)];
            }
            out[flat] = a[size_t(src)];
            for (size_t d = pos.size(); d-- > 0;) {
                if (++pos[d] < rt.shape[d])
                    break;
                pos[d] = 0;
            }
        }
        break;
    }
    case OpKind::Add:
    case OpKind::Mul: {
        const auto b = in[1]->as<float>();
        const auto ia = broadcastIndex(in[0]->shape(), rt.shape);
        const auto ib = broadcastIndex(in[1]->shape(), rt.shape);
        for (size_t i = 0; i < out.size(); ++i)
            out[i] = op.kind == OpKind::Add ? a[size_t(ia[i])] + b[size_t(ib[i])] : a[size_t(ia[i])] * b[size_t(ib[i])];
        break;
    }
    default: return std::nullopt;
    }
    return ir::Tensor::fromFloats(rt.shape, std::move(out));
}

bool isIdentityPerm(const ir::IntList& p)
{
    for (size_t i = 0; i < p.size(); ++i)
        if (p[i] != static_cast<int64_t>(i))
            return false;
    return true;
}

// One sweep; returns the number of rewrites.
int64_t sweep(ir::Module& m, Statistics& stats)
{
    int64_t rewrites = 0;
    Rewriter rw(m);
    ir::Module& dst = rw.target();
    for (int32_t i = 0; i < static_cast<int32_t>(m.ops().size()); ++i) {
        const ir::Op& op = m.ops()[size_t(i)];
        // A delay is copied as it is (its operand may be a back edge, mapped later).
        if (op.kind == OpKind::Const || op.kind == OpKind::Input || op.kind == OpKind::Output ||
            op.kind == OpKind::Delay) {
            rw.copy(i);
            continue;
        }
        std::vector<ir::ValueId> ins;
        std::vector<const ir::Tensor*> consts;
        bool allConst = true;
        for (ir::ValueId v : op.operands) {
            ins.push_back(rw.mapped(v));
            consts.push_back(constantOf(dst, ins.back()));
            allConst = allConst && consts.back();
        }
        const ir::Type& rt = m.typeOf(op.result);
        if (allConst) {
            if (auto t = foldConstant(op, consts, rt)) {
                rw.replace(op.result, dst.addConst(std::move(*t), m.value(op.result).name, op.origin));
                stats.add("constants-folded", 1);
                ++rewrites;
                continue;
            }
        }
        const ir::ValueId x = ins.empty() ? ir::kNoValue : ins[0];
        const ir::Op* def = x == ir::kNoValue ? nullptr : &dst.definingOp(x);
        if (op.kind == OpKind::Reshape || op.kind == OpKind::Flatten) {
            if (dst.typeOf(x).shape == rt.shape) {
                rw.replace(op.result, x);
                stats.add("views-removed", 1);
                ++rewrites;
                continue;
            }
            if (def->kind == OpKind::Reshape || def->kind == OpKind::Flatten) {
                const ir::ValueId src = def->operands[0];
                if (dst.typeOf(src).shape == rt.shape)
                    rw.replace(op.result, src);
                else {
                    ir::Attributes a;
                    a.set("shape", ir::IntList(rt.shape));
                    rw.buildAs(op.result, OpKind::Reshape, {src}, a, op.origin);
                }
                stats.add("views-merged", 1);
                ++rewrites;
                continue;
            }
        }
        if (op.kind == OpKind::Permute) {
            const ir::IntList p2 = op.attrs.getInts("perm");
            if (isIdentityPerm(p2)) {
                rw.replace(op.result, x);
                stats.add("views-removed", 1);
                ++rewrites;
                continue;
            }
            if (def->kind == OpKind::Permute) {
                const ir::IntList p1 = def->attrs.getInts("perm");
                ir::IntList p(p2.size());
                for (size_t j = 0; j < p2.size(); ++j) {
                    const int64_t k = p2[j] < 0 ? p2[j] + int64_t(p2.size()) : p2[j];
                    p[j] = p1[size_t(k)] < 0 ? p1[size_t(k)] + int64_t(p1.size()) : p1[size_t(k)];
                }
                if (isIdentityPerm(p))
                    rw.replace(op.result, def->operands[0]);
                else {
                    ir::Attributes a;
                    a.set("perm", p);
                    rw.buildAs(op.result, OpKind::Permute, {def->operands[0]}, a, op.origin);
                }
                stats.add("permutes-merged", 1);
                ++rewrites;
                continue;
            }
        }
        if (op.kind == OpKind::Scale) {
            const double f = op.attrs.getFloat("factor");
            if (f == 1.0 && dst.typeOf(x).elem == ir::ElemType::F32) {
                rw.replace(op.result, x);
                stats.add("scales-removed", 1);
                ++rewrites;
                continue;
            }
            if (def->kind == OpKind::Scale) {
                ir::Attributes a;
                a.set("factor", static_cast<double>(static_cast<float>(f * def->attrs.getFloat("factor"))));
                rw.buildAs(op.result, OpKind::Scale, {def->operands[0]}, a, op.origin);
                stats.add("scales-merged", 1);
                ++rewrites;
                continue;
            }
        }
        rw.copy(i);
    }
    m = rw.finish();
    return rewrites;
}

void runCanonicalize(ir::Module& m, PassRun& run)
{
    const int maxSweeps = static_cast<int>(run.options().getInt("max-iterations"));
    int sweeps = 0;
    int64_t total = 0;
    for (; sweeps < maxSweeps; ++sweeps) {
        run.checkCancelled();
        const int64_t n = sweep(m, run.stats());
        total += n;
        if (n == 0)
            break;
    }
    run.stats().set("rewrites", total);
    run.stats().set("dead-ops-removed", removeDeadOps(m));
    if (sweeps == maxSweeps)
        run.warning("no fixed point after " + std::to_string(maxSweeps) + " sweeps");
}

} // namespace

PassDef makeCanonicalizePass()
{
    PassInfo info;
    info.name = "canonicalize";
    info.handlesDelay = true;
    info.description = "merge view chains, drop identity ops, merge scales, fold constants, remove dead ops";
    info.options = {OptionSpec::integer("max-iterations", 10, 1, 1000, "upper bound on rewrite sweeps")};
    return {std::move(info), runCanonicalize};
}

} // namespace stc::passes

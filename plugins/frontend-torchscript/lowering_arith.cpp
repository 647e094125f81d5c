// Elementwise arithmetic and reductions.
#include "lowering_internal.h"

#include <algorithm>
#include <cmath>

namespace stc::torchscript {

namespace {

using K = AbsValue::Kind;
using ir::OpKind;

ir::ValueId scale(Lowerer& L, ir::ValueId v, double f)
{
    if (f == 1.0)
        return v;
    ir::Attributes a;
    a.set("factor", f);
    return L.emit(OpKind::Scale, {v}, a, "scale");
}

bool exactReciprocal(double c)
{
    int e = 0;
    return std::frexp(c, &e) == 0.5 || std::frexp(c, &e) == -0.5; // a power of two
}

// a (op) b where both are computed values.
void binaryDynamic(Lowerer& L, const std::string& op, double alpha)
{
    AbsValue a = L.arg(0), b = L.arg(1);
    // acc = acc + y_t over the time steps of y: a sum over time.
    if (op == "add" && alpha == 1.0 && L.T > 0) {
        auto extend = [&](const AbsValue& sum, const AbsValue& step) -> std::optional<AbsValue> {
            if (step.kind != K::Step || step.ir != sum.ir || step.layout != sum.layout)
                return std::nullopt;
            AbsValue out = sum;
            if (sum.kind == K::Step) {
                if (sum.step == step.step)
                    return std::nullopt;
                out.kind = K::TimeSum;
                out.summed.assign(size_t(L.T), false);
                out.summed[size_t(sum.step)] = true;
            } else if (sum.kind != K::TimeSum || sum.summed[size_t(step.step)]) {
                return std::nullopt;
            }
            out.step = -1;
            out.summed[size_t(step.step)] = true;
            return out;
        };
        auto r = extend(a, b);
        if (!r)
            r = extend(b, a);
        if (r) {
            L.setOut(0, *r);
            return;
        }
    }
    a = L.materialize(a);
    b = L.materialize(b);
    const AbsValue like = L.join({a, b});
    if (!like.ok())
        return;
    if (op == "div") {
        L.unsupported("division by a computed tensor has no Spike IR op");
        return;
    }
    BroadcastPlan plan = planBroadcast({&a.layout, &b.layout}, {L.argShape(0), L.argShape(1)});
    if (!plan.error.empty()) {
        L.unsupported(plan.error + " (" + toString(a.layout) + " and " + toString(b.layout) + ")");
        return;
    }
    ir::ValueId ia = L.reshapeTo(a.ir, plan.operandShapes[0]);
    ir::ValueId ib = L.reshapeTo(b.ir, plan.operandShapes[1]);
    ir::ValueId v;
    if (op == "mul") {
        v = L.emit(OpKind::Mul, {ia, ib}, {}, "mul");
    } else {
        if (op == "rsub")
            std::swap(ia, ib);
        const double f = op == "add" ? alpha : -alpha;
        v = L.emit(OpKind::Add, {ia, scale(L, ib, f)}, {}, op == "add" ? "add" : "sub");
    }
    L.setOut(0, L.make(like, v, plan.out));
}

} // namespace

void lowerElementwise(Lowerer& L)
{
    std::string op = L.node->kind.substr(6); // strip "aten::"
    if (!op.empty() && op.back() == '_')
        op.pop_back();
    if (op == "true_divide")
        op = "div";
    if (op == "neg") {
        const AbsValue x = L.operand(0);
        if (x.ok())
            L.setOut(0, L.make(x, scale(L, x.ir, -1.0), x.layout));
        return;
    }
    if (op == "div" && L.node->inputs.size() > 2 && L.node->inputs[2].kind == RecArg::Kind::String) {
        L.unsupported("division with rounding has no Spike IR op");
        return;
    }
    const double alpha = (op == "add" || op == "sub" || op == "rsub") && L.node->inputs.size() > 2
                             ? L.argScalar(2).value_or(1.0)
                             : 1.0;
    const bool d0 = L.argIsDyn(0), d1 = L.argIsDyn(1);
    if (d0 && d1) {
        binaryDynamic(L, op, alpha);
        return;
    }
    const size_t di = d0 ? 0 : 1, si = d0 ? 1 : 0;
    AbsValue x = L.arg(di);
    // `sum / T` of a sum over all time steps is the mean over time.
    if (op == "div" && d0 && x.kind == K::TimeSum && L.argScalar(1) && *L.argScalar(1) == double(L.T) &&
        int64_t(std::count(x.summed.begin(), x.summed.end(), true)) == L.T) {
        ir::Attributes mean;
        mean.set("over_time", true);
        AbsValue out;
        out.kind = K::Inv;
        out.ir = L.emit(OpKind::Mean, {x.ir}, mean, "time_mean");
        out.layout = x.layout;
        L.setOut(0, out);
        return;
    }
    x = L.materialize(x);
    if (!x.ok())
        return;
    const bool dynFirst = d0;
    // "rsub(x, c)" is c - alpha*x; "sub(c, x)" too.
    const bool negateDyn = (op == "rsub" && dynFirst) || (op == "sub" && !dynFirst);
    const bool reverse = op == "div" && !dynFirst;
    if (reverse) {
        L.unsupported("dividing by a computed tensor has no Spike IR op");
        return;
    }
    auto c = L.argScalar(si);
    const StaticTensorPtr t = L.argTensor(si);
    if (c && (!t || t->numel() == 1) && (!t || L.outShape() == L.argShape(di))) {
        double k = *c;
        if (op == "mul") {
            L.setOut(0, L.make(x, scale(L, x.ir, k), x.layout));
            return;
        }
        if (op == "div") {
            if (!exactReciprocal(k))
                L.note(Severity::Warning, "division by " + std::to_string(k) +
                                              " is imported as multiplication by its reciprocal (may differ in the "
                                              "last bit)");
            L.setOut(0, L.make(x, scale(L, x.ir, 1.0 / k), x.layout));
            return;
        }
        // add / sub / rsub: result = sx * x + cst
        const double sx = negateDyn ? -alpha : (op == "add" && !dynFirst ? alpha : 1.0);
        double cst = k;
        if (op == "add" && dynFirst)
            cst = alpha * k;
        else if (op == "sub" && dynFirst)
            cst = -alpha * k;
        ir::ValueId v = scale(L, x.ir, sx);
        if (cst != 0.0)
            v = L.emit(OpKind::Add, {v, L.constant(ir::Tensor::fromFloats({}, {float(cst)}), "const")}, {}, op);
        L.setOut(0, L.make(x, v, x.layout));
        return;
    }
    if (!t) {
        L.unsupported("elementwise op with an operand of unsupported type");
        return;
    }
    // A constant tensor operand, aligned to the result's feature axes.
    const std::vector<int64_t>& s0 = d0 ? L.argShape(0) : t->shape;
    const std::vector<int64_t>& s1 = d1 ? L.argShape(1) : t->shape;
    BroadcastPlan plan = planBroadcast({d0 ? &x.layout : nullptr, d1 ? &x.layout : nullptr}, {s0, s1});
    if (!plan.error.empty()) {
        L.unsupported(plan.error);
        return;
    }
    auto cv = L.alignedConstant(*t, plan.out, plan.outShape);
    if (!cv) {
        L.unsupported("a constant operand varies along the batch or time axis");
        return;
    }
    ir::ValueId xv = L.reshapeTo(x.ir, plan.operandShapes[di]);
    ir::ValueId v;
    if (op == "mul") {
        v = L.emit(OpKind::Mul, {xv, *cv}, {}, "mul");
    } else if (op == "div") {
        L.unsupported("division by a constant tensor has no Spike IR op");
        return;
    } else {
        const double sx = negateDyn ? -alpha : (op == "add" && !dynFirst ? alpha : 1.0);
        const double sc = (op == "add" && dynFirst) ? alpha : (op == "sub" && dynFirst) ? -alpha : 1.0;
        v = L.emit(OpKind::Add, {scale(L, xv, sx), scale(L, *cv, sc)}, {}, op);
    }
    L.setOut(0, L.make(x, v, plan.out));
}

void lowerReduction(Lowerer& L)
{
    const bool isSum = L.node->kind == "aten::sum";
    const AbsValue x = L.operand(0);
    if (!x.ok())
        return;
    const size_t rank = x.layout.size();
    std::vector<int64_t> dims;
    auto given = L.argInts(1);
    if (given && !given->empty()) {
        for (int64_t d : *given)
            dims.push_back(d < 0 ? d + int64_t(rank) : d);
    } else {
        for (size_t i = 0; i < rank; ++i)
            dims.push_back(int64_t(i));
    }
    bool keep = false;
    if (given && L.node->inputs.size() > 2 && L.node->inputs[2].kind == RecArg::Kind::Bool)
        keep = L.node->inputs[2].b;
    bool overTime = false;
    ir::IntList axes;
    Layout out;
    for (size_t i = 0; i < rank; ++i) {
        const bool reduced = std::find(dims.begin(), dims.end(), int64_t(i)) != dims.end();
        const Axis a = x.layout[i];
        if (!reduced) {
            out.push_back(a);
            continue;
        }
        switch (a.role) {
        case Role::Time: overTime = true; break;
        case Role::TimeBatch:
            L.unsupported("reduces over the merged time*batch axis");
            return;
        case Role::Batch:
            if (L.B != 1) {
                L.unsupported("reduces over the batch axis; Spike IR values are per sample");
                return;
            }
            break;
        case Role::Unit: break;
        case Role::Feature: axes.push_back(a.feature); break;
        }
        if (keep)
            out.push_back(a.role == Role::Feature ? a : Axis{Role::Unit, -1});
    }
    ir::ValueId v = x.ir;
    AbsValue like = x;
    if (!axes.empty()) {
        ir::Attributes a;
        a.set("axes", axes);
        if (keep)
            a.set("keepdim", true);
        v = L.emit(isSum ? OpKind::Sum : OpKind::Mean, {v}, a, isSum ? "sum" : "mean");
    }
    if (overTime) {
        if (x.kind != K::Seq) {
            L.unsupported("reduces over a time axis of a value that is not a time sequence");
            return;
        }
        ir::Attributes a;
        a.set("over_time", true);
        v = L.emit(OpKind::Mean, {v}, a, "time_mean");
        if (isSum) {
            L.note(Severity::Note, "a sum over time steps is imported as mean over time times T");
            v = scale(L, v, double(L.T));
        }
        like.kind = K::Inv;
        like.step = -1;
    }
    renumberFeatures(out);
    L.setOut(0, L.make(like, v, out));
}

} // namespace stc::torchscript

// Weight ops (conv, linear, matmul with a constant, pooling, reductions),
// max pooling as OR relays, tensor-tensor products and model readouts.
#include "target/extractor.h"

#include <algorithm>
#include <cmath>
#include <future>

namespace stc::target::detail {

namespace {

StencilAxis identityAxis(int64_t n) { return StencilAxis{n, n, 1, 1, 0, 1}; }

} // namespace

std::string Extractor::integerWeights(const ir::Op& op, const ir::Tensor& w, std::vector<float>& weights,
                                      std::vector<double>& bias) const
{
    // Exact: mantissas of at most 16 bits times a power of two are floats.
    const ir::IntList shift = op.attrs.getInts("q.shift");
    const int64_t O = w.shape()[0], per = w.numElements() / O;
    weights.resize(size_t(w.numElements()));
    for (int64_t o = 0; o < O; ++o)
        for (int64_t k = 0; k < per; ++k)
            weights[size_t(o * per + k)] = float(std::ldexp(w.at(o * per + k), int(shift[size_t(o)])));
    bias.clear();
    if (op.operands.size() > 2) {
        const ir::Tensor* b = constant(op.operands[2]);
        if (!b)
            return "bias must be constant";
        for (int64_t o = 0; o < b->numElements(); ++o)
            bias.push_back(b->at(o));
    }
    return {};
}

Expr Extractor::weightOp(const ir::Op& op)
{
    const ir::Type& rt = m_.typeOf(op.result);
    OpGeom g;
    g.op = opIndexOf(op);
    g.name = opLabel(op);
    g.origin = op.origin;
    std::vector<double> opBias;
    ir::ValueId xv = op.operands[0];
    switch (op.kind) {
    case ir::OpKind::Conv1d:
    case ir::OpKind::Conv2d: {
        const int spatial = op.kind == ir::OpKind::Conv2d ? 2 : 1;
        const ir::Tensor* w = constant(op.operands[1]);
        if (!w)
            return fail(op, "convolution weights must be constant");
        const ir::Shape& xs = m_.typeOf(xv).shape;
        const ir::IntList ones(size_t(spatial), 1), zeros(size_t(spatial), 0);
        const ir::IntList stride = op.attrs.getInts("stride", ones), pad = op.attrs.getInts("padding", zeros),
                          dil = op.attrs.getInts("dilation", ones);
        g.coupling = Coupling::Full;
        g.featureAxis = 0;
        g.groups = op.attrs.getInt("groups", 1);
        g.inShape = xs;
        g.outShape = rt.shape;
        for (int d = 0; d < spatial; ++d)
            g.axes.push_back({xs[size_t(1 + d)], rt.shape[size_t(1 + d)], w->shape()[size_t(2 + d)], stride[size_t(d)],
                              pad[size_t(d)], dil[size_t(d)]});
        if (integer_) {
            if (auto e = integerWeights(op, *w, g.weights, opBias); !e.empty())
                return fail(op, e);
            break;
        }
        g.weights = w->toFloats();
        if (op.operands.size() > 2) {
            const ir::Tensor* b = constant(op.operands[2]);
            if (!b)
                return fail(op, "convolution bias must be constant");
            const std::vector<float> bf = b->toFloats();
            opBias.assign(bf.begin(), bf.end());
        }
        break;
    }
    case ir::OpKind::Linear: {
        const ir::Tensor* w = constant(op.operands[1]);
        if (!w)
            return fail(op, "linear weights must be constant");
        const ir::Shape& xs = m_.typeOf(xv).shape;
        g.coupling = Coupling::Full;
        g.featureAxis = int(xs.size()) - 1;
        g.inShape = xs;
        g.outShape = rt.shape;
        for (size_t a = 0; a + 1 < xs.size(); ++a)
            g.axes.push_back(identityAxis(xs[a]));
        if (integer_) {
            if (auto e = integerWeights(op, *w, g.weights, opBias); !e.empty())
                return fail(op, e);
            break;
        }
        g.weights = w->toFloats();
        if (op.operands.size() > 2) {
            const ir::Tensor* b = constant(op.operands[2]);
            if (!b)
                return fail(op, "linear bias must be constant");
            const std::vector<float> bf = b->toFloats();
            opBias.assign(bf.begin(), bf.end());
        }
        break;
    }
    case ir::OpKind::MatMul: {
        const ir::Tensor *ca = constant(op.operands[0]), *cb = constant(op.operands[1]);
        if (!ca && !cb)
            return product(op, exprOf(op.operands[0]), exprOf(op.operands[1]), true);
        if (ca && cb)
            return fail(op, "matmul of two constants (run canonicalize to fold it)");
        const ir::Tensor* w = ca ? ca : cb;
        if (w->shape().size() != 2)
            return fail(op, "matmul with a batched constant operand is not supported; expected a 2-D weight matrix");
        xv = ca ? op.operands[1] : op.operands[0];
        const ir::Shape& xs = m_.typeOf(xv).shape;
        const int rank = int(xs.size());
        g.coupling = Coupling::Full;
        g.featureAxis = cb ? rank - 1 : rank - 2;
        g.inShape = xs;
        g.outShape = rt.shape;
        for (int a = 0; a < rank; ++a)
            if (a != g.featureAxis)
                g.axes.push_back(identityAxis(xs[size_t(a)]));
        const std::vector<float> wf = w->toFloats();
        const int64_t r = w->shape()[0], c = w->shape()[1];
        if (cb) { // x[..., k] @ W[k, m]: weights[m][k] = W[k][m]
            g.weights.resize(wf.size());
            for (int64_t k = 0; k < r; ++k)
                for (int64_t mm = 0; mm < c; ++mm)
                    g.weights[size_t(mm * r + k)] = wf[size_t(k * c + mm)];
        } else { // A[n, k] @ x[..., k, m]: weights[n][k] = A[n][k]
            g.weights = wf;
        }
        break;
    }
    case ir::OpKind::AvgPool2d: {
        const ir::Shape& xs = m_.typeOf(xv).shape;
        ir::IntList k = op.attrs.getInts("kernel");
        if (k.size() == 1)
            k.push_back(k[0]);
        ir::IntList s = op.attrs.getInts("stride", k), p = op.attrs.getInts("padding", {0, 0});
        if (s.size() == 1)
            s.push_back(s[0]);
        if (p.size() == 1)
            p.push_back(p[0]);
        const bool includePad = op.attrs.getBool("count_include_pad", true);
        if (op.attrs.getBool("ceil_mode") || (!includePad && (p[0] > 0 || p[1] > 0)))
            return fail(op, "average pooling with a position-dependent divisor (ceil_mode or count_include_pad=false "
                            "with padding) is not supported");
        const int64_t div = op.attrs.getInt("divisor_override", 0) > 0 ? op.attrs.getInt("divisor_override")
                                                                       : k[0] * k[1];
        g.coupling = Coupling::Diag;
        g.featureAxis = 0;
        g.inShape = xs;
        g.outShape = rt.shape;
        for (int d = 0; d < 2; ++d)
            g.axes.push_back({xs[size_t(1 + d)], rt.shape[size_t(1 + d)], k[size_t(d)], s[size_t(d)], p[size_t(d)], 1});
        g.weights.assign(size_t(xs[0] * k[0] * k[1]), integer_ ? 1.0f : float(1.0 / double(div))); // integers: a sum
        break;
    }
    case ir::OpKind::Sum:
    case ir::OpKind::Mean: {
        Expr x = exprOf(xv);
        const bool overTime = op.kind == ir::OpKind::Mean && op.attrs.getBool("over_time");
        const ir::Shape& xs = m_.typeOf(xv).shape;
        std::vector<bool> reduce(xs.size(), false);
        int64_t count = 1;
        for (int64_t a : op.attrs.getInts("axes")) {
            if (a < 0)
                a += int64_t(xs.size());
            reduce[size_t(a)] = true;
            count *= xs[size_t(a)];
        }
        if (std::none_of(reduce.begin(), reduce.end(), [](bool b) { return b; })) {
            x.shape = rt.shape;
            x.timeAverage = x.timeAverage || overTime;
            return x;
        }
        const float w = op.kind == ir::OpKind::Mean && !integer_ ? float(1.0 / double(count)) : 1.0f;
        g.inShape = xs;
        g.outShape = xs;
        for (size_t a = 0; a < xs.size(); ++a)
            if (reduce[a])
                g.outShape[a] = 1;
        auto firstKept = std::find(reduce.begin(), reduce.end(), false);
        if (firstKept != reduce.end()) {
            g.coupling = Coupling::Diag;
            g.featureAxis = int(firstKept - reduce.begin());
        } else { // everything reduced: one output feature reading all inputs
            g.coupling = Coupling::Full;
            g.featureAxis = 0;
        }
        for (size_t a = 0; a < xs.size(); ++a)
            if (int(a) != g.featureAxis)
                g.axes.push_back(reduce[a] ? StencilAxis{xs[a], 1, xs[a], 1, 0, 1} : identityAxis(xs[a]));
        g.weights.assign(size_t(g.outFeatures() * (g.coupling == Coupling::Full ? g.inFeatures() : 1) * g.taps()), w);
        Expr out = applyWeights(op, xv, std::move(x), std::move(g), {});
        out.timeAverage = out.timeAverage || overTime;
        return out;
    }
    default: return fail(op, "not a weight op");
    }
    return applyWeights(op, xv, exprOf(xv), std::move(g), opBias);
}

Expr Extractor::maxPool(const ir::Op& op)
{
    Expr x = exprOf(op.operands[0]);
    const ir::Type& rt = m_.typeOf(op.result);
    if (std::any_of(x.terms.begin(), x.terms.end(), [](const Term& t) { return t.delay > 0; }))
        return fail(op, "not yet: max pooling of a delayed value (a delay op before it) is not mapped");
    const bool single = x.terms.size() == 1 && !x.terms[0].geom && x.terms[0].uniform() && x.bias.empty();
    if (!single || net_.populations[size_t(x.terms[0].pop)].spikeBits != 1 || !(x.terms[0].scalar > 0))
        return fail(op, "max pooling is mapped as an OR of binary spikes; its input here is not a binary spike "
                        "tensor (graded or real values have no neuromorphic max)");
    const double s = x.terms[0].scalar;
    x.terms[0].scalar = 1.0;
    const ir::Shape& xs = x.shape;
    ir::IntList k = op.attrs.getInts("kernel");
    if (k.size() == 1)
        k.push_back(k[0]);
    ir::IntList st = op.attrs.getInts("stride", k), p = op.attrs.getInts("padding", {0, 0}),
                d = op.attrs.getInts("dilation", {1, 1});
    if (st.size() == 1)
        st.push_back(st[0]);
    if (p.size() == 1)
        p.push_back(p[0]);
    if (d.size() == 1)
        d.push_back(d[0]);
    OpGeom g;
    g.op = opIndexOf(op);
    g.name = opLabel(op);
    g.origin = op.origin;
    g.coupling = Coupling::Diag;
    g.featureAxis = 0;
    g.inShape = xs;
    g.outShape = rt.shape;
    for (int a = 0; a < 2; ++a)
        g.axes.push_back({xs[size_t(1 + a)], rt.shape[size_t(1 + a)], k[size_t(a)], st[size_t(a)], p[size_t(a)],
                          d[size_t(a)]});
    g.weights.assign(size_t(xs[0] * k[0] * k[1]), 1.0f);
    Expr pooled = applyWeights(op, op.operands[0], std::move(x), std::move(g), {});
    Expr r = relay(op, pooled, m_.value(op.result).name, 1, 0);
    for (auto& t : r.terms)
        t.scalar *= s;
    return r;
}

int32_t Extractor::operandPopulation(const ir::Op& op, ir::ValueId v, Expr e, std::vector<int32_t>& index,
                                     double& scalar)
{
    scalar = 1.0;
    if (e.terms.size() == 1 && e.terms[0].uniform() && e.bias.empty() && !e.timeAverage && e.terms[0].delay == 0) {
        scalar = e.terms[0].scalar;
        if (!e.terms[0].geom) {
            index = e.terms[0].index;
            return e.terms[0].pop;
        }
        e.terms[0].scalar = 1.0; // keep the relay integer-valued; the factor moves past the product
    }
    const ir::Shape shape = e.shape;
    Expr r = relay(m_.definingOp(v), e, m_.value(v).name, std::max(2, gradedBits()));
    if (r.terms.empty())
        return -1;
    Expr memo = r;
    memo.terms[0].scalar = scalar;
    exprs_[v] = std::move(memo); // other users of v read the same relay
    index = r.terms[0].index;
    return r.terms[0].pop;
}

Expr Extractor::product(const ir::Op& op, const Expr& a, const Expr& b, bool matmul)
{
    const ir::Type& rt = m_.typeOf(op.result);
    std::vector<int32_t> ia, ib;
    double sa = 1, sb = 1;
    const int32_t pa = operandPopulation(op, op.operands[0], a, ia, sa);
    const int32_t pb = operandPopulation(op, op.operands[1], b, ib, sb);
    if (pa < 0 || pb < 0)
        return fail(op, "product operand could not be materialized");
    const ir::Shape &as = a.shape, &bs = b.shape;
    ir::Shape pshape;
    ir::Shape lead;
    int64_t rows = 0, inner = 0, cols = 0; // matmul [.., rows, inner] x [.., inner, cols]
    if (matmul) {
        rows = as[as.size() - 2], inner = as.back(), cols = bs.back();
        lead.assign(rt.shape.begin(), rt.shape.end() - 2);
        pshape = lead;
        pshape.insert(pshape.end(), {rows, cols, inner});
    } else {
        pshape = rt.shape;
    }
    const int bitsA = net_.populations[size_t(pa)].spikeBits, bitsB = net_.populations[size_t(pb)].spikeBits;
    Population p = proto(PopulationKind::Product, m_.value(op.result).name + (matmul ? ".products" : ""), op,
                         opIndexOf(op));
    p.shape = pshape.empty() ? ir::Shape{1} : pshape;
    p.featureAxis = matmul ? int(pshape.size()) - 2 : std::max(0, int(pshape.size()) - 1);
    if (bitsA == 1 && bitsB == 1) {
        p.neuron.model = "and";
        p.spikeBits = 1;
    } else if (bitsA == 1 || bitsB == 1) {
        p.neuron.model = "gate";
        p.spikeBits = std::max(bitsA, bitsB);
    } else {
        p.neuron.model = "mul";
        p.spikeBits = std::max(2, gradedBits());
    }
    const int32_t prod = builder_.addPopulation(std::move(p));
    // One gather per operand: product element -> operand element -> operand
    // population neuron. The two are independent (millions of entries each
    // for attention products) and built on two threads when allowed; they are
    // added in the same order either way.
    auto operandGather = [&](bool left) {
        const ir::Shape& os = left ? as : bs;
        const std::vector<int32_t>& io = left ? ia : ib;
        std::vector<int32_t> of; // product element -> operand element -> operand population neuron
        if (matmul) {
            const ir::Shape leadO(os.begin(), os.end() - 2);
            const auto lo = broadcastIndex(leadO, lead);
            const int64_t leadN = ir::numElements(lead);
            of.reserve(size_t(leadN * rows * cols * inner));
            for (int64_t l = 0; l < leadN; ++l)
                for (int64_t ni = 0; ni < rows; ++ni)
                    for (int64_t mi = 0; mi < cols; ++mi)
                        for (int64_t ki = 0; ki < inner; ++ki)
                            of.push_back(io[size_t(left ? lo[size_t(l)] * rows * inner + ni * inner + ki
                                                        : lo[size_t(l)] * inner * cols + ki * cols + mi)]);
        } else {
            of = broadcastIndex(os, pshape);
            for (auto& e : of)
                e = io[size_t(e)];
        }
        return NetworkBuilder::gather(left ? pa : pb, prod, std::move(of), 1.0f,
                                      opLabel(op) + (left ? " (left operand)" : " (right operand)"), op.origin,
                                      opIndexOf(op));
    };
    if (opt_.threads == 1) {
        builder_.addProjection(operandGather(true));
        builder_.addProjection(operandGather(false));
    } else {
        auto left = std::async(std::launch::async, operandGather, true);
        Projection right = operandGather(false);
        builder_.addProjection(left.get());
        builder_.addProjection(std::move(right));
    }
    Expr out;
    out.shape = rt.shape;
    Term t;
    t.pop = prod;
    t.scalar = sa * sb;
    if (!matmul) {
        t.index = iota32(ir::numElements(pshape));
        out.terms.push_back(std::move(t));
        return out;
    }
    auto g = std::make_shared<OpGeom>();
    g->op = opIndexOf(op);
    g->name = opLabel(op) + " (sum of products)";
    g->origin = op.origin;
    g->coupling = Coupling::Diag;
    g->featureAxis = int(pshape.size()) - 2;
    g->inShape = pshape;
    g->outShape = pshape;
    g->outShape.back() = 1;
    for (size_t ax = 0; ax + 2 < pshape.size(); ++ax)
        g->axes.push_back(identityAxis(pshape[ax]));
    const int64_t k = pshape.back(); // lead and n axes stay, k is summed
    g->axes.push_back({k, 1, k, 1, 0, 1});
    g->weights.assign(size_t(g->outFeatures() * k), 1.0f);
    t.geom = g;
    t.opIn = iota32(ir::numElements(pshape));
    t.index = iota32(ir::numElements(g->outShape));
    out.terms.push_back(std::move(t));
    return out;
}

void Extractor::addReadout(ir::ValueId v, const ir::Op& outputOp)
{
    if (isFailed(v))
        return;
    Expr e = exprOf(v);
    const std::string name = m_.value(v).name;
    if (e.constantOnly()) {
        diags_.warning({}, "%" + name, "model output does not depend on any spike source", outputOp.origin);
        return;
    }
    Population p = proto(PopulationKind::Readout, name, m_.definingOp(v), m_.value(v).def);
    p.neuron.model = "accumulate";
    p.spikeBits = 0;
    p.outputScale = e.timeAverage ? 1.0 / double(std::max<int64_t>(1, m_.timesteps)) : 1.0;
    p.perStepOutput = m_.typeOf(v).perStep();
    if (integer_) { // the accumulator is the executor's integer; its scale already holds 1/T
        p.outputScale = 1.0;
        p.fx.valueScale = p.fx.inputUnit = q_.values[size_t(v)].scale;
    }
    if (e.shape.empty())
        e.shape = {1};
    builder_.materialize(e, std::move(p));
}

} // namespace stc::target::detail

#include "target/extract_expr.h"

namespace stc::target::detail {

int64_t OpGeom::taps() const
{
    int64_t t = 1;
    for (const auto& a : axes)
        t *= a.kernel;
    return t;
}

std::vector<int64_t> stridesOf(const ir::Shape& s)
{
    std::vector<int64_t> st(s.size(), 1);
    for (size_t a = s.size(); a-- > 1;)
        st[a - 1] = st[a] * s[a];
    return st;
}

std::vector<int32_t> broadcastIndex(const ir::Shape& from, const ir::Shape& to)
{
    const int64_t n = ir::numElements(to);
    std::vector<int32_t> map(static_cast<size_t>(n), 0);
    const auto fromStrides = stridesOf(from);
    const size_t off = to.size() - from.size();
    std::vector<int64_t> coord(to.size(), 0);
    for (int64_t e = 0; e < n; ++e) {
        int64_t src = 0;
        for (size_t a = 0; a < from.size(); ++a)
            if (from[a] != 1)
                src += coord[a + off] * fromStrides[a];
        map[size_t(e)] = int32_t(src);
        for (size_t a = to.size(); a-- > 0;) {
            if (++coord[a] < to[a])
                break;
            coord[a] = 0;
        }
    }
    return map;
}

std::vector<int32_t> permuteIndex(const ir::Shape& operand, const std::vector<int64_t>& perm)
{
    const auto st = stridesOf(operand);
    ir::Shape result(perm.size());
    for (size_t a = 0; a < perm.size(); ++a)
        result[a] = operand[size_t(perm[a])];
    const int64_t n = ir::numElements(result);
    std::vector<int32_t> map(static_cast<size_t>(n));
    std::vector<int64_t> coord(result.size(), 0);
    for (int64_t e = 0; e < n; ++e) {
        int64_t src = 0;
        for (size_t a = 0; a < perm.size(); ++a)
            src += coord[a] * st[size_t(perm[a])];
        map[size_t(e)] = int32_t(src);
        for (size_t a = result.size(); a-- > 0;) {
            if (++coord[a] < result[a])
                break;
            coord[a] = 0;
        }
    }
    return map;
}

Expr remap(const Expr& e, const ir::Shape& resultShape, const std::vector<int32_t>& map)
{
    Expr out;
    out.shape = resultShape;
    out.timeAverage = e.timeAverage;
    out.biasPerInference = e.biasPerInference;
    for (const Term& t : e.terms) {
        Term n = t;
        n.index.resize(map.size());
        for (size_t r = 0; r < map.size(); ++r)
            n.index[r] = t.index[size_t(map[r])];
        if (!t.mult.empty()) {
            n.mult.resize(map.size());
            for (size_t r = 0; r < map.size(); ++r)
                n.mult[r] = t.mult[size_t(map[r])];
        }
        out.terms.push_back(std::move(n));
    }
    if (!e.bias.empty()) {
        out.bias.resize(map.size());
        for (size_t r = 0; r < map.size(); ++r)
            out.bias[r] = e.bias[size_t(map[r])];
    }
    return out;
}

AxisSplit::AxisSplit(const ir::Shape& shape, int fa)
{
    if (shape.empty())
        return;
    size = shape[size_t(fa)];
    for (size_t a = size_t(fa) + 1; a < shape.size(); ++a)
        inner *= shape[a];
}

std::vector<double> applyGeom(const OpGeom& g, const std::vector<double>& in)
{
    const AxisSplit is(g.inShape, g.featureAxis), os(g.outShape, g.featureAxis);
    const int64_t outN = ir::numElements(g.outShape);
    const int64_t outPos = os.size == 0 ? 0 : outN / os.size;
    const int64_t inPerGroup = g.inFeatures() / g.groups, outPerGroup = g.outFeatures() / g.groups;
    const int64_t taps = g.taps();
    std::vector<double> out(static_cast<size_t>(outN), 0.0);
    for (int64_t o = 0; o < g.outFeatures(); ++o)
        for (int64_t q = 0; q < outPos; ++q) {
            double acc = 0;
            forEachTap(g.axes, q, [&](int64_t tap, int64_t p) {
                if (g.coupling == Coupling::Diag) {
                    acc += double(g.weights[size_t(o * taps + tap)]) * in[size_t(is.join(o, p))];
                    return;
                }
                const int64_t grp = o / outPerGroup;
                for (int64_t ii = 0; ii < inPerGroup; ++ii)
                    acc += double(g.weights[size_t((o * inPerGroup + ii) * taps + tap)]) *
                           in[size_t(is.join(grp * inPerGroup + ii, p))];
            });
            out[size_t(os.join(o, q))] = acc;
        }
    return out;
}

bool composeReduceThenFull(const Term& t, const OpGeom& g, Term& out)
{
    const OpGeom& prior = *t.geom;
    if (prior.coupling != Coupling::Diag || g.coupling != Coupling::Full || g.groups != 1 || !t.uniform())
    return false;
    for (const auto& ax : prior.axes)
        if (!(ax.isIdentity() || (ax.outSize == 1 && ax.kernel == ax.inSize && ax.pad == 0)))
            return false;
    for (const auto& ax : g.axes)
        if (!ax.isIdentity())
            return false;
    // The new op's input (features i, positions q) must be the prior
    // output (features f, positions p) up to a feature and a position map.
    const AxisSplit ns(g.inShape, g.featureAxis), ps(prior.outShape, prior.featureAxis);
    std::vector<int32_t> fOf(static_cast<size_t>(ns.size), -1), pOf;
    const int64_t n = ir::numElements(g.inShape);
    pOf.assign(size_t(ns.size ? n / ns.size : 0), -1);
    for (int64_t e = 0; e < n; ++e) {
        const int64_t pe = t.index[size_t(e)];
        int32_t& f = fOf[size_t(ns.feature(e))];
        int32_t& p = pOf[size_t(ns.position(e))];
        if ((f >= 0 && f != ps.feature(pe)) || (p >= 0 && p != ps.position(pe)))
            return false;
        f = int32_t(ps.feature(pe));
        p = int32_t(ps.position(pe));
    }
    auto c = std::make_shared<OpGeom>(prior);
    c->name = g.name;
    c->op = g.op;
    c->origin = g.origin;
    c->coupling = Coupling::Full;
    c->groups = 1;
    c->outShape[size_t(prior.featureAxis)] = g.outFeatures();
    const int64_t taps = prior.taps(), I = g.inFeatures(), F = prior.inFeatures();
    c->weights.assign(size_t(g.outFeatures() * F * taps), 0.0f);
    for (int64_t o = 0; o < g.outFeatures(); ++o)
        for (int64_t i = 0; i < I; ++i) {
            const int64_t f = fOf[size_t(i)];
            for (int64_t k = 0; k < taps; ++k)
                c->weights[size_t((o * F + f) * taps + k)] +=
                    float(double(g.weights[size_t(o * I + i)]) * prior.weights[size_t(f * taps + k)] * t.scalar);
        }
    const AxisSplit gs(g.outShape, g.featureAxis), cs(c->outShape, c->featureAxis);
    out.pop = t.pop;
    out.delay = t.delay;
    out.backEdge = t.backEdge;
    out.delayOp = t.delayOp;
    out.opIn = t.opIn;
    out.index.resize(size_t(ir::numElements(g.outShape)));
    for (size_t e = 0; e < out.index.size(); ++e)
        out.index[e] = int32_t(cs.join(gs.feature(int64_t(e)), pOf[size_t(gs.position(int64_t(e)))]));
    out.geom = std::move(c);
    return true;
}

} // namespace stc::target::detail

#include "target/extract_build.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace stc::target::detail {

namespace {

// Splits a map from tensor A's elements to population B's neurons into a
// feature map and a position map, if the map keeps features and positions
// apart and both maps are injective. Fails otherwise.
bool decompose(const std::vector<int32_t>& map, const ir::Shape& aShape, int aFA, const Population& b,
               std::vector<int32_t>& fmap, std::vector<int32_t>& pmap)
{
    const AxisSplit as(aShape, aFA);
    const int64_t n = ir::numElements(aShape);
    const int64_t features = as.size, positions = features == 0 ? 0 : n / features;
    fmap.assign(size_t(features), -1);
    pmap.assign(size_t(positions), -1);
    for (int64_t e = 0; e < n; ++e) {
        if (map[size_t(e)] < 0)
            return false;
        int64_t fb, pb;
        b.split(map[size_t(e)], fb, pb);
        int32_t& fs = fmap[size_t(as.feature(e))];
        int32_t& ps = pmap[size_t(as.position(e))];
        if (fs < 0)
            fs = int32_t(fb);
        else if (fs != fb)
            return false;
        if (ps < 0)
            ps = int32_t(pb);
        else if (ps != pb)
            return false;
    }
    auto injective = [](const std::vector<int32_t>& v) {
        std::vector<int32_t> s = v;
        std::sort(s.begin(), s.end());
        return std::adjacent_find(s.begin(), s.end()) == s.end();
    };
    return injective(fmap) && injective(pmap);
}

std::vector<int32_t> inverseOf(const std::vector<int32_t>& map, int64_t targetSize, bool* bijective)
{
    std::vector<int32_t> inv(static_cast<size_t>(targetSize), -1);
    *bijective = int64_t(map.size()) == targetSize;
    for (size_t e = 0; e < map.size(); ++e) {
        const int32_t t = map[e];
        if (t < 0 || t >= targetSize || inv[size_t(t)] >= 0)
            *bijective = false;
        else
            inv[size_t(t)] = int32_t(e);
    }
    return inv;
}

int64_t countZeros(const std::vector<float>& w)
{
    return std::count(w.begin(), w.end(), 0.0f);
}

} // namespace

int32_t NetworkBuilder::addPopulation(Population p)
{
    if (p.shape.empty())
        p.shape = {1};
    net_.populations.push_back(std::move(p));
    locked_.push_back(0);
    return int32_t(net_.populations.size() - 1);
}

int32_t NetworkBuilder::materialize(const Expr& e, Population p, int preferredAxis)
{
    p.shape = e.shape.empty() ? ir::Shape{1} : e.shape;
    p.featureAxis = preferredAxis >= 0 && preferredAxis < int(p.shape.size()) ? preferredAxis : 0;
    // Feature axis: the one onto which the first full weight op's output
    // features land, so that its projection stays analytic.
    for (const Term& t : e.terms) {
        if (!t.geom || t.geom->coupling != Coupling::Full)
            continue;
        bool bij = false;
        const auto inv = inverseOf(t.index, ir::numElements(t.geom->outShape), &bij);
        if (!bij)
            break;
        const int fallback = p.featureAxis;
        for (int a = 0; a < int(p.shape.size()); ++a) {
            p.featureAxis = a;
            std::vector<int32_t> fm, pm;
            if (decompose(inv, t.geom->outShape, t.geom->featureAxis, p, fm, pm)) {
                const int32_t dst = addPopulation(std::move(p));
                locked_[size_t(dst)] = 1;
                return finishMaterialize(e, dst);
            }
        }
        p.featureAxis = fallback;
        break;
    }
    return finishMaterialize(e, addPopulation(std::move(p)));
}

int32_t NetworkBuilder::finishMaterialize(const Expr& e, int32_t dst)
{
    if (!e.bias.empty() && std::any_of(e.bias.begin(), e.bias.end(), [](double b) { return b != 0.0; })) {
        net_.populations[size_t(dst)].bias = e.bias;
        net_.populations[size_t(dst)].biasPerInference = e.biasPerInference;
    }
    for (const Term& t : e.terms)
        addTerm(t, dst);
    return dst;
}

Projection NetworkBuilder::gather(int32_t src, int32_t dst, std::vector<int32_t> srcOfDst, float w,
                                  const std::string& name, const std::string& origin, int32_t op)
{
    Projection pr;
    pr.name = name;
    pr.origin = origin;
    pr.op = op;
    pr.src = src;
    pr.dst = dst;
    pr.coupling = Coupling::Explicit;
    const size_t synapses = size_t(std::count_if(srcOfDst.begin(), srcOfDst.end(), [](int32_t s) { return s >= 0; }));
    if (synapses > 0) { // one weight for all (compactExplicit's form, built directly)
        pr.weights.assign(1, w);
        pr.sharedWeight = true;
    }
    pr.zeroWeights = w == 0.0f ? int64_t(synapses) : 0;
    if (synapses > 0 && synapses == srcOfDst.size()) {
        // One synapse per target (the attention products' operands, millions
        // of them): the list itself is the compact form, no row starts.
        pr.srcNeuron = std::move(srcOfDst);
        pr.rowLength = 1;
        return pr;
    }
    // Sized once: growing the lists doubles the memory first touched.
    pr.srcNeuron.reserve(synapses);
    pr.rowStart.reserve(srcOfDst.size() + 1);
    pr.rowStart.push_back(0);
    for (int32_t s : srcOfDst) {
        if (s >= 0)
            pr.srcNeuron.push_back(s);
        pr.rowStart.push_back(int64_t(pr.srcNeuron.size()));
    }
    return pr;
}

void NetworkBuilder::addGather(int32_t src, int32_t dst, std::vector<int32_t> srcOfDst, float w,
                               const std::string& name, const std::string& origin, int32_t op)
{
    net_.projections.push_back(gather(src, dst, std::move(srcOfDst), w, name, origin, op));
}

std::vector<std::pair<Term, int32_t>> NetworkBuilder::takeDeferred(ir::ValueId v)
{
    std::vector<std::pair<Term, int32_t>> out;
    std::erase_if(deferred_, [&](std::pair<Term, int32_t>& d) {
        if (d.first.backEdge != v)
            return false;
        out.push_back(std::move(d));
        return true;
    });
    return out;
}

void NetworkBuilder::addTerm(const Term& t, int32_t dst)
{
    if (t.pop < 0) { // a back edge whose source population does not exist yet
        deferred_.push_back({t, dst});
        return;
    }
    const size_t first = net_.projections.size();
    addTermNow(t, dst);
    for (size_t i = first; i < net_.projections.size(); ++i) {
        net_.projections[i].modelDelay = t.delay;
        net_.projections[i].delayOp = t.delayOp;
    }
}

void NetworkBuilder::addTermNow(const Term& t, int32_t dst)
{
    const Population& dp = net_.populations[size_t(dst)];
    const Population& sp = net_.populations[size_t(t.pop)];
    Projection pr;
    pr.src = t.pop;
    pr.dst = dst;
    if (!t.geom) {
        pr.name = "%" + sp.name + " -> %" + dp.name;
        pr.origin = dp.origin;
        addGather(t.pop, dst, t.index, float(1.0 * t.scalar), pr.name, pr.origin, -1);
        if (t.mult.empty())
            return;
        Projection& g = net_.projections.back(); // per-synapse weights, then compact again
        expandExplicit(g, int64_t(t.index.size()));
        for (size_t e = 0, s = 0; e < t.index.size(); ++e)
            if (t.index[e] >= 0)
                g.weights[s++] = float(double(t.mult[e]) * t.scalar);
        g.zeroWeights = countZeros(g.weights);
        compactExplicit(g, int64_t(t.index.size()));
        return;
    }
    const OpGeom& g = *t.geom;
    pr.name = g.name;
    pr.origin = g.origin;
    pr.op = g.op;
    pr.featureAxis = g.featureAxis;
    pr.inShape = g.inShape;
    pr.outShape = g.outShape;
    pr.coupling = g.coupling;
    pr.inFeatures = g.inFeatures();
    pr.outFeatures = g.outFeatures();
    pr.groups = g.groups;
    pr.axes = g.axes;
    // Post-op factors must be constant per output feature to fold into weights.
    const AxisSplit os(g.outShape, g.featureAxis);
    std::vector<double> outMult(static_cast<size_t>(pr.outFeatures), std::nan(""));
    bool perFeature = true;
    for (size_t e = 0; e < t.index.size() && perFeature; ++e) {
        const double m = (t.mult.empty() ? 1.0 : double(t.mult[e])) * t.scalar;
        double& slot = outMult[size_t(os.feature(t.index[e]))];
        if (std::isnan(slot))
            slot = m;
        else if (slot != m)
            perFeature = false;
    }
    bool bijective = false;
    const std::vector<int32_t> outToDst = inverseOf(t.index, ir::numElements(g.outShape), &bijective);
    bool analytic = perFeature && bijective;
    if (analytic && g.coupling == Coupling::Full) {
        bool srcOk = decompose(t.opIn, g.inShape, g.featureAxis, sp, pr.inFeatureToSrc, pr.inPositionToSrc);
        if (!srcOk && !locked_[size_t(t.pop)]) {
            Population& src = net_.populations[size_t(t.pop)];
            const int was = src.featureAxis;
            for (int a = 0; a < int(src.shape.size()) && !srcOk; ++a) {
                src.featureAxis = a;
                srcOk = decompose(t.opIn, g.inShape, g.featureAxis, src, pr.inFeatureToSrc, pr.inPositionToSrc);
            }
            if (!srcOk)
                src.featureAxis = was;
        }
        analytic = srcOk &&
                   decompose(outToDst, g.outShape, g.featureAxis, dp, pr.outFeatureToDst, pr.outPositionToDst);
        if (analytic)
            locked_[size_t(t.pop)] = locked_[size_t(dst)] = 1;
        if (analytic) {
            pr.dstFeatureToOut.assign(size_t(dp.features()), -1);
            pr.dstPositionToOut.assign(size_t(dp.positions()), -1);
            for (size_t o = 0; o < pr.outFeatureToDst.size(); ++o)
                pr.dstFeatureToOut[size_t(pr.outFeatureToDst[o])] = int32_t(o);
            for (size_t q = 0; q < pr.outPositionToDst.size(); ++q)
                pr.dstPositionToOut[size_t(pr.outPositionToDst[q])] = int32_t(q);
        }
    } else if (analytic) {
        pr.inElementToSrc = t.opIn;
        pr.outElementToDst = outToDst;
        pr.dstToOutElement = t.index;
    }
    if (!analytic) {
        pr.inFeatureToSrc.clear();
        pr.inPositionToSrc.clear();
        pr.outFeatureToDst.clear();
        pr.outPositionToDst.clear();
        addExplicit(t, dst, std::move(pr));
        return;
    }
    pr.weights = g.weights;
    const int64_t perO = int64_t(pr.weights.size()) / std::max<int64_t>(1, pr.outFeatures);
    for (int64_t o = 0; o < pr.outFeatures; ++o) {
        const double m = std::isnan(outMult[size_t(o)]) ? 1.0 : outMult[size_t(o)];
        for (int64_t k = 0; k < perO; ++k)
            pr.weights[size_t(o * perO + k)] = float(double(pr.weights[size_t(o * perO + k)]) * m);
    }
    pr.zeroWeights = countZeros(pr.weights);
    net_.projections.push_back(std::move(pr));
}

// Enumerates a weight op's synapses through arbitrary element maps.
void NetworkBuilder::addExplicit(const Term& t, int32_t dst, Projection pr)
{
    const OpGeom& g = *t.geom;
    const AxisSplit is(g.inShape, g.featureAxis), os(g.outShape, g.featureAxis);
    const int64_t taps = g.taps(), inPer = g.inFeatures() / g.groups, outPer = g.outFeatures() / g.groups;
    pr.coupling = Coupling::Explicit;
    pr.axes.clear();
    pr.rowStart.assign(1, 0);
    for (size_t e = 0; e < t.index.size(); ++e) {
        const int64_t oe = t.index[e];
        const int64_t o = os.feature(oe), q = os.position(oe);
        const double m = (t.mult.empty() ? 1.0 : double(t.mult[e])) * t.scalar;
        forEachTap(g.axes, q, [&](int64_t tap, int64_t p) {
            if (g.coupling == Coupling::Diag) {
                pr.srcNeuron.push_back(t.opIn[size_t(is.join(o, p))]);
                pr.weights.push_back(float(double(g.weights[size_t(o * taps + tap)]) * m));
                return;
            }
            const int64_t grp = o / outPer;
            for (int64_t ii = 0; ii < inPer; ++ii) {
                pr.srcNeuron.push_back(t.opIn[size_t(is.join(grp * inPer + ii, p))]);
                pr.weights.push_back(float(double(g.weights[size_t((o * inPer + ii) * taps + tap)]) * m));
            }
        });
        pr.rowStart.push_back(int64_t(pr.srcNeuron.size()));
    }
    pr.zeroWeights = countZeros(pr.weights);
    compactExplicit(pr, net_.populations[size_t(dst)].size());
    net_.projections.push_back(std::move(pr));
}

} // namespace stc::target::detail

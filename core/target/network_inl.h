// Inline synapse enumeration for network.h (kept out of the main header).
#pragma once

namespace stc::target {

// Calls f(tap, inputFlatPosition) for every tap of output position q whose
// input falls inside the op input (not into padding). Taps are row-major
// over the stencil axes.
template <typename F>
void forEachTap(const std::vector<StencilAxis>& axes, int64_t q, F&& f)
{
    const size_t rank = axes.size();
    int64_t qc[8], kc[8];
    int64_t rem = q;
    for (size_t a = rank; a-- > 0;) {
        qc[a] = rem % axes[a].outSize;
        rem /= axes[a].outSize;
        kc[a] = 0;
    }
    int64_t taps = 1;
    for (const auto& ax : axes)
        taps *= ax.kernel;
    for (int64_t tap = 0; tap < taps; ++tap) {
        int64_t flat = 0;
        bool inside = true;
        for (size_t a = 0; a < rank && inside; ++a) {
            const StencilAxis& ax = axes[a];
            const int64_t p = qc[a] * ax.stride - ax.pad + kc[a] * ax.dilation;
            inside = p >= 0 && p < ax.inSize;
            flat = flat * ax.inSize + p;
        }
        if (inside)
            f(tap, flat);
        for (size_t a = rank; a-- > 0;) { // next tap (odometer)
            if (++kc[a] < axes[a].kernel)
                break;
            kc[a] = 0;
        }
    }
}

template <typename F>
void forEachSynapseOf(const Projection& pr, const Population& srcPop, const Population& dstPop, int64_t dstNeuron,
                      F&& f)
{
    if (pr.coupling == Coupling::Explicit) {
        for (int64_t s = pr.rowStart[size_t(dstNeuron)]; s < pr.rowStart[size_t(dstNeuron) + 1]; ++s)
            f(int64_t(pr.srcNeuron[size_t(s)]), pr.weights[size_t(s)]);
        return;
    }
    if (pr.coupling == Coupling::Full) {
        int64_t df, dp;
        dstPop.split(dstNeuron, df, dp);
        const int64_t o = pr.dstFeatureToOut[size_t(df)], q = pr.dstPositionToOut[size_t(dp)];
        const int64_t g = o / pr.outPerGroup();
        forEachTap(pr.axes, q, [&](int64_t tap, int64_t p) {
            const int64_t srcPos = pr.inPositionToSrc[size_t(p)];
            for (int64_t ii = 0; ii < pr.inPerGroup(); ++ii) {
                const int64_t i = g * pr.inPerGroup() + ii;
                f(srcPop.neuronIndex(pr.inFeatureToSrc[size_t(i)], srcPos), pr.weight(o, ii, tap));
            }
        });
        return;
    }
    // Diag: split the op output element into (feature, position) of the op tensors.
    const int64_t e = pr.dstToOutElement[size_t(dstNeuron)];
    int64_t inner = 1;
    for (size_t a = size_t(pr.featureAxis) + 1; a < pr.outShape.size(); ++a)
        inner *= pr.outShape[a];
    const int64_t o = (e / inner) % pr.outFeatures;
    const int64_t q = (e / (inner * pr.outFeatures)) * inner + e % inner;
    int64_t innerIn = 1;
    for (size_t a = size_t(pr.featureAxis) + 1; a < pr.inShape.size(); ++a)
        innerIn *= pr.inShape[a];
    forEachTap(pr.axes, q, [&](int64_t tap, int64_t p) {
        const int64_t inElem = (p / innerIn) * (innerIn * pr.inFeatures) + o * innerIn + p % innerIn;
        f(int64_t(pr.inElementToSrc[size_t(inElem)]), pr.weight(o, 0, tap));
    });
}

} // namespace stc::target

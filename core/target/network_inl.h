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
    if (rank == 0 || axes[rank - 1].dilation < 1) { // the general odometer
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
        return;
    }
    // The innermost axis's taps inside the input are one range [kLo, kHi)
    // (its positions grow with the tap): the odometer runs over the outer
    // axes only, the same taps in the same order.
    const StencilAxis& in = axes[rank - 1];
    const int64_t K = in.kernel, d = in.dilation, p0 = qc[rank - 1] * in.stride - in.pad;
    int64_t kLo = 0, kHi = K;
    while (kLo < K && p0 + kLo * d < 0)
        ++kLo;
    while (kHi > kLo && p0 + (kHi - 1) * d >= in.inSize)
        --kHi;
    int64_t outerTaps = 1;
    for (size_t a = 0; a + 1 < rank; ++a)
        outerTaps *= axes[a].kernel;
    for (int64_t ot = 0; ot < outerTaps; ++ot) {
        int64_t flat = 0;
        bool inside = kLo < kHi;
        for (size_t a = 0; a + 1 < rank && inside; ++a) {
            const StencilAxis& ax = axes[a];
            const int64_t p = qc[a] * ax.stride - ax.pad + kc[a] * ax.dilation;
            inside = p >= 0 && p < ax.inSize;
            flat = flat * ax.inSize + p;
        }
        if (inside) {
            const int64_t base = flat * in.inSize + p0;
            for (int64_t k = kLo; k < kHi; ++k)
                f(ot * K + k, base + k * d);
        }
        for (size_t a = rank - 1; a-- > 0;) { // next outer tap (odometer)
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
        for (int64_t s = pr.rowBegin(dstNeuron), e = pr.rowEnd(dstNeuron); s < e; ++s)
            f(int64_t(pr.srcNeuron[size_t(s)]), pr.synapseWeight(s));
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

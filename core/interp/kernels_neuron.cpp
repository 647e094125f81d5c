#include "interp/kernels_neuron.h"

#include <atomic>
#include <cstring>

namespace stc::interp::detail {

namespace {

using Charge = LifParams::Charge;
using Reset = LifParams::Reset;

// The update below follows the PyTorch expressions of SpikingJelly / snnTorch
// operation by operation (every + - * / is one float32 rounding, no FMA).
template <Charge C, Reset R, bool Ge, bool MembraneOut>
int64_t lifRange(const LifParams& p, const float* __restrict x, float* __restrict v, float* __restrict s, int64_t i0,
                 int64_t i1, int64_t weight, int32_t* __restrict perNeuron)
{
    int64_t count = 0;
    const float tau = p.tau, factor = p.factor, beta = p.beta, vth = p.vth, vr = p.vr;
    auto step = [&](int64_t i) -> int {
        const float vp = v[i];
        float h;
        if constexpr (C == Charge::DecayInput) {
            h = vp + (x[i] - (vp - vr)) / tau;
        } else if constexpr (C == Charge::DecayFactor) {
            h = vp * factor + x[i];
        } else if constexpr (C == Charge::DecayNoInput) {
            h = (vp - (vp - vr) / tau) + x[i];
        } else if constexpr (C == Charge::If) {
            h = vp + x[i];
        } else {
            h = beta * vp + x[i];
            if constexpr (R == Reset::SubtractDelayed) {
                // snnTorch: reset = heaviside(mem_prev - threshold) (strict), from the previous step.
                const float r = (vp - vth > 0.0f) ? 1.0f : 0.0f;
                h = h - r * vth;
            }
        }
        const float d = h - vth;
        const bool spike = Ge ? d >= 0.0f : d > 0.0f;
        const float sf = spike ? 1.0f : 0.0f;
        float vn = h;
        if constexpr (R == Reset::Hard)
            vn = spike ? vr : h;
        else if constexpr (R == Reset::Subtract)
            vn = h - sf * vth;
        v[i] = vn;
        s[i] = MembraneOut ? h : sf; // output = "membrane": a readout of the charged membrane
        return spike ? 1 : 0;
    };
    // The same expressions on 4 lanes at a time (GCC/Clang vector extension, SSE on
    // x86-64): element-wise IEEE operations, so every lane gets the scalar bits.
    typedef float v4f __attribute__((vector_size(16)));
    typedef int32_t v4i __attribute__((vector_size(16)));
    const v4f zero = {0, 0, 0, 0}, one = {1, 1, 1, 1};
    const v4f tauV = zero + tau, factorV = zero + factor, betaV = zero + beta, vthV = zero + vth, vrV = zero + vr;
    v4i counts = {0, 0, 0, 0};
    int64_t i = i0;
    for (; i + 4 <= i1; i += 4) {
        v4f vp, xv;
        std::memcpy(&vp, v + i, sizeof vp);
        std::memcpy(&xv, x + i, sizeof xv);
        v4f h;
        if constexpr (C == Charge::DecayInput) {
            h = vp + (xv - (vp - vrV)) / tauV;
        } else if constexpr (C == Charge::DecayFactor) {
            h = vp * factorV + xv;
        } else if constexpr (C == Charge::DecayNoInput) {
            h = (vp - (vp - vrV) / tauV) + xv;
        } else if constexpr (C == Charge::If) {
            h = vp + xv;
        } else {
            h = betaV * vp + xv;
            if constexpr (R == Reset::SubtractDelayed) {
                const v4f r = ((vp - vthV) > zero) ? one : zero;
                h = h - r * vthV;
            }
        }
        const v4f d = h - vthV;
        v4i spike;
        if constexpr (Ge)
            spike = d >= zero;
        else
            spike = d > zero;
        const v4f sf = spike ? one : zero;
        v4f vn = h;
        if constexpr (R == Reset::Hard)
            vn = spike ? vrV : h;
        else if constexpr (R == Reset::Subtract)
            vn = h - sf * vthV;
        std::memcpy(v + i, &vn, sizeof vn);
        if constexpr (MembraneOut)
            std::memcpy(s + i, &h, sizeof h);
        else
            std::memcpy(s + i, &sf, sizeof sf);
        counts -= spike; // lanes are -1 where a neuron fired
    }
    count += int64_t(counts[0]) + counts[1] + counts[2] + counts[3];
    for (; i < i1; ++i)
        count += step(i);
    if (perNeuron) {
        for (int64_t i = i0; i < i1; ++i) {
            bool spike = s[i] != 0.0f;
            if constexpr (MembraneOut) { // s holds h: fire again from it
                const float d = s[i] - vth;
                spike = Ge ? d >= 0.0f : d > 0.0f;
            }
            perNeuron[i] += spike ? static_cast<int32_t>(weight) : 0;
        }
    }
    return count;
}

using RangeFn = int64_t (*)(const LifParams&, const float*, float*, float*, int64_t, int64_t, int64_t, int32_t*);

template <Charge C, Reset R> RangeFn pickFire(const LifParams& p)
{
    if (p.membraneOut)
        return p.fireGe ? &lifRange<C, R, true, true> : &lifRange<C, R, false, true>;
    return p.fireGe ? &lifRange<C, R, true, false> : &lifRange<C, R, false, false>;
}

template <Charge C> RangeFn pickReset(const LifParams& p)
{
    switch (p.reset) {
    case Reset::Hard: return pickFire<C, Reset::Hard>(p);
    case Reset::Subtract: return pickFire<C, Reset::Subtract>(p);
    case Reset::SubtractDelayed: return pickFire<C, Reset::SubtractDelayed>(p);
    case Reset::None: return pickFire<C, Reset::None>(p);
    }
    return nullptr;
}

RangeFn pick(const LifParams& p)
{
    switch (p.charge) {
    case Charge::DecayInput: return pickReset<Charge::DecayInput>(p);
    case Charge::DecayFactor: return pickReset<Charge::DecayFactor>(p);
    case Charge::DecayNoInput: return pickReset<Charge::DecayNoInput>(p);
    case Charge::If: return pickReset<Charge::If>(p);
    case Charge::Leaky: return pickReset<Charge::Leaky>(p);
    }
    return nullptr;
}

} // namespace

std::string prepareLif(LifParams& p, const ir::Attributes& a)
{
    const std::string neuron = a.getString("neuron", "lif");
    const std::string reset = a.getString("reset", "hard");
    const std::string fire = a.getString("fire", "ge");
    if (fire != "ge" && fire != "gt")
        return "fire must be \"ge\" or \"gt\", got \"" + fire + '"';
    p.fireGe = fire == "ge";
    const std::string output = a.getString("output", "spikes");
    if (output != "spikes" && output != "membrane")
        return "output must be \"spikes\" or \"membrane\", got \"" + output + '"';
    p.membraneOut = output == "membrane";
    if (reset == "hard")
        p.reset = Reset::Hard;
    else if (reset == "subtract")
        p.reset = Reset::Subtract;
    else if (reset == "subtract-delayed")
        p.reset = Reset::SubtractDelayed;
    else if (reset == "none")
        p.reset = Reset::None;
    else
        return "unknown reset \"" + reset + '"';
    if (!a.has("v_threshold"))
        return "missing v_threshold";
    p.vth = static_cast<float>(a.getFloat("v_threshold"));
    // SpikingJelly: v_reset only exists for hard reset (soft reset = v_reset None,
    // whose charge equations are the v_reset == 0 ones); the membrane starts at v_reset.
    p.vr = p.reset == Reset::Hard ? static_cast<float>(a.getFloat("v_reset", 0.0)) : 0.0f;
    p.initial = p.vr;
    if (neuron == "lif" || neuron == "if") {
        if (p.reset == Reset::SubtractDelayed)
            return "reset \"subtract-delayed\" is only defined for neuron \"leaky\"";
        if (neuron == "if") {
            p.charge = Charge::If;
            return {};
        }
        if (!a.has("tau"))
            return "neuron \"lif\" needs tau";
        const double tau = a.getFloat("tau");
        if (!(tau > 0.0))
            return "tau must be positive";
        p.tau = static_cast<float>(tau);
        // Python evaluates 1. - 1. / tau in double; PyTorch then multiplies by it as a float scalar.
        p.factor = static_cast<float>(1.0 - 1.0 / tau);
        if (a.getBool("decay_input", true))
            p.charge = Charge::DecayInput;
        else
            p.charge = p.vr == 0.0f ? Charge::DecayFactor : Charge::DecayNoInput;
        return {};
    }
    if (neuron == "leaky") {
        if (p.reset != Reset::SubtractDelayed && p.reset != Reset::None)
            return "neuron \"leaky\" supports reset \"subtract-delayed\" or \"none\", got \"" + reset + '"';
        if (!a.has("beta"))
            return "neuron \"leaky\" needs beta";
        // snnTorch stores beta as a float32 tensor and uses beta.clamp(0, 1).
        p.beta = std::clamp(static_cast<float>(a.getFloat("beta")), 0.0f, 1.0f);
        p.charge = Charge::Leaky;
        p.initial = 0.0f;
        return {};
    }
    return "unknown neuron \"" + neuron + '"';
}

void runLif(const LifParams& p, In x, float* v, Out s, int64_t nb, int64_t n, int64_t weight, int32_t* perNeuron,
            int64_t& spikes, const Exec& ex)
{
    const RangeFn fn = pick(p);
    std::atomic<int64_t> total{0};
    ex.forRange(n, 16384 / std::max<int64_t>(1, nb), [&](int64_t i0, int64_t i1, int) {
        int64_t count = 0;
        for (int64_t b = 0; b < nb; ++b)
            count += fn(p, x.at(b), v + b * n, s.at(b), i0, i1, weight, perNeuron);
        total.fetch_add(count, std::memory_order_relaxed);
    });
    spikes += total.load() * weight;
}

} // namespace stc::interp::detail

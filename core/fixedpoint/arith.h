// The integer semantics of the fixed-point reference path, in one place.
// The fixed-point executor (executor.h) uses exactly these functions, and a
// bit-accurate chip simulator must too (or reproduce them bit for bit).
//
// Neuron (Loihi/Lava CUBA LIF, bit-accurate model):
//   u[t] = wrap24( decay(u[t-1], du) + (a[t] << actShift) )
//   v[t] = sat24 ( decay(v[t-1], dv) + u[t] )
//   spike  = v[t] >= theta   (fire "ge", SpikingJelly) or v[t] > theta (fire "gt")
//   reset: hard     -> v = 0
//          subtract -> v = v - theta
//          none     -> v unchanged
//          subtract-delayed (snnTorch Leaky) -> v unchanged, and the next step
//                      subtracts theta after the decay if the previous v was
//                      above theta: v[t] = sat24(decay(v[t-1], dv) + u[t]
//                      - (v[t-1] > theta ? theta : 0)). No extra state: the
//                      spike of step t-1 is (v[t-1] > theta) (snnTorch always
//                      compares strictly here, whatever the firing rule).
// The "charged" membrane (a membrane readout, lif output = "membrane") is v[t]
// before the reset. A threshold of kNeverFires exceeds every saturated v: the
// neuron never fires (a leaky integrator, NIR LI).
// where a[t] is the synaptic input (an exact integer sum, see below),
//   decay(x, d) = sign(x) * ((|x| * (4096 - d)) >> 12)   (rounds toward zero, as Lava),
//   du, dv in [0, 4096] (4096 = 1.0: no memory; 0: no leak),
//   wrap24 = two's complement wrap to 24 bits (u), sat24 = clamp to +-(2^23 - 1) (v),
//   theta = mantissa << exponent (threshold mantissa up to 17 bits unsigned).
//
// Synaptic input: a = ((sum_i w_i * x_i) << shift_c) + bias_c, accumulated in
// 64 bits and exact: w_i are the int8 (or intN) weight mantissas, x_i are the
// integer inputs (binary spikes, graded spikes, 8-bit pixels), shift_c the
// per-output-channel weight exponent relative to the layer's unit. The quantize
// pass checks statically that |a| << actShift stays inside 24 bits for every
// input its bounds allow, so wrap24 never triggers for a well-formed module.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace stc::fixedpoint {

inline constexpr int kDecayBits = 12;
inline constexpr int32_t kDecayOne = 1 << kDecayBits; // 4096 = 1.0
inline constexpr int kStateBits = 24;
inline constexpr int64_t kStateMax = (int64_t{1} << (kStateBits - 1)) - 1; // 8388607
inline constexpr int kThresholdMantissaBits = 17;
inline constexpr int kDefaultActShift = 6; // Lava: activation and threshold MSB alignment
inline constexpr int64_t kNeverFires = kStateMax + 1; // 2^23: 17-bit mantissa 2^16, exponent 7

// x * (4096 - d) / 4096, rounded toward zero.
inline int64_t decay(int64_t x, int32_t d)
{
    const int64_t p = x * (kDecayOne - d);
    return p >= 0 ? (p >> kDecayBits) : -((-p) >> kDecayBits);
}

// Two's complement wrap to kStateBits bits.
inline int64_t wrapState(int64_t x)
{
    const int64_t m = int64_t{1} << kStateBits;
    int64_t r = x & (m - 1);
    return r > kStateMax ? r - m : r;
}

inline int64_t saturateState(int64_t x) { return x > kStateMax ? kStateMax : (x < -kStateMax ? -kStateMax : x); }

enum class Reset : uint8_t { Hard, Subtract, None, SubtractDelayed };

struct NeuronParams {
    int32_t du = kDecayOne; // current decay (4096: the current is the input of this step only)
    int32_t dv = 0;         // voltage decay
    int32_t actShift = kDefaultActShift;
    int64_t theta = 0;      // threshold (mantissa << exponent), in v units
    bool fireOnEqual = true; // "ge" (SpikingJelly) vs "gt" (snnTorch)
    Reset reset = Reset::Hard;
};

// One time step of one neuron; returns the spike and sets `charged` to the
// membrane before the reset.
inline bool neuronStep(const NeuronParams& p, int32_t& u, int32_t& v, int64_t a, int32_t& charged)
{
    const int64_t uu = wrapState(decay(u, p.du) + a * (int64_t{1} << p.actShift));
    int64_t vv = decay(v, p.dv) + uu;
    if (p.reset == Reset::SubtractDelayed && v > p.theta)
        vv -= p.theta;
    vv = saturateState(vv);
    charged = static_cast<int32_t>(vv);
    const bool spike = p.fireOnEqual ? vv >= p.theta : vv > p.theta;
    if (spike) {
        if (p.reset == Reset::Hard)
            vv = 0;
        else if (p.reset == Reset::Subtract)
            vv -= p.theta;
    }
    u = static_cast<int32_t>(uu);
    v = static_cast<int32_t>(vv);
    return spike;
}

inline bool neuronStep(const NeuronParams& p, int32_t& u, int32_t& v, int64_t a)
{
    int32_t charged;
    return neuronStep(p, u, v, a, charged);
}

inline const char* resetName(Reset r)
{
    switch (r) {
    case Reset::Hard: return "hard";
    case Reset::Subtract: return "subtract";
    case Reset::SubtractDelayed: return "subtract-delayed";
    case Reset::None: break;
    }
    return "none";
}

// The reset named by a lif's `reset` attribute (unknown names: None).
inline Reset resetFromName(const std::string& s)
{
    return s == "hard" ? Reset::Hard
           : s == "subtract" ? Reset::Subtract
           : s == "subtract-delayed" ? Reset::SubtractDelayed
                                     : Reset::None;
}

// Input encoding into graded spikes (the `encode` op of a quantized module):
// x = clamp(round(p / scale), lo, hi), rounding half away from zero.
inline int32_t encodeInput(float p, double scale, int64_t lo, int64_t hi)
{
    return static_cast<int32_t>(std::clamp<int64_t>(std::llround(double(p) / scale), lo, hi));
}

// Threshold as mantissa << exponent with the mantissa in kThresholdMantissaBits
// bits, rounding up (a threshold is never lowered by the representation).
struct Threshold {
    int64_t mantissa = 0;
    int32_t exponent = 0;
    int64_t value() const { return mantissa << exponent; }
};
inline Threshold encodeThreshold(int64_t theta)
{
    Threshold t{theta < 0 ? 0 : theta, 0};
    while (t.mantissa >= (int64_t{1} << kThresholdMantissaBits)) {
        t.mantissa = (t.mantissa + 1) >> 1;
        ++t.exponent;
    }
    return t;
}

} // namespace stc::fixedpoint

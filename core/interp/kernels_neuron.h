// Spiking neuron step (LIF / IF / snnTorch Leaky) and its statistics.
// Internal to core/interp.
#pragma once

#include "interp/kernels_common.h"
#include "ir/attributes.h"

#include <string>

namespace stc::interp::detail {

struct LifParams {
    // How the membrane is charged (h from the previous state v and the input x):
    enum class Charge : uint8_t {
        DecayInput,   // lif, decay_input:                 h = v + (x - (v - vr)) / tau
        DecayFactor,  // lif, !decay_input, vr == 0:       h = v * (float)(1 - 1/tau) + x
        DecayNoInput, // lif, !decay_input, vr != 0:       h = v - (v - vr) / tau + x
        If,           // if:                               h = v + x
        Leaky,        // leaky:                            h = beta * v + x [- r * vth]
    };
    enum class Reset : uint8_t { Hard, Subtract, SubtractDelayed, None };
    Charge charge = Charge::DecayInput;
    Reset reset = Reset::Hard;
    bool fireGe = true; // spike when h - vth >= 0 (else > 0)
    float tau = 2.0f, factor = 0.5f, beta = 1.0f, vth = 1.0f, vr = 0.0f;
    float initial = 0.0f; // membrane at the start of an inference
    bool membraneOut = false; // output = "membrane": write the charged membrane instead of spikes
};

// Reads the lif op's attributes; returns an error message or "".
std::string prepareLif(LifParams& p, const ir::Attributes& attrs);

// One time step for nb samples of n neurons: v (nb * n floats, the state) is
// updated, spikes (or, with membraneOut, the charged membrane) written to s.
// Spikes are counted into `spikes` (times `weight`, the number of samples an unbatched value stands for) and, when
// perNeuron is not null, into perNeuron[i] per neuron.
void runLif(const LifParams& p, In x, float* v, Out s, int64_t nb, int64_t n, int64_t weight, int32_t* perNeuron,
            int64_t& spikes, const Exec& ex);

} // namespace stc::interp::detail

// Spiking neuron models as the Spike IR `lif` op defines them, simulated in
// f32 exactly the way SpikingJelly / snnTorch (and the reference interpreter)
// compute them, so a recognized neuron can be verified bit for bit.
#pragma once

#include "ir/attributes.h"

#include <optional>
#include <string>
#include <vector>

namespace stc::torchscript {

struct NeuronParams {
    std::string neuron = "lif"; // "lif", "if", "leaky"
    double tau = 2.0;           // lif
    bool decayInput = true;     // lif
    double beta = 0.0;          // leaky
    double vThreshold = 1.0;
    double vReset = 0.0;
    std::string reset = "hard"; // "hard", "subtract", "subtract-delayed", "none"
    std::string fire = "ge";    // "ge" or "gt"

    ir::Attributes toAttributes() const;
    std::string describe() const; // "lif tau=2 v_th=1 hard reset to 0"
};

// Runs the neuron over T steps: inputs[t][i] -> spikes[t][i] (0 or 1). The
// membrane starts at v_reset for a hard reset, else at 0. If `membranes` is
// given it receives the charged membrane (before reset) of every step.
std::vector<std::vector<float>> simulateNeuron(const NeuronParams& p, const std::vector<std::vector<float>>& inputs,
                                               std::vector<std::vector<float>>* membranes = nullptr);

// Observed behaviour of a neuron: per step t and element i, its input, the
// charged membrane compared with the threshold, and the spike.
struct NeuronData {
    std::vector<std::vector<float>> inputs, membranes, spikes;
};

// Finds Spike IR neuron parameters reproducing `data` exactly: fits the
// charge equation m_t = a*v_{t-1} + b*x_t + c, snaps the coefficients to the
// model's constants, then tries neuron kinds and reset modes until the
// simulated spikes equal the observed ones bit for bit. `why` explains a miss.
std::optional<NeuronParams> fitNeuron(const std::vector<NeuronData>& data, const std::vector<double>& constants,
                                      double threshold, bool ge, std::string& why);

} // namespace stc::torchscript

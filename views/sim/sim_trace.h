// A simulation run as plain data: per LIF layer, which neurons fired at each
// time step (CSR by step), the layer's input per step (for value traces),
// and the class prediction. Produced by the f32 reference interpreter
// (runReference) or by the chip simulator (stages.h runChipSimulation);
// `engine` says which.
#pragma once

#include "ir/module.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace stc::views::sim {

struct LayerTrace {
    std::string name;   // value name of the lif result
    std::string origin; // module path
    int opIndex = -1;
    int64_t neurons = 0;
    // Spikes of step t are neuron[stepOffset[t] .. stepOffset[t+1]).
    std::vector<int64_t> stepOffset;
    std::vector<int32_t> neuron;
    std::vector<int64_t> spikesPerStep;
    int64_t total = 0;
    // Input to the neurons per step ([T * neurons]); empty if not recorded
    // (the chip simulator traces spikes only).
    std::vector<float> input;

    int64_t steps() const { return stepOffset.empty() ? 0 : int64_t(stepOffset.size()) - 1; }
    double firingRate() const
    {
        const double cells = double(neurons) * double(steps());
        return cells > 0 ? double(total) / cells : 0.0;
    }
};

struct SimTrace {
    std::string engine;
    std::string error;
    bool cancelled = false;
    int64_t timesteps = 0;
    std::vector<LayerTrace> layers;
    std::vector<float> logits;
    std::vector<float> probabilities; // softmax of the logits (display only)
    int predicted = -1;
    double seconds = 0.0;
    int64_t totalSpikes() const;
    bool ok() const { return error.empty() && !cancelled; }
};

using TracePtr = std::shared_ptr<const SimTrace>;

// The sample the panel feeds a model that does not take a 28x28 image: n values
// from U[0,1) (std::mt19937 seeded with `seed`, the panel's input index).
std::vector<float> uniformInput(int64_t n, uint32_t seed);

// Sets logits (the mean over `steps` for a per-step output [steps, C]),
// softmax probabilities (display only) and the predicted class.
void setPrediction(SimTrace& trace, const std::vector<float>& outputs, int64_t steps);

// Runs the module on one sample with the reference interpreter and records
// the trace. `image` must have the element count of the module's input.
SimTrace runReference(const ir::Module& m, const std::vector<float>& image, const std::atomic<bool>* cancel);

// Synthetic trace for tests and the raster benchmark: `layers` layers of
// `neurons` neurons, `steps` steps, about `spikes` spikes in total.
SimTrace syntheticTrace(int layers, int64_t neurons, int64_t steps, int64_t spikes, uint32_t seed = 1);

} // namespace stc::views::sim

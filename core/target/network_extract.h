// ir::Module -> Network. Every spiking neuron op becomes a population; the
// linear ops between populations (conv, linear, batch norm, scale, views,
// pooling, reductions, residual sums) become projections with geometry;
// values that hardware must hold between steps (maxpool of spikes, operands
// of tensor-tensor products, large residual sums) become relay populations;
// tensor-tensor products become product populations; model outputs become
// readout accumulators. Anything else is reported as a located diagnostic.
#pragma once

#include "target/chip_descriptor.h"
#include "target/network.h"

#include <map>
#include <string>
#include <vector>

namespace stc::target {

// Measured activity: IR value name -> events (nonzero outputs) per element
// per step, averaged over samples. Per-element vectors are optional.
struct RateProfile {
    std::map<std::string, double> mean;
    std::map<std::string, std::vector<float>> perElement;
    int64_t samples = 0;
    bool empty() const { return mean.empty(); }
};

struct ExtractOptions {
    // Materialize a residual sum of several spike tensors as a relay
    // population of graded-spike neurons before a weight layer reads it:
    // "auto" (when the chip has graded spikes), "always", "never".
    std::string relaySums = "auto";
    // Rates used when nothing was measured (documented as estimates).
    double defaultLifRate = 0.15;
    double defaultInputRate = 1.0;
    const RateProfile* rates = nullptr;
    // Host threads for extraction (the two operand gathers of each product);
    // < 1: two. The network does not depend on it.
    int threads = 1;
};

struct ExtractResult {
    Network network;
    Diagnostics diagnostics; // errors: the module cannot be mapped (each names the op)
    bool ok() const { return !diagnostics.hasErrors(); }
};

// `chip` may be null (no chip-specific decisions: graded spikes assumed).
ExtractResult extractNetwork(const ir::Module& module, const ChipDescriptor* chip, const ExtractOptions& options = {});

// Runs the reference interpreter on `inputs` (flattened samples of the single
// module input) and counts events of every value a population can stand for.
RateProfile measureRates(const ir::Module& module, const std::vector<std::vector<float>>& samples,
                         std::string* error = nullptr);

} // namespace stc::target

// Energy and latency per inference estimated from the descriptor's per-event
// constants times the mapping's estimated event counts. Estimates, labelled as
// such in every report; for a projected chip also labelled as projections.
#pragma once

#include "target/mapping.h"

#include <string>
#include <vector>

namespace stc::target {

struct Estimate {
    int64_t steps = 0;             // hardware steps per inference: T + pipeline depth
    double stepTimeNs = 0;
    double latencyNs = 0;          // steps x step time
    double throughputPerSecond = 0;
    // Per inference (T steps of activity), pJ.
    double synapticPj = 0, neuronPj = 0, networkPj = 0, staticPj = 0;
    double totalPj() const { return synapticPj + neuronPj + networkPj + staticPj; }
    double synOpsPerInference = 0;
    double spikesPerInference = 0;
    // Literature baseline (Horowitz 45 nm: E_AC 0.9 pJ per SOP, E_MAC 4.6 pJ
    // per MAC of the non-spiking input layer): what SNN papers report.
    double literatureBaselinePj = 0;
    bool ratesMeasured = false;
    bool projectedChip = false;
    int projectedNumbers = 0; // descriptor entries that are assumptions
    std::vector<std::string> notes;
};

Estimate estimateCost(const Network& net, const Mapping& mapping, const ChipDescriptor& chip);

// Multi-line human summary (used by `stc compile` and the package listing).
std::string formatSummary(const Network& net, const Mapping& mapping, const Estimate& e, const ChipDescriptor& chip);

} // namespace stc::target

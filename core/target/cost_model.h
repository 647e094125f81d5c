// Energy and latency per inference estimated from the descriptor's per-event
// constants times the mapping's estimated event counts. Estimates, labelled as
// such in every report; for a projected chip also labelled as projections.
#pragma once

#include "target/mapping.h"

#include <array>
#include <string>
#include <vector>

namespace stc::target {

struct Estimate {
    int64_t steps = 0;             // hardware steps per inference: T + pipeline depth
    double stepTimeNs = 0;         // steady step: every core busy with all its slices
    // Latency mode: sum over the T + depth steps of (slowest core counting only
    // the slices whose population is busy in that step + mesh + barrier).
    double latencyNs = 0;
    double intervalNs = 0;         // throughput mode: T steady steps between inference starts
    double throughputPerSecond = 0;
    std::string scheduleMode = "latency"; // the module's schedule-time mode
    double staticTimeNs = 0;       // time per inference in that mode: static power is charged for it
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

// Estimated events per inference by kind (the same kinds and descriptor keys
// as the simulator's energy ledger), split by population (layer), by core and
// by hardware step of an inference (T + depth steps of the pipelined
// schedule: population p is busy in steps [phase, phase + T)). The totals
// equal estimateCost's dynamic terms: energy = count x energy_pj.<kind>.
// Network events of a route are charged to its source core, and to the
// populations on that core in proportion to their spikes out per step.
enum class EventKind : uint8_t {
    SynapticOp,
    NeuronUpdateActive,
    NeuronUpdateIdle,
    SpikeWithinTile,
    HopEw,
    HopNs,
    ChipLink,
};
constexpr int kEventKindCount = 7;
// "synaptic_op", "neuron_update_active", ... (the descriptor's energy_pj / timing_ns keys).
const char* toString(EventKind k);
double unitCost(const EventCosts& costs, EventKind k);

struct EventTally {
    std::array<double, kEventKindCount> count{}; // events per inference
    double energyPj(const EventCosts& e) const;
    EventTally& operator+=(const EventTally& o);
};

struct CostBreakdown {
    EventTally total;
    std::vector<EventTally> perPopulation; // Network::populations order
    std::vector<EventTally> perCore;       // Mapping::cores order
    std::vector<EventTally> perStep;       // T + depth hardware steps
};

CostBreakdown estimateBreakdown(const Network& net, const Mapping& mapping, const ChipDescriptor& chip);

// Multi-line human summary (used by `stc compile` and the package listing).
std::string formatSummary(const Network& net, const Mapping& mapping, const Estimate& e, const ChipDescriptor& chip);

} // namespace stc::target

// The mapping flow on an extracted network: partition (with the
// load-balancing objective), placement on 1..N chips, routing, statistics.
// The three steps are also exposed separately for the pass manager
// (target_passes.h) and the IDE, which can run and show them one by one.
#pragma once

#include "target/mapping.h"
#include "target/partition.h"
#include "target/placement.h"

namespace stc::target {

// Step 1: partition with the objective of `opt` within the cores of
// `opt.chips` chips. Fills mapping.slices/sliceUsage/sliceInputs/sliceCore
// and one CoreAssignment per logical core (coordinates not yet set). Sets
// fits = false with problems when the model does not fit.
void partitionStep(const Network& net, const ChipDescriptor& chip, const MapOptions& opt, Mapping& mapping,
                   Partition* partitionOut = nullptr);

// Step 2: placement of the logical cores (needs partitionStep).
void placeStep(const Network& net, const ChipDescriptor& chip, const MapOptions& opt, const Partition& part,
               Mapping& mapping);

// Step 3: routes, utilization, step time and summary statistics.
void routeStep(const Network& net, const ChipDescriptor& chip, Mapping& mapping);

// All three.
Mapping mapNetwork(const Network& net, const ChipDescriptor& chip, const MapOptions& opt);

// Spike messages between logical cores (one per source neuron and destination core).
// Axons are found on `threads` host threads (< 1: every host thread); the sums do not depend on it.
// `locator` finds source slices (built for part's blocks and slices).
Traffic computeTraffic(const Network& net, const ChipDescriptor& chip, const Partition& part,
                       const std::vector<int32_t>& sliceCore, int threads, const NeuronLocator& locator);

} // namespace stc::target

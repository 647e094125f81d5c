// The placement a deployment package records, reconstructed for display (the
// IDE's floorplan of an opened package). Only what the package holds:
// slices per core, static resources counted from the core blobs and the
// core-to-core routes with their mesh paths. Rates, synaptic ops and step
// times are not in a package and stay 0.
#pragma once

#include "target/package.h"

namespace stc::target {

// Per core (package core order = Mapping::cores order): coordinates, slices,
// neurons (slice sizes), fan-in axons (input axons), fan-out axons (route
// entries), synapse-table bytes, state bytes (neurons x neuron_state_bytes)
// and their utilization against `chip`'s limits (step time: 0). Routes: one
// per (source core, destination core) pair with route entries between them,
// routed on the board the package's placement used (chips_requested);
// spikesPerStep = 0. chipsUsed, objective, seed and the estimate's step time
// as recorded. Routes whose destination core does not exist are skipped.
Mapping mappingOfPackage(const Package& p, const ChipDescriptor& chip);

} // namespace stc::target

// Bridges from the compiler's results to the store's value structs, so the
// CLI and the IDE record a compile the same way.
#pragma once

#include "passes/runner.h"
#include "sim/ledger.h"
#include "store/project.h"
#include "target/cost_model.h"
#include "target/mapping.h"

#include <vector>

namespace stc::store {

// One PassRow per record; positions continue from `firstPosition` (a compile
// made of several runPipeline calls numbers its entries consecutively).
std::vector<PassRow> toPassRows(const std::vector<passes::PassRecord>& records, int firstPosition = 0);

CompileStatus toCompileStatus(passes::RunStatus s);

// Fills the mapping fields of `r` (mapped = true) from a routed mapping and its estimate.
void setMapping(CompileResult& r, const target::Mapping& mapping, const target::Estimate& estimate);

// The store's summary of a simulation ledger: one entry per layer and event
// kind (counts and energy summed over the samples), static energy as layer "".
SimulationLedger toSimulationLedger(const sim::Ledger& ledger, double seconds);

} // namespace stc::store

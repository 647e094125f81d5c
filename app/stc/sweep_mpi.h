// `mpirun -np N stc sweep ... --project P`: the grid's configurations not yet
// measured in P are dealt round-robin to the ranks; each rank compiles, maps
// and evaluates its share into a private project file, sends the file to
// rank 0, which copies the runs into P in grid order (one sweep), then
// completes the sweep there (every configuration is now measured, so it is
// reused) and evaluates the float baseline. The rows equal a single-process
// run's except for timestamps and wall times.
#pragma once

#include "mpi_session.h"

#include "data/fashion_mnist.h"
#include "ir/module.h"
#include "passes/context.h"
#include "store/project.h"
#include "store/sweep.h"

#include <optional>
#include <string>

namespace stc::cli {

// On rank 0: the complete result (or nullopt after printing why); on the other
// ranks: nullopt once their share is sent (`*failed` tells whether it failed).
std::optional<store::SweepResult> runSweepOverRanks(const MpiSession& mpi, const ir::Module& model,
                                                    const data::ImageSet& test,
                                                    const passes::CalibrationProvider& calibration,
                                                    const store::SweepSpec& spec, store::Project* project,
                                                    const store::ModelSource& source, bool* failed);

} // namespace stc::cli

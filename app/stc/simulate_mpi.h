// `mpirun -np N stc simulate PKG --dataset ...`: each rank simulates a
// contiguous slice of the images; rank 0 adds up the counters (sums, and the
// maximum of the slowest message), the correct answers and the predictions,
// so the ledger equals a single-process run's. Ranks must run the same build
// on the same architecture (counters travel as raw bytes).
#pragma once

#include "mpi_session.h"

#include "sim/simulator.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace stc::cli {

// This rank's samples [first, last) of `samples`.
std::pair<int64_t, int64_t> rankSlice(const MpiSession& mpi, int64_t samples);

// Collective. On rank 0, `r` (counters, samples, threads, wall time = the
// slowest rank's), `predicted` and `correct` become the totals over every
// rank, in sample order, and r.outputs is emptied; returns false on the other
// ranks and when any rank failed (`*failed`).
bool gatherSimulation(const MpiSession& mpi, sim::SimResult& r, std::vector<int>& predicted, int64_t& correct,
                      bool* failed);

} // namespace stc::cli

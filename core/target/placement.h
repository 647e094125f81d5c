// Placement of logical cores on physical cores (space-filling seed + simulated
// annealing on traffic-weighted route cost, deterministic for a seed) and
// dimension-order routing around dead links.
#pragma once

#include "target/mapping.h"

#include <array>
#include <map>
#include <utility>

namespace stc::target {

// Board geometry for a mapping on `chips` chips: the chips used, where they
// sit on the board, and the physical cores that are alive.
struct BoardLayout {
    int chips = 1;
    std::vector<std::array<int, 3>> chipPos; // per chip: board coordinates
    std::vector<CoreCoord> cores;            // alive cores, space-filling order
    int tilesX = 1, tilesY = 1;
};

BoardLayout makeBoardLayout(const ChipDescriptor& chip, int chips);

// Global tile coordinates (x, y across chips; z = board layer) of a core.
std::array<int, 3> globalTile(const BoardLayout& b, const CoreCoord& c);

struct Traffic {
    // (from logical core, to logical core) -> (spikes per step, axons)
    std::map<std::pair<int32_t, int32_t>, std::pair<double, int64_t>> edges;
};

// Cost of one message between two cores (energy, pJ) under the descriptor.
double messageCost(const ChipDescriptor& chip, const BoardLayout& b, const CoreCoord& from, const CoreCoord& to);

// Returns the physical core of each logical core. Logical cores are seeded
// in index order along the space-filling order, then improved by swaps.
std::vector<CoreCoord> placeCores(const ChipDescriptor& chip, const BoardLayout& board, int logicalCores,
                                  const Traffic& traffic, uint64_t seed, int iterations);

// Time-step barrier over the cores in use: interpolated between the
// descriptor's barrier_min (1 tile) and barrier_max (a whole chip) by the
// tiles spanned, plus one chip-link latency per chip hop across the board.
double barrierTimeNs(const ChipDescriptor& chip, const BoardLayout& board, const std::vector<CoreCoord>& used);

// Dimension-order route (x, then y, then z; y-x order or a shortest detour
// when a dead link blocks it). Returns false if the tiles are disconnected.
bool routeBetween(const ChipDescriptor& chip, const BoardLayout& b, const CoreCoord& from, const CoreCoord& to,
                  Route& route);

} // namespace stc::target

// Internal to core/sim: per synapse block of every core, in one flat array
// (core_major.cpp, slice_graph.cpp, pull_plan.cpp).
#pragma once

#include "sim/program.h"

#include <cstdint>
#include <vector>

namespace stc::sim::detail {

// The synapse blocks of every core numbered in one sequence (the global
// block index), with what is looked up per route or message kept in flat
// arrays instead of the large blocks themselves.
struct BlockIndex {
    std::vector<uint32_t> base; // per core: its first block
    std::vector<int32_t> slice, delay, lastSend;
    explicit BlockIndex(const SimProgram& prog)
    {
        for (const CoreProgram& cp : prog.cores) {
            base.push_back(uint32_t(slice.size()));
            for (const SynapseBlock& b : cp.inputs)
                slice.push_back(b.slice), delay.push_back(b.delay), lastSend.push_back(b.lastSend);
        }
    }
    size_t at(const RouteHop& rt) const { return base[size_t(rt.destCore)] + uint32_t(rt.destInput); }
};

} // namespace stc::sim::detail

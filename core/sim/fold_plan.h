// Internal to core/sim (core_major.cpp): messages summed where they are sent.
//
// An attention product neuron sends one message, into a one-synapse record of
// its score's (or output's) accumulator in a later slice: 0.9 M such
// messages per 4-384 inference, each appended to its class's list by the
// sender and read back, turned into an axon entry and added by the receiver
// (≈ 45 cycles a message, docs/performance.md, session 18). A slice every one
// of whose neurons has at most one route, each into a one-synapse record of
// a row block in a later component, is folded instead: its events add
// x * weight straight into a per-(destination block, sample, step) sum, which
// the destination adds into its accumulators at the arrival step. The
// sender's counters are charged per message from the route, the receiver's
// per message from the record (synapses, table bytes), at the same (core,
// step) slots as the pull path, with the same drops (past the block's
// lastSend or the window). Sums of int32 additions do not depend on their
// order (worker.h), so accumulators, outputs and counters are the pull
// path's. Test: core_test_sim_folds.
#pragma once

#include "sim/block_index.h"
#include "sim/simulator.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace stc::sim::detail {

struct FoldPlan {
    // A destination block some folded slice sends into. (Its compartment,
    // delay and lastSend are read from the program by each run: fields of a
    // block that the plan's key does not cover.)
    struct Receiver {
        uint32_t block = 0;        // global block
        int32_t core = 0, input = 0, node = 0;
        uint32_t first = 0, count = 0; // the destination slice's core-local neurons
        int64_t phase = -1;            // the senders' phase (all folded senders into a block share it)
    };
    std::vector<Receiver> receivers;
    std::vector<int32_t> receiverOf; // per global block: its receiver, or -1
    // Per destination node: its receivers [nodeStart[v], nodeStart[v + 1]).
    std::vector<uint32_t> nodeStart, nodeReceivers;
    // What one route of a folded slice is: its receiver, its mesh path (sender
    // counters) and its record's synapses and table bytes (receiver counters).
    struct Kind {
        uint32_t receiver = 0;
        RouteHop route;
        int32_t ops = 0, bytes = 0;
    };
    struct Node {
        std::vector<Kind> kinds;
        // Per slice neuron: kind << 24 | (target - receiver's first), or
        // kNoRoute; and the record's weight. Slices of one layout share them.
        std::shared_ptr<const std::vector<uint32_t>> code;
        std::shared_ptr<const std::vector<int32_t>> weight;
    };
    static constexpr uint32_t kNoRoute = ~0u;
    std::vector<int32_t> nodeFold; // per node: index into folds, or -1
    std::vector<Node> folds;
};

// The folds of `prog` for its slice graph `g` (nothing unless bySlice).
FoldPlan foldPlan(const SimProgram& prog, const CoreGraph& g, const BlockIndex& bi);

} // namespace stc::sim::detail

// Internal to core/sim (core_major.cpp): attention product slices simulated
// from their operands instead of their accumulators.
//
// A product neuron's two compartments each receive one synapse (the left and
// the right operand of one term of a spike matmul); it is busy when either is
// non-zero and emits their product when both are (worker.h). The usual path
// scatters every operand message into the accumulators of all its synapses
// (a token's query spike reaches all 64 keys' products) and scans the whole
// slice (8,192 neurons a core on the 4-384). Here a message only adds its
// payload to its record's slot (one word), and the update walks the
// synapses of the operand side that received fewer of them, looking up the
// other side's slot of each neuron it reaches. The results are those of the
// accumulator path: a neuron's compartment holds sum(x) * w over the messages
// of its one record (int32 arithmetic mod 2^32, as the accumulation), active =
// (neurons with a non-zero left) + (with a non-zero right) - (with both), the
// events are sorted by neuron, and a message is charged its record's synaptic
// ops and table bytes as before. Test: core_test_sim_product_forms.
#pragma once

#include "sim/block_index.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace stc::sim::detail {

struct ProductForms {
    // Per global block (BlockIndex order): the form its messages go to (-1:
    // none), the operand side (its compartment) and the slot of a record:
    // base + (entry >> shift) (2^shift: at most the shortest record of the
    // block, so that distinct records have distinct slots).
    struct BlockSlot {
        int32_t form = -1;
        uint32_t side = 0, base = 0, shift = 0;
    };
    std::vector<BlockSlot> blocks;
    struct Form {
        int32_t core = 0, slice = 0;
        uint32_t first = 0, count = 0; // core-local neurons
        uint32_t slots = 0;            // both sides' slots; the last one is never written (no synapse)
        // Per slice neuron: the slot of its synapse of each side. Slices of one
        // layout share one table (the 4-384's 1,536 product slices have 4),
        // which stays in cache from one slice's update to the next.
        std::shared_ptr<const std::vector<uint16_t>> slotOf[2];
        std::vector<int32_t> weightOf[2]; // per slice neuron, or empty: all weights of the side are weight[side]
        int32_t weight[2] = {0, 0};
        int maxZeros[2] = {0, 0}; // the most trailing zero bits of a weight of the side (32: a zero weight)
        int32_t weightAt(int side, uint32_t i) const
        {
            return weightOf[side].empty() ? weight[side] : weightOf[side][i];
        }
    };
    std::vector<Form> forms; // (built from the rows the plan's key covers: GraphCache rebuilds them after an edit)
};

// The forms of every product slice all of whose input blocks are row-form
// (not conv) into compartments 0 and 1, each of its neurons reached by at
// most one record of each side, with at most 65,535 slots.
ProductForms productForms(const SimProgram& prog, const BlockIndex& bi);

} // namespace stc::sim::detail

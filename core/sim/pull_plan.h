// Internal to core/sim (core_major.cpp): the pull plan of a program, derived
// from its routes and its slice graph (sim::coreGraph).
//
// Core-major execution runs a slice for all steps of a sample before any
// slice of a later component, so the messages into a later component need
// not be pushed route by route into the receiver's inbox (13 ns per message
// on the 4-384: a cold route load, the destination lookup, the inbox
// append, docs/performance.md). Most neurons of a slice send to the same
// blocks as many others: the neurons of one token of a linear layer reach the
// cores holding that token's outputs, all products of one score reach its
// accumulator. A slice's neurons are grouped into classes: neurons whose
// routes into later components go to the same blocks in the same order, with
// the same mesh paths and, into conv_shared blocks, to axons of the same input
// position (a block's subscriptions are ordered by that position, so that
// conv delivery meets one position's messages together, conv_tiles.h). The sender appends each event once, to its class's
// list of the step (its slot in the class and its value); a receiving block
// subscribes to the classes that reach it, and at the arrival step reads
// each subscribed class's events, turning a slot into its axon entry through
// the subscription's table (one entry per member of the class). Counters of
// the sender come from the class (every member's routes have the same
// destinations and paths, so the same sums). Routes inside a component, and
// every route of a slice with too many classes to pay (more than a quarter
// of its neurons), are still pushed.
#pragma once

#include "sim/fold_plan.h"
#include "sim/product_forms.h"
#include "sim/program.h"
#include "sim/simulator.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace stc::sim::detail {

// x[i] = table[i % period] + (i / period) * step for i < n: every sequence
// has this form with period n - 1 or less; the plan keeps the smallest
// period, so that a regular layout (a token's features, an attention row's
// products) is a table of a few words that stays in cache instead of a word
// per neuron or synapse read cold (docs/performance.md, session 16).
struct Periodic {
    uint32_t period = 1;
    uint32_t table = 0; // offset of the table in its array
    uint64_t magic = 0; // i / period == (magic * i) >> 64 for 32-bit i (period > 1; Lemire et al. 2019)
    Periodic() = default;
    Periodic(uint32_t p, uint32_t t) : period(p), table(t), magic(p > 1 ? ~uint64_t(0) / p + 1 : 0) {}
    // Index i as (i / period, i % period).
    std::pair<uint32_t, uint32_t> split(uint32_t i) const
    {
        if (period == 1)
            return {i, 0};
        __extension__ using Wide = unsigned __int128;
        const uint32_t q = uint32_t(Wide(magic) * i >> 64);
        return {q, i - q * period};
    }
};
// The smallest such period of the sequence v (of values comparable with ==
// whose differences are again such values), 1 when v has fewer than 3 elements.
template <typename T, typename Diff>
uint32_t periodOf(const std::vector<T>& v, Diff&& diff)
{
    const size_t m = v.size() < 2 ? 0 : v.size() - 1; // differences d[j] = v[j + 1] - v[j]
    if (m < 2)
        return 1;
    std::vector<decltype(diff(v[1], v[0]))> d(m);
    for (size_t j = 0; j < m; ++j)
        d[j] = diff(v[j + 1], v[j]);
    std::vector<uint32_t> pi(m, 0); // KMP prefix function: the smallest period of d is m - pi[m - 1]
    for (size_t j = 1; j < m; ++j) {
        uint32_t k = pi[j - 1];
        while (k > 0 && !(d[j] == d[k]))
            k = pi[k - 1];
        pi[j] = k + (d[j] == d[k] ? 1 : 0);
    }
    return uint32_t(m - pi[m - 1]);
}

struct PullPlan {
    // Per node: the class and slot of its slice's neuron first + i:
    // classTable[map.table + i % map.period] plus (i / map.period) times
    // (classStep, slotStep). A node without classes pushes everything; a
    // class of -1 (only where the period is the slice's size) is a neuron
    // whose routes are all pushed.
    struct ClassSlot {
        int32_t cls;
        uint32_t slot;
    };
    struct NodeMap {
        Periodic map;
        int32_t classStep = 0, slotStep = 0;
        uint32_t classes = 0, classBase = 0; // its classes in classCounts
    };
    std::vector<NodeMap> nodes;
    std::vector<ClassSlot> classTable;
    // Sender counters of one event of a class (all its pulled routes).
    struct ClassCounts {
        uint32_t messages = 0, hopsEw = 0, hopsNs = 0, chipLinks = 0, chipMessages = 0;
        float maxNs = 0;
    };
    std::vector<ClassCounts> classCounts;
    // Per global block (BlockIndex order): its subscriptions
    // [blockSubStart[g], blockSubStart[g + 1]). The axon entry of slot s of
    // the class: entries[entry.table + s % period] + (s / period) * step.
    struct Sub {
        int32_t node;   // the sending slice
        uint32_t cls;   // its class, local to the node
        Periodic entry;
        uint32_t step;  // mod 2^32
    };
    std::vector<uint32_t> blockSubStart;
    std::vector<Sub> subs;
    std::vector<uint32_t> entries;
    // Per subscription into a conv_shared block whose axons all share one
    // contiguous group and tap list (a class reaches one input position):
    // that group and taps, and the kernel row of slot s,
    // rows[row.table + s % period] + (s / period) * rowStep, so that its
    // messages go into tiles without an axon load each (core_major.cpp,
    // deliverPulls). group -1: none (the messages go through records).
    struct SubTile {
        int32_t group = -1, tapBegin = 0, tapEnd = 0;
        uint32_t rowStep = 0;
        Periodic row;
    };
    std::vector<SubTile> subTiles;
    std::vector<uint32_t> rows;
    // Per subscription into a row block whose every member's record is one
    // synapse (the residual adds, max-pool windows of one): the target and
    // weight of slot s as periodic tables in `scatter`, and the table bytes
    // a message reads, so that its messages add x * weight without loading
    // the record (deliverPulls). Read only while the block's unitRunsValid()
    // holds, which the plan required too: its rows are still the ones the
    // weights were copied from (an edit ends it). bytes -1: none.
    struct SubScatter {
        Periodic target, weight;
        uint32_t targetStep = 0, weightStep = 0;
        int32_t bytes = -1;
    };
    std::vector<SubScatter> subScatters;
    std::vector<uint32_t> scatter;
    // Per core: the routes still pushed, per core-local neuron (CSR). A core
    // none of whose routes is pulled keeps its own table (own).
    struct Push {
        bool own = true;
        std::vector<uint32_t> start;
        std::vector<RouteHop> routes;
    };
    std::vector<Push> push;
    int64_t pulledRoutes = 0, pushedRoutes = 0;

    const uint32_t* pushStart(const CoreProgram& cp, size_t c) const
    {
        return push[c].own ? cp.routeStart.data() : push[c].start.data();
    }
    const RouteHop* pushRoutes(const CoreProgram& cp, size_t c) const
    {
        return push[c].own ? cp.routes.data() : push[c].routes.data();
    }
};

// What GraphCache keeps: the slice graph and its pull plan.
struct CoreMajorPlan {
    CoreGraph graph;
    PullPlan pull;
    ProductForms products; // product slices core-major runs from their operands
    FoldPlan folds;        // slices whose messages are summed at the sender
    // Chip states that finished runs of this plan left, with their slices'
    // dirty flags, for the next run to take instead of allocating and
    // zeroing a chip (core_major.cpp; type-erased: CoreState is internal to
    // the simulator's hot code).
    mutable std::mutex spareMu;
    mutable std::vector<std::shared_ptr<void>> spares;
};
std::shared_ptr<const CoreMajorPlan> coreMajorPlan(const SimProgram& prog);

// The plan of `prog` for the slice graph `g` (bySlice). Cores are planned on
// `threads` threads (< 1: one per hardware thread); the plan does not depend
// on the count.
PullPlan pullPlan(const SimProgram& prog, const CoreGraph& g, int threads = 0);

} // namespace stc::sim::detail

// Internal to core/sim (core_major.cpp): the delivery of messages into a
// synapse block whose runs all have length 1 (SynapseBlock::unitRuns).
#pragma once

#include "sim/pull_outbox.h"
#include "sim/pull_plan.h"
#include "sim/worker.h"

namespace stc::sim::detail {

struct UnitRows {
// The messages of a record into a block whose runs all have length 1
// (stride 1: binary entries, 2: entry and x): a scatter of x * weight
// into each record's targets, without the generic run walk (which
// branches on the length per run), the records prefetched kAhead
// messages ahead. Most of them are one synapse (the attention product
// operands); prefetching the targets' accumulators 8 messages ahead as
// well measured slower.
template <uint32_t stride>
static void deliver(const SynapseBlock& b, const uint32_t* e, uint32_t count, int32_t* acc,
                    int64_t& ops, int64_t& bytes)
{
    constexpr uint32_t kAhead = Worker::kAhead * stride;
    const int32_t* rows = b.rows.data();
    const uint32_t m = count * stride;
    for (uint32_t i = 0; i < m && i < kAhead; i += stride)
        prefetchRow(rows, e[i]);
    for (uint32_t i = 0; i < m; i += stride) {
        if (i + kAhead < m)
            prefetchRow(rows, e[i + kAhead]);
        add(rows + e[i], stride == 2 ? int32_t(e[i + 1]) : 1, acc, ops, bytes);
    }
}

// One record of one-synapse runs ({runs, synapses, table bytes}, then
// {target, 1, weight} per synapse) with payload x into acc.
static void add(const int32_t* r, int32_t x, int32_t* acc, int64_t& ops, int64_t& bytes)
{
    const int32_t runs = r[0];
    ops += r[1], bytes += r[2];
    r += SynapseBlock::kRowHeader;
    for (int32_t k = 0; k < runs; ++k, r += SynapseBlock::kRunHeader + 1)
        acc[r[0]] += x * r[SynapseBlock::kRunHeader];
}

// The pulled messages of subscriptions due[i .. end) into a block whose
// unitRunsValid() the caller checked, when every one of them has a scatter
// form (PullPlan::SubScatter; else false): x * weight into each slot's
// target, without loading its record. Items are cold: their loads start
// itemsAhead subscriptions ahead.
template <typename Due>
static bool scatterPulled(const PullPlan& pull, const std::vector<Due>& due, size_t i, size_t end,
                          const pulled::Arena& arena, int32_t* acc, int64_t& ops,
                          int64_t& bytes, size_t itemsAhead)
{
    for (size_t j = i; j < end; ++j)
        if (pull.subScatters[due[j].sub].bytes < 0)
            return false;
    const uint32_t* tables = pull.scatter.data();
    for (; i < end; ++i) {
        if (i + itemsAhead < due.size())
            prefetch(arena.at(due[i + itemsAhead].begin));
        const PullPlan::SubScatter& sc = pull.subScatters[due[i].sub];
        const pulled::Item* items = arena.at(due[i].begin);
        const uint32_t n = due[i].end - due[i].begin;
        const uint32_t* target = tables + sc.target.table;
        const uint32_t* weight = tables + sc.weight.table;
        for (uint32_t k = 0; k < n; ++k) {
            const uint32_t slot = items[k].slot;
            const auto [tq, tr] = sc.target.split(slot);
            const auto [wq, wr] = sc.weight.split(slot);
            acc[target[tr] + tq * sc.targetStep] += items[k].value * int32_t(weight[wr] + wq * sc.weightStep);
        }
        ops += n, bytes += int64_t(n) * sc.bytes;
    }
    return true;
}

// Starts loading the row record at `entry` (conv blocks go through
// ConvTiles::deliver, which prefetches their axons itself).
static void prefetchRow(const int32_t* rows, uint32_t entry) { prefetch(rows + entry), prefetch(rows + entry + 16); }
};

} // namespace stc::sim::detail

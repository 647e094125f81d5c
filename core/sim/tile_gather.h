// Internal to core/sim (core_major.cpp): the pulled messages into a
// conv_shared block gathered as tiles straight from the subscriptions' items
// (CoreMajor::deliverPulls), without a record of axon entries and an axon
// load per message: a subscription in tile form (PullPlan::SubTile) gives
// every message's kernel row, and all of them share one group and tap list.
// Include only after the O3 pragma, as conv_tiles.h.
#pragma once

#include "sim/conv_tiles.h"
#include "sim/pull_outbox.h"
#include "sim/pull_plan.h"

#include <algorithm>

namespace stc::sim::detail {

struct TileGather {
    std::vector<ConvTiles::Gathered> tiles;
    std::vector<int32_t> rows[2]; // binary and graded messages' kernel rows
    std::vector<int32_t> xs;      // the graded messages' payloads

    // The messages of subscriptions due[i .. end) (`most` in all), when
    // every one of them has a tile form (else false): consecutive
    // subscriptions of one group and tap list share tiles, binary and graded
    // messages apart, up to ConvTiles::kTile each. Items are cold (written
    // by another component): their loads start itemsAhead subscriptions ahead.
    template <typename Due>
    bool gather(const PullPlan& pull, const std::vector<Due>& due, size_t i, size_t end, const pulled::Arena& arena,
                uint32_t most, size_t itemsAhead)
    {
        for (size_t j = i; j < end; ++j)
            if (pull.subTiles[due[j].sub].group < 0)
                return false;
        tiles.clear();
        for (std::vector<int32_t>& r : rows)
            if (r.size() < most)
                r.resize(most);
        if (xs.size() < most)
            xs.resize(most);
        int32_t* bin = rows[0].data();
        int32_t* gr = rows[1].data();
        int32_t* x = xs.data();
        uint32_t fill[2] = {0, 0}; // rows written of each kind
        // The rows of a run of subscriptions of one group and tap list, cut
        // into tiles of up to kTile rows of each kind.
        auto closeRun = [&](const PullPlan::SubTile& t, const uint32_t* from) {
            for (uint32_t graded = 0; graded < 2; ++graded)
                for (uint32_t at = from[graded]; at < fill[graded]; at += ConvTiles::kTile)
                    tiles.push_back({t.group, t.tapBegin, t.tapEnd, at, std::min(ConvTiles::kTile, fill[graded] - at),
                                     graded});
        };
        uint32_t from[2] = {0, 0};
        const PullPlan::SubTile* last = nullptr;
        for (; i < end; ++i) {
            if (i + itemsAhead < due.size())
                prefetch(arena.at(due[i + itemsAhead].begin));
            const PullPlan::SubTile& t = pull.subTiles[due[i].sub];
            if (last && (t.group != last->group || t.tapBegin != last->tapBegin)) {
                closeRun(*last, from);
                from[0] = fill[0], from[1] = fill[1];
            }
            last = &t;
            const uint32_t* table = pull.rows.data() + t.row.table;
            const pulled::Item* items = arena.at(due[i].begin);
            const uint32_t n = due[i].end - due[i].begin;
            uint32_t f0 = fill[0], f1 = fill[1];
            // Both kinds are written, the one of the message's kind advances.
            auto put = [&](int32_t row, int32_t value) {
                const bool one = value == 1;
                bin[f0] = row, gr[f1] = row, x[f1] = value;
                f0 += one, f1 += !one;
            };
            if (t.row.period == 1)
                for (uint32_t k = 0; k < n; ++k)
                    put(int32_t(table[0] + items[k].slot * t.rowStep), items[k].value);
            else
                for (uint32_t k = 0; k < n; ++k) {
                    const auto [q, r] = t.row.split(items[k].slot);
                    put(int32_t(table[r] + q * t.rowStep), items[k].value);
                }
            fill[0] = f0, fill[1] = f1;
        }
        if (last)
            closeRun(*last, from);
        return true;
    }
};

} // namespace stc::sim::detail

// Internal to core/sim (core_major.cpp): what CoreMajor::sendPulled leaves
// for the subscriptions that read it (sim/pull_plan.h).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace stc::sim::detail {

namespace pulled {
// One sample's events of the slices' pulled routes (one Arena per sample of
// a chunk): per slice and step with any (Rec), the items grouped by class,
// class k's at item indices [off[Rec::off + k], off[Rec::off + k + 1]). A
// slice's Recs form a list (the slices of a cycle send step by step in turn).
struct Item {
    uint32_t slot; // in the class
    int32_t value;
    Item() {} // left uninitialized: sendPulled writes every item it takes
    Item(uint32_t s, int32_t v) : slot(s), value(v) {}
};
constexpr uint32_t kNone = ~0u;
struct Rec {
    int32_t stepIndex;
    uint32_t off, next;
};
struct Arena {
    std::vector<Rec> recs;
    std::vector<uint32_t> off;
    // Items in blocks of 2^shift, kept from chunk to chunk and, with the
    // chip state, from run to run (a growing vector copied every item at
    // each doubling); a segment's items are contiguous within one block.
    int shift = 16;
    std::vector<std::unique_ptr<Item[]>> blocks;
    uint32_t used = 0;
    void clear() { recs.clear(), off.clear(), used = 0; }
    // Room for n contiguous items (n <= 2^shift): the index of the first.
    uint32_t take(uint32_t n)
    {
        const uint32_t block = 1u << shift;
        uint32_t at = used;
        if ((at & (block - 1)) + n > block)
            at = (at + block - 1) & ~(block - 1);
        while (blocks.size() <= ((at + n) >> shift))
            blocks.push_back(std::make_unique_for_overwrite<Item[]>(block));
        used = at + n;
        return at;
    }
    Item* at(uint32_t i) const { return blocks[i >> shift].get() + (i & ((1u << shift) - 1)); }
};
} // namespace pulled

} // namespace stc::sim::detail

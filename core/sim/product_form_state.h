// Internal to core/sim (core_major.cpp): the messages one worker holds for a
// product slice in operand form between its deliveries and its update
// (product_forms.h). Include only from .cpp files compiled with the O3
// pragma, as worker.h.
#pragma once

#include "sim/product_forms.h"
#include "sim/worker.h"

#include <algorithm>
#include <bit>

namespace stc::sim::detail {

// What one worker keeps of one form between its deliveries and its update.
class ProductFormState final : public ProductSource {
public:
    explicit ProductFormState(const ProductForms::Form& f)
        : f_(&f), value_(f.slots, 0), mark_(f.slots, 0)
    {
    }

    // A message with payload x into the record at `entry` of `block` (slot
    // bs), charged as the accumulator path charges it.
    void put(const ProductForms::BlockSlot& bs, const SynapseBlock& block, uint32_t entry, int32_t x, int64_t& ops,
             int64_t& bytes)
    {
        const int32_t* record = block.rows.data() + entry;
        ops += record[1], bytes += record[2];
        const uint32_t slot = bs.base + (entry >> bs.shift);
        value_[slot] = int32_t(uint32_t(value_[slot]) + uint32_t(x));
        if (!mark_[slot]) {
            mark_[slot] = 1;
            touched_[bs.side].push_back({slot, record});
            synapses_[bs.side] += uint32_t(record[1]);
        }
    }

    // The update: writes the emitting neurons' events at dst (room for the
    // slice) and forgets the messages.
    ScanResult emit(Event* dst) override
    {
        ScanResult r;
        const int walk = synapses_[0] <= synapses_[1] ? 0 : 1, look = 1 - walk;
        const ProductForms::Form& f = *f_;
        int64_t lookBusy = 0;
        for (const Touch& t : touched_[look]) {
            const int32_t x = value_[t.slot];
            if (x != 0)
                lookBusy += std::countr_zero(uint32_t(x)) + f.maxZeros[look] < 32 ? t.record[1]
                                                                                   : nonZero(t.record, x);
        }
        // Each neuron is reached by one record per side at most (the form's
        // condition), so the walk meets it once: its event is written there,
        // in walk order (arrival order of the walked records, then target
        // order within each), not neuron order.
        uint32_t emitted = 0;
        const int64_t walkBusy = f.weightOf[0].empty() && f.weightOf[1].empty() ? walkSide<true>(walk, dst, emitted)
                                                                                : walkSide<false>(walk, dst, emitted);
        r.emitted = emitted;
        r.active = walkBusy + lookBusy - r.emitted;
        clear();
        return r;
    }

    // Forgets the messages (a new sample: those after the last update are dropped).
    void clear()
    {
        for (std::vector<Touch>& side : touched_) {
            for (const Touch& t : side)
                value_[t.slot] = 0, mark_[t.slot] = 0;
            side.clear();
        }
        synapses_[0] = synapses_[1] = 0;
    }

private:
    struct Touch {
        uint32_t slot;
        const int32_t* record;
    };
    // The synapses of the walked side's messages: the event {neuron, product}
    // of each neuron whose operands are both non-zero, at dst[emitted++].
    // Returns the neurons with a non-zero walked operand. uniform: every
    // weight of each side is f.weight[side] (the compiler's products: 1), so
    // a record's walked operand is one value.
    template <bool uniform>
    int64_t walkSide(int walk, Event* dst, uint32_t& emitted)
    {
        const ProductForms::Form& f = *f_;
        const int look = 1 - walk;
        const uint16_t* lookSlot = f.slotOf[look]->data();
        const int32_t* lookWeights = uniform ? nullptr : f.weightOf[look].empty() ? nullptr : f.weightOf[look].data();
        const uint32_t lw = uint32_t(f.weight[look]), ww = uint32_t(f.weight[walk]);
        int64_t busy = 0;
        for (const Touch& t : touched_[walk]) {
            const uint32_t x = uint32_t(value_[t.slot]);
            const int32_t* rec = t.record;
            const int32_t runs = rec[0];
            if (x == 0 || runs == 0 || (uniform && x * ww == 0))
                continue;
            if (uniform)
                busy += rec[1];
            rec += SynapseBlock::kRowHeader;
            // Written always, kept when both operands are non-zero: no branch
            // per product (dst has room for the slice).
            uint32_t n = emitted;
            auto visit = [&](uint32_t i, int32_t weight) {
                const uint32_t a = x * (uniform ? ww : uint32_t(weight));
                const uint32_t b = uint32_t(value_[lookSlot[i]]) * (lookWeights ? uint32_t(lookWeights[i]) : lw);
                dst[n] = {f.first + i, int32_t(a * b)};
                if (uniform) {
                    n += b != 0;
                } else {
                    busy += a != 0;
                    n += (a != 0) & (b != 0);
                }
            };
            if (t.record[1] == runs) { // one-synapse runs {target, 1, weight}: most walks (strided operand rows)
                for (int32_t k = 0; k < runs; ++k, rec += SynapseBlock::kRunHeader + 1)
                    visit(uint32_t(rec[0]) - f.first, rec[SynapseBlock::kRunHeader]);
            } else {
                SynapseBlock::forEachRunAt(t.record, [&](uint32_t first, const int32_t* w, uint32_t len) {
                    for (uint32_t j = 0; j < len; ++j)
                        visit(first - f.first + j, w[j]);
                });
            }
            emitted = n;
        }
        return busy;
    }
    // Synapses of a record whose x * weight is not zero mod 2^32.
    static int64_t nonZero(const int32_t* rec, int32_t x)
    {
        int64_t n = 0;
        SynapseBlock::forEachRunAt(rec, [&](uint32_t, const int32_t* w, uint32_t len) {
            for (uint32_t j = 0; j < len; ++j)
                n += uint32_t(x) * uint32_t(w[j]) != 0;
        });
        return n;
    }
    const ProductForms::Form* f_;
    std::vector<int32_t> value_;
    std::vector<uint8_t> mark_;
    std::vector<Touch> touched_[2];
    uint64_t synapses_[2] = {0, 0};
};

// The form states of one worker, found by node (the update) and by global
// block (the deliveries).
class ProductFormStates {
public:
    // Forms only when the slice graph is per slice.
    void bind(const ProductForms& pf, const CoreGraph& g)
    {
        if (!g.bySlice)
            return;
        forms_ = &pf;
        nodeForm_.assign(g.nodes.size(), -1);
        for (const ProductForms::Form& f : pf.forms) {
            nodeForm_[size_t(g.sliceBase[size_t(f.core)] + f.slice)] = int32_t(states_.size());
            states_.emplace_back(f);
        }
    }
    ProductFormState* ofNode(int32_t v)
    {
        return nodeForm_.empty() || nodeForm_[size_t(v)] < 0 ? nullptr : &states_[size_t(nodeForm_[size_t(v)])];
    }
    bool takes(size_t g) const { return forms_ && forms_->blocks[g].form >= 0; }
    // The messages of a record into global block g (takes(g)): `count`
    // entries, or (entry, x) pairs when graded.
    void putRecord(size_t g, const SynapseBlock& b, const uint32_t* e, uint32_t count, bool graded, int64_t& ops,
                   int64_t& bytes)
    {
        const ProductForms::BlockSlot& bs = forms_->blocks[g];
        ProductFormState& fs = states_[size_t(bs.form)];
        for (uint32_t i = 0; i < count; ++i)
            fs.put(bs, b, e[i << graded], graded ? int32_t(e[(i << 1) + 1]) : 1, ops, bytes);
    }
    // The messages forEach(f) calls f(entry, x) with, into global block g (takes(g)).
    template <typename ForEach>
    void putPulled(size_t g, const SynapseBlock& b, ForEach&& forEach, int64_t& ops, int64_t& bytes)
    {
        const ProductForms::BlockSlot& bs = forms_->blocks[g];
        ProductFormState& fs = states_[size_t(bs.form)];
        forEach([&](uint32_t entry, int32_t x) { fs.put(bs, b, entry, x, ops, bytes); });
    }

private:
    const ProductForms* forms_ = nullptr;
    std::vector<ProductFormState> states_;
    std::vector<int32_t> nodeForm_; // per node: its form, or -1
};

} // namespace stc::sim::detail

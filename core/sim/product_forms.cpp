// ProductForms: which product slices core-major simulates from their
// operands (product_forms.h), with each neuron's slot per side.
#include "sim/product_forms.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <map>

namespace stc::sim::detail {

namespace {
// Words of the record at `entry` (header and runs).
uint32_t recordWords(const int32_t* rows, uint32_t entry)
{
    return SynapseBlock::forEachRunAt(rows + entry, [](uint32_t, const int32_t*, uint32_t) {});
}

// The form of slice k of core c, or false when it does not have one. Fills
// the slots of its blocks into `slots` (per global block).
using SlotTable = std::shared_ptr<const std::vector<uint16_t>>;
// Tables with equal contents share one copy.
struct SlotTables {
    std::map<std::vector<uint16_t>, SlotTable> known;
    SlotTable intern(std::vector<uint16_t> v)
    {
        auto it = known.find(v);
        if (it == known.end())
            it = known.emplace(v, std::make_shared<const std::vector<uint16_t>>(v)).first;
        return it->second;
    }
};

bool buildForm(const SimProgram& prog, const BlockIndex& bi, size_t c, size_t k, ProductForms::Form& f,
               std::vector<ProductForms::BlockSlot>& slots, int32_t formIndex, SlotTables& tables)
{
    const CoreProgram& cp = prog.cores[c];
    const SliceInfo& si = cp.slices[k];
    if (si.count <= 0 || si.count > std::numeric_limits<int32_t>::max())
        return false;
    f.core = int32_t(c), f.slice = int32_t(k);
    f.first = uint32_t(si.first), f.count = uint32_t(si.count);
    constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
    std::vector<uint32_t> slotOf[2] = {std::vector<uint32_t>(f.count, kNone), std::vector<uint32_t>(f.count, kNone)};
    std::vector<int32_t> weightOf[2] = {std::vector<int32_t>(f.count, 0), std::vector<int32_t>(f.count, 0)};
    std::vector<std::pair<size_t, ProductForms::BlockSlot>> mine;
    uint32_t next = 0;
    for (size_t i = 0; i < cp.inputs.size(); ++i) {
        const SynapseBlock& b = cp.inputs[i];
        if (b.slice != int32_t(k))
            continue;
        if (b.conv || b.compartment < 0 || b.compartment > 1 || b.rows.empty())
            return false;
        std::vector<uint32_t> entries(b.rowStart.begin(), b.rowStart.end());
        std::sort(entries.begin(), entries.end());
        entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
        if (entries.empty())
            continue;
        // Distinct records are at least `div` words apart: entry >> shift (2^shift <= div) tells them apart.
        uint32_t div = recordWords(b.rows.data(), entries.back());
        for (size_t j = 1; j < entries.size(); ++j)
            div = std::min(div, entries[j] - entries[j - 1]);
        const uint32_t shift = uint32_t(std::bit_width(std::max<uint32_t>(div, 1)) - 1);
        ProductForms::BlockSlot bs{formIndex, uint32_t(b.compartment), next, shift};
        const int side = b.compartment;
        for (uint32_t e : entries) {
            const uint32_t slot = bs.base + (e >> bs.shift);
            bool ok = true;
            SynapseBlock::forEachRunAt(b.rows.data() + e, [&](uint32_t first, const int32_t* w, uint32_t len) {
                for (uint32_t j = 0; j < len && ok; ++j) {
                    const uint64_t i = uint64_t(first) + j - f.first;
                    // outside the slice, or a second record into one compartment
                    ok = i < f.count && slotOf[side][i] == kNone;
                    if (ok)
                        slotOf[side][i] = slot, weightOf[side][i] = w[j];
                }
            });
            if (!ok)
                return false;
        }
        next = bs.base + (entries.back() >> bs.shift) + 1;
        if (next >= 65535)
            return false;
        mine.emplace_back(bi.base[c] + i, bs);
    }
    f.slots = next + 1; // slot `next`: never written, for neurons no record of a side reaches
    for (int side = 0; side < 2; ++side) {
        std::vector<uint16_t> table(f.count);
        bool uniform = true;
        f.weight[side] = weightOf[side][0];
        f.maxZeros[side] = 0;
        for (uint32_t i = 0; i < f.count; ++i) {
            table[i] = uint16_t(slotOf[side][i] == kNone ? next : slotOf[side][i]);
            uniform &= weightOf[side][i] == f.weight[side];
            if (slotOf[side][i] != kNone)
                f.maxZeros[side] = std::max(f.maxZeros[side], std::countr_zero(uint32_t(weightOf[side][i])));
        }
        if (!uniform)
            f.weightOf[side] = std::move(weightOf[side]);
        f.slotOf[side] = tables.intern(std::move(table));
    }
    for (const auto& [g, bs] : mine)
        slots[g] = bs;
    return true;
}
} // namespace

ProductForms productForms(const SimProgram& prog, const BlockIndex& bi)
{
    ProductForms pf;
    SlotTables tables;
    pf.blocks.resize(bi.slice.size());
    for (size_t c = 0; c < prog.cores.size(); ++c) {
        const CoreProgram& cp = prog.cores[c];
        for (size_t k = 0; k < cp.slices.size(); ++k) {
            if (prog.populations[size_t(cp.slices[k].pop)].kind != NeuronKind::Product)
                continue;
            ProductForms::Form f;
            if (buildForm(prog, bi, c, k, f, pf.blocks, int32_t(pf.forms.size()), tables))
                pf.forms.push_back(std::move(f));
        }
    }
    return pf;
}

} // namespace stc::sim::detail

// Open-addressing map from value name to ValueId for the parser and the
// verifier: one flat array instead of a node per name, so a module with
// hundreds of thousands of values is indexed without a cache miss per node.
#pragma once

#include "ir/module.h"

#include <functional>
#include <utility>
#include <string_view>
#include <vector>

namespace stc::ir {

class NameIndex {
public:
    explicit NameIndex(size_t expected = 0) { resize(expected * 2 + 16); }

    // Stores name -> id unless the name is present; returns the id stored
    // before (kNoValue if the name is new). `name` must outlive the index.
    ValueId insert(std::string_view name, ValueId id)
    {
        if ((count_ + 1) * 2 > slots_.size())
            resize(slots_.size() * 2);
        const size_t h = std::hash<std::string_view>{}(name);
        Slot& s = probe(name, h);
        if (s.id != kNoValue)
            return s.id;
        s = {h, name, id};
        ++count_;
        return kNoValue;
    }

    ValueId find(std::string_view name) const
    {
        return const_cast<NameIndex*>(this)->probe(name, std::hash<std::string_view>{}(name)).id;
    }

private:
    struct Slot {
        size_t hash = 0;
        std::string_view name;
        ValueId id = kNoValue;
    };

    Slot& probe(std::string_view name, size_t h)
    {
        const size_t mask = slots_.size() - 1;
        for (size_t i = h & mask;; i = (i + 1) & mask) {
            Slot& s = slots_[i];
            if (s.id == kNoValue || (s.hash == h && s.name == name))
                return s;
        }
    }

    void resize(size_t minSlots)
    {
        size_t n = 16;
        while (n < minSlots)
            n *= 2;
        std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(n));
        for (const Slot& s : old)
            if (s.id != kNoValue)
                probe(s.name, s.hash) = s;
    }

    std::vector<Slot> slots_;
    size_t count_ = 0;
};

} // namespace stc::ir

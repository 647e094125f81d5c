// Op attributes: a small typed key/value map, printed sorted by key.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace stc::ir {

using IntList = std::vector<int64_t>;
using FloatList = std::vector<double>;
using AttrValue = std::variant<int64_t, double, bool, std::string, IntList, FloatList>;

enum class AttrKind : uint8_t { Int, Float, Bool, String, IntList, FloatList };
const char* toString(AttrKind k);
inline AttrKind kindOf(const AttrValue& v) { return static_cast<AttrKind>(v.index()); }

class Attributes {
public:
    using Map = std::map<std::string, AttrValue>;

    void set(const std::string& key, AttrValue v) { map_[key] = std::move(v); }
    bool has(const std::string& key) const { return map_.count(key) != 0; }
    void erase(const std::string& key) { map_.erase(key); }
    const AttrValue* find(const std::string& key) const
    {
        auto it = map_.find(key);
        return it == map_.end() ? nullptr : &it->second;
    }

    // Typed getters with defaults. An int attribute is accepted where a float
    // is asked for (so `tau = 2` reads as 2.0); the verifier still reports it.
    int64_t getInt(const std::string& key, int64_t def = 0) const;
    double getFloat(const std::string& key, double def = 0.0) const;
    bool getBool(const std::string& key, bool def = false) const;
    std::string getString(const std::string& key, const std::string& def = {}) const;
    IntList getInts(const std::string& key, IntList def = {}) const;
    FloatList getFloats(const std::string& key, FloatList def = {}) const;

    const Map& map() const { return map_; }
    bool empty() const { return map_.empty(); }
    // Exact equality: floats compare bitwise, so NaN equals itself and -0.0 != 0.0
    // (what a text round trip must preserve).
    friend bool operator==(const Attributes& a, const Attributes& b);

private:
    Map map_;
};

} // namespace stc::ir

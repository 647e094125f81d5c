#include "ir/attributes.h"

#include <cstring>

namespace stc::ir {

namespace {
bool sameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool sameValue(const AttrValue& a, const AttrValue& b)
{
    if (a.index() != b.index())
        return false;
    if (auto* d = std::get_if<double>(&a))
        return sameBits(*d, std::get<double>(b));
    if (auto* l = std::get_if<FloatList>(&a)) {
        const auto& r = std::get<FloatList>(b);
        if (l->size() != r.size())
            return false;
        for (size_t i = 0; i < l->size(); ++i)
            if (!sameBits((*l)[i], r[i]))
                return false;
        return true;
    }
    return a == b;
}
} // namespace

bool operator==(const Attributes& a, const Attributes& b)
{
    if (a.map_.size() != b.map_.size())
        return false;
    for (auto ia = a.map_.begin(), ib = b.map_.begin(); ia != a.map_.end(); ++ia, ++ib)
        if (ia->first != ib->first || !sameValue(ia->second, ib->second))
            return false;
    return true;
}

const char* toString(AttrKind k)
{
    switch (k) {
    case AttrKind::Int: return "int";
    case AttrKind::Float: return "float";
    case AttrKind::Bool: return "bool";
    case AttrKind::String: return "string";
    case AttrKind::IntList: return "int list";
    case AttrKind::FloatList: return "float list";
    }
    return "?";
}

int64_t Attributes::getInt(const std::string& key, int64_t def) const
{
    const AttrValue* v = find(key);
    if (!v)
        return def;
    if (auto* i = std::get_if<int64_t>(v))
        return *i;
    if (auto* b = std::get_if<bool>(v))
        return *b ? 1 : 0;
    return def;
}

double Attributes::getFloat(const std::string& key, double def) const
{
    const AttrValue* v = find(key);
    if (!v)
        return def;
    if (auto* d = std::get_if<double>(v))
        return *d;
    if (auto* i = std::get_if<int64_t>(v))
        return static_cast<double>(*i);
    return def;
}

bool Attributes::getBool(const std::string& key, bool def) const
{
    const AttrValue* v = find(key);
    if (!v)
        return def;
    if (auto* b = std::get_if<bool>(v))
        return *b;
    return def;
}

std::string Attributes::getString(const std::string& key, const std::string& def) const
{
    const AttrValue* v = find(key);
    if (!v)
        return def;
    if (auto* s = std::get_if<std::string>(v))
        return *s;
    return def;
}

IntList Attributes::getInts(const std::string& key, IntList def) const
{
    const AttrValue* v = find(key);
    if (!v)
        return def;
    if (auto* l = std::get_if<IntList>(v))
        return *l;
    return def;
}

FloatList Attributes::getFloats(const std::string& key, FloatList def) const
{
    const AttrValue* v = find(key);
    if (!v)
        return def;
    if (auto* l = std::get_if<FloatList>(v))
        return *l;
    if (auto* il = std::get_if<IntList>(v))
        return FloatList(il->begin(), il->end());
    return def;
}

} // namespace stc::ir

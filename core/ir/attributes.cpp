#include "ir/attributes.h"

namespace stc::ir {

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

#include "interop/nir_graph.h"

namespace stc::interop {

NirArray NirArray::ints(const std::vector<int64_t>& v)
{
    NirArray a{DType::Int64, {static_cast<int64_t>(v.size())}, {}};
    for (int64_t x : v)
        a.values.push_back(static_cast<double>(x));
    return a;
}

NirArray NirArray::filled(const ir::Shape& shape, double v, DType t)
{
    return {t, shape, std::vector<double>(static_cast<size_t>(ir::numElements(shape)), v)};
}

const NirArray* NirFields::array(const std::string& key) const
{
    auto it = arrays.find(key);
    return it == arrays.end() ? nullptr : &it->second;
}

const std::string* NirFields::string(const std::string& key) const
{
    auto it = strings.find(key);
    return it == strings.end() || it->second.values.size() != 1 ? nullptr : &it->second.values[0];
}

const NirNode* NirGraph::find(const std::string& name) const
{
    for (const auto& n : nodes)
        if (n.name == name)
            return &n;
    return nullptr;
}

std::optional<double> uniformValue(const NirArray& a)
{
    if (a.values.empty())
        return std::nullopt;
    for (double v : a.values)
        if (!(v == a.values[0]))
            return std::nullopt;
    return a.values[0];
}

std::string nirNodeName(const std::string& valueName)
{
    std::string s = valueName.empty() ? std::string("node") : valueName;
    for (char& c : s)
        if (c == '/')
            c = '_';
    if (s == ".")
        s = "_";
    return s;
}

} // namespace stc::interop

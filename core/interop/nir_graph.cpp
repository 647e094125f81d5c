#include "interop/nir_graph.h"

#include <set>

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

namespace {

class Flattener {
public:
    NirFlattenResult r;

    void add(const NirGraph& g, const std::string& prefix, const std::string& path)
    {
        for (const auto& n : g.nodes) {
            const std::string name = prefix + n.name;
            const std::string nodePath = n.path.empty() ? path + "/nodes/" + n.name : n.path;
            if (n.subgraph) {
                add(*n.subgraph, name + ".", nodePath);
                continue;
            }
            if (!names_.insert(name).second) {
                r.errors.emplace_back(nodePath, "its flattened name \"" + name + "\" is used twice");
                continue;
            }
            NirNode copy = n;
            copy.name = name;
            copy.path = nodePath;
            if (!prefix.empty() && (n.type == "Input" || n.type == "Output"))
                copy.type = kNirPassThrough;
            r.graph.nodes.push_back(std::move(copy));
        }
        for (size_t i = 0; i < g.edges.size(); ++i) {
            const auto& [from, to] = g.edges[i];
            std::string err;
            auto a = resolve(g, prefix, from, true, err);
            auto b = a ? resolve(g, prefix, to, false, err) : std::nullopt;
            if (a && b)
                r.graph.edges.emplace_back(*a, *b);
            else
                r.errors.emplace_back(path, "edge " + std::to_string(i) + " (" + from + " -> " + to + ") " + err);
        }
    }

private:
    std::set<std::string> names_;

    // The flat name an edge end `name` of graph `g` refers to: a node, a nested
    // graph (its one Output as a source, its one Input as a target), or a dotted
    // path into a nested graph.
    std::optional<std::string> resolve(const NirGraph& g, const std::string& prefix, const std::string& name,
                                       bool asSource, std::string& err)
    {
        if (const NirNode* n = g.find(name)) {
            if (!n->subgraph)
                return prefix + name;
            const char* want = asSource ? "Output" : "Input";
            std::vector<const NirNode*> io;
            for (const auto& inner : n->subgraph->nodes)
                if (inner.type == want)
                    io.push_back(&inner);
            if (io.size() != 1) {
                err = "names the nested graph \"" + name + "\", which has " + std::to_string(io.size()) + " " + want +
                      " nodes: name one as \"" + name + ".<node>\"";
                return std::nullopt;
            }
            return resolve(*n->subgraph, prefix + name + ".", io[0]->name, asSource, err);
        }
        for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
            const NirNode* n = g.find(name.substr(0, dot));
            if (n && n->subgraph)
                return resolve(*n->subgraph, prefix + name.substr(0, dot) + ".", name.substr(dot + 1), asSource, err);
        }
        err = "names no node \"" + name + "\"";
        return std::nullopt;
    }
};

} // namespace

NirFlattenResult flattenNirGraph(const NirGraph& g)
{
    Flattener f;
    f.r.graph.version = g.version;
    f.r.graph.metadata = g.metadata;
    f.add(g, "", "/node");
    return std::move(f.r);
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

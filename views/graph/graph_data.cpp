#include "graph/graph_data.h"

#include <algorithm>
#include <map>

namespace stc::views::graph {

namespace {

std::string leadingPath(const std::string& s)
{
    size_t n = 0;
    while (n < s.size() && (std::isalnum(static_cast<unsigned char>(s[n])) || s[n] == '_' || s[n] == '.'))
        ++n;
    std::string p = s.substr(0, n);
    while (!p.empty() && p.back() == '.')
        p.pop_back();
    return p;
}

std::string parentPath(const std::string& p)
{
    const auto dot = p.rfind('.');
    return dot == std::string::npos ? std::string{} : p.substr(0, dot);
}

std::string lastComponent(const std::string& p)
{
    const auto dot = p.rfind('.');
    return dot == std::string::npos ? p : p.substr(dot + 1);
}

bool isUnder(const std::string& path, const std::string& group)
{
    return path == group || (path.size() > group.size() && path.compare(0, group.size(), group) == 0 &&
                             path[group.size()] == '.');
}

std::string categoryOf(ir::OpKind k)
{
    using K = ir::OpKind;
    switch (k) {
    case K::Conv1d:
    case K::Conv2d: return "conv";
    case K::Linear:
    case K::MatMul: return "linear";
    case K::Lif: return "neuron";
    case K::BatchNorm: return "norm";
    case K::Add:
    case K::Mul:
    case K::Scale:
    case K::Mean:
    case K::Sum: return "arith";
    case K::MaxPool2d:
    case K::AvgPool2d: return "pool";
    case K::Input:
    case K::Output:
    case K::Encode: return "io";
    case K::Const: return "const";
    default: return "shape";
    }
}

double textWidth(const std::string& s, double charWidth) { return double(s.size()) * charWidth; }

} // namespace

std::string modulePathOf(const ir::Module& m, int opIndex)
{
    const ir::Op& op = m.ops()[size_t(opIndex)];
    if (!op.origin.empty())
        return leadingPath(op.origin);
    if (op.result != ir::kNoValue) {
        const std::string& name = m.value(op.result).name;
        if (name.find('.') != std::string::npos)
            return leadingPath(name);
    }
    return {};
}

namespace {

// Group of each op: its module path, or the path's parent when the path is a
// leaf module (no other op lives below it).
std::vector<std::string> opGroups(const ir::Module& m)
{
    const size_t n = m.ops().size();
    std::vector<std::string> paths(n);
    std::set<std::string> all;
    for (size_t i = 0; i < n; ++i) {
        paths[i] = modulePathOf(m, int(i));
        if (!paths[i].empty())
            all.insert(paths[i]);
    }
    std::vector<std::string> groups(n);
    for (size_t i = 0; i < n; ++i) {
        const std::string& p = paths[i];
        if (p.empty())
            continue;
        auto it = all.upper_bound(p);
        const bool hasChildren = it != all.end() && isUnder(*it, p) && *it != p;
        groups[i] = hasChildren ? p : parentPath(p);
    }
    return groups;
}

} // namespace

std::set<std::string> defaultCollapsed(const ir::Module& m, int maxVisibleOps)
{
    int visible = 0;
    for (const auto& op : m.ops())
        visible += op.kind != ir::OpKind::Const;
    if (visible <= maxVisibleOps)
        return {};
    std::set<std::string> groupsWithChildren, out;
    for (const std::string& g : opGroups(m))
        for (std::string p = g; !p.empty(); p = parentPath(p))
            if (!parentPath(p).empty())
                groupsWithChildren.insert(parentPath(p));
    // Collapse the shallowest groups that contain sub-groups: `blocks.0`, not `blocks`.
    for (const std::string& g : groupsWithChildren) {
        const std::string parent = parentPath(g);
        if (parent.empty() && groupsWithChildren.count(g)) {
            bool childHasGroups = false;
            for (const std::string& c : groupsWithChildren)
                if (parentPath(c) == g)
                    childHasGroups = true;
            if (!childHasGroups) {
                out.insert(g);
                continue;
            }
        }
        if (!parent.empty() && groupsWithChildren.count(parent) && parentPath(parent).empty())
            out.insert(g);
    }
    return out;
}

GraphData buildGraph(const ir::Module& m, const BuildOptions& options)
{
    GraphData g;
    const size_t n = m.ops().size();
    g.nodeOfOp.assign(n, -1);
    const std::vector<std::string> groups = opGroups(m);

    std::set<std::string> allGroups;
    for (const auto& grp : groups)
        for (std::string p = grp; !p.empty(); p = parentPath(p))
            allGroups.insert(p);
    g.collapsible.assign(allGroups.begin(), allGroups.end());

    // The outermost collapsed group containing a path, or "".
    auto collapsedRoot = [&](const std::string& grp) -> std::string {
        std::string found;
        for (std::string p = grp; !p.empty(); p = parentPath(p))
            if (options.collapsed.count(p))
                found = p;
        return found;
    };

    const auto users = m.computeUsers();
    // Ops of one kind sharing a module path (a NIR CubaLIF's two lif stages) are told
    // apart by their value names instead of the path's last component.
    std::map<std::pair<ir::OpKind, std::string>, int> sameKindAndPath;
    for (size_t i = 0; i < n; ++i)
        ++sameKindAndPath[{m.ops()[i].kind, modulePathOf(m, int(i))}];
    std::map<std::string, int> groupNode;
    std::map<std::string, int> clusterOps;
    constexpr double kChar = 7.0, kPad = 24.0;

    for (size_t i = 0; i < n; ++i) {
        const ir::Op& op = m.ops()[i];
        if (op.kind == ir::OpKind::Const && !options.showConstants)
            continue;
        const std::string root = collapsedRoot(groups[i]);
        if (!root.empty()) {
            auto [it, inserted] = groupNode.try_emplace(root, int(g.nodes.size()));
            if (inserted) {
                Node node;
                node.id = it->second;
                node.kind = NodeKind::Group;
                node.group = parentPath(root);
                node.title = root;
                node.category = "group";
                g.nodes.push_back(node);
            }
            Node& node = g.nodes[size_t(it->second)];
            node.opIndices.push_back(int(i));
            g.nodeOfOp[i] = node.id;
            continue;
        }
        Node node;
        node.id = int(g.nodes.size());
        node.kind = op.kind == ir::OpKind::Input ? NodeKind::Input
                    : op.kind == ir::OpKind::Output ? NodeKind::Output
                                                    : NodeKind::Op;
        node.opIndex = int(i);
        node.opIndices = {int(i)};
        node.group = groups[i];
        node.title = std::string(ir::opName(op));
        const std::string path = modulePathOf(m, int(i));
        if (!path.empty() && path != node.group && sameKindAndPath[{op.kind, path}] == 1)
            node.title += "  " + lastComponent(path);
        else if (op.result != ir::kNoValue)
            node.title += "  %" + m.value(op.result).name;
        node.subtitle = op.result != ir::kNoValue ? ir::toString(m.typeOf(op.result)) : "";
        if (op.kind == ir::OpKind::Delay) {
            const int64_t k = op.attrs.getInt("steps", 1);
            node.subtitle += " · " + std::to_string(k) + (k == 1 ? " step" : " steps");
        }
        node.category = categoryOf(op.kind);
        g.nodeOfOp[i] = node.id;
        g.nodes.push_back(node);
    }

    // Parameters (constant elements) per node; group subtitles.
    for (size_t i = 0; i < n; ++i) {
        const ir::Op& op = m.ops()[i];
        if (g.nodeOfOp[i] < 0)
            continue;
        for (ir::ValueId v : op.operands) {
            const ir::Op& def = m.definingOp(v);
            if (def.kind == ir::OpKind::Const && def.constant && (!options.showConstants))
                g.nodes[size_t(g.nodeOfOp[i])].parameters += def.constant->numElements();
        }
    }
    for (Node& node : g.nodes) {
        if (node.kind != NodeKind::Group)
            continue;
        int lifs = 0;
        for (int oi : node.opIndices)
            lifs += m.ops()[size_t(oi)].kind == ir::OpKind::Lif;
        node.subtitle = std::to_string(node.opIndices.size()) + " ops · " + std::to_string(lifs) + " LIF";
    }
    for (Node& node : g.nodes) {
        node.width = std::max({120.0, textWidth(node.title, kChar) + kPad, textWidth(node.subtitle, kChar - 1) + kPad});
        node.height = node.kind == NodeKind::Group ? 52.0 : 44.0;
    }

    // Expanded clusters: every group path with a visible node below it.
    for (const Node& node : g.nodes)
        for (std::string p = node.group; !p.empty(); p = parentPath(p))
            clusterOps[p] += int(node.opIndices.size());
    for (const auto& [path, count] : clusterOps) // std::map: parents sort before children
        g.clusters.push_back({path, parentPath(path), lastComponent(path), count});

    // Edges between distinct visible nodes, one per (from, to, value).
    std::set<std::tuple<int, int, ir::ValueId>> seen;
    for (size_t i = 0; i < n; ++i) {
        const int to = g.nodeOfOp[i];
        if (to < 0)
            continue;
        for (ir::ValueId v : m.ops()[i].operands) {
            const int from = g.nodeOfOp[size_t(m.value(v).def)];
            if (from < 0 || from == to || !seen.insert({from, to, v}).second)
                continue;
            // A delay reading a later op closes a recurrent loop: drawn dashed, labelled.
            const bool back = m.ops()[i].kind == ir::OpKind::Delay && size_t(m.value(v).def) > i;
            g.edges.push_back({from, to, v, ir::toString(m.typeOf(v)) + (back ? " · back edge" : ""), back});
        }
    }
    (void)users;
    return g;
}

} // namespace stc::views::graph

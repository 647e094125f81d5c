#include "graph/graph_layout.h"

#include <algorithm>
#include <map>

namespace stc::views::graph {

namespace {

class LayeredLayout : public GraphLayout {
public:
    std::string name() const override { return "layered"; }

    Layout compute(const GraphData& graph) override
    {
        Layout out;
        out.engine = name();
        const size_t n = graph.nodes.size();
        std::vector<int> layer(n, 0);
        // Node ids follow op order, which is topological except for a delay's back
        // edge (from a later node): those do not layer, so one pass suffices.
        std::vector<std::vector<int>> preds(n);
        for (const Edge& e : graph.edges)
            if (e.from < e.to)
                preds[size_t(e.to)].push_back(e.from);
        for (size_t i = 0; i < n; ++i)
            for (int p : preds[i])
                layer[i] = std::max(layer[i], layer[size_t(p)] + 1);
        std::map<int, std::vector<int>> byLayer;
        for (size_t i = 0; i < n; ++i)
            byLayer[layer[i]].push_back(int(i));
        out.nodes.resize(n);
        double y = 30;
        for (auto& [l, ids] : byLayer) {
            double x = 20, rowHeight = 0;
            for (int id : ids) {
                const Node& node = graph.nodes[size_t(id)];
                out.nodes[size_t(id)] = {x + node.width / 2, y + node.height / 2, node.width, node.height};
                x += node.width + 30;
                rowHeight = std::max(rowHeight, node.height);
                out.width = std::max(out.width, x);
            }
            y += rowHeight + 50;
        }
        out.height = y;
        for (const Edge& e : graph.edges) {
            const NodeGeometry& a = out.nodes[size_t(e.from)];
            const NodeGeometry& b = out.nodes[size_t(e.to)];
            EdgeGeometry eg;
            const Point p0{a.x, a.y + a.height / 2}, p1{b.x, b.y - b.height / 2};
            eg.path = {p0, {p0.x, p0.y + 20}, {p1.x, p1.y - 20}, p1};
            eg.labelPos = {(p0.x + p1.x) / 2 + 8, (p0.y + p1.y) / 2};
            eg.hasLabel = !e.label.empty();
            out.edges.push_back(eg);
        }
        // Clusters: bounding boxes of member nodes (including nested ones).
        out.clusters.resize(graph.clusters.size());
        for (size_t c = 0; c < graph.clusters.size(); ++c) {
            const std::string& path = graph.clusters[c].path;
            double x0 = 1e18, y0 = 1e18, x1 = -1e18, y1 = -1e18;
            for (const Node& node : graph.nodes) {
                if (node.group != path && node.group.rfind(path + ".", 0) != 0)
                    continue;
                const NodeGeometry& g = out.nodes[size_t(node.id)];
                x0 = std::min(x0, g.x - g.width / 2 - 10);
                y0 = std::min(y0, g.y - g.height / 2 - 22);
                x1 = std::max(x1, g.x + g.width / 2 + 10);
                y1 = std::max(y1, g.y + g.height / 2 + 10);
            }
            if (x0 < x1)
                out.clusters[c] = {x0, y0, x1 - x0, y1 - y0};
        }
        return out;
    }
};

} // namespace

std::unique_ptr<GraphLayout> makeLayeredLayout() { return std::make_unique<LayeredLayout>(); }

} // namespace stc::views::graph

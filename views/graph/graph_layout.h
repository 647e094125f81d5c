// Graph layout as a strategy over plain data (after Cutter's GraphLayout):
// input = node sizes, edges and clusters; output = positions and edge paths.
// No Qt widgets, safe to run in a worker thread.
#pragma once

#include "graph/graph_data.h"

#include <memory>
#include <string>
#include <vector>

namespace stc::views::graph {

struct Point {
    double x = 0, y = 0;
};

struct NodeGeometry {
    double x = 0, y = 0; // centre, y grows downwards
    double width = 0, height = 0;
};

struct EdgeGeometry {
    std::vector<Point> path; // cubic Bézier control points: p0, (c1, c2, p)*
    Point labelPos;
    bool hasLabel = false;
};

struct ClusterGeometry {
    double x = 0, y = 0, width = 0, height = 0; // top-left, size
};

struct Layout {
    std::vector<NodeGeometry> nodes;       // by node id
    std::vector<EdgeGeometry> edges;       // by edge index
    std::vector<ClusterGeometry> clusters; // by cluster index
    double width = 0, height = 0;
    std::string engine;
    std::string error; // non-empty: layout failed (nodes may still be placed by a fallback)
};

class GraphLayout {
public:
    virtual ~GraphLayout() = default;
    virtual std::string name() const = 0;
    virtual Layout compute(const GraphData& graph) = 0;
};

// Graphviz `dot` with clusters. Graphviz is not thread-safe: calls are
// serialized by a process-wide mutex and each creates a fresh graph.
std::unique_ptr<GraphLayout> makeGraphvizLayout();
// Simple longest-path layering; used when Graphviz fails and in tests.
std::unique_ptr<GraphLayout> makeLayeredLayout();

} // namespace stc::views::graph

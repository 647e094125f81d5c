// Plain data for the model graph: what to draw, before any layout. Built
// from an ir::Module; no Qt. Ops are grouped by module path (the op's origin,
// or its value name prefix), e.g. `blocks.0.attn.q_lif` sits in the groups
// `blocks` > `blocks.0` > `blocks.0.attn`. A collapsed group becomes one node.
// Constants are not nodes: their element count is shown on the consuming op.
#pragma once

#include "ir/module.h"

#include <set>
#include <string>
#include <vector>

namespace stc::views::graph {

enum class NodeKind { Op, Group, Input, Output };

struct Node {
    int id = 0;                 // index into GraphData::nodes
    NodeKind kind = NodeKind::Op;
    int opIndex = -1;           // Op/Input/Output nodes
    std::string group;          // innermost (expanded) group path containing it, "" = top level
    std::string title;          // "conv2d", "lif", or the group's path for a collapsed group
    std::string subtitle;       // result type, or "12 ops · 3 LIF" for a group
    std::string category;       // colour key: "conv", "neuron", "linear", "norm", "arith", "shape", "io", "group"
    std::vector<int> opIndices; // every op this node stands for (>1 for a collapsed group)
    int64_t parameters = 0;     // constant elements consumed
    double width = 0, height = 0; // points, filled by the builder from text length
};

struct Edge {
    int from = 0, to = 0;       // node ids
    ir::ValueId value = ir::kNoValue;
    std::string label;          // the value's type, e.g. "spike[T,64,49]"
    bool backEdge = false;      // into a delay from a later op: a recurrent loop's edge
};

struct Cluster {
    std::string path;           // "blocks.0.attn"
    std::string parent;         // "" = top level
    std::string label;          // last path component
    int opCount = 0;
};

struct GraphData {
    std::vector<Node> nodes;
    std::vector<Edge> edges;
    std::vector<Cluster> clusters; // expanded groups only, parents before children
    std::vector<std::string> collapsible; // every group path (for "collapse all")
    std::vector<int> nodeOfOp;     // op index -> node id (-1 for constants / hidden)
};

struct BuildOptions {
    std::set<std::string> collapsed; // group paths shown as one node
    bool showConstants = false;
};

// The module path of an op: its origin up to the first character that cannot
// be part of a dotted path, else its value name without the last component.
std::string modulePathOf(const ir::Module& m, int opIndex);

GraphData buildGraph(const ir::Module& m, const BuildOptions& options);

// Top-level groups that have sub-groups (a Spikformer's `blocks.N`), which a
// large graph starts collapsed with.
std::set<std::string> defaultCollapsed(const ir::Module& m, int maxVisibleOps = 120);

} // namespace stc::views::graph

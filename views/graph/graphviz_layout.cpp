#include "graph/graph_layout.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <map>
#include <mutex>

namespace stc::views::graph {

namespace {

std::mutex& graphvizMutex()
{
    static std::mutex m;
    return m;
}

// Graphviz takes char* for names and attribute values.
char* cs(const std::string& s) { return const_cast<char*>(s.c_str()); }
char* cs(const char* s) { return const_cast<char*>(s); }

class GraphvizLayout : public GraphLayout {
public:
    std::string name() const override { return "graphviz dot"; }

    Layout compute(const GraphData& graph) override
    {
        std::lock_guard lock(graphvizMutex());
        // One context per call: no Graphviz state survives between layouts.
        GVC_t* gvc = gvContext();
        Agraph_t* g = agopen(cs("model"), Agdirected, nullptr);
        agattr(g, AGRAPH, cs("rankdir"), cs("TB"));
        agattr(g, AGRAPH, cs("nodesep"), cs("0.35"));
        agattr(g, AGRAPH, cs("ranksep"), cs("0.45"));
        agattr(g, AGRAPH, cs("splines"), cs("spline"));
        agattr(g, AGRAPH, cs("fontsize"), cs("11"));
        agattr(g, AGRAPH, cs("label"), cs(""));
        agattr(g, AGRAPH, cs("margin"), cs("8"));
        agattr(g, AGNODE, cs("shape"), cs("box"));
        agattr(g, AGNODE, cs("fixedsize"), cs("true"));
        agattr(g, AGNODE, cs("width"), cs("1"));
        agattr(g, AGNODE, cs("height"), cs("0.5"));
        agattr(g, AGNODE, cs("label"), cs(""));
        agattr(g, AGEDGE, cs("label"), cs(""));
        agattr(g, AGEDGE, cs("fontsize"), cs("9"));

        // Clusters, parents first (GraphData guarantees the order).
        std::map<std::string, Agraph_t*> clusterGraph;
        std::vector<Agraph_t*> clusterOf(graph.clusters.size(), nullptr);
        for (size_t i = 0; i < graph.clusters.size(); ++i) {
            const Cluster& c = graph.clusters[i];
            auto parent = clusterGraph.find(c.parent);
            Agraph_t* owner = parent == clusterGraph.end() ? g : parent->second;
            Agraph_t* sub = agsubg(owner, cs("cluster_" + std::to_string(i)), 1);
            // Room for the cluster title drawn by the scene.
            agsafeset(sub, cs("label"), cs(c.label), cs(""));
            agsafeset(sub, cs("margin"), cs("12"), cs(""));
            clusterGraph[c.path] = sub;
            clusterOf[i] = sub;
        }

        std::vector<Agnode_t*> nodes(graph.nodes.size());
        for (const Node& n : graph.nodes) {
            auto it = clusterGraph.find(n.group);
            Agraph_t* owner = it == clusterGraph.end() ? g : it->second;
            Agnode_t* an = agnode(owner, cs("n" + std::to_string(n.id)), 1);
            agsafeset(an, cs("width"), cs(std::to_string(n.width / 72.0)), cs(""));
            agsafeset(an, cs("height"), cs(std::to_string(n.height / 72.0)), cs(""));
            nodes[size_t(n.id)] = an;
        }
        std::vector<Agedge_t*> edges(graph.edges.size());
        for (size_t i = 0; i < graph.edges.size(); ++i) {
            const Edge& e = graph.edges[i];
            Agedge_t* ae = agedge(g, nodes[size_t(e.from)], nodes[size_t(e.to)], cs("e" + std::to_string(i)), 1);
            agsafeset(ae, cs("label"), cs(e.label), cs(""));
            edges[i] = ae;
        }

        Layout out;
        out.engine = name();
        if (gvLayout(gvc, g, "dot") != 0) {
            out.error = "graphviz dot layout failed";
            agclose(g);
            gvFreeContext(gvc);
            return out;
        }
        const boxf bb = GD_bb(g);
        const double top = bb.UR.y;
        auto flip = [&](pointf p) { return Point{p.x - bb.LL.x, top - p.y}; };
        out.width = bb.UR.x - bb.LL.x;
        out.height = bb.UR.y - bb.LL.y;
        out.nodes.resize(graph.nodes.size());
        for (size_t i = 0; i < nodes.size(); ++i) {
            const Point c = flip(ND_coord(nodes[i]));
            out.nodes[i] = {c.x, c.y, ND_width(nodes[i]) * 72.0, ND_height(nodes[i]) * 72.0};
        }
        out.edges.resize(graph.edges.size());
        for (size_t i = 0; i < edges.size(); ++i) {
            EdgeGeometry& eg = out.edges[i];
            const splines* spl = ED_spl(edges[i]);
            if (spl && spl->size > 0) {
                const bezier& bz = spl->list[0];
                for (size_t k = 0; k < bz.size; ++k)
                    eg.path.push_back(flip(bz.list[k]));
                // Graphviz puts the arrow head's tip in `ep`; end the curve there.
                if (bz.eflag)
                    eg.path.push_back(flip(bz.ep));
            }
            if (ED_label(edges[i]) && ED_label(edges[i])->set) {
                eg.labelPos = flip(ED_label(edges[i])->pos);
                eg.hasLabel = true;
            }
        }
        out.clusters.resize(graph.clusters.size());
        for (size_t i = 0; i < clusterOf.size(); ++i) {
            const boxf cb = GD_bb(clusterOf[i]);
            out.clusters[i] = {cb.LL.x - bb.LL.x, top - cb.UR.y, cb.UR.x - cb.LL.x, cb.UR.y - cb.LL.y};
        }
        gvFreeLayout(gvc, g);
        agclose(g);
        gvFreeContext(gvc);
        return out;
    }
};

} // namespace

std::unique_ptr<GraphLayout> makeGraphvizLayout() { return std::make_unique<GraphvizLayout>(); }

} // namespace stc::views::graph

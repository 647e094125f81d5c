// Graph data (grouping, collapse), layouts (Graphviz and layered) and the
// GraphView layout job.
#include "document/document.h"
#include "graph/graph_data.h"
#include "graph/graph_layout.h"
#include "graph/graph_view.h"
#include "jobs/job_runner.h"
#include "tiny_models.h"

#include <QSignalSpy>
#include <QTest>

using namespace stc;
using namespace stc::views;
using namespace stc::views::graph;

class TestGraph : public QObject {
    Q_OBJECT
private slots:
    void modulePaths()
    {
        const ir::Module m = test::makeTinySpikformer();
        std::set<std::string> paths;
        for (size_t i = 0; i < m.ops().size(); ++i)
            paths.insert(modulePathOf(m, int(i)));
        QVERIFY(paths.count("blocks.0.attn.q_lif"));
        QVERIFY(paths.count("head.linear"));
    }

    void collapse_data()
    {
        QTest::addColumn<QStringList>("collapsed");
        QTest::addColumn<bool>("fewerNodes");
        QTest::addColumn<QString>("groupNode");
        QTest::newRow("none") << QStringList{} << false << QString();
        QTest::newRow("block") << QStringList{"blocks.0"} << true << "blocks.0";
        QTest::newRow("attn") << QStringList{"blocks.0.attn"} << true << "blocks.0.attn";
        QTest::newRow("outer wins") << QStringList{"blocks", "blocks.0.attn"} << true << "blocks";
    }
    void collapse()
    {
        QFETCH(QStringList, collapsed);
        QFETCH(bool, fewerNodes);
        QFETCH(QString, groupNode);
        const ir::Module m = test::makeTinySpikformer(2);
        const GraphData full = buildGraph(m, {});
        BuildOptions o;
        for (const QString& c : collapsed)
            o.collapsed.insert(c.toStdString());
        const GraphData g = buildGraph(m, o);
        QCOMPARE(g.nodes.size() < full.nodes.size(), fewerNodes);
        // Every non-constant op is represented by exactly one node.
        for (size_t i = 0; i < m.ops().size(); ++i)
            QCOMPARE(g.nodeOfOp[i] >= 0, m.ops()[i].kind != ir::OpKind::Const);
        if (!groupNode.isEmpty()) {
            bool found = false;
            for (const Node& n : g.nodes)
                found = found || (n.kind == NodeKind::Group && n.title == groupNode.toStdString());
            QVERIFY(found);
        }
        // No self edges, and edges carry shapes.
        for (const Edge& e : g.edges) {
            QVERIFY(e.from != e.to);
            QVERIFY(!e.label.empty());
        }
    }

    void parametersAreCounted()
    {
        const ir::Module m = test::makeTinySpikformer();
        const GraphData g = buildGraph(m, {});
        int64_t total = 0;
        for (const Node& n : g.nodes)
            total += n.parameters;
        QCOMPARE(total, ir::parameterCount(m));
    }

    void layouts_data()
    {
        QTest::addColumn<bool>("graphviz");
        QTest::newRow("graphviz") << true;
        QTest::newRow("layered") << false;
    }
    void layouts()
    {
        QFETCH(bool, graphviz);
        const ir::Module m = test::makeTinySpikformer(2);
        const GraphData g = buildGraph(m, {});
        auto layout = graphviz ? makeGraphvizLayout() : makeLayeredLayout();
        const Layout l = layout->compute(g);
        QVERIFY2(l.error.empty(), l.error.c_str());
        QCOMPARE(l.nodes.size(), g.nodes.size());
        QCOMPARE(l.edges.size(), g.edges.size());
        QCOMPARE(l.clusters.size(), g.clusters.size());
        QVERIFY(l.width > 0 && l.height > 0);
        // The input is above the output (top-to-bottom data flow).
        const double inputY = l.nodes[size_t(g.nodeOfOp[0])].y;
        const double outputY = l.nodes[size_t(g.nodeOfOp.back())].y;
        QVERIFY(inputY < outputY);
        for (const EdgeGeometry& e : l.edges)
            QVERIFY(e.path.size() >= 2);
    }

    void graphvizFromManyThreads()
    {
        // One layout at a time under the mutex: concurrent calls must not crash.
        const ir::Module m = test::makeTinySpikformer(2);
        const GraphData g = buildGraph(m, {});
        std::vector<std::thread> threads;
        std::atomic<int> ok{0};
        for (int i = 0; i < 4; ++i)
            threads.emplace_back([&] { ok += makeGraphvizLayout()->compute(g).nodes.size() == g.nodes.size(); });
        for (auto& t : threads)
            t.join();
        QCOMPARE(ok.load(), 4);
    }

    void viewLaysOutInAJobAndSearches()
    {
        Document doc;
        JobRunner jobs;
        GraphView view(&doc, &jobs);
        view.resize(900, 700);
        view.show();
        QSignalSpy done(&view, &GraphView::layoutFinished);
        doc.load("tiny.sir", std::make_shared<const ir::Module>(test::makeTinySpikformer()), {}, "test");
        QVERIFY(done.wait(20000));
        QVERIFY(!view.scene()->items().isEmpty());
        const auto hits = view.scene()->search("q_lif");
        QCOMPARE(hits.size(), size_t(1));
        // Selecting in the scene selects the op in the document.
        const int lifOp = view.scene()->graph().nodes[size_t(hits[0])].opIndex;
        view.scene()->itemForNode(hits[0])->setSelected(true);
        QCOMPARE(doc.selectedOp(), lifOp);
        // Collapsing a group relayouts with fewer nodes.
        const size_t before = view.scene()->graph().nodes.size();
        view.toggleGroup("blocks.0");
        QVERIFY(done.wait(20000));
        QVERIFY(view.scene()->graph().nodes.size() < before);
    }
};

QTEST_MAIN(TestGraph)
#include "test_graph.moc"

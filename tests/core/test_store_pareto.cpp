// Pareto fronts on hand-made data: the pure function (data-driven) and
// Project::paretoFront over stored configurations.
#include "store/pareto.h"
#include "store/project.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace stc::store;

Q_DECLARE_METATYPE(std::vector<XY>)
Q_DECLARE_METATYPE(std::vector<size_t>)

class TestStorePareto : public QObject {
    Q_OBJECT

private slots:
    void front_data()
    {
        QTest::addColumn<std::vector<XY>>("points");
        QTest::addColumn<bool>("maxX");
        QTest::addColumn<bool>("maxY");
        QTest::addColumn<std::vector<size_t>>("expected"); // sorted by x ascending
        using V = std::vector<XY>;
        using I = std::vector<size_t>;
        const double nan = std::nan("");
        // Energy (min) vs accuracy (max), the sweep's chart.
        QTest::newRow("empty") << V{} << false << true << I{};
        QTest::newRow("single") << V{{5, 0.5}} << false << true << I{0};
        QTest::newRow("energy-accuracy") << V{{1, 0.5}, {2, 0.7}, {3, 0.6}, {4, 0.9}, {2, 0.4}, {5, 0.9}} << false << true
                                         << I{0, 1, 3};
        QTest::newRow("duplicates all kept") << V{{1, 0.5}, {1, 0.5}, {2, 0.4}} << false << true << I{0, 1};
        QTest::newRow("same x: best y wins") << V{{1, 0.5}, {1, 0.6}} << false << true << I{1};
        QTest::newRow("same y: best x wins") << V{{2, 0.5}, {1, 0.5}} << false << true << I{1};
        QTest::newRow("one dominates all") << V{{3, 0.1}, {1, 0.9}, {2, 0.5}} << false << true << I{1};
        QTest::newRow("all on front") << V{{4, 0.9}, {1, 0.1}, {3, 0.7}, {2, 0.4}} << false << true << I{1, 3, 2, 0};
        QTest::newRow("NaN ignored") << V{{nan, 1.0}, {1, nan}, {2, 0.5}} << false << true << I{2};
        QTest::newRow("infinite energy is still a point") << V{{INFINITY, 1.0}, {1, 0.5}} << false << true << I{1, 0};
        QTest::newRow("negative values") << V{{-1, -0.5}, {-2, -0.7}, {0, 0.0}} << false << true << I{1, 0, 2};
        // Other directions.
        QTest::newRow("minimize both") << V{{1, 5}, {2, 3}, {3, 4}, {4, 1}, {2, 6}} << false << false << I{0, 1, 3};
        QTest::newRow("maximize both") << V{{1, 5}, {2, 3}, {3, 4}, {4, 1}, {0, 6}} << true << true << I{4, 0, 2, 3};
        QTest::newRow("maximize x, minimize y") << V{{1, 1}, {2, 2}, {3, 2}, {3, 3}} << true << false << I{0, 2};
    }

    void front()
    {
        QFETCH(std::vector<XY>, points);
        QFETCH(bool, maxX);
        QFETCH(bool, maxY);
        QFETCH(std::vector<size_t>, expected);
        const std::vector<size_t> got = paretoFront(points, maxX, maxY);
        QString g;
        for (size_t i : got)
            g += QString::number(i) + " ";
        QVERIFY2(got == expected, qPrintable("got " + g));
    }

    void metricNames()
    {
        for (Metric m : allMetrics())
            QCOMPARE(parseMetric(toString(m)), std::optional<Metric>(m));
        QVERIFY(!parseMetric("speed"));
        QVERIFY(higherIsBetter(Metric::Accuracy));
        QVERIFY(!higherIsBetter(Metric::EnergyPj));
    }

    void projectFront()
    {
        QTemporaryDir tmp;
        Project p = Project::create(QDir(tmp.path()).filePath("p.stcproj").toStdString(), {"p", "loihi3"});
        struct Row {
            bool mapped;
            double energy;
            std::vector<double> accuracies; // several runs: the latest counts
        };
        const std::vector<Row> rows = {
            {true, 100, {0.80}},       // 0 front
            {true, 200, {0.50, 0.85}}, // 1 front (latest 0.85)
            {true, 300, {0.84}},       // 2 dominated by 1
            {false, 0, {0.99}},        // 3 not mapped: no energy
            {true, 50, {}},            // 4 no accuracy
            {true, 400, {0.90}},       // 5 front
        };
        std::vector<int64_t> ids;
        for (const Row& r : rows) {
            CompileResult c;
            c.mapped = r.mapped;
            c.coresUsed = 1;
            c.energyPj = r.energy;
            c.latencyNs = 1;
            const int64_t id = p.addCompileRun({}, c);
            ids.push_back(id);
            for (double a : r.accuracies) {
                RunMeta m;
                m.compileRunId = id;
                p.addAccuracyRun(m, {"fashion-mnist", "test", 0, 100, int64_t(std::lround(a * 100)), EvalPath::FixedPoint, 0});
            }
        }
        const auto front = p.paretoFront(Metric::EnergyPj, Metric::Accuracy);
        QCOMPARE(front.size(), size_t(3));
        QCOMPARE(front[0].meta.id, ids[0]);
        QCOMPARE(front[1].meta.id, ids[1]);
        QCOMPARE(*front[1].value(Metric::Accuracy), 0.85);
        QCOMPARE(front[2].meta.id, ids[5]);
        // Compile time exists for every configuration; with accuracy only rows with an accuracy count.
        QCOMPARE(p.configurations().size(), rows.size());
        const auto byTime = p.paretoFront(Metric::CompileSeconds, Metric::Accuracy);
        QCOMPARE(byTime.size(), size_t(1)); // all 0 s: the best accuracy (0.99, unmapped) dominates
        QCOMPARE(byTime[0].meta.id, ids[3]);
    }
};

QTEST_GUILESS_MAIN(TestStorePareto)
#include "test_store_pareto.moc"

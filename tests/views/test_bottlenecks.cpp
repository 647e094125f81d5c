// The bottleneck list: a real mapping of the golden conv SNN, simulated by
// core/sim, its ledger's bottlenecks shown by the panel; model checked with
// QAbstractItemModelTester; selecting rows emits the core / layer to
// highlight on the floorplan.
#include "document/stages.h"
#include "ir/ir_io.h"
#include "sim/bottleneck_panel.h"
#include "sim/simulator.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>

#include <random>

using namespace stc;
using namespace stc::views;

class TestBottlenecks : public QObject {
    Q_OBJECT
private slots:
    void panelShowsTheLedgersBottlenecks()
    {
        auto parsed = ir::loadModule(std::string(STC_TEST_DATA_DIR) + "/ir/conv_snn.sir");
        QVERIFY(parsed.ok());
        const MapOutcome mapped = mapModule(*parsed.module, &*parsed.module, MapRequest{}, nullptr, {});
        QVERIFY2(mapped.ok() && mapped.package, mapped.error.c_str());
        const ::stc::sim::SimProgram& prog = *mapped.package->program;
        std::vector<float> inputs(size_t(prog.inputSize()) * 2);
        std::mt19937 rng(3);
        for (float& v : inputs)
            v = float(rng() % 256) / 255.0f;
        const ::stc::sim::SimResult r = ::stc::sim::simulate(prog, inputs, 2);
        QVERIFY2(r.ok(), r.error.c_str());
        const ::stc::sim::Ledger ledger = ::stc::sim::buildLedger(prog, r.counters);
        QVERIFY(!ledger.bottleneckItems.empty());

        BottleneckPanel panel;
        QAbstractItemModelTester tester(panel.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(panel.sourceText().contains("No bottlenecks yet"));
        panel.setBottlenecks(std::make_shared<const std::vector<::stc::sim::Bottleneck>>(ledger.bottleneckItems),
                             "chip simulator, 2 random images");
        QCOMPARE(panel.model()->rowCount(), int(ledger.bottleneckItems.size()));
        QVERIFY(panel.sourceText().contains("2 random images"));
        const auto& first = ledger.bottleneckItems.front();
        QCOMPARE(first.kind, ::stc::sim::Bottleneck::Kind::Core);
        QCOMPARE(panel.model()->index(0, BottleneckModel::Item).data().toString(), QString("core %1").arg(first.core));
        QCOMPARE(panel.model()->index(0, BottleneckModel::Explanation).data().toString(),
                 QString::fromStdString(first.explanation));
        QVERIFY(panel.model()->index(0, BottleneckModel::Item).data(Qt::ToolTipRole).toString().contains("Suggestion"));

        QSignalSpy cores(&panel, &BottleneckPanel::coreSelected), layers(&panel, &BottleneckPanel::layerSelected);
        panel.view()->selectRow(0);
        QCOMPARE(cores.last().first().toInt(), first.core);
        int layerRow = -1;
        for (int i = 0; i < int(ledger.bottleneckItems.size()); ++i)
            if (ledger.bottleneckItems[size_t(i)].kind == ::stc::sim::Bottleneck::Kind::Layer && layerRow < 0)
                layerRow = i;
        QVERIFY(layerRow > 0);
        panel.view()->selectRow(layerRow);
        QCOMPARE(cores.last().first().toInt(), -1);
        QCOMPARE(layers.last().first().toString(),
                 QString::fromStdString(ledger.bottleneckItems[size_t(layerRow)].layer));
        panel.setBottlenecks(nullptr, {});
        QCOMPARE(panel.model()->rowCount(), 0);
    }
};

QTEST_MAIN(TestBottlenecks)
#include "test_bottlenecks.moc"

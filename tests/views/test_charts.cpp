// Energy & latency charts (offscreen): the per-layer energy model under
// QAbstractItemModelTester (data-driven cells and hover text with the
// descriptor constant and its source), the utilization histogram bins, and
// the panel: stacked bars per event kind, hover -> constant + source, the
// measured/estimate source switch and projected-chip labels. Also the cost
// model's estimate as produced by the document layer (stages.h mapModule)
// and the chip simulator's measured ledger (stages.h runChipSimulation).
#include "charts/charts_panel.h"
#include "charts/energy_model.h"
#include "document/stages.h"
#include "ir/ir_io.h"
#include "sim/program.h"
#include "tiny_models.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QLineSeries>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTest>

using namespace stc;
using namespace stc::views;

namespace {

std::shared_ptr<EnergyChartData> makeData(bool projected)
{
    auto d = std::make_shared<EnergyChartData>();
    d->origin = "test";
    d->chipId = projected ? "loihi3" : "loihi1";
    d->projectedChip = projected;
    d->kinds = {"synaptic_op", "neuron_update_active", "hop_ew"};
    d->layers = {"conv", "lif1", "head"};
    const double unit[] = {23.6, 81, 3.0};
    for (int l = 0; l < 3; ++l)
        for (int k = 0; k < 3; ++k) {
            EnergyLine e;
            e.scope = "layer";
            e.item = d->layers[l];
            e.kind = d->kinds[k];
            e.count = 10.0 * (l + 1) * (k + 1);
            e.unitPj = unit[k];
            e.constant = "energy_pj." + e.kind;
            e.source = k == 2 ? "Davies et al. 2018, Table 2" : "projected: x0.6";
            e.projected = k != 2;
            e.energyPj = e.count * e.unitPj;
            d->lines.push_back(e);
        }
    for (int s = 0; s < 6; ++s) {
        EnergyLine e;
        e.scope = "step";
        e.item = QString::number(s);
        e.kind = "synaptic_op";
        e.count = s < 4 ? 100 : 50;
        e.unitPj = 23.6;
        e.constant = "energy_pj.synaptic_op";
        e.source = "src";
        e.energyPj = e.count * e.unitPj;
        d->lines.push_back(e);
        d->stepLatencyNs.push_back(500);
    }
    d->coreUtilization = {0.05, 0.5, 0.55, 0.99, 1.0, 0.92};
    d->dynamicPj = 1e5;
    return d;
}

} // namespace

class TestCharts : public QObject {
    Q_OBJECT
private slots:
    void layerModel_data()
    {
        QTest::addColumn<int>("layer");
        QTest::addColumn<int>("kind");
        QTest::addColumn<double>("energy");
        QTest::newRow("conv synaptic_op") << 0 << 0 << 10 * 23.6;
        QTest::newRow("lif1 neuron") << 1 << 1 << 40 * 81.0;
        QTest::newRow("head hop_ew") << 2 << 2 << 90 * 3.0;
    }
    void layerModel()
    {
        QFETCH(int, layer);
        QFETCH(int, kind);
        QFETCH(double, energy);
        EnergyLayerModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto data = makeData(false);
        model.setData(data);
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.columnCount(), 4); // 3 kinds + total
        QCOMPARE(model.headerData(3, Qt::Horizontal).toString(), QString("total"));
        QCOMPARE(model.headerData(1, Qt::Vertical).toString(), QString("lif1"));
        QCOMPARE(model.data(model.index(layer, kind), EnergyLayerModel::EnergyRole).toDouble(), energy);
        const QString tip = model.data(model.index(layer, kind), Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains("energy_pj." + data->kinds[kind]), qPrintable(tip));
        QVERIFY(tip.contains(kind == 2 ? "Davies et al. 2018" : "projected"));
        double total = 0;
        for (int k = 0; k < 3; ++k)
            total += model.energy(layer, k);
        QCOMPARE(model.data(model.index(layer, 3), EnergyLayerModel::EnergyRole).toDouble(), total);
        model.setData(nullptr);
        QCOMPARE(model.rowCount(), 0);
    }

    void histogram_data()
    {
        QTest::addColumn<QList<double>>("values");
        QTest::addColumn<int>("bins");
        QTest::addColumn<QList<int>>("expected");
        QTest::newRow("empty") << QList<double>{} << 4 << QList<int>{0, 0, 0, 0};
        QTest::newRow("edges") << QList<double>{0.0, 0.25, 0.5, 0.999, 1.0, 1.7} << 4 << QList<int>{1, 1, 1, 3};
        QTest::newRow("one bin") << QList<double>{0.1, 0.9} << 1 << QList<int>{2};
    }
    void histogram()
    {
        QFETCH(QList<double>, values);
        QFETCH(int, bins);
        QFETCH(QList<int>, expected);
        const auto h = utilizationHistogram(std::vector<double>(values.begin(), values.end()), bins);
        QCOMPARE(QList<int>(h.begin(), h.end()), expected);
    }

    void panelStacksAndHovers()
    {
        ChartsPanel panel;
        panel.resize(1000, 600);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QVERIFY(panel.measuredLabel()->text().isEmpty());
        panel.setEstimate(makeData(true));
        QVERIFY(panel.measuredLabel()->text().contains("not run yet"));
        panel.ensureBuilt();
        auto* series = qobject_cast<QHorizontalStackedBarSeries*>(panel.layerChart()->chart()->series().value(0));
        QVERIFY(series);
        QCOMPARE(series->count(), 3); // one set per event kind
        QCOMPARE(panel.shownLayers(), 3);
        // Largest layer on top: bars are bottom-up, so index 2 is "head" (the most energy).
        QBarSet* hop = series->barSets().at(2);
        QCOMPARE(hop->label(), QString("hop_ew"));
        emit hop->hovered(true, 2);
        QVERIFY2(panel.lastHoverText().contains("energy_pj.hop_ew"), qPrintable(panel.lastHoverText()));
        QVERIFY(panel.lastHoverText().contains("Davies et al. 2018, Table 2"));
        QVERIFY(panel.lastHoverText().contains("head"));
        emit hop->hovered(false, 2);
        QVERIFY(panel.lastHoverText().isEmpty());
        QVERIFY(!panel.findChild<QLabel*>("charts.projected")->isHidden());

        // Per step: energy, cumulative, latency (T + depth points each).
        panel.tabs()->setCurrentIndex(1);
        const auto steps = panel.stepChart()->chart()->series();
        QCOMPARE(steps.size(), 3);
        auto* energy = qobject_cast<QLineSeries*>(steps.at(0));
        QCOMPARE(energy->count(), 6);
        auto* cumulative = qobject_cast<QLineSeries*>(steps.at(1));
        QVERIFY(cumulative->at(5).y() > cumulative->at(0).y());
        emit energy->hovered(QPointF(4, 0), true);
        QVERIFY(panel.lastHoverText().contains("step 4"));
        QVERIFY(panel.lastHoverText().contains("energy_pj.synaptic_op"));

        // Utilization histogram: 10 bins.
        auto* util = qobject_cast<QBarSeries*>(panel.utilizationChart()->chart()->series().value(0));
        QVERIFY(util);
        QBarSet* bins = util->barSets().at(0);
        QCOMPARE(bins->count(), 10);
        QCOMPARE(bins->at(9), 3.0); // 0.92, 0.99, 1.0
        emit bins->hovered(true, 9);
        QVERIFY(panel.lastHoverText().contains("3 of 6 cores"));

        panel.setEstimate(nullptr);
        panel.ensureBuilt();
        QVERIFY(panel.layerChart()->chart()->series().isEmpty());
    }

    // Estimate vs measured: the ledger is shown once it exists, unless the
    // user picked the estimate; the panel says which one is on screen.
    void panelSwitchesBetweenEstimateAndMeasured()
    {
        ChartsPanel panel;
        panel.resize(1000, 600);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        auto estimate = makeData(false);
        auto measured = makeData(false);
        measured->measured = true;
        measured->origin = "chip simulator run";
        measured->dynamicPj = 2e5;
        panel.setEstimate(estimate);
        QCOMPARE(panel.source(), ChartsPanel::Source::Estimate);
        QCOMPARE(panel.chartData(), estimate.get());
        QVERIFY(panel.originLabel()->text().startsWith("<b>Estimate</b>"));
        panel.setMeasured(measured);
        QCOMPARE(panel.source(), ChartsPanel::Source::Measured);
        QCOMPARE(panel.chartData(), measured.get());
        QVERIFY(panel.originLabel()->text().startsWith("<b>Measured</b>"));
        QVERIFY(panel.originLabel()->text().contains("chip simulator run"));
        QVERIFY(panel.measuredLabel()->isHidden());
        panel.ensureBuilt();
        QVERIFY(panel.layerChart()->chart()->title().contains("measured"));
        // The user picks the estimate: a later ledger does not take over.
        panel.setSource(ChartsPanel::Source::Estimate);
        QCOMPARE(panel.chartData(), estimate.get());
        QVERIFY(panel.measuredLabel()->text().contains("measured ledger of the last run is available"));
        panel.setMeasured(measured);
        QCOMPARE(panel.chartData(), estimate.get());
        // No ledger: the measured entry is disabled and the estimate shows.
        panel.setSource(ChartsPanel::Source::Measured);
        QCOMPARE(panel.chartData(), measured.get());
        panel.setMeasured(nullptr);
        QCOMPARE(panel.source(), ChartsPanel::Source::Estimate);
        QCOMPARE(panel.chartData(), estimate.get());
        auto* items = qobject_cast<QStandardItemModel*>(panel.sourceBox()->model());
        QVERIFY(!items->item(panel.sourceBox()->findData(int(ChartsPanel::Source::Measured)))->isEnabled());
        // A new mapping (estimate null) drops the ledger of the old package.
        panel.setMeasured(measured);
        panel.setEstimate(nullptr);
        QVERIFY(!panel.chartData());
    }

    // The document layer's estimate: totals by layer and by step agree.
    void estimateFromMappingStage()
    {
        // conv_snn maps onto Loihi 1 (binary spikes), whose constants are published (Davies 2018).
        auto loaded = ir::loadModule(std::string(STC_TEST_DATA_DIR) + "/ir/conv_snn.sir");
        QVERIFY(loaded.ok());
        const ir::Module& m = *loaded.module;
        const MapOutcome r = mapModule(m, &m, MapRequest{"loihi1", 1, "balanced", 1, {}}, nullptr, {});
        QVERIFY2(r.ok(), r.error.c_str());
        const EnergyChartData& d = *r.energy;
        QVERIFY(!d.measured);
        QVERIFY(!d.projectedChip);
        double byLayer = 0, byStep = 0;
        for (const auto* l : d.linesOf("layer"))
            byLayer += l->energyPj;
        for (double e : d.stepEnergyPj())
            byStep += e;
        QVERIFY(byLayer > 0);
        QVERIFY(std::abs(byLayer - d.dynamicPj) <= 1e-6 * d.dynamicPj);
        QVERIFY(std::abs(byStep - d.dynamicPj) <= 1e-6 * d.dynamicPj);
        const EnergyLine* syn = d.find("total", {}, "synaptic_op");
        QVERIFY(syn);
        QCOMPARE(syn->constant, QString("energy_pj.synaptic_op"));
        QVERIFY2(syn->source.contains("Davies"), qPrintable(syn->source));
        QCOMPARE(syn->unitPj, 23.6);
        QCOMPARE(d.stepLatencyNs.size(), d.stepEnergyPj().size());
        QCOMPARE(d.coreUtilization.size(), r.floorplan->cores.size());
    }

    // The chip simulator's ledger of one inference as chart data: measured,
    // every line with its constant and source, totals that agree by layer,
    // by step and by kind, a step latency per hardware step; the trace holds
    // the LIF populations over T model steps.
    void measuredLedgerFromChipSimulator_data()
    {
        QTest::addColumn<QString>("chip");
        QTest::newRow("loihi1") << "loihi1";
        QTest::newRow("loihi3 (projected)") << "loihi3";
    }
    void measuredLedgerFromChipSimulator()
    {
        QFETCH(QString, chip);
        auto loaded = ir::loadModule(std::string(STC_TEST_DATA_DIR) + "/ir/conv_snn.sir");
        QVERIFY(loaded.ok());
        const ir::Module& m = *loaded.module;
        const MapOutcome map = mapModule(m, &m, MapRequest{chip.toStdString(), 1, "balanced", 1, {}}, nullptr, {});
        QVERIFY2(map.ok(), map.error.c_str());
        QVERIFY2(map.package, map.diagnostics.format().c_str());
        const ChipPackage& pkg = *map.package;
        QCOMPARE(pkg.chipId, chip);
        QCOMPARE(pkg.cores, int(map.floorplan->cores.size()));
        const int64_t inputs = m.typeOf(m.inputs().front()).numElements();
        std::vector<float> image(static_cast<size_t>(inputs));
        for (size_t i = 0; i < image.size(); ++i)
            image[i] = float((i * 37) % 101) / 100.0f;
        double lastProgress = 0;
        const ChipRunOutcome run = runChipSimulation(pkg, &m, image, "Fashion-MNIST test image #7", nullptr,
                                                     [&](double f, const std::string&) { lastProgress = f; });
        QVERIFY2(run.trace.ok(), run.trace.error.c_str());
        QVERIFY(lastProgress > 0.9);
        QVERIFY(QString::fromStdString(run.trace.engine).contains("chip simulator"));
        QCOMPARE(run.trace.timesteps, m.timesteps);
        QVERIFY(!run.trace.layers.empty());
        for (const auto& l : run.trace.layers) {
            QCOMPARE(l.steps(), m.timesteps);
            QVERIFY(l.opIndex >= 0); // linked to the document op by value name
            QCOMPARE(m.ops()[size_t(l.opIndex)].kind, ir::OpKind::Lif);
            for (int64_t t = 0; t < l.steps(); ++t)
                QVERIFY(std::is_sorted(l.neuron.begin() + l.stepOffset[size_t(t)],
                                       l.neuron.begin() + l.stepOffset[size_t(t) + 1]));
        }
        QVERIFY(run.trace.totalSpikes() > 0);
        QCOMPARE(run.trace.probabilities.size(), size_t(10));
        QVERIFY(run.trace.predicted >= 0);

        const EnergyChartData& d = *run.energy;
        QVERIFY(d.measured);
        QVERIFY(d.origin.contains("image #7"));
        QCOMPARE(d.projectedChip, chip == "loihi3");
        double byLayer = 0, byStep = 0, byKind = 0;
        for (const auto* l : d.linesOf("layer"))
            byLayer += l->energyPj;
        for (double e : d.stepEnergyPj())
            byStep += e;
        for (const QString& k : d.kinds)
            if (const EnergyLine* l = d.find("total", {}, k))
                byKind += l->energyPj;
        QVERIFY(d.dynamicPj > 0);
        QVERIFY(std::abs(byLayer - d.dynamicPj) <= 1e-6 * d.dynamicPj);
        QVERIFY(std::abs(byStep - d.dynamicPj) <= 1e-6 * d.dynamicPj);
        QVERIFY(std::abs(byKind - d.dynamicPj) <= 1e-6 * d.dynamicPj);
        const EnergyLine* syn = d.find("total", {}, "synaptic_op");
        QVERIFY(syn && syn->count > 0);
        QCOMPARE(syn->constant, QString("energy_pj.synaptic_op"));
        QVERIFY(!syn->source.isEmpty());
        QCOMPARE(syn->projected, chip == "loihi3");
        QCOMPARE(int64_t(d.stepLatencyNs.size()), m.timesteps + pkg.program->depth);
        QVERIFY(d.stepEnergyPj().size() <= d.stepLatencyNs.size());
        QVERIFY(d.latencyNs > 0);
        QCOMPARE(d.coreUtilization.size(), size_t(pkg.cores));
        QVERIFY(run.ledgerText.find("energy") != std::string::npos);

        // A cancelled job stops the run.
        std::atomic<bool> cancel{true};
        const ChipRunOutcome stopped = runChipSimulation(pkg, &m, image, "Fashion-MNIST test image #7", &cancel, {});
        QVERIFY(stopped.trace.cancelled);
        QVERIFY(!stopped.energy);
        // A wrong-sized input is a located error, not a crash.
        const ChipRunOutcome bad = runChipSimulation(pkg, &m, std::vector<float>(3), "Fashion-MNIST test image #7", nullptr, {});
        QVERIFY(!bad.trace.ok());
        QVERIFY(bad.trace.error.find("input") != std::string::npos);
    }
};

QTEST_MAIN(TestCharts)
#include "test_charts.moc"

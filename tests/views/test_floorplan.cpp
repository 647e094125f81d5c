// Floorplan (offscreen): the layer model under QAbstractItemModelTester, the
// widget's hit testing / hover tooltip / layer selection on synthetic boards
// (data-driven, up to 16 chips x 128 cores with dead cores), the paint time of
// the 16 x 128 board (printed), and the document layer's mapping stage on the
// tiny Spikformer through FloorplanPanel (job lane "map", graph selection ->
// highlighted cores).
#include "document/document.h"
#include "floorplan/floorplan_layer_model.h"
#include "floorplan/floorplan_panel.h"
#include "floorplan/floorplan_widget.h"
#include "jobs/job_runner.h"
#include "tiny_models.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QLabel>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>

using namespace stc;
using namespace stc::views;

namespace {

// A synthetic mapping: `used` cores per chip in space-filling order, layers
// in contiguous runs, every 37th cell dead.
std::shared_ptr<FloorplanData> makeBoard(int chips, int tilesX, int tilesY, int cpt, int used, int layers)
{
    auto d = std::make_shared<FloorplanData>();
    d->chipId = "synthetic";
    d->chips = chips;
    d->tilesX = tilesX;
    d->tilesY = tilesY;
    d->coresPerTile = cpt;
    for (int c = 0; c < chips; ++c)
        d->chipPos.push_back({c % 4, c / 4, 0});
    d->capacity = {1024, 4096, 4096, 131072, 0, 1000};
    for (int l = 0; l < layers; ++l) {
        FloorLayer L;
        L.name = QString("layer%1").arg(l);
        L.kind = l == 0 ? "input" : "lif";
        L.opIndex = 100 + l;
        d->layers.push_back(L);
    }
    int n = 0;
    for (int chip = 0; chip < chips; ++chip)
        for (int cell = 0, placed = 0; cell < d->cellsPerChip() && placed < used; ++cell) {
            const int core = cell % cpt, tile = cell / cpt;
            const int tx = tile % tilesX, ty = tile / tilesX;
            if ((chip * d->cellsPerChip() + cell) % 37 == 36) {
                d->deadCores.push_back({chip, tx, ty, core});
                continue;
            }
            FloorCore fc;
            fc.chip = chip;
            fc.tileX = tx;
            fc.tileY = ty;
            fc.core = core;
            fc.layer = int((int64_t(n) * layers) / (int64_t(chips) * used));
            fc.layers = {fc.layer};
            fc.neurons = 100 + n % 900;
            fc.utilization[0] = double(fc.neurons) / 1024.0;
            fc.binding = 0;
            fc.energyPj = 1000.0 * (n % 17);
            fc.spikesOutPerStep = n % 11;
            d->layers[size_t(fc.layer)].cores.push_back(int(d->cores.size()));
            d->layers[size_t(fc.layer)].neurons += fc.neurons;
            d->cores.push_back(fc);
            ++placed;
            ++n;
        }
    // Routes from each core to the next one of the same layer.
    for (const auto& L : d->layers)
        for (size_t i = 1; i < L.cores.size(); ++i) {
            FloorRoute r;
            r.from = L.cores[i - 1];
            r.to = L.cores[i];
            r.spikesPerStep = 1 + double(i % 5);
            const FloorCore& a = d->cores[size_t(r.from)];
            r.path.push_back({d->chipPos[size_t(a.chip)][0] * tilesX + a.tileX, d->chipPos[size_t(a.chip)][1] * tilesY + a.tileY, 0});
            d->routes.push_back(r);
        }
    d->index();
    return d;
}

} // namespace

class TestFloorplan : public QObject {
    Q_OBJECT
private slots:
    void layerModel()
    {
        FloorplanLayerModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setData(makeBoard(2, 4, 4, 4, 50, 7));
        QCOMPARE(model.rowCount(), 7);
        QCOMPARE(model.columnCount(), int(FloorplanLayerModel::ColumnCount));
        QCOMPARE(model.rowForOp(103), 3);
        QCOMPARE(model.rowForOp(5), -1);
        QVERIFY(model.data(model.index(0, 0), Qt::DecorationRole).value<QColor>().isValid());
        QVERIFY(model.data(model.index(2, FloorplanLayerModel::Cores)).toInt() > 0);
        model.setData(nullptr);
        QCOMPARE(model.rowCount(), 0);
    }

    void hitTestHoverAndSelect_data()
    {
        QTest::addColumn<int>("chips");
        QTest::addColumn<int>("tilesX");
        QTest::addColumn<int>("tilesY");
        QTest::addColumn<int>("cpt");
        QTest::addColumn<int>("used");
        QTest::addColumn<int>("layers");
        QTest::newRow("1 chip, 16 cores") << 1 << 2 << 2 << 4 << 12 << 3;
        QTest::newRow("loihi2-like 2 chips") << 2 << 8 << 4 << 4 << 100 << 9;
        QTest::newRow("loihi3-like 4 chips") << 4 << 8 << 8 << 4 << 240 << 20;
        QTest::newRow("16 chips x 128 cores") << 16 << 8 << 4 << 4 << 128 << 40;
    }

    void hitTestHoverAndSelect()
    {
        QFETCH(int, chips);
        QFETCH(int, tilesX);
        QFETCH(int, tilesY);
        QFETCH(int, cpt);
        QFETCH(int, used);
        QFETCH(int, layers);
        auto data = makeBoard(chips, tilesX, tilesY, cpt, used, layers);
        FloorplanWidget w;
        w.resize(1100, 700);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setData(data);
        // Zoom in on the first chip so cells are big enough to aim at.
        w.zoomBy(chips > 1 ? 3.0 : 1.0, w.coreRect(0).topLeft());
        QApplication::processEvents();
        int checked = 0;
        for (int core = 0; core < int(data->cores.size()); core += std::max(1, int(data->cores.size()) / 25)) {
            const QRectF r = w.coreRect(core);
            if (!w.rect().contains(r.center().toPoint()))
                continue;
            QCOMPARE(w.coreAt(r.center().toPoint()), core);
            ++checked;
        }
        QVERIFY(checked > 0);
        // Dead cells are no core.
        for (const auto& dead : data->deadCores)
            QCOMPARE(data->coreOfCell[size_t(data->cellOf(dead[0], dead[1], dead[2], dead[3]))], FloorplanData::kDead);

        // Hover: the tooltip names the core and its resources.
        const int target = 1;
        const QPoint center = w.coreRect(target).center().toPoint();
        QTest::mouseMove(&w, center);
        QTRY_COMPARE(w.hoveredCore(), target);
        QVERIFY2(w.toolTip().contains(QString("core %1").arg(target)), qPrintable(w.toolTip()));
        QVERIFY(w.toolTip().contains("neurons"));
        QVERIFY(w.toolTip().contains("(binding)"));
        QVERIFY(w.toolTip().contains(QString::number(data->cores[size_t(target)].neurons)));

        // Click: selects the core's layer; exactly its cores are highlighted.
        QSignalSpy clicked(&w, &FloorplanWidget::layerClicked);
        QTest::mouseClick(&w, Qt::LeftButton, {}, center);
        QCOMPARE(clicked.count(), 1);
        const int layer = data->cores[size_t(target)].layer;
        QCOMPARE(clicked.first().first().toInt(), layer);
        QCOMPARE(w.selectedLayer(), layer);
        for (size_t c = 0; c < data->cores.size(); ++c)
            QCOMPARE(w.isCoreHighlighted(int(c)), data->cores[c].layer == layer);
        QTest::keyClick(&w, Qt::Key_Escape);
        QCOMPARE(w.selectedLayer(), -1);
    }

    void colorModes()
    {
        auto data = makeBoard(1, 4, 4, 4, 40, 4);
        FloorplanWidget w;
        w.setData(data);
        QCOMPARE(w.coreColor(0), w.coreColor(1)); // same layer
        QVERIFY(w.coreColor(0) != w.coreColor(39));
        w.setColorMode(FloorplanWidget::ColorMode::Utilization);
        // neurons 100 vs 139: different utilization, different colour.
        QVERIFY(w.coreColor(0) != w.coreColor(39));
        w.setColorMode(FloorplanWidget::ColorMode::Energy);
        QVERIFY(w.coreColor(0) != w.coreColor(5));
        w.setColorMode(FloorplanWidget::ColorMode::Activity);
        QVERIFY(w.coreColor(0) != w.coreColor(5));
    }

    // Energy / activity colours: the estimate until a measurement of the
    // same cores arrives, then the measured values, and the legend says which.
    void measuredColoursReplaceTheEstimate()
    {
        auto data = makeBoard(1, 4, 4, 4, 40, 4);
        FloorplanWidget w;
        w.resize(900, 500);
        w.setData(data);
        w.setColorMode(FloorplanWidget::ColorMode::Energy);
        QCOMPARE(w.valueSource(), QString("estimate"));
        QVERIFY(w.legendTitle().startsWith("ESTIMATED"));
        // Estimate: core 16 (16 % 17 = 16) is the hottest, core 0 the coldest.
        QVERIFY(w.coreColor(16) != w.coreColor(0));
        auto m = std::make_shared<FloorMeasurement>();
        m->label = "chip simulator, Fashion-MNIST test image #1";
        m->energyPj.assign(data->cores.size(), 10.0);
        m->spikesPerStep.assign(data->cores.size(), 0.0);
        m->energyPj[0] = 5000.0; // measured: core 0 is the hottest
        m->spikesPerStep[7] = 3.0;
        w.setMeasurement(m);
        QCOMPARE(w.valueSource(), QString("measured"));
        QVERIFY(w.legendTitle().startsWith("MEASURED dynamic energy"));
        QVERIFY(w.legendTitle().contains("image #1"));
        QCOMPARE(w.coreColor(16), w.coreColor(1)); // equal measured energy, equal colour
        QVERIFY(w.coreColor(0) != w.coreColor(16));
        QVERIFY(w.coreToolTip(0).contains("<b>measured</b>"));
        w.setColorMode(FloorplanWidget::ColorMode::Activity);
        QVERIFY(w.legendTitle().startsWith("MEASURED spikes"));
        QVERIFY(w.coreColor(7) != w.coreColor(0));
        w.setColorMode(FloorplanWidget::ColorMode::Utilization);
        QCOMPARE(w.valueSource(), QString()); // utilization is static: neither
        // A measurement of another package (other core count) is ignored.
        auto other = std::make_shared<FloorMeasurement>(*m);
        other->energyPj.pop_back();
        w.setMeasurement(other);
        w.setColorMode(FloorplanWidget::ColorMode::Energy);
        QCOMPARE(w.valueSource(), QString("estimate"));
        QVERIFY(!w.measurement());
        w.setMeasurement(nullptr);
        QVERIFY(w.legendTitle().startsWith("ESTIMATED"));
    }

    // 16 chips x 128 cores: a full board render (fit, then zoomed in with a
    // layer's routes), the cached repaint (hover) and panning.
    void paintTime16x128()
    {
        auto data = makeBoard(16, 8, 4, 4, 128 - 4, 40);
        FloorplanWidget w;
        w.resize(1400, 800);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setData(data);
        w.setColorMode(FloorplanWidget::ColorMode::Utilization);
        double worstRender = 0, worstPaint = 0;
        auto paint = [&] {
            w.repaint();
            worstRender = std::max(worstRender, w.lastRenderMs());
            worstPaint = std::max(worstPaint, w.lastPaintMs());
        };
        for (int i = 0; i < 3; ++i)
            paint(); // first is warm-up
        const double fitRender = w.lastRenderMs();
        w.setSelectedLayer(20);
        paint();
        const double selectedRender = w.lastRenderMs();
        QElapsedTimer t;
        t.start();
        int frames = 0;
        for (int i = 0; i < 20; ++i, ++frames) {
            w.zoomBy(1.1, QPointF(700, 400));
            paint();
        }
        for (int i = 0; i < 20; ++i, ++frames) {
            QTest::mousePress(&w, Qt::LeftButton, {}, QPoint(600, 400));
            QTest::mouseMove(&w, QPoint(600 - 30 * (i % 5), 400 - 10));
            QTest::mouseRelease(&w, Qt::LeftButton, {}, QPoint(600 - 30 * (i % 5), 400 - 10));
            paint();
        }
        const double perFrame = double(t.nsecsElapsed()) / 1e6 / frames;
        // Hover only: the cached board is blitted, the outline drawn on top.
        w.update();
        QTest::mouseMove(&w, w.coreRect(3).center().toPoint());
        w.repaint();
        const double hoverPaint = w.lastPaintMs();
        qInfo("floorplan 16 chips x 128 cores (%zu mapped, %zu dead): board render %.2f ms at fit, %.2f ms with a "
              "layer's routes; zoom/pan frames %.2f ms each (worst render %.2f ms, worst paint %.2f ms); cached "
              "hover repaint %.2f ms",
              data->cores.size(), data->deadCores.size(), fitRender, selectedRender, perFrame, worstRender,
              worstPaint, hoverPaint);
        // 50 ms per frame is the smoothness target, measured by bench_studio
        // (bench/results/studio.json, floorplan_16x128); a timed unit test on a
        // shared machine asserts only a regression bound (57.7 ms was seen once
        // at load 8), as views_test_latency does.
        qInfo("worst board render %.1f ms: %s the 50 ms target", worstRender, worstRender < 50 ? "within" : "OVER");
        QVERIFY2(worstRender < 150, qPrintable(QString::number(worstRender)));
        QVERIFY(hoverPaint < worstRender + 5);
    }

    // The mapping stage through the panel: compile result -> lane "map" ->
    // floorplan + energy estimate; graph selection highlights the layer.
    void panelMapsTinySpikformer()
    {
        Document doc;
        JobRunner jobs;
        auto module = std::make_shared<const ir::Module>(test::makeTinySpikformer());
        doc.load("tiny.sir", module, {}, "test");
        FloorplanPanel panel(&doc, &jobs);
        panel.resize(1200, 600);
        panel.show();
        QSignalSpy mapped(&panel, &FloorplanPanel::mapped);
        QSignalSpy energy(&panel, &FloorplanPanel::energyChanged);
        // A superseded request is dropped (generation): only the newest result lands.
        panel.mapModule(module);
        panel.setRequest({"loihi2", 3, "balanced", 1, {}}); // 319 cores
        QVERIFY(mapped.wait(60000));
        jobs.waitForIdle(60000);
        QCOMPARE(mapped.count(), 1);
        QVERIFY2(mapped.first().first().toBool(), qPrintable(panel.statusText()));
        auto f = panel.mapping();
        QVERIFY(f);
        QCOMPARE(f->chipId, QString("loihi2"));
        QVERIFY(!f->projectedChip);
        QVERIFY(panel.banner()->isHidden() || !panel.banner()->text().contains("projected chip"));
        QVERIFY(!f->cores.empty());
        QCOMPARE(energy.count(), 1);
        QVERIFY(panel.energy() && !panel.energy()->lines.empty());
        QAbstractItemModelTester tester(panel.layerModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(panel.layerModel()->rowCount(), int(f->layers.size()));
        // The package for the chip simulator comes with the mapping.
        QVERIFY2(panel.package() && panel.package()->program, panel.statusText().toUtf8().constData());
        QCOMPARE(panel.package()->cores, int(f->cores.size()));

        // Every column of the layer list is on screen: the last one (energy)
        // ends inside the viewport, numbers are not elided, names may be.
        QApplication::processEvents();
        QTableView* list = panel.layerView();
        QHeaderView* header = list->horizontalHeader();
        const int last = panel.layerModel()->columnCount() - 1;
        QVERIFY2(header->sectionViewportPosition(last) + header->sectionSize(last) <= list->viewport()->width(),
                 qPrintable(QString("last column ends at %1, viewport %2")
                                .arg(header->sectionViewportPosition(last) + header->sectionSize(last))
                                .arg(list->viewport()->width())));
        for (int c = 1; c <= last; ++c)
            QVERIFY2(header->sectionSize(c) >= static_cast<QAbstractItemView*>(list)->sizeHintForColumn(c),
                     qPrintable(QString::number(c)));
        QVERIFY(header->sectionSize(0) >= 60);

        // Selecting a LIF op in the document highlights that layer's cores.
        int layer = -1;
        for (size_t i = 0; i < f->layers.size(); ++i)
            if (f->layers[i].kind == "lif" && f->layers[i].opIndex >= 0) {
                layer = int(i);
                break;
            }
        QVERIFY(layer >= 0);
        doc.selectOp(f->layers[size_t(layer)].opIndex);
        QCOMPARE(panel.floorplan()->selectedLayer(), layer);
        for (int c : f->layers[size_t(layer)].cores)
            QVERIFY(panel.floorplan()->isCoreHighlighted(c));
        QCOMPARE(panel.layerView()->currentIndex().row(), layer);

        // Loihi 3 is labelled as a projection.
        panel.setRequest({"loihi3", 2, "balanced", 1, {}});
        QVERIFY(mapped.wait(60000));
        QVERIFY(panel.mapping()->projectedChip);
        QVERIFY(!panel.banner()->isHidden());
        QVERIFY(panel.banner()->text().contains("projected chip"));
        QVERIFY(panel.energy()->projectedChip);
    }
};

QTEST_MAIN(TestFloorplan)
#include "test_floorplan.moc"

// QAbstractItemModelTester on every model, plus their behaviour.
#include "diagnostics/diagnostics_model.h"
#include "document/document.h"
#include "inspector/inspector_model.h"
#include "main/command_palette.h"
#include "passes/pipeline_model.h"
#include "tiny_models.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QMimeData>
#include <QSignalSpy>
#include <QTest>

using namespace stc;
using namespace stc::views;

namespace {
// Value column of the first row named `name` (null if there is none).
QString valueOf(const InspectorModel& model, const QString& name)
{
    for (int r = 0; r < model.rowCount(); ++r)
        if (model.index(r, 0).data().toString() == name)
            return model.index(r, 1).data().toString();
    return {};
}
} // namespace

class TestModels : public QObject {
    Q_OBJECT
private slots:
    void diagnosticsModel()
    {
        Document doc;
        DiagnosticsModel model(&doc);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        doc.load("tiny.sir", std::make_shared<const ir::Module>(test::makeTinySpikformer()), {}, "test");
        Diagnostics d;
        d.warning({"tiny.sir", 3, 1}, "%x", "a warning");
        d.error({"tiny.sir", 4, 2}, {}, "an error", "blocks.0.attn.q_lif");
        doc.setDiagnostics(DiagSource::Verify, d);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.errorCount(), 1);
        QCOMPARE(model.at(0)->diag.severity, Severity::Error); // errors sort first
        QVERIFY(model.at(0)->opIndex >= 0);                    // resolved by origin
        doc.setDiagnostics(DiagSource::Verify, {});
        QCOMPARE(model.rowCount(), 0);
    }

    void inspectorModelEditsThroughTheUndoStack()
    {
        Document doc;
        InspectorModel model(&doc);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        doc.load("tiny.sir", std::make_shared<const ir::Module>(test::makeTinySpikformer()), {}, "test");
        int lif = -1;
        for (size_t i = 0; i < doc.module()->ops().size() && lif < 0; ++i)
            if (doc.module()->ops()[i].kind == ir::OpKind::Lif)
                lif = int(i);
        doc.selectOp(lif);
        QVERIFY(model.rowCount() > 5);
        int thresholdRow = -1;
        for (int r = 0; r < model.rowCount(); ++r)
            if (model.index(r, 0).data().toString() == "v_threshold")
                thresholdRow = r;
        QVERIFY(thresholdRow >= 0);
        const QModelIndex value = model.index(thresholdRow, 1);
        QVERIFY(model.flags(value) & Qt::ItemIsEditable);
        QVERIFY(!model.setData(value, "not a number", Qt::EditRole));
        QVERIFY(!model.lastError().isEmpty());
        QVERIFY(model.setData(value, "0.25", Qt::EditRole));
        QCOMPARE(doc.module()->ops()[size_t(lif)].attrs.getFloat("v_threshold"), 0.25);
        QCOMPARE(doc.undoStack()->count(), 1);
        doc.undoStack()->undo();
        QCOMPARE(doc.module()->ops()[size_t(lif)].attrs.getFloat("v_threshold"), 1.0);
        model.setFiringRates({{lif, 0.125}}, "f32 reference interpreter (core/interp)");
        QCOMPARE(valueOf(model, "firing rate"), QString("12.50 %"));
        QCOMPARE(valueOf(model, "measured by"), QString("f32 reference interpreter (core/interp)"));
    }

    // After a mapping the inspector lists the cores of the selected layer;
    // ops without a population of their own say so.
    void inspectorShowsMappedCores_data()
    {
        QTest::addColumn<QString>("chip");
        QTest::addColumn<int>("chips");
        QTest::newRow("loihi3 x1") << "loihi3" << 1;
        QTest::newRow("loihi2 x4") << "loihi2" << 4;
    }
    void inspectorShowsMappedCores()
    {
        QFETCH(QString, chip);
        QFETCH(int, chips);
        Document doc;
        InspectorModel model(&doc);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto module = std::make_shared<const ir::Module>(test::makeTinySpikformer());
        doc.load("tiny.sir", module, {}, "test");
        const MapOutcome r = mapModule(*module, module.get(), MapRequest{chip.toStdString(), chips, "balanced", 1, {}},
                                       nullptr, {});
        QVERIFY2(r.ok(), r.error.c_str());
        model.setMapping(r.floorplan);
        const FloorLayer* layer = nullptr;
        for (const auto& l : r.floorplan->layers)
            if (l.kind == "lif" && l.opIndex >= 0 && (!layer || l.cores.size() > layer->cores.size()))
                layer = &l;
        QVERIFY(layer);
        doc.selectOp(layer->opIndex);
        const QString cores = valueOf(model, "cores");
        QVERIFY2(cores.startsWith(QString::number(layer->cores.size()) + ": "), qPrintable(cores));
        const FloorCore& first = r.floorplan->cores[size_t(layer->cores.front())];
        QVERIFY2(cores.contains(QString("tile (%1, %2) · core %3").arg(first.tileX).arg(first.tileY).arg(first.core)),
                 qPrintable(cores));
        QCOMPARE(cores.contains("chip "), chips > 1);
        QVERIFY(valueOf(model, "chip").startsWith(chip));
        QCOMPARE(valueOf(model, "chip").contains("projected"), chip == "loihi3");
        QVERIFY(valueOf(model, "population").contains(layer->name));
        // A constant has no population: the row says so instead of listing cores.
        int constant = -1;
        for (size_t i = 0; i < module->ops().size() && constant < 0; ++i)
            if (module->ops()[i].kind == ir::OpKind::Const)
                constant = int(i);
        doc.selectOp(constant);
        QCOMPARE(valueOf(model, "cores"), QString("—"));
        // A new model clears the mapping (its op indices meant the old module).
        doc.load("tiny.sir", module, {}, "test");
        doc.selectOp(layer->opIndex);
        QVERIFY(valueOf(model, "cores").isNull());
    }

    void fuzzyScore_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("matches");
        QTest::newRow("prefix") << "open" << "File › Open…" << true;
        QTest::newRow("initials") << "fo" << "File › Open…" << true;
        QTest::newRow("subsequence") << "rnsim" << "Run › Run Simulation" << true;
        QTest::newRow("case") << "UNDO" << "Edit › Undo" << true;
        QTest::newRow("missing") << "xyz" << "File › Open…" << false;
        QTest::newRow("order") << "nepo" << "Open" << false;
    }
    void fuzzyScore()
    {
        QFETCH(QString, pattern);
        QFETCH(QString, text);
        QFETCH(bool, matches);
        QCOMPARE(views::fuzzyScore(pattern, text) >= 0, matches);
    }

    void commandModelFilters()
    {
        QWidget owner;
        QList<QAction*> actions;
        for (const char* t : {"&Open…", "Run Simulation", "Fit Graph", "Undo", "Zoom In"}) {
            auto* a = new QAction(t, &owner);
            actions << a;
        }
        CommandModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setActions(actions);
        QCOMPARE(model.rowCount(), 5);
        model.setFilter("sim");
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.actionAt(0)->text(), QString("Run Simulation"));
        model.setFilter("");
        QCOMPARE(model.rowCount(), 5);
        model.setFilter("zi"); // word starts rank "Zoom In" first
        QVERIFY(model.rowCount() >= 1);
        QCOMPARE(model.actionAt(0)->text(), QString("Zoom In"));
    }

    void pipelineModelRequestsChanges()
    {
        const passes::PassRegistry registry = passes::makeBuiltinRegistry();
        const auto names = registry.passNames();
        QVERIFY(names.size() >= 2);
        PipelineModel model(&registry);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        passes::Pipeline p;
        p.add(names[0]);
        p.add(names[1]);
        model.setPipeline(p);
        QSignalSpy spy(&model, &PipelineModel::changeRequested);
        // Toggle through the check state.
        QVERIFY(model.setData(model.index(0), Qt::Unchecked, Qt::CheckStateRole));
        QCOMPARE(spy.count(), 1);
        auto toggled = spy.takeFirst().at(0).value<passes::Pipeline>();
        QVERIFY(!toggled.entries[0].enabled);
        // Drag row 1 to the top through the mime path the view uses.
        std::unique_ptr<QMimeData> mime(model.mimeData({model.index(1)}));
        QVERIFY(!model.dropMimeData(mime.get(), Qt::MoveAction, 0, 0, {}));
        QCOMPARE(spy.count(), 1);
        auto moved = spy.takeFirst().at(0).value<passes::Pipeline>();
        QCOMPARE(moved.entries[0].pass, names[1]);
        QCOMPARE(moved.entries[1].pass, names[0]);
    }
};


QTEST_MAIN(TestModels)
#include "test_models.moc"

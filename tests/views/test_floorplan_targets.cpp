// The IDE with the backend plugins' chips: the chooser lists spinnaker2 and
// akida1000 (registered from the plugins' metadata at start-up, as
// stc-studio's main does), the floorplan maps the bundled conv SNN onto
// SpiNNaker 2's QPE grid, and Akida's per-layer rules stop the map stage with
// the unsupported layers in the status. With STC_SCREENSHOT_DIR set, the
// SpiNNaker 2 floorplan is saved there as floorplan-spinnaker2.png.
#include "document/document.h"
#include "floorplan/floorplan_panel.h"
#include "jobs/job_runner.h"
#include "plugin_host.h"

#include "ir/ir_io.h"

#include <QComboBox>
#include <QSignalSpy>
#include <QTest>

using namespace stc;
using namespace stc::views;

class TestFloorplanTargets : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { plugins::PluginHost::instance().registerChipDescriptors(); }

    void chooserListsPluginChipsAndSpinnaker2Maps()
    {
        ir::LoadResult lr = ir::loadModule(std::string(STC_RESOURCE_DIR) + "/models/convsnn_fmnist.sir");
        QVERIFY(lr.ok());
        auto module = std::make_shared<const ir::Module>(std::move(*lr.module));
        Document doc;
        JobRunner jobs;
        doc.load("convsnn_fmnist.sir", module, {}, "test");
        FloorplanPanel panel(&doc, &jobs);
        panel.resize(1400, 700);
        panel.show();
        auto* chooser = panel.findChild<QComboBox*>("floorplan.chip");
        QVERIFY(chooser);
        QVERIFY(chooser->findText("spinnaker2") >= 0);
        QVERIFY(chooser->findText("akida1000") >= 0);

        QSignalSpy mapped(&panel, &FloorplanPanel::mapped);
        panel.mapModule(module);
        panel.setRequest({"spinnaker2", 1, "balanced", 1, {}});
        QVERIFY(mapped.wait(120000));
        jobs.waitForIdle(60000);
        QVERIFY2(mapped.last().first().toBool(), qPrintable(panel.statusText()));
        auto f = panel.mapping();
        QVERIFY(f);
        QCOMPARE(f->chipId, QString("spinnaker2"));
        QVERIFY(!f->cores.empty());
        const QByteArray dir = qgetenv("STC_SCREENSHOT_DIR");
        if (!dir.isEmpty()) {
            QTest::qWait(200);
            QVERIFY(panel.grab().save(QString::fromLocal8Bit(dir) + "/floorplan-spinnaker2.png"));
        }

        panel.setRequest({"akida1000", 1, "balanced", 1, {}});
        QVERIFY(mapped.wait(120000));
        jobs.waitForIdle(60000);
        QVERIFY(!mapped.last().first().toBool());
        QVERIFY2(panel.statusText().contains("unsupported on akida1000"), qPrintable(panel.statusText()));
    }
};

QTEST_MAIN(TestFloorplanTargets)
#include "test_floorplan_targets.moc"

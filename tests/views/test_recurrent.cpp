// Recurrent models (a back edge through `delay`) in the IDE, offscreen: the
// default pipeline runs through the loop (lower-attention and fuse carry delay
// ops), the floorplan maps the compiled model onto cores, the graph draws the
// back edge as one, and the chip simulator runs the package on the random input
// the simulator panel feeds a model that does not take a 28x28 image. Models:
// tests/data/target/rleaky_loop.sir (snnTorch's RLeaky shape) and the NIR
// Braille RSynaptic file snnTorch wrote (opened as .nir, T answered 12).
#include "document/document.h"
#include "floorplan/floorplan_panel.h"
#include "graph/graph_scene.h"
#include "graph/graph_view.h"
#include "jobs/job_runner.h"
#include "main/main_window.h"
#include "passes/pass_panel.h"
#include "passes/pipeline_model.h"
#include "sim/simulator_panel.h"
#include "tiny_models.h"

#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QSettings>
#include <QSignalSpy>
#include <QTest>

using namespace stc;
using namespace stc::views;
using stc::test::openAndWait;

namespace {

QString passSummary(const PassPanel* passes)
{
    QStringList out;
    for (const auto& r : passes->model()->records())
        out << QString::fromStdString(r.entryText) + ": " + passes::toString(r.status);
    return out.join(", ");
}

} // namespace

class TestRecurrent : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QApplication::setOrganizationName("STC-tests");
        QApplication::setApplicationName("views-tests-recurrent");
        QSettings().clear();
    }

    void modelsReachTheChip_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("loop");     // the neuron whose spikes the delay feeds back
        QTest::addColumn<int64_t>("inputs");   // values one sample takes
        QTest::addColumn<int>("classes");
        QTest::addColumn<bool>("referenceRuns"); // on the f32 interpreter
        QTest::newRow("rleaky_loop.sir") << QString(STC_TEST_DATA_DIR "/target/rleaky_loop.sir") << "spk"
                                         << int64_t(10) << 4 << false;
        QTest::newRow("braille.nir") << QString(STC_TEST_FIXTURE_DIR "/nir/snntorch_braille_rsynaptic.nir")
                                     << "lif1.lif" << int64_t(12) << 7 << true;
    }

    void modelsReachTheChip()
    {
        QFETCH(QString, path);
        QFETCH(QString, loop);
        QFETCH(int64_t, inputs);
        QFETCH(int, classes);
        QFETCH(bool, referenceRuns);
        MainWindow w({false, false});
        int prompts = 0;
        w.setTimestepsPrompt([&](const QString&, int64_t) -> std::optional<int64_t> {
            ++prompts;
            return 12;
        });
        w.resize(1400, 900);
        w.show();
        QVERIFY(openAndWait(w, path));
        QCOMPARE(prompts, path.endsWith(".nir") ? 1 : 0);
        QVERIFY(w.document()->hasModule());

        // The whole default pipeline ran, lower-attention and fuse included.
        PassPanel* passes = w.passPanel();
        QVERIFY(passes->pipelineString().contains("lower-attention"));
        QVERIFY(passes->pipelineString().contains("fuse"));
        QCOMPARE(passes->lastStatus(), passes::RunStatus::Ok);
        for (const auto& r : passes->model()->records())
            QVERIFY2(r.status == passes::PassStatus::Ok, qPrintable(passSummary(passes)));

        // The floorplan maps the compiled loop onto cores and builds a package.
        FloorplanPanel* floor = w.floorplanPanel();
        QTRY_VERIFY2_WITH_TIMEOUT(floor->mapping() != nullptr, qPrintable(floor->statusText()), 60000);
        const auto f = floor->mapping();
        QVERIFY(!f->cores.empty());
        bool loopMapped = false;
        for (const auto& l : f->layers)
            loopMapped |= l.name == loop && !l.cores.empty();
        QVERIFY2(loopMapped, qPrintable(loop));

        // The graph draws the delay's operand as a back edge.
        int backEdges = 0;
        for (const auto& e : w.graphView()->scene()->graph().edges)
            backEdges += e.backEdge;
        QVERIFY(backEdges >= 1);

        // The chip simulator runs the package on a random U[0,1) input (the model takes no image).
        SimulatorPanel* sim = w.simulator();
        QTRY_VERIFY_WITH_TIMEOUT(sim->chipSimulatorAvailable(), 30000);
        QCOMPARE(sim->engine(), SimulatorPanel::Engine::ChipSimulator);
        QCOMPARE(sim->inputSize(), inputs);
        QVERIFY(sim->feedsRandomInput());
        QCOMPARE(sim->imageLabel(), -1);
        QVERIFY(sim->inputText().startsWith("random U[0,1) input #0"));
        sim->setPlaybackIntervalMs(1);
        QSignalSpy done(sim, &SimulatorPanel::runFinished);
        sim->run();
        QVERIFY(done.wait(60000));
        QVERIFY2(done.first().at(0).toBool(), qPrintable(sim->datasetError()));
        QVERIFY(QString::fromStdString(sim->trace()->engine).contains("chip simulator"));
        QCOMPARE(sim->trace()->timesteps, w.document()->module()->timesteps);
        QCOMPARE(int(sim->trace()->probabilities.size()), classes);
        QCOMPARE(sim->className(0), QString("class 0")); // not a Fashion-MNIST name
        QVERIFY(!sim->ledgerText().isEmpty());
        w.jobs()->waitForIdle(30000);

        // The same input on the f32 interpreter. rleaky_loop.sir's leaky neuron with reset
        // "subtract" is defined in fixed point only: the interpreter refuses it, in Diagnostics.
        sim->setEngine(SimulatorPanel::Engine::Reference);
        QSignalSpy doneRef(sim, &SimulatorPanel::runFinished);
        sim->run();
        QVERIFY(doneRef.wait(60000));
        QCOMPARE(doneRef.first().at(0).toBool(), referenceRuns);
        if (referenceRuns) {
            QVERIFY(QString::fromStdString(sim->trace()->engine).contains("interpreter"));
            QVERIFY(sim->trace()->totalSpikes() > 0);
        } else {
            bool shown = false;
            for (const auto& d : w.document()->diagnostics())
                shown |= d.diag.format().find("neuron \"leaky\" supports reset") != std::string::npos;
            QVERIFY(shown);
        }

        if (qEnvironmentVariableIsSet("STC_SCREENSHOT_DIR")) {
            const QDir dir(qEnvironmentVariable("STC_SCREENSHOT_DIR"));
            const QString stem = QFileInfo(path).completeBaseName();
            w.grab().save(dir.filePath("recurrent-" + stem + ".png"));
        }
    }
};

QTEST_MAIN(TestRecurrent)
#include "test_recurrent.moc"

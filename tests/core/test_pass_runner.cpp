// The pipeline runner, the compile context and the instruments.
#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/instruments.h"
#include "passes/runner.h"
#include "test_pass_util.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <sstream>
#include <thread>

using namespace stc;
using namespace stc::passes;

namespace {

PassDef makePass(std::string name, PassFn fn, PassKind kind = PassKind::Transform)
{
    PassInfo info;
    info.name = std::move(name);
    info.description = "test pass";
    info.kind = kind;
    info.options = {OptionSpec::integer("n", 1, 0, 1000000, "iterations")};
    return {std::move(info), std::move(fn)};
}

// Passes with observable effects: mark (adds a module attribute), slow (loops
// checking cancellation), fail (changes then errors), throw, break (leaves IR
// the verifier rejects), peek (an analysis that modifies), count (statistics).
PassRegistry testRegistry()
{
    PassRegistry r;
    r.registerPass(makePass("mark", [](ir::Module& m, PassRun& run) {
        m.attrs.set("mark" + std::to_string(m.attrs.map().size()), int64_t{1});
        run.stats().add("marks", 1);
    }));
    r.registerPass(makePass("slow", [](ir::Module& m, PassRun& run) {
        m.attrs.set("slow-started", true);
        for (int64_t i = 0;; ++i) {
            if (i == run.options().getInt("n"))
                run.context().cancel(); // as if the IDE's cancel button was pressed now
            run.checkCancelled();
            run.progress(double(i % 100) / 100.0);
        }
    }));
    r.registerPass(makePass("fail", [](ir::Module& m, PassRun& run) {
        m.name = "changed";
        run.error("refusing", "%x");
    }));
    r.registerPass(makePass("throw", [](ir::Module& m, PassRun&) {
        m.name = "changed";
        throw std::runtime_error("boom");
    }));
    r.registerPass(makePass("break", [](ir::Module& m, PassRun&) {
        for (auto& op : m.mutableOps())
            if (op.kind == ir::OpKind::Lif) {
                op.attrs.set("reset", std::string("sideways"));
                break;
            }
    }));
    r.registerPass(makePass("peek", [](ir::Module& m, PassRun&) { m.name = "peeked"; }, PassKind::Analysis));
    r.registerPass(makePass("count", [](ir::Module& m, PassRun& run) {
        run.stats().set("ops", int64_t(m.ops().size()));
        run.stats().set("ratio", 0.25);
    }, PassKind::Analysis));
    return r;
}

Pipeline parse(const PassRegistry& r, const std::string& text)
{
    Diagnostics d;
    auto p = parsePipeline(text, r, d);
    if (!p)
        throw std::runtime_error(d.format());
    return *p;
}

} // namespace

class TestPassRunner : public QObject {
    Q_OBJECT
private slots:
    void runsInOrderWithRecords()
    {
        const PassRegistry reg = testRegistry();
        const ir::Module input = testutil::convNet();
        CompileContext ctx;
        ctx.disabledPasses = {"fail"};
        RunResult r = runPipeline(input, parse(reg, "mark,-mark,fail,count,mark"), reg, ctx);
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QCOMPARE(int(r.records.size()), 5);
        QCOMPARE(r.records[0].status, PassStatus::Ok);
        QVERIFY(r.records[0].changed);
        QCOMPARE(r.records[1].status, PassStatus::Skipped);
        QCOMPARE(r.records[2].status, PassStatus::Skipped); // disabled in the context
        QCOMPARE(r.records[3].status, PassStatus::Ok);
        QVERIFY(!r.records[3].changed);
        QCOMPARE(r.records[3].stats.getInt("ops"), int64_t(input.ops().size()));
        QCOMPARE(r.records[3].stats.getFloat("ratio"), 0.25);
        QCOMPARE(r.records[4].entryText, std::string("mark"));
        QCOMPARE(int(r.module.attrs.map().size()), 2);
        QVERIFY(input.attrs.empty());
    }

    void instrumentsCalledInOrder()
    {
        const PassRegistry reg = testRegistry();
        const ir::Module input = testutil::convNet();
        CompileContext ctx;
        std::vector<std::string> log;
        ctx.instruments.push_back(std::make_shared<CallbackInstrument>(
            [&](const std::string& hook, int entry, const ir::Module* m) {
                log.push_back(hook + ":" + std::to_string(entry) +
                              (m ? ":" + std::to_string(m->attrs.map().size()) : std::string()));
            }));
        RunResult r = runPipeline(input, parse(reg, "mark,-mark,mark,fail"), reg, ctx);
        QCOMPARE(r.status, RunStatus::Failed);
        const std::vector<std::string> expected = {
            "before-pipeline:-1:0", "before-pass:0:0", "after-pass:0:1",    "before-pass:2:1",
            "after-pass:2:2",       "before-pass:3:2", "after-pass-failed:3:2", "after-pipeline:-1"};
        QCOMPARE(log, expected);
    }

    void failureRestoresIr()
    {
        const PassRegistry reg = testRegistry();
        const ir::Module input = testutil::convNet();
        const ir::Module copy = input;
        for (const char* failing : {"fail", "throw"}) {
            CompileContext ctx;
            RunResult r = runPipeline(input, parse(reg, std::string("mark,") + failing + ",mark"), reg, ctx);
            QCOMPARE(r.status, RunStatus::Failed);
            QCOMPARE(r.records[1].status, PassStatus::Failed);
            QCOMPARE(r.records[2].status, PassStatus::NotRun);
            QCOMPARE(r.module.name, std::string("main")); // the failing pass's change is undone
            QCOMPARE(int(r.module.attrs.map().size()), 1); // the first mark is kept
            QVERIFY(input.sameAs(copy));
            const std::string msg = r.records[1].diagnostics.format();
            QVERIFY2(msg.find(std::string(failing) == "fail" ? "fail: refusing" : "internal error: boom") !=
                         std::string::npos, msg.c_str());
        }
    }

    void analysisMustNotModify()
    {
        const PassRegistry reg = testRegistry();
        CompileContext ctx;
        RunResult r = runPipeline(testutil::convNet(), parse(reg, "peek"), reg, ctx);
        QCOMPARE(r.status, RunStatus::Failed);
        QVERIFY(r.records[0].diagnostics.format().find("analysis pass modified the IR") != std::string::npos);
    }

    void cancelInsideLongPass()
    {
        const PassRegistry reg = testRegistry();
        const ir::Module input = testutil::convNet();
        const ir::Module copy = input;
        CompileContext ctx;
        std::vector<double> overall;
        ctx.onProgress = [&](const Progress& p) { overall.push_back(p.overall); };
        RunResult r = runPipeline(input, parse(reg, "mark,slow{n=5000},mark"), reg, ctx);
        QCOMPARE(r.status, RunStatus::Cancelled);
        QCOMPARE(r.records[0].status, PassStatus::Ok);
        QCOMPARE(r.records[1].status, PassStatus::Cancelled);
        QCOMPARE(r.records[2].status, PassStatus::NotRun);
        QVERIFY(input.sameAs(copy));                 // input untouched
        QVERIFY(!r.module.attrs.has("slow-started")); // the interrupted pass left nothing behind
        QCOMPARE(int(r.module.attrs.map().size()), 1);
        QVERIFY(!overall.empty());
        for (double f : overall)
            QVERIFY(f >= 0.0 && f <= 1.0);
    }

    void cancelFromAnotherThread()
    {
        const PassRegistry reg = testRegistry();
        const ir::Module input = testutil::convNet();
        CompileContext ctx;
        std::thread canceller([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            ctx.cancel();
        });
        RunResult r = runPipeline(input, parse(reg, "slow{n=1000000}"), reg, ctx); // n never reached in time
        canceller.join();
        QCOMPARE(r.status, RunStatus::Cancelled);
        QVERIFY(input.attrs.empty());
    }

    void cancelBetweenPasses()
    {
        const PassRegistry reg = testRegistry();
        CompileContext ctx;
        ctx.instruments.push_back(std::make_shared<CallbackInstrument>(
            [&](const std::string& hook, int entry, const ir::Module*) {
                if (hook == "after-pass" && entry == 0)
                    ctx.cancel();
            }));
        RunResult r = runPipeline(testutil::convNet(), parse(reg, "mark,mark"), reg, ctx);
        QCOMPARE(r.status, RunStatus::Cancelled);
        QCOMPARE(r.records[0].status, PassStatus::Ok);
        QCOMPARE(r.records[1].status, PassStatus::NotRun);
        QCOMPARE(int(r.module.attrs.map().size()), 1); // the completed pass's result is kept
    }

    void invalidPipelineRunsNothing()
    {
        const PassRegistry reg = testRegistry();
        CompileContext ctx;
        Pipeline p;
        p.add("mark").add("mark", {{"n", int64_t{-3}}});
        RunResult r = runPipeline(testutil::convNet(), p, reg, ctx);
        QCOMPARE(r.status, RunStatus::Failed);
        QVERIFY(r.diagnostics.format().find("out of range") != std::string::npos);
        QCOMPARE(r.records[0].status, PassStatus::NotRun);
    }

    void verifyEachWritesReproducer()
    {
        const PassRegistry reg = testRegistry();
        const ir::Module input = testutil::convNet();
        QTemporaryDir dir;
        CompileContext ctx;
        auto verify = std::make_shared<VerifyEachInstrument>(dir.path().toStdString());
        ctx.instruments.push_back(verify);
        RunResult r = runPipeline(input, parse(reg, "mark,break{n=2},mark"), reg, ctx);
        QCOMPARE(r.status, RunStatus::Failed);
        QCOMPARE(r.records[1].status, PassStatus::Failed);
        const std::string msg = r.records[1].diagnostics.format();
        QVERIFY2(msg.find("verifier failed after pass 'break'") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find("lif") != std::string::npos, msg.c_str()); // names the op
        QVERIFY2(msg.find(verify->reproducerIr()) != std::string::npos, msg.c_str());
        // The reproducer: IR from before the failing pass + the failing entry.
        std::ifstream irFile(verify->reproducerIr());
        std::stringstream irText;
        irText << irFile.rdbuf();
        auto parsed = ir::parseModule(irText.str());
        QVERIFY(parsed.ok());
        QVERIFY(parsed.module->attrs.has("mark0"));
        QVERIFY(parsed.module->sameAs(r.module));
        std::ifstream pipeFile(verify->reproducerPipeline());
        std::string pipeText;
        std::getline(pipeFile, pipeText);
        QCOMPARE(pipeText, std::string("break{n=2}"));
        // Re-running the reproducer fails the same way.
        CompileContext ctx2;
        QTemporaryDir dir2;
        ctx2.instruments.push_back(std::make_shared<VerifyEachInstrument>(dir2.path().toStdString()));
        RunResult again = runPipeline(*parsed.module, parse(reg, pipeText), reg, ctx2);
        QCOMPARE(again.records[0].status, PassStatus::Failed);
    }

    void snapshotsTimingStatistics()
    {
        const PassRegistry reg = testRegistry();
        CompileContext ctx;
        auto snap = std::make_shared<SnapshotInstrument>();
        auto timing = std::make_shared<TimingInstrument>();
        auto stats = std::make_shared<StatisticsInstrument>();
        ctx.instruments = {snap, timing, stats};
        RunResult r = runPipeline(testutil::convNet(), parse(reg, "mark,count"), reg, ctx);
        QVERIFY(r.ok());
        QCOMPARE(int(snap->snapshots().size()), 2);
        const auto& s0 = snap->snapshots()[0];
        QVERIFY(s0.changed);
        QVERIFY(s0.before != s0.after);
        QVERIFY(s0.after.find("mark0") != std::string::npos);
        QCOMPARE(snap->snapshots()[1].before, s0.after);
        QVERIFY(!snap->snapshots()[1].changed);
        QCOMPARE(snap->snapshots()[1].after, ir::printModule(r.module));
        QCOMPARE(int(timing->rows().size()), 2);
        QVERIFY(timing->report().find("count") != std::string::npos);
        QVERIFY(stats->report().find("count: ops = ") != std::string::npos);
        QVERIFY(stats->report().find("mark: marks = 1") != std::string::npos);
    }

    void contextOptions()
    {
        CompileContext ctx;
        ctx.target = "loihi3";
        ctx.options["weight-bits"] = int64_t{6};
        ctx.options["note"] = std::string("x");
        QCOMPARE(ctx.optionInt("weight-bits", 8), int64_t{6});
        QCOMPARE(ctx.optionFloat("weight-bits", 0.0), 6.0);
        QCOMPARE(ctx.optionInt("missing", 8), int64_t{8});
        QCOMPARE(ctx.optionString("note", ""), std::string("x"));
        QVERIFY(!ctx.cancelled());
        ctx.cancel();
        QVERIFY_THROWS_EXCEPTION(PassCancelled, ctx.checkCancelled());
        ctx.resetCancel();
        ctx.checkCancelled();
    }

    void builtinPipelineWithVerifyEach()
    {
        const PassRegistry reg = makeBuiltinRegistry();
        const ir::Module input = testutil::attentionNet(true);
        QTemporaryDir dir;
        CompileContext ctx;
        ctx.instruments.push_back(std::make_shared<VerifyEachInstrument>(dir.path().toStdString()));
        RunResult r = runPipeline(input, parse(reg, "fold-bn,canonicalize,dce"), reg, ctx);
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QVERIFY(r.records[0].changed);
        QCOMPARE(testutil::countOps(r.module, ir::OpKind::BatchNorm), 0);
    }
};

QTEST_GUILESS_MAIN(TestPassRunner)
#include "test_pass_runner.moc"

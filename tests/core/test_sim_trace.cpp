// Streaming trace API: chunks bounded by traceChunk, the ring keeps exactly
// the latest records, the file round-trips, the overview (decimation) keeps
// every count in a fixed-size image, and RunControl cancels, pauses and
// single-steps a run.
#include "sim/trace.h"
#include "sim_test_util.h"
#include "test_pass_util.h"

#include <QtTest>

#include <filesystem>
#include <thread>

using namespace stc;

namespace {

class Collect : public sim::TraceSink {
public:
    std::vector<sim::SpikeRecord> records;
    size_t largestChunk = 0, chunks = 0;
    bool finished = false;
    void onChunk(std::span<const sim::SpikeRecord> r) override
    {
        records.insert(records.end(), r.begin(), r.end());
        largestChunk = std::max(largestChunk, r.size());
        ++chunks;
    }
    void onFinish() override { finished = true; }
};

// Fans one run out to several sinks.
class Tee : public sim::TraceSink {
public:
    std::vector<sim::TraceSink*> sinks;
    void onChunk(std::span<const sim::SpikeRecord> r) override
    {
        for (auto* s : sinks)
            s->onChunk(r);
    }
    void onFinish() override
    {
        for (auto* s : sinks)
            s->onFinish();
    }
};

const simtest::Compiled& model()
{
    static const simtest::Compiled c = simtest::compile(testutil::convNet(), "loihi2");
    return c;
}

} // namespace

class TestSimTrace : public QObject {
    Q_OBJECT
private slots:
    void chunksRingFileOverview()
    {
        const sim::SimProgram& prog = model().program;
        const int64_t n = 4;
        const std::vector<float> in = simtest::randomSamples(n, prog.inputSize(), 2);
        Collect all;
        sim::TraceRing ring(100);
        const std::string path = (std::filesystem::temp_directory_path() / "stc-simtest-trace.bin").string();
        sim::TraceFile file;
        std::string err;
        QVERIFY2(file.open(path, "{\"model\": \"convNet\"}", &err), err.c_str());
        sim::TraceOverview overview(prog.totalNeurons, int(prog.timesteps + prog.depth), 16);
        Tee tee;
        tee.sinks = {&all, &ring, &file, &overview};
        sim::SimOptions opt;
        opt.trace = &tee;
        opt.traceChunk = 64;
        opt.parallel = sim::Parallel::Cores;
        const sim::SimResult r = sim::simulate(prog, in, n, opt);
        QVERIFY2(r.ok(), r.error.c_str());
        QVERIFY(all.finished);
        // Every spike is traced once.
        QCOMPARE(int64_t(all.records.size()), r.counters.total().spikes);
        QVERIFY(all.records.size() > 100);
        // Bounded chunks: a step's spikes plus at most traceChunk buffered.
        QVERIFY(all.chunks > 1);
        QVERIFY(all.largestChunk < all.records.size());
        // Ring: the latest 100, oldest first.
        const auto snap = ring.snapshot();
        QCOMPARE(snap.size(), size_t(100));
        QCOMPARE(ring.totalSeen(), uint64_t(all.records.size()));
        QVERIFY(std::equal(snap.begin(), snap.end(), all.records.end() - 100));
        // File round trip.
        QCOMPARE(file.written(), uint64_t(all.records.size()));
        sim::TraceReader reader;
        QVERIFY2(reader.open(path, &err), err.c_str());
        QVERIFY(reader.headerJson().find("convNet") != std::string::npos);
        std::vector<sim::SpikeRecord> back, block;
        while (reader.next(block))
            back.insert(back.end(), block.begin(), block.end());
        QVERIFY(back == all.records);
        std::filesystem::remove(path);
        // Overview: at most 16 bins, every record counted once.
        QVERIFY(overview.bins() <= 16);
        uint64_t counted = 0;
        for (int s = 0; s < overview.steps(); ++s)
            for (int b = 0; b < overview.bins(); ++b)
                counted += overview.count(s, b);
        QCOMPARE(counted, uint64_t(all.records.size()));
        // Records are well formed: inside the run, valid neurons and steps.
        for (const auto& rec : all.records) {
            QVERIFY(rec.sample < uint32_t(n));
            QVERIFY(int64_t(rec.neuron) < prog.totalNeurons);
            QVERIFY(rec.step < prog.timesteps + prog.depth);
            QVERIFY(rec.value != 0);
        }
    }

    void tracePopulationsFilter()
    {
        const sim::SimProgram& prog = model().program;
        Collect only;
        sim::SimOptions opt;
        opt.trace = &only;
        opt.tracePopulations.assign(prog.populations.size(), 0);
        const int32_t keep = prog.readoutPops.empty() ? 0 : int32_t(prog.populations.size()) - 2;
        opt.tracePopulations[size_t(keep)] = 1;
        const sim::SimResult r = sim::simulate(prog, simtest::randomSamples(2, prog.inputSize(), 4), 2, opt);
        QVERIFY(r.ok());
        const auto& p = prog.populations[size_t(keep)];
        for (const auto& rec : only.records)
            QVERIFY(rec.neuron >= p.firstId && rec.neuron < p.firstId + p.size);
    }

    void fileErrorsAreReported()
    {
        sim::TraceFile f;
        std::string err;
        QVERIFY(!f.open("/nonexistent-dir/x/trace.bin", "{}", &err));
        QVERIFY(!err.empty());
        sim::TraceReader r;
        QVERIFY(!r.open("/nonexistent-dir/x/trace.bin", &err));
        const std::string path = (std::filesystem::temp_directory_path() / "stc-simtest-notrace.bin").string();
        {
            std::FILE* g = std::fopen(path.c_str(), "wb");
            std::fputs("not a trace", g);
            std::fclose(g);
        }
        QVERIFY(!r.open(path, &err));
        QVERIFY(err.find("not an STC spike trace") != std::string::npos);
        std::filesystem::remove(path);
    }

    void runControlStepsAndResumes()
    {
        sim::RunControl c;
        c.pause();
        QVERIFY(c.paused());
        std::atomic<int> passed{0};
        std::thread t([&] {
            for (int k = 0; k < 5; ++k)
                if (c.checkpoint())
                    ++passed;
        });
        c.step(2); // two steps, then paused again
        for (int k = 0; k < 200 && passed < 2; ++k)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        QCOMPARE(passed.load(), 2);
        c.resume();
        t.join();
        QCOMPARE(passed.load(), 5);
    }

    void cancelStopsARun()
    {
        const sim::SimProgram& prog = model().program;
        const int64_t n = 50;
        sim::RunControl control;
        sim::SimOptions opt;
        opt.control = &control;
        opt.parallel = sim::Parallel::Cores;
        opt.progress = [&](int64_t done, int64_t) {
            if (done >= 2)
                control.cancel();
        };
        const sim::SimResult r = sim::simulate(prog, simtest::randomSamples(n, prog.inputSize(), 8), n, opt);
        QVERIFY(r.cancelled);
        QVERIFY(!r.ok());
        QVERIFY(r.samples < n);
        // A paused run advances only when stepped, and cancel releases it.
        sim::RunControl paused;
        paused.pause();
        sim::SimOptions o2;
        o2.control = &paused;
        o2.parallel = sim::Parallel::Cores;
        sim::SimResult r2;
        std::thread t([&] { r2 = sim::simulate(prog, simtest::randomSamples(n, prog.inputSize(), 8), n, o2); });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        paused.cancel();
        t.join();
        QVERIFY(r2.cancelled);
        QCOMPARE(r2.samples, int64_t(0));
    }

    // A UI job's cancel flag stops a running and a paused run.
    void externalCancelFlagStopsARun()
    {
        const sim::SimProgram& prog = model().program;
        const int64_t n = 50;
        std::atomic<bool> jobCancel{false};
        sim::RunControl control;
        control.cancelWith(&jobCancel);
        QVERIFY(!control.cancelled());
        sim::SimOptions opt;
        opt.control = &control;
        opt.parallel = sim::Parallel::Cores;
        opt.progress = [&](int64_t done, int64_t) {
            if (done >= 2)
                jobCancel = true;
        };
        const sim::SimResult r = sim::simulate(prog, simtest::randomSamples(n, prog.inputSize(), 8), n, opt);
        QVERIFY(r.cancelled);
        QVERIFY(r.samples >= 2 && r.samples < n);

        std::atomic<bool> flag2{false};
        sim::RunControl paused;
        paused.cancelWith(&flag2);
        paused.pause();
        sim::SimOptions o2;
        o2.control = &paused;
        o2.parallel = sim::Parallel::Cores;
        sim::SimResult r2;
        std::thread t([&] { r2 = sim::simulate(prog, simtest::randomSamples(n, prog.inputSize(), 8), n, o2); });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        flag2 = true; // nobody calls cancel(): the paused checkpoint must poll the flag
        t.join();
        QVERIFY(r2.cancelled);
        QCOMPARE(r2.samples, int64_t(0));
    }
};

QTEST_GUILESS_MAIN(TestSimTrace)
#include "test_sim_trace.moc"

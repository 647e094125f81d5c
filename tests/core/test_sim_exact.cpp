// Exactness of the simulator: a module compiled by the quantized pipeline
// into a package, decoded and simulated from the package alone, gives the
// fixed-point reference executor's outputs bit for bit, and every neuron's
// spike train (LIF, OR and graded relays) equals the reference's at model
// time (the pipelined schedule shifts each population by its phase).
#include "data/fashion_mnist.h"
#include "interp_models.h"
#include "ir/ir_io.h"
#include "sim_test_util.h"
#include "test_pass_util.h"

#include <QtTest>

#include <cstring>
#include <filesystem>

using namespace stc;

namespace {

using Collect = simtest::TraceCollector;

ir::Module model(const std::string& source)
{
    if (source == "convNet")
        return testutil::convNet();
    if (source == "attentionNet.conv1d")
        return testutil::attentionNet(false);
    if (source == "attentionNet.linear.kv")
        return testutil::attentionNet(true, 5, true);
    if (source == "spikformerNet")
        return testutil::spikformerNet();
    if (source == "buildSpikformer") {
        std::string err;
        test::SpikformerSpec spec;
        spec.embed = 32;
        return test::buildSpikformer(spec, &err);
    }
    auto r = ir::loadModule(source.find('/') == 0 ? source : std::string(STC_TEST_DATA_DIR) + "/" + source);
    if (!r.ok())
        throw std::runtime_error(r.diagnostics.format());
    return std::move(*r.module);
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

} // namespace

class TestSimExact : public QObject {
    Q_OBJECT
private slots:
    void matchesFixedPointReference_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("chip");
        QTest::addColumn<QString>("pipeline");
        QTest::addColumn<int>("parallel"); // sim::Parallel
        QTest::addColumn<int>("threads");
        QTest::addColumn<int>("schedule"); // sim::Schedule
        const QString q = target::kDefaultCompilePipeline;
        const QString lowered = "fold-bn,canonicalize,dce,lower-attention,fuse,quantize{bits=8},schedule-time";
        const int cores = int(sim::Parallel::Cores), samples = int(sim::Parallel::Samples);
        const int lat = int(sim::Schedule::Latency), thr = int(sim::Schedule::Throughput);
        QTest::newRow("conv_snn.sir loihi3") << "ir/conv_snn.sir" << "loihi3" << q << cores << 1 << lat;
        QTest::newRow("conv_snn.sir loihi2 2 threads") << "ir/conv_snn.sir" << "loihi2" << q << cores << 2 << thr;
        QTest::newRow("spikformer_cifar.sir") << "ir/spikformer_cifar.sir" << "loihi3" << q << cores << 2 << lat;
        QTest::newRow("spikformer_imagenet.sir") << "ir/spikformer_imagenet.sir" << "loihi3" << q << samples << 2 << lat;
        QTest::newRow("spikformer_imagenet_time_mean_last.sir")
            << "ir/spikformer_imagenet_time_mean_last.sir" << "loihi3" << q << samples << 2 << lat;
        QTest::newRow("imported conv1d spikformer") << "passes/imported_spikformer_conv1d.sir" << "loihi3" << q << cores
                                                    << 1 << thr;
        QTest::newRow("imported linear spikformer") << "passes/imported_spikformer_linear.sir" << "loihi3" << q
                                                    << samples << 2 << lat;
        // Residual adds aligned by quantize (a layer output + spikes / + a downsample layer output).
        QTest::newRow("residual block") << "passes/residual_block.sir" << "loihi3" << q << cores << 1 << lat;
        QTest::newRow("residual block downsample") << "passes/residual_block_downsample.sir" << "loihi3" << q << samples
                                                   << 2 << thr;
        QTest::newRow("convNet") << "convNet" << "loihi2" << q << cores << 1 << lat;
        QTest::newRow("attentionNet conv1d") << "attentionNet.conv1d" << "loihi3" << q << cores << 2 << thr;
        QTest::newRow("attentionNet linear kv-first") << "attentionNet.linear.kv" << "loihi3" << q << cores << 1 << lat;
        QTest::newRow("attentionNet lowered") << "attentionNet.conv1d" << "loihi3" << lowered << cores << 1 << lat;
        QTest::newRow("spikformerNet (bundled architecture)") << "spikformerNet" << "loihi3" << q << cores << 2 << thr;
        QTest::newRow("spikformerNet lowered") << "spikformerNet" << "loihi3" << lowered << samples << 2 << lat;
        QTest::newRow("buildSpikformer") << "buildSpikformer" << "loihi3" << q << cores << 1 << lat;
        // An IF membrane readout: the charged membrane leaves as a graded value.
        QTest::newRow("if_convnet.sir (membrane readout)") << "backends/if_convnet.sir" << "loihi2" << q << cores << 2
                                                           << thr;
        // A recurrent loop (delay back edge -> recurrent projection of a layer onto itself, issue 8);
        // more schedules, delays and a failing off-by-one: core_test_sim_recurrent.
        QTest::newRow("rleaky_loop.sir (recurrent) loihi3") << "target/rleaky_loop.sir" << "loihi3" << q << cores << 2
                                                             << thr;
        QTest::newRow("rleaky_loop.sir (recurrent) loihi2") << "target/rleaky_loop.sir" << "loihi2" << q << samples
                                                             << 2 << lat;
        const std::string bundled = std::string(STC_RESOURCE_DIR) + "/models";
        // snnTorch Leaky MLP: first layer on the float input, delayed subtract
        // reset, leaky membrane readout. Must compile (no skip).
        QTest::newRow("leaky MLP (must compile)") << QString::fromStdString(bundled + "/leaky_mlp_fmnist.sir")
                                                  << "loihi3" << q << samples << 2 << lat;
        if (std::filesystem::exists(bundled))
            for (const auto& e : std::filesystem::directory_iterator(bundled))
                if (e.path().extension() == ".sir")
                    QTest::newRow(("bundled " + e.path().filename().string()).c_str())
                        << QString::fromStdString(e.path().string()) << "loihi3" << q << cores << 2 << lat;
    }

    void matchesFixedPointReference()
    {
        QFETCH(QString, source);
        QFETCH(QString, chip);
        QFETCH(QString, pipeline);
        QFETCH(int, parallel);
        QFETCH(int, threads);
        QFETCH(int, schedule);
        const ir::Module m = model(source.toStdString());
        simtest::Compiled c;
        try {
            c = simtest::compile(m, chip.toStdString(), pipeline.toStdString());
        } catch (const std::exception& e) {
            // A bundled model the compile pipeline itself rejects (before any
            // package exists) is not a simulator result: skip it, loudly.
            if (QString(QTest::currentDataTag()).startsWith("bundled "))
                QSKIP(qPrintable("bundled model does not compile with the default pipeline, nothing to simulate: " +
                                 QString::fromStdString(e.what())));
            QFAIL(e.what());
        }
        QVERIFY(c.out.package.fromQuantizedModule);
        const sim::SimProgram& prog = c.program;
        const int64_t size = prog.inputSize(), n = 6;
        std::vector<float> in = simtest::randomSamples(n, size, 11);
        if (size == 784) { // two Fashion-MNIST images too, when the data set is installed
            auto fm = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), 2);
            if (fm.ok())
                std::copy(fm.value.pixels.begin(), fm.value.pixels.end(), in.begin() + 4 * size);
        }
        const fixedpoint::RunResult ref = fixedpoint::run(c.out.module, {interp::InputBatch{n, in}});
        QVERIFY2(ref.ok(), ref.error.c_str());

        Collect trace;
        sim::SimOptions opt;
        opt.parallel = sim::Parallel(parallel);
        opt.threads = threads;
        opt.schedule = sim::Schedule(schedule);
        opt.trace = &trace;
        opt.traceChunk = 1000;
        const sim::SimResult r = sim::simulate(prog, in, n, opt);
        QVERIFY2(r.ok(), r.error.c_str());
        QCOMPARE(r.samples, n);
        QCOMPARE(int(prog.readoutPops.size()), 1);
        QVERIFY2(sameBits(r.outputs[0], ref.outputs[0]), "outputs differ from the fixed-point reference");

        // Per-neuron spike trains of two samples.
        int compared = 0, lifCompared = 0;
        for (int64_t s : {int64_t(0), n - 1}) {
            const simtest::Trains want = simtest::referenceTrains(c.out.module, in, size, s);
            const simtest::Trains got = simtest::simulatedTrains(prog, trace.records, s);
            for (const sim::PopulationInfo& p : prog.populations) {
                if (p.kind != sim::NeuronKind::Lif && p.kind != sim::NeuronKind::RelayOr &&
                    p.kind != sim::NeuronKind::RelayGraded)
                    continue;
                auto w = want.find(p.name);
                if (w == want.end())
                    continue; // a relay of a value the reference does not observe
                auto g = got.find(p.name);
                const std::vector<std::map<int64_t, int32_t>> empty(size_t(prog.timesteps));
                const auto& gs = g == got.end() ? empty : g->second;
                for (size_t t = 0; t < w->second.size(); ++t)
                    QVERIFY2(w->second[t] == gs[t], ("spike train of %" + p.name + " differs at step " +
                                                     std::to_string(t) + " of sample " + std::to_string(s))
                                                        .c_str());
                ++compared;
                lifCompared += p.kind == sim::NeuronKind::Lif;
            }
        }
        int lifOps = 0;
        for (const auto& op : c.out.module.ops())
            lifOps += op.kind == ir::OpKind::Lif;
        QCOMPARE(lifCompared, 2 * lifOps); // every LIF layer, both samples
        QVERIFY(compared >= lifCompared);
        // Counters saw every sample.
        QCOMPARE(r.counters.samples, n);
        QVERIFY(r.counters.total().synapticOps > 0);
    }

    void schedulesAndThreadsAgree_data()
    {
        QTest::addColumn<QString>("source");
        QTest::newRow("spikformerNet") << "spikformerNet";
        QTest::newRow("spikformer_cifar.sir") << "ir/spikformer_cifar.sir";
        QTest::newRow("conv_snn.sir") << "ir/conv_snn.sir";
    }

    void schedulesAndThreadsAgree()
    {
        // Samples-parallel threads skip the samples of the other thread, so
        // each must start its samples from a clean chip (a regression: spikes
        // left in flight by an earlier sample leaked into a later one).
        QFETCH(QString, source);
        const simtest::Compiled c = simtest::compile(model(source.toStdString()));
        const int64_t n = 9;
        const std::vector<float> in = simtest::randomSamples(n, c.program.inputSize(), 3);
        std::vector<sim::SimResult> runs;
        for (auto [par, thr, sch] : {std::tuple{sim::Parallel::Cores, 1, sim::Schedule::Latency},
                                     std::tuple{sim::Parallel::Cores, 2, sim::Schedule::Throughput},
                                     std::tuple{sim::Parallel::Samples, 2, sim::Schedule::Latency},
                                     std::tuple{sim::Parallel::Samples, 3, sim::Schedule::Throughput}}) {
            sim::SimOptions o;
            o.parallel = par;
            o.threads = thr;
            o.schedule = sch;
            runs.push_back(sim::simulate(c.program, in, n, o));
            QVERIFY2(runs.back().ok(), runs.back().error.c_str());
        }
        for (size_t k = 1; k < runs.size(); ++k) {
            QVERIFY(sameBits(runs[k].outputs[0], runs[0].outputs[0]));
            const sim::EventCounts a = runs[0].counters.total(), b = runs[k].counters.total();
            QCOMPARE(b.synapticOps, a.synapticOps);
            QCOMPARE(b.spikes, a.spikes);
            QCOMPARE(b.messages, a.messages);
            QCOMPARE(b.neuronActive, a.neuronActive);
            QCOMPARE(b.neuronIdle, a.neuronIdle);
            for (int core = 0; core < a.synapticOps * 0 + runs[0].counters.cores; ++core)
                for (int st = 0; st < runs[0].counters.steps; ++st)
                    QCOMPARE(runs[k].counters.at(core, st).synapticOps, runs[0].counters.at(core, st).synapticOps);
        }
    }
};

QTEST_GUILESS_MAIN(TestSimExact)
#include "test_sim_exact.moc"

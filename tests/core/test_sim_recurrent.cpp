// Recurrent models on the chip (issue 8): a `delay` back edge becomes a
// recurrent projection whose synaptic delay makes its spikes of model step t
// arrive at model step t + k. The package is simulated from disk and must
// equal the fixed-point reference spike for spike in every schedule and host
// execution order; a recurrent delay off by one step must break that; a loop
// the pipeline cannot close in k steps is refused at the delay op. The NIR
// paper's snnTorch Braille RSynaptic maps with its CubaLIF fused into one CUBA
// compartment (target/extract_loops.cpp).
#include "interop/nir_hdf5.h"
#include "interop/nir_import.h"
#include "ir/ir_io.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "sim_test_util.h"

#include <QtTest>

#include <cstring>

using namespace stc;

namespace {

ir::Module loadFixture(const std::string& rel)
{
    auto r = ir::loadModule(std::string(STC_TEST_DATA_DIR) + "/" + rel);
    if (!r.ok())
        throw std::runtime_error(r.diagnostics.format());
    return std::move(*r.module);
}

std::string readText(const std::string& rel)
{
    QFile f(QString::fromStdString(std::string(STC_TEST_DATA_DIR) + "/" + rel));
    if (!f.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot read " + rel);
    return f.readAll().toStdString();
}

ir::Module parse(const std::string& text, const std::string& file = "loop.sir")
{
    ir::ParseResult r = ir::parseModule(text, file);
    if (!r.ok())
        throw std::runtime_error(r.diagnostics.format());
    return std::move(*r.module);
}

// The RLeaky fixture with its recurrent delay set to `steps`.
ir::Module rleaky(int steps)
{
    std::string text = readText("target/rleaky_loop.sir");
    const std::string from = "{steps = 1}";
    const size_t at = text.find(from);
    if (at == std::string::npos)
        throw std::runtime_error("rleaky_loop.sir has no {steps = 1}");
    text.replace(at, from.size(), "{steps = " + std::to_string(steps) + "}");
    return parse(text, "rleaky_loop.sir");
}

// A NIR fixture imported for T steps.
ir::Module importNir(const std::string& name, int64_t timesteps)
{
    interop::NirReadResult r = interop::readNirFile(std::string(STC_TEST_FIXTURE_DIR) + "/nir/" + name);
    if (!r.graph)
        throw std::runtime_error(r.diagnostics.format());
    interop::NirImportOptions o;
    o.timesteps = timesteps;
    interop::NirImportResult i = interop::importFromNir(*r.graph, o, name);
    if (!i.module)
        throw std::runtime_error(i.diagnostics.format());
    return std::move(*i.module);
}

// The NIR paper's snnTorch-written Braille RSynaptic.
ir::Module braille() { return importNir("snntorch_braille_rsynaptic.nir", 12); }

std::string weights(int64_t n, uint64_t seed, double scale)
{
    std::string s = "[";
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 7;
    for (int64_t i = 0; i < n; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        const double u = double(x >> 11) * (1.0 / 9007199254740992.0);
        s += (i ? ", " : "") + std::to_string(std::round((2 * u - 1) * scale * 1000) / 1000);
    }
    return s + "]";
}

// A loop through two neuron layers: %a -> %b -> delay k -> back into %a.
std::string twoLayerLoop(int steps)
{
    return "module @loop2 {timesteps = 8} {\n"
           "  %x = input : f32[6]\n"
           "  %w_in = const " + weights(48, 1, 0.9) + " : f32[8,6]\n"
           "  %w_ab = const " + weights(64, 2, 0.8) + " : f32[8,8]\n"
           "  %w_ba = const " + weights(64, 3, 0.6) + " : f32[8,8]\n"
           "  %w_out = const " + weights(24, 4, 1.0) + " : f32[3,8]\n"
           "  %s = encode %x {mode = \"direct\"} : f32[T,6]\n"
           "  %back = delay %b {steps = " + std::to_string(steps) + "} : spike[T,8] loc(\"loop.delay\")\n"
           "  %ia = linear %s, %w_in : f32[T,8]\n"
           "  %ib = linear %back, %w_ba : f32[T,8]\n"
           "  %iab = add %ia, %ib : f32[T,8]\n"
           "  %a = lif %iab {beta = 0.9, neuron = \"leaky\", reset = \"subtract\", v_threshold = 1.0} : spike[T,8]\n"
           "  %ja = linear %a, %w_ab : f32[T,8]\n"
           "  %b = lif %ja {beta = 0.8, neuron = \"leaky\", reset = \"subtract\", v_threshold = 0.5} : spike[T,8]\n"
           "  %h = linear %b, %w_out : f32[T,3]\n"
           "  %y = mean %h {over_time = true} : f32[3]\n"
           "  output %y\n"
           "}\n";
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Compares outputs and the spike trains of every LIF population of every
// sample; returns "" when equal, else the first difference.
std::string compareWithReference(const simtest::Compiled& c, const std::vector<float>& in, int64_t n,
                                 const sim::SimOptions& base)
{
    const sim::SimProgram& prog = c.program;
    const fixedpoint::RunResult ref = fixedpoint::run(c.out.module, {interp::InputBatch{n, in}});
    if (!ref.ok())
        return "reference: " + ref.error;
    simtest::TraceCollector trace;
    sim::SimOptions opt = base;
    opt.trace = &trace;
    opt.traceChunk = 64;
    const sim::SimResult r = sim::simulate(prog, in, n, opt);
    if (!r.ok())
        return "simulate: " + r.error;
    if (r.outputs.size() != ref.outputs.size())
        return "the package has " + std::to_string(r.outputs.size()) + " outputs, the module " +
               std::to_string(ref.outputs.size());
    for (size_t k = 0; k < r.outputs.size(); ++k)
        if (!sameBits(r.outputs[k], ref.outputs[k]))
            return "output " + std::to_string(k) + " differs from the fixed-point reference";
    for (int64_t s = 0; s < n; ++s) {
        const simtest::Trains want = simtest::referenceTrains(c.out.module, in, prog.inputSize(), s);
        simtest::Trains got;
        try {
            got = simtest::simulatedTrains(prog, trace.records, s);
        } catch (const std::exception& e) {
            return e.what();
        }
        for (const sim::PopulationInfo& p : prog.populations) {
            if (p.kind != sim::NeuronKind::Lif)
                continue;
            const auto w = want.find(p.name);
            if (w == want.end())
                return "reference has no train of %" + p.name;
            const auto g = got.find(p.name);
            const std::vector<std::map<int64_t, int32_t>> empty(size_t(prog.timesteps));
            const auto& gs = g == got.end() ? empty : g->second;
            for (size_t t = 0; t < w->second.size(); ++t)
                if (w->second[t] != gs[t])
                    return "spike train of %" + p.name + " differs at step " + std::to_string(t) + " of sample " +
                           std::to_string(s);
        }
    }
    return {};
}

// Non-zero outputs of value `name` in the fixed-point reference over n samples.
int64_t referenceSpikes(const simtest::Compiled& c, const std::vector<float>& in, int64_t n, const std::string& name)
{
    int64_t spikes = 0;
    for (int64_t s = 0; s < n; ++s)
        for (const auto& [value, train] : simtest::referenceTrains(c.out.module, in, c.program.inputSize(), s))
            if (value == name)
                for (const auto& m : train)
                    spikes += int64_t(m.size());
    return spikes;
}

// Random Braille-like inputs in [-4, 4] (a third exact zeros), so the recurrent layer fires.
std::vector<float> brailleInputs(const simtest::Compiled& c, int64_t n)
{
    std::vector<float> in = simtest::randomSamples(n, c.program.inputSize(), 41);
    for (float& x : in)
        x = x == 0.0f ? 0.0f : 8.0f * x - 4.0f;
    return in;
}

struct Config {
    const char* name;
    sim::SimOptions options;
};

using sim::Order, sim::Parallel, sim::Schedule;
sim::SimOptions run(Schedule schedule, int threads, Parallel parallel, Order order = Order::Auto, int batch = 1)
{
    sim::SimOptions o;
    o.schedule = schedule, o.threads = threads, o.parallel = parallel;
    o.order = order, o.batch = batch;
    return o;
}

const Config kConfigs[] = {
    {"cores latency", run(Schedule::Latency, 1, Parallel::Cores)},
    {"cores throughput 2 threads", run(Schedule::Throughput, 2, Parallel::Cores)},
    {"samples step-major", run(Schedule::Latency, 2, Parallel::Samples, Order::StepMajor)},
    {"samples step-major batch 3", run(Schedule::Latency, 1, Parallel::Samples, Order::StepMajor, 3)},
    {"samples core-major", run(Schedule::Latency, 2, Parallel::Samples, Order::CoreMajor, 2)},
};

// compareWithReference in every config: "" or the first config's difference.
std::string exactEverywhere(const simtest::Compiled& c, const std::vector<float>& in, int64_t n)
{
    for (const Config& k : kConfigs)
        if (const std::string diff = compareWithReference(c, in, n, k.options); !diff.empty())
            return std::string(k.name) + ": " + diff;
    return {};
}

// A recurrent synapse block: its source population is not before the slice's.
bool recurrentBlock(const sim::SynapseBlock& b) { return b.srcPop >= b.dstPop; }

int recurrentBlocks(const sim::SimProgram& prog)
{
    int n = 0;
    for (const auto& core : prog.cores)
        n += int(std::count_if(core.inputs.begin(), core.inputs.end(), recurrentBlock));
    return n;
}

void shiftRecurrentDelay(sim::SimProgram& prog, int by)
{
    for (auto& core : prog.cores)
        for (auto& b : core.inputs)
            if (recurrentBlock(b)) {
                b.delay += by;
                b.lastSend -= by;
            }
    for (auto& core : prog.cores) {
        core.maxDelay = 0;
        for (const auto& b : core.inputs)
            core.maxDelay = std::max(core.maxDelay, b.delay);
    }
}

} // namespace

class TestSimRecurrent : public QObject {
    Q_OBJECT
private slots:
    // The back edge is one projection of %spk onto itself; with steps = 1 it
    // needs no synaptic delay (a spike of step h is integrated in h + 1).
    void rleakyIsASelfProjection()
    {
        const simtest::Compiled c = simtest::compile(loadFixture("target/rleaky_loop.sir"), "loihi3");
        const target::Network& net = c.out.session->network;
        int recurrent = 0;
        for (const target::Projection& pr : net.projections) {
            if (!pr.recurrent())
                continue;
            ++recurrent;
            QCOMPARE(net.populations[size_t(pr.src)].name, std::string("spk"));
            QCOMPARE(pr.src, pr.dst);
            QCOMPARE(pr.modelDelay, 1);
            QCOMPARE(pr.delay, 0);
            QVERIFY(pr.delayOp >= 0);
            QCOMPARE(pr.synapseCount(), int64_t(16 * 16));
        }
        QCOMPARE(recurrent, 1);
        QCOMPARE(net.depth, 2); // spk at phase 1, the readout at 2: the loop adds no pipeline step
        QVERIFY(c.out.package.fromQuantizedModule);
        QCOMPARE(recurrentBlocks(c.program), 1);
    }

    void matchesReference_data()
    {
        QTest::addColumn<QString>("chip");
        QTest::addColumn<int>("steps");
        for (const char* chip : {"loihi3", "loihi2"})
            for (int steps : {1, 2, 5})
                QTest::newRow((std::string(chip) + " steps=" + std::to_string(steps)).c_str())
                    << QString(chip) << steps;
    }

    // Every schedule and host order, 7 random samples: outputs bit for bit,
    // every neuron's spike train at model time.
    void matchesReference()
    {
        QFETCH(QString, chip);
        QFETCH(int, steps);
        const simtest::Compiled c = simtest::compile(rleaky(steps), chip.toStdString());
        const int64_t n = 7;
        const std::vector<float> in = simtest::randomSamples(n, c.program.inputSize(), 29);
        QVERIFY2(referenceSpikes(c, in, n, "spk") > 50, "the recurrent layer barely fires: the test would not see it");
        const std::string diff = exactEverywhere(c, in, n);
        QVERIFY2(diff.empty(), diff.c_str());
    }

    // The test can fail: the recurrent synapse one step late (or, with
    // steps = 2, one step early) changes the spike trains.
    void offByOneDelayBreaksIt_data()
    {
        QTest::addColumn<int>("steps");
        QTest::addColumn<int>("shift");
        QTest::newRow("steps=1, one late") << 1 << 1;
        QTest::newRow("steps=2, one late") << 2 << 1;
        QTest::newRow("steps=2, one early") << 2 << -1;
    }

    void offByOneDelayBreaksIt()
    {
        QFETCH(int, steps);
        QFETCH(int, shift);
        simtest::Compiled c = simtest::compile(rleaky(steps), "loihi3");
        const int64_t n = 7;
        const std::vector<float> in = simtest::randomSamples(n, c.program.inputSize(), 29);
        QVERIFY(compareWithReference(c, in, n, kConfigs[0].options).empty());
        shiftRecurrentDelay(c.program, shift);
        for (const Config& k : kConfigs)
            QVERIFY2(!compareWithReference(c, in, n, k.options).empty(), k.name);
    }

    // A loop through two neuron layers needs at least two steps of delay:
    // with steps = 2 it maps (delay 0 from %b back to %a) and is exact.
    void twoLayerLoopWithTwoSteps()
    {
        const simtest::Compiled c = simtest::compile(parse(twoLayerLoop(2)), "loihi2");
        const int64_t n = 6;
        const std::vector<float> in = simtest::randomSamples(n, c.program.inputSize(), 5);
        const std::string diff = exactEverywhere(c, in, n);
        QVERIFY2(diff.empty(), diff.c_str());
    }

    // With steps = 1 the loop cannot close: refused at the delay op, naming both layers.
    void twoLayerLoopWithOneStepIsRefusedAtTheDelay()
    {
        target::CompileRequest req;
        req.chip = "loihi3";
        const target::CompileOutput out = target::compileModule(parse(twoLayerLoop(1)), req);
        QVERIFY(!out.ok());
        const std::string all = out.diagnostics.format();
        QVERIFY2(all.find("loop.sir:8:3: error: [%back = delay] not yet: the recurrent loop from %b (pipeline phase "
                          "2) back to %a (phase 1) passes 2 neuron layers") != std::string::npos,
                 all.c_str());
    }

    // Braille RSynaptic: the loop lif1.lif -> delay -> w_rec -> current stage
    // lif1.lif.syn -> lif1.lif is one CUBA population projecting onto itself
    // (delay 0); lif2's CubaLIF, not on a loop, stays two populations.
    void brailleFusesItsLoopIntoOneCompartment()
    {
        for (const char* chip : {"loihi3", "loihi2"}) {
            const simtest::Compiled c = simtest::compile(braille(), chip);
            const target::Network& net = c.out.session->network;
            std::vector<std::string> names;
            for (const auto& p : net.populations)
                names.push_back(p.name);
            QCOMPARE(std::count(names.begin(), names.end(), std::string("lif1.lif.syn")), 0l);
            QCOMPARE(std::count(names.begin(), names.end(), std::string("lif1.lif")), 1l);
            QCOMPARE(std::count(names.begin(), names.end(), std::string("lif2.syn")), 1l);
            int recurrent = 0;
            for (const target::Projection& pr : net.projections)
                if (pr.recurrent()) {
                    ++recurrent;
                    QCOMPARE(net.populations[size_t(pr.src)].name, std::string("lif1.lif"));
                    QCOMPARE(pr.src, pr.dst);
                    QCOMPARE(pr.delay, 0);
                }
            QCOMPARE(recurrent, 1);
            const auto it = std::find(names.begin(), names.end(), std::string("lif1.lif"));
            const target::Population& cuba = net.populations[size_t(it - names.begin())];
            QVERIFY(cuba.fx.neuron.du != fixedpoint::kDecayOne); // the current decays in the compartment
            const int64_t n = 8;
            const std::vector<float> in = brailleInputs(c, n);
            const int64_t spikes = referenceSpikes(c, in, n, "lif1.lif");
            qInfo("%s: %lld spikes of lif1.lif in %lld samples", chip, (long long)spikes, (long long)n);
            QVERIFY(spikes > 50);
            const std::string diff = exactEverywhere(c, in, n);
            QVERIFY2(diff.empty(), (std::string(chip) + " " + diff).c_str());
        }
    }

    void brailleOffByOneBreaksIt()
    {
        simtest::Compiled c = simtest::compile(braille(), "loihi3");
        const int64_t n = 8;
        const std::vector<float> in = brailleInputs(c, n);
        QVERIFY(compareWithReference(c, in, n, kConfigs[0].options).empty());
        shiftRecurrentDelay(c.program, 1);
        for (const Config& k : kConfigs)
            QVERIFY2(!compareWithReference(c, in, n, k.options).empty(), k.name);
    }

    // When the current stage is read by another op too (here: also a model
    // output) the pair cannot be one compartment: a located warning says why,
    // and the loop through two populations is refused at the delay op.
    void cubaLifThatCannotFuseIsRefused()
    {
        std::string text = ir::printModule(braille());
        const std::string out = "output %lif2";
        QVERIFY(text.find(out) != std::string::npos);
        text.replace(text.find(out), out.size(), "output %lif2, %lif1.lif.syn");
        target::CompileRequest req;
        req.chip = "loihi3";
        const target::CompileOutput c = target::compileModule(parse(text, "braille.sir"), req);
        QVERIFY(!c.ok());
        const std::string all = c.diagnostics.format();
        QVERIFY2(all.find("warning: [%lif1.lif = lif] the CubaLIF %lif1.lif.syn -> %lif1.lif on a recurrent loop is "
                          "not fused into one CUBA compartment: the current is read by other ops too") !=
                     std::string::npos,
                 all.c_str());
        QVERIFY2(all.find("error: [%lif1.lif.prev = delay] not yet: the recurrent loop from %lif1.lif (pipeline phase "
                          "2) back to %lif1.lif.syn (phase 1) passes 2 neuron layers") != std::string::npos,
                 all.c_str());
    }

    // The delayed spikes themselves as a second model output: the readout is
    // materialized after %spk, so its back-edge term is resolved at the end.
    void delayAsAnOutput()
    {
        std::string text = readText("target/rleaky_loop.sir");
        const std::string out = "output %y";
        text.replace(text.find(out), out.size(), "output %y, %prev");
        const simtest::Compiled c = simtest::compile(parse(text, "rleaky_loop.sir"), "loihi3");
        QCOMPARE(int(c.program.readoutPops.size()), 2);
        const int64_t n = 5;
        const std::vector<float> in = simtest::randomSamples(n, c.program.inputSize(), 3);
        const std::string diff = exactEverywhere(c, in, n);
        QVERIFY2(diff.empty(), diff.c_str());
    }

    // A forward delay (NIR Delay node, 2 steps) of an affine map with a bias:
    // the value is relayed (bias in the relay) and the relay's spikes reach
    // the neuron 2 model steps later (synaptic delay 2), 0 before.
    void forwardDelayOfABiasedValue()
    {
        for (const char* chip : {"loihi3", "loihi2"}) {
            const simtest::Compiled c = simtest::compile(importNir("spec_delay.nir", 8), chip);
            const target::Network& net = c.out.session->network;
            int delayed = 0;
            for (const target::Projection& pr : net.projections)
                if (pr.modelDelay > 0) {
                    ++delayed;
                    QVERIFY(!pr.recurrent());
                    QCOMPARE(pr.modelDelay, 2);
                    QCOMPARE(pr.delay, 2);
                    QCOMPARE(int(net.populations[size_t(pr.src)].kind), int(target::PopulationKind::Relay));
                }
            QCOMPARE(delayed, 1);
            const int64_t n = 6;
            const std::vector<float> in = brailleInputs(c, n);
            QVERIFY(referenceSpikes(c, in, n, "lif") > 10);
            const std::string diff = exactEverywhere(c, in, n);
            QVERIFY2(diff.empty(), (std::string(chip) + " " + diff).c_str());
        }
    }

    // A delay beyond the chip's synaptic delays is refused at the delay op too.
    void delayBeyondTheChipIsRefused()
    {
        target::CompileRequest req;
        req.chip = "loihi3";
        const target::CompileOutput out = target::compileModule(rleaky(200), req);
        QVERIFY(!out.ok());
        const std::string all = out.diagnostics.format();
        QVERIFY2(all.find("rleaky_loop.sir:12:3: error: [%prev = delay] needs a synaptic delay of 199 steps from "
                          "%spk to %spk") != std::string::npos,
                 all.c_str());
    }
};

QTEST_GUILESS_MAIN(TestSimRecurrent)
#include "test_sim_recurrent.moc"

// Network extraction: the populations and projections extracted from a
// module compute what the module computes (checked by running the network
// synapse by synapse in float against the reference interpreter), and what
// cannot be mapped is reported with the op.
#include "target/network_extract.h"

#include "interp/interpreter.h"
#include "ir/ir_io.h"
#include "target_test_util.h"

#include <QtTest>

#include <cmath>
#include <map>
#include <random>

using namespace stc;
using namespace stc::target;
using namespace stc::target::testutil;

namespace {

std::vector<float> randomInput(const ir::Module& m, uint32_t seed)
{
    const auto in = m.inputs();
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> x(size_t(m.typeOf(in[0]).numElements()));
    for (auto& v : x)
        v = u(rng);
    return x;
}

struct FloatRun {
    std::map<std::string, int64_t> spikes;      // per population name
    std::map<std::string, std::vector<double>> readouts;
};

// Runs the network step by step without pipelining (every population sees
// its sources of the same step), in float, synapse by synapse.
FloatRun runNetworkFloat(const Network& net, const std::vector<float>& input)
{
    FloatRun out;
    const size_t np = net.populations.size();
    std::vector<std::vector<double>> state(np), value(np), acc(np);
    for (size_t i = 0; i < np; ++i) {
        state[i].assign(size_t(net.populations[i].size()), net.populations[i].neuron.vReset);
        acc[i].assign(size_t(net.populations[i].size()), 0.0);
    }
    std::vector<std::vector<int32_t>> incoming(np);
    for (size_t i = 0; i < np; ++i)
        incoming[i] = net.incoming(int32_t(i));
    for (int64_t t = 0; t < net.timesteps; ++t) {
        for (size_t i = 0; i < np; ++i) {
            const Population& p = net.populations[i];
            const int64_t n = p.size();
            std::vector<double> x(size_t(n), 0.0), second(size_t(n), 0.0);
            if (p.kind == PopulationKind::Input) {
                value[i].assign(input.begin(), input.end());
                continue;
            }
            for (size_t k = 0; k < incoming[i].size(); ++k) {
                const Projection& pr = net.projections[size_t(incoming[i][k])];
                const Population& sp = net.populations[size_t(pr.src)];
                auto& target = (p.kind == PopulationKind::Product && k == 1) ? second : x;
                for (int64_t d = 0; d < n; ++d)
                    forEachSynapseOf(pr, sp, p, d, [&](int64_t s, float w) {
                        target[size_t(d)] += double(w) * value[size_t(pr.src)][size_t(s)];
                    });
            }
            for (int64_t d = 0; d < n && !p.bias.empty(); ++d)
                x[size_t(d)] += p.bias[size_t(d)];
            auto& v = value[i];
            v.assign(size_t(n), 0.0);
            for (int64_t d = 0; d < n; ++d) {
                switch (p.kind) {
                case PopulationKind::Lif: {
                    double& mem = state[i][size_t(d)];
                    const NeuronParams& np_ = p.neuron;
                    if (np_.model == "if")
                        mem += x[size_t(d)];
                    else
                        mem = mem + (x[size_t(d)] - (mem - np_.vReset)) / np_.tau;
                    const bool spike = float(mem) >= float(np_.vThreshold);
                    v[size_t(d)] = spike ? 1.0 : 0.0;
                    if (spike)
                        mem = np_.vReset;
                    out.spikes[p.name] += spike ? 1 : 0;
                    break;
                }
                case PopulationKind::Relay:
                    v[size_t(d)] = p.spikeBits == 1 ? (x[size_t(d)] >= 1.0 ? 1.0 : 0.0) : x[size_t(d)];
                    break;
                case PopulationKind::Product: v[size_t(d)] = x[size_t(d)] * second[size_t(d)]; break;
                case PopulationKind::Readout: acc[i][size_t(d)] += x[size_t(d)]; break;
                case PopulationKind::Input: break;
                }
            }
        }
    }
    for (size_t i = 0; i < np; ++i)
        if (net.populations[i].kind == PopulationKind::Readout) {
            auto r = acc[i];
            for (auto& a : r)
                a *= net.populations[i].outputScale;
            out.readouts[net.populations[i].name] = r;
        }
    return out;
}

void compareWithInterpreter(const ir::Module& m, const Network& net, uint32_t seed)
{
    const std::vector<float> x = randomInput(m, seed);
    interp::RunResult ref = interp::run(m, {interp::InputBatch{1, x}});
    QVERIFY2(ref.ok(), ref.error.c_str());
    FloatRun got = runNetworkFloat(net, x);
    for (const auto& lif : ref.lif) {
        const int64_t mine = got.spikes[lif.name];
        const double tol = std::max(3.0, 0.02 * double(lif.total)); // float summation order differs
        QVERIFY2(std::abs(double(mine - lif.total)) <= tol,
                 (lif.name + ": network " + std::to_string(mine) + " spikes, interpreter " +
                  std::to_string(lif.total)).c_str());
    }
    const auto outs = m.outputs();
    for (size_t k = 0; k < outs.size(); ++k) {
        const std::string& name = m.value(outs[k]).name;
        QVERIFY2(got.readouts.count(name), name.c_str());
        const auto& mine = got.readouts[name];
        QCOMPARE(mine.size(), ref.outputs[k].size());
        double maxErr = 0, maxRef = 0;
        for (size_t i = 0; i < mine.size(); ++i) {
            maxErr = std::max(maxErr, std::abs(mine[i] - double(ref.outputs[k][i])));
            maxRef = std::max(maxRef, std::abs(double(ref.outputs[k][i])));
        }
        QVERIFY2(maxErr <= 0.05 * std::max(1.0, maxRef), (name + " differs by " + std::to_string(maxErr)).c_str());
    }
}

const Population* findPop(const Network& net, const std::string& name)
{
    for (const auto& p : net.populations)
        if (p.name == name)
            return &p;
    return nullptr;
}

} // namespace

class TestTargetNetwork : public QObject {
    Q_OBJECT
private slots:
    void convSnnStructure()
    {
        ir::Module m = loadGolden("conv_snn.sir");
        auto r = extractNetwork(m, nullptr);
        QVERIFY2(r.ok(), r.diagnostics.format().c_str());
        const Network& net = r.network;
        // input, lif1, maxpool relay, lif2, readout
        QCOMPARE(int(net.populations.size()), 5);
        QCOMPARE(net.populations[0].kind, PopulationKind::Input);
        const Population* lif1 = findPop(net, "lif1");
        QVERIFY(lif1);
        QCOMPARE(lif1->featureAxis, 0);
        QCOMPARE(lif1->size(), int64_t(4 * 14 * 14));
        const Population* pool = findPop(net, "2");
        QVERIFY(pool);
        QCOMPARE(pool->kind, PopulationKind::Relay);
        QCOMPARE(pool->spikeBits, 1);
        // conv1 is analytic (Full), conv synapses = 4 * 1 * valid taps
        const Projection& conv = net.projections[0];
        QCOMPARE(conv.coupling, Coupling::Full);
        QCOMPARE(conv.axes.size(), size_t(2));
        QCOMPARE(conv.axes[0].stride, int64_t(2));
        // schedule: input 0, lif1 1, pool 2, lif2 3, readout 4
        QCOMPARE(findPop(net, "lif2")->phase, 3);
        QCOMPARE(net.depth, 4);
        compareWithInterpreter(m, net, 1);
    }

    void spikformerCifarMatchesInterpreter()
    {
        ir::Module m = loadGolden("spikformer_cifar.sir");
        auto r = extractNetwork(m, nullptr);
        QVERIFY2(r.ok(), r.diagnostics.format().c_str());
        const Network& net = r.network;
        int products = 0, relays = 0;
        for (const auto& p : net.populations) {
            products += p.kind == PopulationKind::Product;
            relays += p.kind == PopulationKind::Relay;
        }
        QCOMPARE(products, 2); // q @ k^T and attn @ v
        QVERIFY(relays >= 3);  // maxpools, attention scores, residual sums
        const Population* qk = findPop(net, "blocks.0.attn.attn.products");
        QVERIFY(qk);
        QCOMPARE(qk->neuron.model, std::string("and"));
        QCOMPARE(qk->size(), int64_t(2 * 64 * 64 * 8));
        const Population* av = findPop(net, "blocks.0.attn.attn_v.products");
        QVERIFY(av);
        QCOMPARE(av->neuron.model, std::string("gate"));
        compareWithInterpreter(m, net, 7);
    }

    void spikformerImagenetMatchesInterpreter()
    {
        ir::Module m = loadGolden("spikformer_imagenet.sir");
        auto r = extractNetwork(m, nullptr);
        QVERIFY2(r.ok(), r.diagnostics.format().c_str());
        compareWithInterpreter(m, r.network, 3);
    }

    // Upstream Spikformer's head: mean over tokens per step, a separate mean
    // over time, then the linear head; the per-step mean is relayed (a relay of
    // the time average is not possible).
    void headAfterTimeMeanRelaysThePerStepValue()
    {
        ir::Module m = loadGolden("spikformer_imagenet_time_mean_last.sir");
        auto chip = findChip("loihi3");
        QVERIFY(chip.chip);
        auto r = extractNetwork(m, &*chip.chip);
        QVERIFY2(r.ok(), r.diagnostics.format().c_str());
        const Population* relay = findPop(r.network, "token_mean");
        QVERIFY(relay);
        QCOMPARE(relay->kind, PopulationKind::Relay);
        compareWithInterpreter(m, r.network, 3);
    }

    void noRelaysOnBinaryChip()
    {
        ir::Module m = loadGolden("conv_snn.sir");
        auto chip = findChip("loihi1");
        QVERIFY(chip.chip);
        auto r = extractNetwork(m, &*chip.chip);
        QVERIFY2(r.ok(), r.diagnostics.format().c_str());
        // direct encoding of real values on a binary-spike chip is a warning
        QVERIFY(r.diagnostics.format().find("graded spikes") != std::string::npos);
    }

    void unsupportedOpIsLocated()
    {
        ir::Module m = loadGolden("spikformer_cifar.sir");
        auto chip = findChip("loihi1"); // binary spikes, no "gate" neurons
        auto r = extractNetwork(m, &*chip.chip);
        QVERIFY(!r.ok());
        const std::string all = r.diagnostics.format();
        QVERIFY2(all.find("[%blocks.0.attn.attn_v = matmul]") != std::string::npos ||
                     all.find("%blocks.0.attn.attn") != std::string::npos,
                 all.c_str());
        QVERIFY2(all.find("loihi1") != std::string::npos, all.c_str());
    }

    // Extraction builds the two operand gathers of every product on two
    // threads when allowed; the network must be the one one thread builds.
    void sameNetworkForAnyThreadCount()
    {
        ir::Module m = loadGolden("spikformer_cifar.sir");
        ExtractOptions opt;
        opt.threads = 1;
        const auto one = extractNetwork(m, nullptr, opt);
        QVERIFY(one.ok());
        int gathers = 0;
        for (const Projection& pr : one.network.projections)
            gathers += pr.coupling == Coupling::Explicit &&
                       one.network.populations[size_t(pr.dst)].kind == PopulationKind::Product;
        QVERIFY(gathers >= 2); // products exist, so the two-thread path runs
        for (int threads : {0, 2}) {
            opt.threads = threads;
            const auto r = extractNetwork(m, nullptr, opt);
            QVERIFY(r.ok());
            const Network &a = one.network, &b = r.network;
            QCOMPARE(b.populations.size(), a.populations.size());
            for (size_t i = 0; i < a.populations.size(); ++i) {
                QCOMPARE(b.populations[i].name, a.populations[i].name);
                QVERIFY(b.populations[i].shape == a.populations[i].shape);
                QCOMPARE(b.populations[i].rate, a.populations[i].rate);
            }
            QCOMPARE(b.projections.size(), a.projections.size());
            for (size_t i = 0; i < a.projections.size(); ++i) {
                const Projection &x = a.projections[i], &y = b.projections[i];
                QCOMPARE(y.name, x.name);
                QCOMPARE(y.src, x.src);
                QCOMPARE(y.dst, x.dst);
                QVERIFY(y.coupling == x.coupling);
                QVERIFY(y.srcNeuron == x.srcNeuron);
                QVERIFY(y.rowStart == x.rowStart);
                QVERIFY(y.weights == x.weights);
                QCOMPARE(y.zeroWeights, x.zeroWeights);
                QCOMPARE(y.delay, x.delay);
            }
        }
    }

    void measuredRatesAreUsed()
    {
        ir::Module m = loadGolden("conv_snn.sir");
        std::vector<std::vector<float>> samples = {randomInput(m, 1), randomInput(m, 2)};
        std::string err;
        RateProfile prof = measureRates(m, samples, &err);
        QVERIFY2(err.empty(), err.c_str());
        QCOMPARE(prof.samples, int64_t(2));
        ExtractOptions opt;
        opt.rates = &prof;
        auto r = extractNetwork(m, nullptr, opt);
        QVERIFY(r.ok());
        const Population* lif1 = findPop(r.network, "lif1");
        QVERIFY(lif1->rateMeasured);
        QCOMPARE(lif1->rate, prof.mean.at("lif1"));
        QCOMPARE(int64_t(lif1->neuronRates.size()), lif1->size());
        QVERIFY(r.network.ratesMeasured);
    }
};

QTEST_GUILESS_MAIN(TestTargetNetwork)
#include "test_target_network.moc"

// Mapping: partition respects every per-core limit (property test on random
// layer graphs), utilization of the binding resource on the golden models,
// placement and routes avoid dead cores/links, determinism for a seed, the
// neuron locator's tables on any thread count,
// multi-chip scaling sanity, located "does not fit" reports.
#include "target/mapper.h"
#include "target/network_extract.h"
#include "target/target_passes.h"

#include "passes/runner.h"

#include "ir/ir_io.h"
#include "target_test_util.h"

#include <QtTest>

#include <random>
#include <set>

using namespace stc;
using namespace stc::target;
using namespace stc::target::testutil;

namespace {

// A random feed-forward stack of conv / linear layers built in IR.
ir::Module randomModel(uint32_t seed)
{
    std::mt19937 rng(seed);
    auto pick = [&](int lo, int hi) { return lo + int(rng() % uint32_t(hi - lo + 1)); };
    ir::Module m;
    m.name = "random" + std::to_string(seed);
    m.timesteps = 2;
    const int64_t c0 = pick(1, 3), h = pick(6, 20);
    ir::ValueId x = m.addInput({ir::ElemType::F32, {c0, h, h}, ir::TimeKind::Invariant}, "x");
    std::string err;
    ir::Attributes enc;
    enc.set("mode", std::string("rate"));
    x = m.build(ir::OpKind::Encode, {x}, enc, "", "enc", &err);
    int64_t c = c0, hh = h;
    auto lifAttrs = [] {
        ir::Attributes a;
        a.set("tau", 2.0);
        a.set("decay_input", true);
        a.set("v_threshold", 1.0);
        a.set("reset", std::string("hard"));
        return a;
    };
    std::uniform_real_distribution<float> w(-1.0f, 1.0f);
    const int convs = pick(1, 3);
    for (int l = 0; l < convs; ++l) {
        const int64_t o = pick(2, 24), k = pick(1, 3);
        ir::Tensor wt = ir::Tensor::fromFloats({o, c, k, k}, std::vector<float>(size_t(o * c * k * k)));
        for (auto& v : wt.mutableAs<float>())
            v = (rng() % 4 == 0) ? 0.0f : w(rng); // some zeros: sparse rows
        ir::ValueId wv = m.addConst(wt, "w" + std::to_string(l));
        ir::Attributes a;
        a.set("padding", ir::IntList{k / 2, k / 2});
        const int64_t s = pick(1, 2);
        a.set("stride", ir::IntList{s, s});
        x = m.build(ir::OpKind::Conv2d, {x, wv}, a, "conv" + std::to_string(l), "", &err);
        x = m.build(ir::OpKind::Lif, {x}, lifAttrs(), "lif" + std::to_string(l), "lif" + std::to_string(l), &err);
        c = o;
        hh = m.typeOf(x).shape[1];
    }
    ir::Attributes fl;
    x = m.build(ir::OpKind::Flatten, {x}, fl, "", "", &err);
    const int64_t in = c * hh * hh, out = pick(4, 40);
    ir::Tensor wt = ir::Tensor::fromFloats({out, in}, std::vector<float>(size_t(out * in)));
    for (auto& v : wt.mutableAs<float>())
        v = w(rng);
    x = m.build(ir::OpKind::Linear, {x, m.addConst(wt, "fc")}, {}, "fc", "", &err);
    x = m.build(ir::OpKind::Lif, {x}, lifAttrs(), "out", "out", &err);
    ir::Attributes mean;
    mean.set("over_time", true);
    x = m.build(ir::OpKind::Mean, {x}, mean, "readout", "rate", &err);
    if (x == ir::kNoValue)
        qFatal("random model: %s", err.c_str());
    m.addOutput({x});
    return m;
}

// A chip with small cores so that random models need many of them.
ChipDescriptor tinyChip(uint32_t seed)
{
    ChipDescriptor c = chipNamed("loihi2");
    std::mt19937 rng(seed);
    c.limits.neurons = 64 + int64_t(rng() % 512);
    c.limits.fanInAxons = 256 + int64_t(rng() % 2048);
    c.limits.fanOutAxons = 256 + int64_t(rng() % 2048);
    c.limits.synapticMemoryBytes = 4096 + int64_t(rng() % 32768);
    c.limits.coreMemoryBytes = 0;
    c.chipGrid = {8, 8, 4};
    return c;
}

void verifyLimits(const Mapping& m, const ChipDescriptor& chip)
{
    for (const auto& c : m.cores) {
        QVERIFY(c.usage.neurons <= chip.limits.neurons);
        QVERIFY(c.usage.fanInAxons <= chip.limits.fanInAxons);
        QVERIFY(c.usage.fanOutAxons <= chip.limits.fanOutAxons);
        QVERIFY(c.usage.synapticBytes <= chip.limits.synapticMemoryBytes);
        if (chip.limits.coreMemoryBytes > 0)
            QVERIFY(c.usage.synapticBytes + c.usage.stateBytes <= chip.limits.coreMemoryBytes);
    }
}

} // namespace

class TestMapping : public QObject {
    Q_OBJECT
private slots:
    void randomGraphsRespectLimits()
    {
        for (uint32_t seed = 1; seed <= 12; ++seed) {
            const ir::Module m = randomModel(seed);
            const ChipDescriptor chip = tinyChip(seed);
            const Network net = networkOf(m, chip);
            MapOptions opt;
            opt.chips = 4;
            opt.objective = seed % 3 == 0 ? "min-cores" : seed % 3 == 1 ? "balanced" : "latency";
            const Mapping map = mapNetwork(net, chip, opt);
            if (!map.fits) {
                // Allowed only with a located reason.
                QVERIFY(!map.problems.empty());
                QVERIFY(!map.problems[0].message.empty());
                continue;
            }
            verifyLimits(map, chip);
            // Every neuron of every population is in exactly one slice.
            for (size_t p = 0; p < net.populations.size(); ++p) {
                int64_t covered = 0;
                for (const auto& s : map.slices)
                    covered += s.pop == int32_t(p) ? s.neurons() : 0;
                QCOMPARE(covered, net.populations[p].size());
            }
            // Usage per core is the sum of its slices.
            for (const auto& c : map.cores) {
                int64_t n = 0;
                for (int32_t s : c.slices)
                    n += map.sliceUsage[size_t(s)].neurons;
                QCOMPARE(n, c.usage.neurons);
            }
        }
    }

    void goldenUtilization_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("chip");
        QTest::newRow("conv_snn loihi2") << "conv_snn.sir" << "loihi2";
        QTest::newRow("spikformer_cifar loihi2") << "spikformer_cifar.sir" << "loihi2";
        QTest::newRow("spikformer_cifar loihi3") << "spikformer_cifar.sir" << "loihi3";
        QTest::newRow("spikformer_imagenet loihi3") << "spikformer_imagenet.sir" << "loihi3";
    }
    void goldenUtilization()
    {
        QFETCH(QString, model);
        QFETCH(QString, chip);
        const ChipDescriptor c = chipNamed(chip.toStdString().c_str());
        const Network net = networkOf(loadGolden(model.toStdString().c_str()), c);
        MapOptions opt;
        opt.chips = 2;
        const Mapping m = mapNetwork(net, c, opt);
        QVERIFY2(m.fits, m.problems.empty() ? "" : m.problems[0].message.c_str());
        verifyLimits(m, c);
        qInfo("%s on %s: %zu cores, binding utilization %.1f %% (with step time %.1f %%), step %.0f ns",
              qPrintable(model), qPrintable(chip), m.cores.size(), 100 * m.meanBindingUtilization,
              100 * m.meanUtilizationWithTime, m.stepTimeNs);
        QVERIFY(m.meanUtilizationWithTime >= 0.8);
    }

    void deadCoresAndLinksAreAvoided()
    {
        ChipDescriptor c = chipNamed("loihi2");
        c.limits.neurons = 128; // spread the model over many cores
        for (int x = 0; x < 4; ++x)
            for (int k = 0; k < 4; ++k)
                c.deadCores.push_back({0, x, 0, k});
        c.deadLinks.push_back({0, 4, 1, 5, 1});
        c.deadLinks.push_back({0, 2, 1, 2, 2});
        const Network net = networkOf(loadGolden("conv_snn.sir"), c);
        MapOptions opt;
        const Mapping m = mapNetwork(net, c, opt);
        QVERIFY2(m.fits, m.problems.empty() ? "" : m.problems[0].message.c_str());
        QVERIFY(m.cores.size() > 8);
        for (const auto& core : m.cores)
            QVERIFY(!c.isDead(core.coord));
        for (const auto& r : m.routes)
            for (size_t k = 1; k < r.path.size(); ++k) {
                const auto &a = r.path[k - 1], &b = r.path[k];
                QVERIFY(!c.isDeadLink(0, a[0], a[1], b[0], b[1]));
            }
    }

    void deterministicForSeed()
    {
        const ChipDescriptor c = chipNamed("loihi3");
        const Network net = networkOf(loadGolden("spikformer_cifar.sir"), c);
        MapOptions opt;
        opt.seed = 42;
        const Mapping a = mapNetwork(net, c, opt), b = mapNetwork(net, c, opt);
        QCOMPARE(a.cores.size(), b.cores.size());
        for (size_t i = 0; i < a.cores.size(); ++i)
            QVERIFY(a.cores[i].coord == b.cores[i].coord);
        QCOMPARE(a.weightedHops, b.weightedHops);
    }

    void sameForAnyThreadCount()
    {
        // Slices are analysed and traffic is counted on several threads; the
        // mapping must be the one a single thread makes.
        const ChipDescriptor c = chipNamed("loihi3");
        const Network net = networkOf(loadGolden("spikformer_cifar.sir"), c);
        MapOptions opt;
        opt.threads = 1;
        const Mapping one = mapNetwork(net, c, opt);
        QVERIFY(one.fits);
        for (int threads : {2, 3, 5}) {
            opt.threads = threads;
            const Mapping m = mapNetwork(net, c, opt);
            QVERIFY(m.slices == one.slices);
            QVERIFY(m.sliceUsage == one.sliceUsage);
            QVERIFY(m.sliceInputs == one.sliceInputs);
            QVERIFY(m.sliceCore == one.sliceCore);
            QCOMPARE(m.cores.size(), one.cores.size());
            for (size_t i = 0; i < m.cores.size(); ++i) {
                QVERIFY(m.cores[i].slices == one.cores[i].slices);
                QVERIFY(m.cores[i].usage == one.cores[i].usage);
                QVERIFY(m.cores[i].coord == one.cores[i].coord);
            }
            QCOMPARE(m.routes.size(), one.routes.size());
            for (size_t i = 0; i < m.routes.size(); ++i) {
                QCOMPARE(m.routes[i].from, one.routes[i].from);
                QCOMPARE(m.routes[i].to, one.routes[i].to);
                QCOMPARE(m.routes[i].spikesPerStep, one.routes[i].spikesPerStep); // exact: same additions
            }
            QCOMPARE(m.stepTimeNs, one.stepTimeNs);
            QCOMPARE(m.weightedHops, one.weightedHops);
        }
    }

    void neuronLocatorTablesAnyThreadCount()
    {
        // The locator's per-neuron tables are filled slice by slice on several
        // threads; every neuron must be found in the slice that holds it, at the
        // slice-local index Slice::neuronAt gives, whatever the thread count.
        const ChipDescriptor c = chipNamed("loihi3");
        const Network net = networkOf(loadGolden("spikformer_cifar.sir"), c);
        MapOptions opt;
        opt.threads = 2;
        const Mapping m = mapNetwork(net, c, opt);
        QVERIFY(m.fits);
        const NeuronLocator one(net, m.popBlock, m.popFirstSlice, m.slices, 1);
        const NeuronLocator three(net, m.popBlock, m.popFirstSlice, m.slices, 3);
        int64_t checked = 0;
        for (size_t s = 0; s < m.slices.size(); ++s) {
            const Slice& sl = m.slices[s];
            const Population& p = net.populations[size_t(sl.pop)];
            for (int64_t l = 0; l < sl.neurons(); ++l) {
                const int64_t n = sl.neuronAt(p, l);
                int64_t a = -1, b = -1;
                QCOMPARE(one.locate(sl.pop, n, a), int32_t(s));
                QCOMPARE(three.locate(sl.pop, n, b), int32_t(s));
                QCOMPARE(a, l);
                QCOMPARE(b, l);
                QCOMPARE(m.sliceOf(net, sl.pop, n), int32_t(s));
                ++checked;
            }
        }
        QVERIFY(checked > 10000);
        // Placement keeps its locator for the package; an edited mapping must not use it.
        QVERIFY(m.neuronLocator);
        QVERIFY(m.neuronLocator->builtFor(m.popBlock, m.popFirstSlice, m.slices));
        std::vector<Slice> edited = m.slices;
        edited.back().f1 -= 1;
        QVERIFY(!m.neuronLocator->builtFor(m.popBlock, m.popFirstSlice, edited));
    }

    void storedAxonListsMatchCollectAxons()
    {
        // Destination counts and traffic read the axon lists the partition's
        // analysis kept; they must be collectAxons' lists, in its order.
        const ChipDescriptor c = chipNamed("loihi3");
        const Network net = networkOf(loadGolden("spikformer_cifar.sir"), c);
        PartitionOptions po;
        po.threads = 2;
        const Partition part = partitionNetwork(net, c, po);
        QVERIFY(part.ok());
        QCOMPARE(part.axons.size(), part.slices.size());
        SliceAnalyzer an(net, c);
        std::vector<int64_t> expected;
        std::set<Coupling> seen;
        for (size_t d = 0; d < part.slices.size(); ++d) {
            QCOMPARE(part.axons[d].size(), part.inputs[d].size());
            for (size_t j = 0; j < part.inputs[d].size(); ++j) {
                an.collectAxons(part.slices[d], part.inputs[d][j].projection, expected);
                const std::vector<int32_t>& got = *part.axons[d][j];
                QCOMPARE(int64_t(got.size()), part.inputs[d][j].axons);
                QVERIFY(std::equal(got.begin(), got.end(), expected.begin(), expected.end()));
                seen.insert(net.projections[size_t(part.inputs[d][j].projection)].coupling);
            }
        }
        QVERIFY(seen.count(Coupling::Full) && seen.size() >= 2); // analytic and enumerated lists both checked
    }

    void diagSynapsesAsForEachSynapseOf()
    {
        // DiagSynapses (the analysis' tabulated Diag enumeration) gives
        // forEachSynapseOf's synapses, in its order, for every neuron.
        const ChipDescriptor c = chipNamed("loihi3");
        const Network net = networkOf(loadGolden("spikformer_cifar.sir"), c);
        int64_t checked = 0;
        for (const Projection& pr : net.projections) {
            if (pr.coupling != Coupling::Diag)
                continue;
            const Population& sp = net.populations[size_t(pr.src)];
            const Population& dp = net.populations[size_t(pr.dst)];
            const DiagSynapses diag(pr);
            std::vector<std::pair<int64_t, float>> want, got;
            for (int64_t n = 0; n < dp.size(); ++n) {
                want.clear();
                got.clear();
                forEachSynapseOf(pr, sp, dp, n, [&](int64_t src, float w) { want.emplace_back(src, w); });
                diag.forEach(n, [&](int64_t src, float w) { got.emplace_back(src, w); });
                QVERIFY2(got == want, qPrintable(QString::fromStdString(pr.name)));
                checked += int64_t(want.size());
            }
        }
        QVERIFY(checked > 0);
    }

    void analysisDoesNotDependOnOrder()
    {
        // The analyzer keeps per-projection tables between slices (Diag
        // element arithmetic, Full nonzero counts per feature range, scratch):
        // the partition's slices analysed again in reverse order, with its
        // destination counts, give its usage, inputs and axon lists. Every
        // fifth weight of the Full projections pruned to 0, so that their
        // nonzero counts are taken (and kept) per feature range.
        const ChipDescriptor c = chipNamed("loihi3");
        Network net = networkOf(loadGolden("spikformer_cifar.sir"), c);
        for (Projection& pr : net.projections)
            if (pr.coupling == Coupling::Full)
                for (size_t k = 0; k < pr.weights.size(); k += 5)
                    if (pr.weights[k] != 0.0f) {
                        pr.weights[k] = 0.0f;
                        ++pr.zeroWeights;
                    }
        PartitionOptions po;
        po.threads = 2;
        const Partition part = partitionNetwork(net, c, po);
        QVERIFY(part.ok());
        SliceAnalyzer an(net, c);
        for (size_t pop = 0; pop < part.destinationCounts.size(); ++pop)
            if (part.destinationCounts[pop])
                an.setDestinationCounts(int32_t(pop), part.destinationCounts[pop]);
        int halves = 0;
        for (size_t d = part.slices.size(); d-- > 0;) {
            std::vector<SliceInput> ins;
            std::vector<SliceAnalyzer::AxonList> axs;
            const Usage u = an.analyze(part.slices[d], &ins, &axs);
            QVERIFY(u == part.usage[d]);
            QVERIFY(ins == part.inputs[d]);
            QCOMPARE(axs.size(), part.axons[d].size());
            for (size_t j = 0; j < axs.size(); ++j)
                QVERIFY(*axs[j] == *part.axons[d][j]);
            // The first half of its features, after the whole: the same as
            // from an analyzer that saw nothing before.
            Slice half = part.slices[d];
            if (half.features() < 2)
                continue;
            half.f1 = half.f0 + half.features() / 2;
            SliceAnalyzer fresh(net, c);
            fresh.shareDestinations(an);
            std::vector<SliceInput> insHalf, insFresh;
            QVERIFY(an.analyze(half, &insHalf) == fresh.analyze(half, &insFresh));
            QVERIFY(insHalf == insFresh);
            ++halves;
        }
        QVERIFY(halves > 0);
    }

    void multiChipScaling()
    {
        ChipDescriptor c = chipNamed("loihi2");
        c.limits.neurons = 256; // a small core so that chips fill up
        const Network net = networkOf(loadGolden("spikformer_cifar.sir"), c);
        double lastStep = 1e300;
        int lastCores = 0;
        for (int chips : {1, 2, 4, 8}) {
            MapOptions opt;
            opt.chips = chips;
            opt.objective = "latency";
            const Mapping m = mapNetwork(net, c, opt);
            if (!m.fits)
                continue;
            verifyLimits(m, c);
            QVERIFY(m.chipsUsed <= chips);
            QVERIFY(int(m.cores.size()) >= lastCores); // more chips never means fewer cores used
            QVERIFY(m.criticalCoreTimeNs <= lastStep + 1e-9);
            lastStep = m.criticalCoreTimeNs;
            lastCores = int(m.cores.size());
        }
        QVERIFY(lastCores > 0);
    }

    void passesInThePipeline()
    {
        auto session = std::make_shared<TargetSession>();
        session->options.threads = 3; // as stc compile sets it (0 there: every host thread)
        passes::PassRegistry reg = passes::makeBuiltinRegistry();
        registerTargetPasses(reg, session);
        const std::string text = "fold-bn,canonicalize,partition{chip=loihi2 chips=2 objective=min-cores},place{seed=7},route";
        Diagnostics d;
        auto p = passes::parsePipeline(text, reg, d);
        QVERIFY2(p.has_value(), d.format().c_str());
        Diagnostics d1;
        auto again = passes::parsePipeline(p->print(reg), reg, d1);
        QVERIFY(again && *again == *p); // round trip of the pipeline text
        passes::CompileContext ctx;
        const ir::Module m = loadGolden("conv_snn.sir");
        passes::RunResult r = passes::runPipeline(m, *p, reg, ctx);
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QVERIFY(session->routed);
        QCOMPARE(session->mapping.seed, uint64_t(7));
        QCOMPARE(session->options.threads, 3); // partition's session reset keeps the caller's thread count
        QVERIFY(!session->mapping.cores.empty());
        QVERIFY(r.module.sameAs(m) || !r.module.ops().empty()); // analysis passes leave the IR alone
        // Order constraint: place before partition is rejected.
        Diagnostics d2;
        auto bad = passes::parsePipeline("place,partition", reg, d2);
        QVERIFY(bad.has_value());
        QVERIFY(!passes::checkOrder(*bad, reg, &m, d2));
        QVERIFY2(d2.format().find("partition") != std::string::npos, d2.format().c_str());
    }

    void doesNotFitSaysWhy()
    {
        ChipDescriptor c = chipNamed("loihi1");
        c.limits.fanInAxons = 16; // conv_snn's fc layer reads 196 inputs per neuron
        auto r = extractNetwork(loadGolden("conv_snn.sir"), &c);
        const Mapping m = mapNetwork(r.network, c, MapOptions{});
        QVERIFY(!m.fits);
        QVERIFY(!m.problems.empty());
        const std::string msg = m.problems[0].message;
        QVERIFY2(msg.find("%lif2") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find("fan-in axons") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find("over by") != std::string::npos, msg.c_str());
        QCOMPARE(m.problems[0].resource, Resource::FanIn);

        ChipDescriptor small = chipNamed("loihi2");
        small.tilesX = small.tilesY = 1;
        small.coresPerTile = 2;
        small.limits.neurons = 64;
        const Mapping m2 = mapNetwork(networkOf(loadGolden("conv_snn.sir"), small), small, MapOptions{});
        QVERIFY(!m2.fits);
        QVERIFY2(m2.problems[0].message.find("Try --chips") != std::string::npos, m2.problems[0].message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestMapping)
#include "test_mapping.moc"

// Explicit projections in compactExplicit's form (uniform rows without row
// starts, one shared weight) against the CSR form with a weight per synapse:
// the conversions keep every synapse, and a network whose Explicit
// projections are stored either way (or half and half) gives the same
// synapse enumeration, partition (slices, slice inputs, usage) and package,
// for a float and a quantized module; measured product rates read the
// compact rows as the CSR ones.
#include "target/compile.h"
#include "target/cost_model.h"
#include "target/mapper.h"
#include "target/network_extract.h"
#include "target/package.h"
#include "target/partition.h"
#include "target/slice_analysis.h"
#include "target/target_passes.h"

#include "target_test_util.h"

#include <QtTest>

#include <cstring>

using namespace stc;
using namespace stc::target;
using namespace stc::target::testutil;

namespace {

using Synapses = std::vector<std::pair<int64_t, uint32_t>>; // (source, weight bits)

Synapses synapsesOf(const Network& net, const Projection& pr)
{
    const Population &sp = net.populations[size_t(pr.src)], &dp = net.populations[size_t(pr.dst)];
    Synapses out;
    for (int64_t n = 0; n < dp.size(); ++n)
        forEachSynapseOf(pr, sp, dp, n, [&](int64_t s, float w) {
            uint32_t bits;
            std::memcpy(&bits, &w, sizeof bits);
            out.emplace_back(s, bits);
        });
    return out;
}

// A two-population network: `dst` neurons fed through one Explicit projection.
Network handMade(const std::vector<int64_t>& rowStart, const std::vector<int32_t>& src, const std::vector<float>& w)
{
    Network net;
    Population a, b;
    a.name = "a";
    a.shape = {8};
    b.name = "b";
    b.shape = {int64_t(rowStart.size()) - 1};
    net.populations = {a, b};
    Projection pr;
    pr.name = "hand-made";
    pr.src = 0;
    pr.dst = 1;
    pr.coupling = Coupling::Explicit;
    pr.rowStart = rowStart;
    pr.srcNeuron = src;
    pr.weights = w;
    pr.zeroWeights = int64_t(std::count(w.begin(), w.end(), 0.0f));
    net.projections = {pr};
    return net;
}

enum class Form { Compact, Csr, CsrRowsSharedWeight, CompactRowsPerSynapseWeights };

// The network with every Explicit projection in `form` (from the extracted, compact one).
Network inForm(Network net, Form form)
{
    for (Projection& pr : net.projections) {
        if (pr.coupling != Coupling::Explicit || form == Form::Compact)
            continue;
        const int64_t rows = net.populations[size_t(pr.dst)].size();
        const bool shared = pr.sharedWeight;
        const int64_t L = pr.rowLength;
        expandExplicit(pr, rows);
        if (form == Form::CsrRowsSharedWeight && shared) {
            pr.weights.resize(1);
            pr.sharedWeight = true;
        }
        if (form == Form::CompactRowsPerSynapseWeights && L > 0) {
            pr.rowStart.clear();
            pr.rowLength = L;
        }
    }
    return net;
}

} // namespace

class TestCompactExplicit : public QObject {
    Q_OBJECT
private slots:
    void conversionsKeepTheSynapses()
    {
        // Uniform rows of 2, equal weights: both compact; expanding restores the CSR lists.
        Network net = handMade({0, 2, 4, 6}, {1, 2, 3, 4, 5, 6}, std::vector<float>(6, 0.5f));
        const Projection csr = net.projections[0];
        const Synapses want = synapsesOf(net, csr);
        QCOMPARE(uniformRowLength(csr, 3), int64_t(2));
        Projection& pr = net.projections[0];
        compactExplicit(pr, 3);
        QCOMPARE(pr.rowLength, int64_t(2));
        QVERIFY(pr.rowStart.empty());
        QVERIFY(pr.sharedWeight);
        QCOMPARE(pr.weights.size(), size_t(1));
        QCOMPARE(pr.synapseCount(), int64_t(6));
        QCOMPARE(synapsesOf(net, pr), want);
        QCOMPARE(uniformRowLength(pr, 3), int64_t(2));
        QCOMPARE(uniformRowLength(pr, 4), int64_t(-1)); // not 4 rows of 2
        expandExplicit(pr, 3);
        QVERIFY(pr.rowStart == csr.rowStart && pr.srcNeuron == csr.srcNeuron && pr.weights == csr.weights);
        QVERIFY(pr.rowLength == 0 && !pr.sharedWeight);
        QVERIFY_THROWS_EXCEPTION(std::logic_error, [&] {
            compactExplicit(pr, 3);
            expandExplicit(pr, 4);
        }());

        // Rows of 1, 2 and 0 synapses, equal weights: CSR rows, one shared weight.
        Network ragged = handMade({0, 1, 3, 3}, {7, 0, 1}, std::vector<float>(3, -2.0f));
        const Synapses raggedWant = synapsesOf(ragged, ragged.projections[0]);
        QCOMPARE(uniformRowLength(ragged.projections[0], 3), int64_t(-1));
        compactExplicit(ragged.projections[0], 3);
        QCOMPARE(ragged.projections[0].rowLength, int64_t(0));
        QVERIFY(ragged.projections[0].sharedWeight);
        QCOMPARE(synapsesOf(ragged, ragged.projections[0]), raggedWant);

        // Uniform rows, weights 0 and -0 (equal as floats, not as bits): compact rows, weights kept.
        Network zeros = handMade({0, 1, 2}, {3, 4}, {0.0f, -0.0f});
        const Synapses zerosWant = synapsesOf(zeros, zeros.projections[0]);
        compactExplicit(zeros.projections[0], 2);
        QCOMPARE(zeros.projections[0].rowLength, int64_t(1));
        QVERIFY(!zeros.projections[0].sharedWeight);
        QCOMPARE(synapsesOf(zeros, zeros.projections[0]), zerosWant);

        // Rows without synapses stay CSR (uniform of length 0 for the analysis).
        Network empty = handMade({0, 0, 0}, {}, {});
        QCOMPARE(uniformRowLength(empty.projections[0], 2), int64_t(0));
        compactExplicit(empty.projections[0], 2);
        QCOMPARE(empty.projections[0].rowStart.size(), size_t(3));
        QVERIFY(SliceAnalyzer::ExplicitRows(empty, empty.projections[0]).uniform);
    }

    void extractedGathersAreCompact()
    {
        // The attention products' operands: one synapse per product neuron, weight 1.
        const ChipDescriptor c = chipNamed("loihi3");
        const Network net = networkOf(loadGolden("spikformer_cifar.sir"), c);
        const Network csr = inForm(net, Form::Csr);
        int compact = 0;
        for (size_t i = 0; i < net.projections.size(); ++i) {
            const Projection& pr = net.projections[i];
            if (pr.coupling != Coupling::Explicit || pr.rowLength == 0)
                continue;
            ++compact;
            QVERIFY(pr.rowStart.empty());
            QCOMPARE(pr.synapseCount(), net.populations[size_t(pr.dst)].size() * pr.rowLength);
            QVERIFY(SliceAnalyzer::ExplicitRows(net, pr).uniform);
            QVERIFY(!csr.projections[i].rowStart.empty());
            QCOMPARE(synapsesOf(net, pr), synapsesOf(csr, csr.projections[i]));
        }
        QVERIFY(compact >= 2);
    }

    void productRatesReadCompactRows()
    {
        // With measured per-neuron rates, a product neuron's rate is the
        // product of its two operand neurons' rates (network_rates.cpp),
        // read from the operands' compact rows: recomputed from their CSR form.
        const ir::Module m = loadGolden("spikformer_cifar.sir");
        std::vector<float> x(size_t(m.typeOf(m.inputs()[0]).numElements()));
        for (size_t i = 0; i < x.size(); ++i)
            x[i] = float((i * 7919) % 101) / 100.0f;
        std::string err;
        const RateProfile prof = measureRates(m, {x}, &err);
        QVERIFY2(err.empty(), err.c_str());
        ExtractOptions opt;
        opt.rates = &prof;
        auto r = extractNetwork(m, nullptr, opt);
        QVERIFY(r.ok());
        const Network& net = r.network;
        const Network csr = inForm(net, Form::Csr);
        int products = 0;
        for (int32_t i = 0; i < int32_t(net.populations.size()); ++i) {
            const Population& p = net.populations[size_t(i)];
            const std::vector<int32_t> in = net.incoming(i);
            if (p.kind != PopulationKind::Product || in.size() != 2 || p.neuronRates.empty())
                continue;
            const Projection &a = csr.projections[size_t(in[0])], &b = csr.projections[size_t(in[1])];
            QVERIFY(net.projections[size_t(in[0])].rowLength > 0 && !a.rowStart.empty());
            double nonzero = 0;
            for (int64_t n = 0; n < p.size(); ++n) {
                const double ra = net.populations[size_t(a.src)].rateOf(a.srcNeuron[size_t(a.rowStart[size_t(n)])]);
                const double rb = net.populations[size_t(b.src)].rateOf(b.srcNeuron[size_t(b.rowStart[size_t(n)])]);
                QCOMPARE(p.neuronRates[size_t(n)], float(ra * rb));
                nonzero += ra * rb > 0 ? 1 : 0;
            }
            QVERIFY(nonzero > 0);
            ++products;
        }
        QVERIFY(products >= 2);
    }

    void sameAnalysisAndPackage_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<bool>("quantized");
        QTest::addColumn<bool>("edited");
        for (const char* model : {"spikformer_cifar.sir", "conv_snn.sir"})
            for (bool quantized : {false, true})
                for (bool edited : {false, true})
                    QTest::newRow(qPrintable(QString("%1%2%3").arg(model, quantized ? " quantized" : " float",
                                                                 edited ? " edited" : "")))
                        << QString(model) << quantized << edited;
    }
    void sameAnalysisAndPackage()
    {
        QFETCH(QString, model);
        QFETCH(bool, quantized);
        QFETCH(bool, edited);
        const ChipDescriptor chip = chipNamed("loihi3");
        const ir::Module m = loadGolden(model.toStdString().c_str());
        Network net;
        if (quantized) {
            CompileRequest req;
            req.chip = "loihi3";
            const CompileOutput out = compileModule(m, req);
            QVERIFY2(out.ok(), out.error.c_str());
            net = out.session->network;
            QVERIFY(net.quantized);
        } else {
            net = networkOf(m, chip);
        }
        // Edited: every Explicit projection's weights made equal (256 = 64 << 2
        // at 8 bits for the first, so that the shared exponent is not only 0,
        // 3 for the rest) and the second's, fourth's, ... row dstNeurons / 3 emptied
        // (CSR rows with a shared weight), then compacted again.
        int explicitInputs = 0;
        for (Projection& pr : net.projections) {
            if (pr.coupling != Coupling::Explicit || !edited)
                continue;
            const int64_t rows = net.populations[size_t(pr.dst)].size();
            expandExplicit(pr, rows);
            std::fill(pr.weights.begin(), pr.weights.end(), explicitInputs == 0 ? 256.0f : 3.0f);
            pr.zeroWeights = 0;
            if (explicitInputs++ % 2 == 1 && rows >= 3) {
                const int64_t b = pr.rowStart[size_t(rows / 3)], e = pr.rowStart[size_t(rows / 3) + 1];
                pr.srcNeuron.erase(pr.srcNeuron.begin() + b, pr.srcNeuron.begin() + e);
                pr.weights.resize(pr.srcNeuron.size());
                for (int64_t k = rows / 3 + 1; k <= rows; ++k)
                    pr.rowStart[size_t(k)] -= e - b;
            }
            compactExplicit(pr, rows);
        }
        int compact = 0, shared = 0, sharedCsr = 0, sharedLong = 0, perSynapse = 0;
        for (const Projection& pr : net.projections) {
            if (pr.coupling != Coupling::Explicit)
                continue;
            compact += pr.rowLength > 0 ? 1 : 0;
            shared += pr.sharedWeight ? 1 : 0;
            sharedCsr += pr.sharedWeight && pr.rowLength == 0 ? 1 : 0;
            sharedLong += pr.sharedWeight && pr.rowLength > 1 ? 1 : 0;
            perSynapse += !pr.sharedWeight ? 1 : 0;
        }
        QVERIFY(compact > 0 && shared > 0);
        if (edited)
            QVERIFY(sharedCsr > 0);
        if (model == "conv_snn.sir")
            QVERIFY(edited ? sharedLong > 0 : perSynapse > 0);
        PartitionOptions po;
        po.threads = 2;
        const Partition base = partitionNetwork(net, chip, po);
        QVERIFY(base.ok());
        const Mapping baseMap = mapNetwork(net, chip, MapOptions{});
        QVERIFY(baseMap.fits);
        const Package basePkg = buildPackage(net, baseMap, chip, "test", estimateCost(net, baseMap, chip));
        for (Form form : {Form::Csr, Form::CsrRowsSharedWeight, Form::CompactRowsPerSynapseWeights}) {
            const Network other = inForm(net, form);
            const Partition p = partitionNetwork(other, chip, po);
            QVERIFY(p.slices == base.slices);
            QVERIFY(p.inputs == base.inputs);
            QVERIFY(p.usage == base.usage);
            const Mapping map = mapNetwork(other, chip, MapOptions{});
            QVERIFY(map.fits);
            QVERIFY(buildPackage(other, map, chip, "test", estimateCost(other, map, chip)) == basePkg);
        }
    }
};

QTEST_GUILESS_MAIN(TestCompactExplicit)
#include "test_compact_explicit.moc"

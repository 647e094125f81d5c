// The slice analysis' fast paths against straightforward references: the
// stencil tap enumeration (innermost axis as one range) against the plain
// odometer, and the enumerated inputs' counts (Diag, Explicit with uniform
// rows read without row starts or weights, general Explicit) against a
// synapse-by-synapse recount through forEachSynapseOf and a map.
#include "target/chip_descriptor.h"
#include "target/network_extract.h"
#include "target/partition.h"
#include "target/slice_analysis.h"

#include "ir/ir_io.h"
#include "target_test_util.h"

#include <QtTest>

#include <map>
#include <random>

using namespace stc;
using namespace stc::target;
using namespace stc::target::testutil;

namespace {

// The taps of output position q, by the plain odometer over every stencil axis.
std::vector<std::pair<int64_t, int64_t>> odometerTaps(const std::vector<StencilAxis>& axes, int64_t q)
{
    const size_t rank = axes.size();
    std::vector<int64_t> qc(rank), kc(rank, 0);
    for (size_t a = rank; a-- > 0;) {
        qc[a] = q % axes[a].outSize;
        q /= axes[a].outSize;
    }
    int64_t taps = 1;
    for (const auto& ax : axes)
        taps *= ax.kernel;
    std::vector<std::pair<int64_t, int64_t>> out;
    for (int64_t tap = 0; tap < taps; ++tap) {
        int64_t flat = 0;
        bool inside = true;
        for (size_t a = 0; a < rank; ++a) {
            const int64_t p = qc[a] * axes[a].stride - axes[a].pad + kc[a] * axes[a].dilation;
            inside = inside && p >= 0 && p < axes[a].inSize;
            flat = flat * axes[a].inSize + p;
        }
        if (inside)
            out.emplace_back(tap, flat);
        for (size_t a = rank; a-- > 0;) {
            if (++kc[a] < axes[a].kernel)
                break;
            kc[a] = 0;
        }
    }
    return out;
}

// One enumerated input of a slice, recounted synapse by synapse in the
// analysis' order (positions row-major, features inner): the definitions of
// SliceInput's fields, without the analyzer's tables, scratch or fast paths.
struct Recount {
    std::vector<int32_t> axons; // first-touch order
    int64_t synapses = 0, nonzero = 0, bytes = 0;
    double events = 0; // in the chosen encoding
};

Recount recount(const Network& net, const ChipDescriptor& chip, const Slice& s, int32_t pi)
{
    const Projection& pr = net.projections[size_t(pi)];
    const Population& dp = net.populations[size_t(s.pop)];
    const Population& sp = net.populations[size_t(pr.src)];
    const SynapseEncoding* dense = chip.encoding("dense");
    const SynapseEncoding* sparse = chip.encoding("sparse");
    const SynapseEncoding* conv = chip.encoding("conv_shared");
    const int64_t wb = chip.limits.weightBits, runHdr = dense ? dense->runHeaderBytes : 0;
    struct Axon {
        int64_t entries = 0, nnz = 0, last = -2, runLen = 0, runBytes = 0;
    };
    std::map<int64_t, Axon> of;
    Recount r;
    int64_t local = 0;
    forEachSlicePosition(dp.positionShape(), s, [&](int64_t pd) {
        for (int64_t f = s.f0; f < s.f1; ++f, ++local) {
            const int64_t n = dp.shape.empty() ? 0 : dp.neuronIndex(f, pd);
            forEachSynapseOf(pr, sp, dp, n, [&](int64_t src, float w) {
                auto [it, fresh] = of.try_emplace(src);
                if (fresh)
                    r.axons.push_back(int32_t(src));
                Axon& a = it->second;
                ++a.entries;
                a.nnz += w != 0.0f ? 1 : 0;
                if (f != s.f0 && a.last == local - 1) {
                    ++a.runLen;
                } else {
                    if (a.runLen > 0)
                        a.runBytes += runHdr + (a.runLen * wb + 7) / 8;
                    a.runLen = 1;
                }
                a.last = local;
            });
        }
    });
    int64_t denseBytes = 0, sparseBytes = 0;
    double all = 0, nonzero = 0;
    for (int32_t src : r.axons) {
        Axon& a = of[src];
        a.runBytes += runHdr + (a.runLen * wb + 7) / 8;
        r.synapses += a.entries;
        r.nonzero += a.nnz;
        if (dense)
            denseBytes += alignUp(dense->rowHeaderBytes + a.runBytes, dense->rowAlignBytes);
        if (sparse)
            sparseBytes += alignUp(sparse->rowHeaderBytes + (a.nnz * (wb + sparse->indexBits) + 7) / 8,
                                   sparse->rowAlignBytes);
        all += sp.rateOf(src) * double(a.entries);
        nonzero += sp.rateOf(src) * double(a.nnz);
    }
    // The cheapest encoding the chip has (dense, sparse, conv_shared; ties to the first).
    r.bytes = -1;
    bool sparseChosen = false;
    auto consider = [&](bool has, int64_t b, bool isSparse) {
        if (has && (r.bytes < 0 || b < r.bytes)) {
            r.bytes = b;
            sparseChosen = isSparse;
        }
    };
    consider(dense != nullptr, denseBytes, false);
    consider(sparse != nullptr, sparseBytes, true);
    consider(conv && pr.coupling == Coupling::Diag,
             conv ? alignUp((s.features() * pr.taps() * wb + 7) / 8, conv->rowAlignBytes) +
                        int64_t(r.axons.size()) * conv->rowHeaderBytes
                  : 0,
             false);
    r.bytes = std::max<int64_t>(r.bytes, 0);
    r.events = sparseChosen ? nonzero : all;
    return r;
}

} // namespace

class TestSliceAnalysis : public QObject {
    Q_OBJECT

    // Every enumerated input of every slice of the partition of `net` as the recount.
    // Counts the inputs compared per coupling and their synapses.
    void compareWithRecount(const Network& net, const ChipDescriptor& c, std::map<Coupling, int64_t>& inputs,
                            int64_t& synapses)
    {
        PartitionOptions po;
        po.threads = 2;
        const Partition part = partitionNetwork(net, c, po);
        if (!part.ok())
            qFatal("partition failed");
        SliceAnalyzer an(net, c);
        synapses = 0;
        for (const Slice& s : part.slices) {
            std::vector<SliceInput> ins;
            std::vector<SliceAnalyzer::AxonList> axs;
            an.analyze(s, &ins, &axs);
            for (size_t j = 0; j < ins.size(); ++j) {
                const Projection& pr = net.projections[size_t(ins[j].projection)];
                if (pr.coupling == Coupling::Full)
                    continue;
                const Recount r = recount(net, c, s, ins[j].projection);
                const QByteArray what = QByteArray::fromStdString(pr.name);
                QVERIFY2(*axs[j] == r.axons, what);
                QVERIFY2(ins[j].axons == int64_t(r.axons.size()), what);
                QVERIFY2(ins[j].synapses == r.synapses, what);
                QVERIFY2(ins[j].nonzero == r.nonzero, what);
                QVERIFY2(ins[j].bytes == r.bytes, what);
                QVERIFY2(ins[j].synOpsPerStep == r.events, what);
                ++inputs[pr.coupling];
                synapses += r.synapses;
            }
        }
    }

private slots:
    void tapsAsOdometer()
    {
        // Random stencils with padding, strides and dilations (taps cut off at
        // both ends, windows wholly outside the input, rank 1 to 4).
        std::mt19937 rng(7);
        auto pick = [&](int lo, int hi) { return int64_t(std::uniform_int_distribution<int>(lo, hi)(rng)); };
        int64_t compared = 0;
        for (int t = 0; t < 400; ++t) {
            std::vector<StencilAxis> axes(size_t(pick(1, 4)));
            for (StencilAxis& ax : axes) {
                ax.inSize = pick(1, 9);
                ax.kernel = pick(1, 5);
                ax.stride = pick(1, 3);
                ax.pad = pick(0, 4);
                ax.dilation = pick(1, 3);
                ax.outSize = pick(1, 8);
            }
            int64_t outPositions = 1;
            for (const StencilAxis& ax : axes)
                outPositions *= ax.outSize;
            for (int64_t q = 0; q < outPositions; ++q) {
                std::vector<std::pair<int64_t, int64_t>> got;
                forEachTap(axes, q, [&](int64_t tap, int64_t p) { got.emplace_back(tap, p); });
                QCOMPARE(got, odometerTaps(axes, q));
                compared += int64_t(got.size());
            }
        }
        QVERIFY(compared > 10000);
    }

    void enumeratedInputsAsRecount()
    {
        // The products' gathers (one source per row, no zero weight) take the
        // uniform-row path, the sums and pools the Diag path.
        const ChipDescriptor c = chipNamed("loihi3");
        const Network net = networkOf(loadGolden("spikformer_cifar.sir"), c);
        int uniform = 0;
        for (const Projection& pr : net.projections)
            uniform += pr.coupling == Coupling::Explicit && SliceAnalyzer::ExplicitRows(net, pr).uniform ? 1 : 0;
        QVERIFY(uniform > 0);
        std::map<Coupling, int64_t> inputs;
        int64_t synapses = 0;
        compareWithRecount(net, c, inputs, synapses);
        QVERIFY(synapses > 10000);
        QVERIFY(inputs[Coupling::Diag] > 0 && inputs[Coupling::Explicit] > 0);
    }

    void generalExplicitRowsAsRecount()
    {
        // The same network with one weight of every Explicit projection pruned
        // to 0 and one row of each emptied: no projection is uniform, every
        // Explicit input takes the CSR path.
        const ChipDescriptor c = chipNamed("loihi3");
        Network net = networkOf(loadGolden("spikformer_cifar.sir"), c);
        int changed = 0;
        for (Projection& pr : net.projections) {
            if (pr.coupling != Coupling::Explicit || pr.srcNeuron.empty())
                continue;
            expandExplicit(pr, net.populations[size_t(pr.dst)].size()); // CSR rows, a weight per synapse
            pr.weights[pr.weights.size() / 2] = 0.0f;
            pr.zeroWeights = int64_t(std::count(pr.weights.begin(), pr.weights.end(), 0.0f));
            const size_t row = pr.rowStart.size() / 3; // drop row `row`'s synapses
            const int64_t b = pr.rowStart[row], e = pr.rowStart[row + 1];
            pr.srcNeuron.erase(pr.srcNeuron.begin() + b, pr.srcNeuron.begin() + e);
            pr.weights.erase(pr.weights.begin() + b, pr.weights.begin() + e);
            for (size_t k = row + 1; k < pr.rowStart.size(); ++k)
                pr.rowStart[k] -= e - b;
            QVERIFY(!SliceAnalyzer::ExplicitRows(net, pr).uniform);
            ++changed;
        }
        QVERIFY(changed > 0);
        std::map<Coupling, int64_t> inputs;
        int64_t synapses = 0;
        compareWithRecount(net, c, inputs, synapses);
        QVERIFY(synapses > 10000);
        QVERIFY(inputs[Coupling::Explicit] > 0);
    }
};

QTEST_GUILESS_MAIN(TestSliceAnalysis)
#include "test_slice_analysis.moc"

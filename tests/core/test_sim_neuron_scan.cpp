// The simulator's vectorized LIF update (sim/neuron_scan.cpp, lifScan) against
// the reference integer semantics (fixedpoint::neuronStep), neuron by neuron
// and step by step, over every reset rule, both firing rules, spike and
// membrane outputs, the decay and shift edges, thresholds up to the edge of
// the kernel's range, and synaptic sums across the whole int32 range; and the
// product-neuron chunk scan (productScan) against a scalar reference.
#include "fixedpoint/arith.h"
#include "sim/worker.h"

#include <QtTest>

#include <random>

using namespace stc;
using fixedpoint::NeuronParams;
using fixedpoint::Reset;

class TestSimNeuronScan : public QObject {
    Q_OBJECT
private slots:
    void lifScanEqualsNeuronStep()
    {
        std::mt19937_64 rng(7);
        const int64_t n = 77; // not a multiple of a vector width
        const int32_t decays[] = {0, 1, 1024, 2048, 4095, 4096};
        const int64_t thetas[] = {0, 1, 64, 4096, 1 << 20, fixedpoint::kNeverFires, int64_t{1} << 24, -5, -(int64_t{1} << 24)};
        int64_t cases = 0, spikes = 0;
        for (Reset reset : {Reset::Hard, Reset::Subtract, Reset::None, Reset::SubtractDelayed})
            for (bool ge : {true, false})
                for (bool membrane : {false, true})
                    for (int trial = 0; trial < 24; ++trial) {
                        NeuronParams p;
                        p.reset = reset;
                        p.fireOnEqual = ge;
                        p.du = decays[rng() % 6];
                        p.dv = decays[rng() % 6];
                        p.actShift = int32_t(rng() % 9);
                        p.theta = thetas[rng() % 9];
                        QVERIFY(sim::detail::lifScanFits(p));
                        // Input scale: small sums (spiking regime) up to the full int32 range.
                        const int bits = int(rng() % 32);
                        std::vector<int32_t> bias(static_cast<size_t>(n)), u(static_cast<size_t>(n), 0), v(u), ru(u), rv(u);
                        for (auto& b : bias)
                            b = int32_t(int64_t(rng() % (uint64_t{1} << bits)) - (int64_t{1} << bits) / 2);
                        bias[0] = 0;
                        for (int step = 0; step < 12; ++step) {
                            std::vector<int32_t> a(static_cast<size_t>(n)), out(static_cast<size_t>(n), -7);
                            for (auto& x : a)
                                x = rng() % 3 == 0 ? 0 : int32_t(int64_t(rng() % (uint64_t{1} << bits)) - (int64_t{1} << bits) / 2);
                            if (step == 3)
                                a[1] = INT32_MIN, bias[1] = INT32_MIN; // a = -2^32: non-zero with zero low bits
                            const std::vector<int32_t> in = a;
                            int64_t active = 0;
                            std::vector<int32_t> want(static_cast<size_t>(n));
                            for (int64_t i = 0; i < n; ++i) {
                                const int64_t x = int64_t(in[size_t(i)]) + bias[size_t(i)];
                                active += (x != 0) | (ru[size_t(i)] != 0) | (rv[size_t(i)] != 0);
                                int32_t charged;
                                const bool spike = fixedpoint::neuronStep(p, ru[size_t(i)], rv[size_t(i)], x, charged);
                                want[size_t(i)] = membrane ? charged : int32_t(spike);
                                spikes += spike;
                            }
                            const int64_t got = sim::detail::lifScan(p, membrane, a.data(), bias.data(), u.data(),
                                                                     v.data(), out.data(), n);
                            QCOMPARE(got, active);
                            QVERIFY(out == want);
                            QVERIFY(u == ru);
                            QVERIFY(v == rv);
                            QVERIFY(std::all_of(a.begin(), a.end(), [](int32_t x) { return x == 0; }));
                            ++cases;
                        }
                    }
        QVERIFY(spikes > 0);
        qInfo("%lld slice updates, %lld spikes", (long long)cases, (long long)spikes);
    }

    // productScan: a chunk it passes over (has = 0) holds no neuron with both
    // operands non-zero and is cleared; a chunk it flags keeps its operands
    // for the caller; the count is of the neurons with a non-zero operand.
    void productScanFindsEveryProduct()
    {
        std::mt19937_64 rng(11);
        const int64_t K = sim::detail::kProductChunk;
        int64_t flagged = 0, passed = 0;
        for (int64_t n : {int64_t(1), K - 1, K, 3 * K, 5 * K + 7, int64_t(333)})
            for (int density : {0, 2, 20, 60, 100}) // percent of non-zero operands
                for (int trial = 0; trial < 20; ++trial) {
                    std::vector<int32_t> a0(static_cast<size_t>(n)), a1(static_cast<size_t>(n));
                    for (int64_t i = 0; i < n; ++i) {
                        // Extreme values too: a product whose low 32 bits are 0 still counts.
                        const int32_t vals[] = {1, -1, 65536, INT32_MIN, INT32_MAX, 7};
                        if (int(rng() % 100) < density)
                            a0[size_t(i)] = vals[rng() % 6];
                        if (int(rng() % 100) < density)
                            a1[size_t(i)] = vals[rng() % 6];
                    }
                    const std::vector<int32_t> b0 = a0, b1 = a1;
                    std::vector<uint8_t> has(size_t((n + K - 1) / K), 9);
                    const int64_t got = sim::detail::productScan(a0.data(), a1.data(), has.data(), n);
                    int64_t active = 0;
                    for (int64_t i = 0; i < n; ++i)
                        active += (b0[size_t(i)] | b1[size_t(i)]) != 0;
                    QCOMPARE(got, active);
                    for (int64_t c = 0; c * K < n; ++c) {
                        bool product = false;
                        for (int64_t i = c * K; i < std::min(n, (c + 1) * K); ++i)
                            product |= int64_t(b0[size_t(i)]) * b1[size_t(i)] != 0;
                        QVERIFY(has[size_t(c)] == 0 || has[size_t(c)] == 1);
                        QVERIFY(!product || has[size_t(c)] == 1);
                        for (int64_t i = c * K; i < std::min(n, (c + 1) * K); ++i)
                            if (has[size_t(c)]) {
                                QCOMPARE(a0[size_t(i)], b0[size_t(i)]);
                                QCOMPARE(a1[size_t(i)], b1[size_t(i)]);
                            } else {
                                QCOMPARE(a0[size_t(i)], 0);
                                QCOMPARE(a1[size_t(i)], 0);
                            }
                        flagged += has[size_t(c)], passed += !has[size_t(c)];
                    }
                }
        QVERIFY(flagged > 0 && passed > 0);
    }
};

QTEST_GUILESS_MAIN(TestSimNeuronScan)
#include "test_sim_neuron_scan.moc"

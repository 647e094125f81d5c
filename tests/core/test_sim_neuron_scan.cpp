// The simulator's vectorized LIF update (sim/neuron_scan.cpp, lifScan) against
// the reference integer semantics (fixedpoint::neuronStep), neuron by neuron
// and step by step, over every reset rule, both firing rules, spike and
// membrane outputs, the decay and shift edges, thresholds up to the edge of
// the kernel's range, and synaptic sums across the whole int32 range; and the
// emitting scans (relay, product, spike picking) against scalar references.
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
        const int32_t decays[] = {0, 1, 1024, 2048, 2049, 3584, 4095, 4096}; // shifts and general factors
        const int64_t thetas[] = {0, 1, 64, 4096, 1 << 20, fixedpoint::kNeverFires, int64_t{1} << 24, -5, -(int64_t{1} << 24)};
        int64_t cases = 0, spikes = 0;
        for (Reset reset : {Reset::Hard, Reset::Subtract, Reset::None, Reset::SubtractDelayed})
            for (bool ge : {true, false})
                for (bool membrane : {false, true})
                    for (int trial = 0; trial < 24; ++trial) {
                        NeuronParams p;
                        p.reset = reset;
                        p.fireOnEqual = ge;
                        p.du = decays[rng() % 8];
                        p.dv = decays[rng() % 8];
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

    // The emitting scans (relay, product, compact; neuron_emit.cpp), in
    // every implementation the CPU runs, against scalar references: the
    // same events in neuron order, the same busy count, the accumulators
    // cleared, and nothing written past room for n events. Lengths 1..333
    // (every length up to 40), densities 0..100 %, int32 edge values.
    void emittingScansEqualReference()
    {
        using sim::detail::Event;
        std::vector<int64_t> lengths;
        for (int64_t n = 1; n <= 40; ++n)
            lengths.push_back(n);
        for (int64_t n : {63, 64, 65, 127, 200, 255, 256, 257, 333})
            lengths.push_back(n);
        const int32_t edge[] = {1, -1, 2, 65536, INT32_MIN, INT32_MAX, INT32_MIN + 1, 7, -7};
        const int64_t thetas[] = {1, 0, -3, 5, INT32_MAX, int64_t(INT32_MAX) + 1, INT32_MIN, int64_t(INT32_MIN) - 1};
        const uint32_t first = 1000;
        int isas = 0;
        int64_t events = 0, zeroValued = 0;
        for (sim::detail::ScanIsa isa :
             {sim::detail::ScanIsa::Portable, sim::detail::ScanIsa::Avx2, sim::detail::ScanIsa::Avx512}) {
            if (!sim::detail::scanIsaAvailable(isa))
                continue;
            ++isas;
            const sim::detail::NeuronScans& scans = sim::detail::neuronScans(isa);
            std::mt19937_64 rng(13);
            for (int64_t n : lengths)
                for (int density : {0, 2, 20, 60, 100})
                    for (int trial = 0; trial < 6; ++trial) {
                        const auto values = [&] {
                            std::vector<int32_t> x(static_cast<size_t>(n));
                            for (auto& e : x)
                                if (int(rng() % 100) < density)
                                    e = rng() % 2 ? edge[rng() % 9] : int32_t(int64_t(rng() % 201) - 100);
                            return x;
                        };
                        const std::vector<int32_t> a = values(), b = values(), bias = values();
                        const Event sentinel{0xdeadbeefu, -9};
                        const auto check = [&](const std::vector<Event>& want, int64_t wantActive,
                                               int64_t gotActive, int64_t emitted, const std::vector<Event>& dst) {
                            QCOMPARE(gotActive, wantActive);
                            QCOMPARE(emitted, int64_t(want.size()));
                            for (size_t e = 0; e < want.size(); ++e) {
                                QCOMPARE(dst[e].local, want[e].local);
                                QCOMPARE(dst[e].value, want[e].value);
                            }
                            for (size_t e = size_t(n); e < dst.size(); ++e)
                                QVERIFY(dst[e].local == sentinel.local && dst[e].value == sentinel.value);
                            events += emitted;
                        };
                        // relay, graded and OR at several thresholds
                        for (int graded = 0; graded < 2; ++graded)
                            for (int64_t theta : thetas) {
                                std::vector<Event> want, dst(static_cast<size_t>(n) + 8, sentinel);
                                int64_t active = 0;
                                for (int64_t i = 0; i < n; ++i) {
                                    const int64_t in64 = int64_t(a[size_t(i)]) + bias[size_t(i)];
                                    const int32_t in = int32_t(uint32_t(uint64_t(in64))); // int32 wrap
                                    if (in == 0)
                                        continue;
                                    ++active;
                                    if (graded)
                                        want.push_back({first + uint32_t(i), in});
                                    else if (in >= theta)
                                        want.push_back({first + uint32_t(i), 1});
                                }
                                std::vector<int32_t> acc = a;
                                const auto r = scans.relay(acc.data(), bias.data(), n, graded, theta, first, dst.data());
                                check(want, active, r.active, r.emitted, dst);
                                QVERIFY(std::all_of(acc.begin(), acc.end(), [](int32_t x) { return x == 0; }));
                                if (graded)
                                    break; // theta does not matter
                            }
                        { // product
                            std::vector<Event> want, dst(static_cast<size_t>(n) + 8, sentinel);
                            int64_t active = 0;
                            for (int64_t i = 0; i < n; ++i) {
                                const int64_t p = int64_t(a[size_t(i)]) * b[size_t(i)];
                                active += (a[size_t(i)] | b[size_t(i)]) != 0;
                                if (p != 0)
                                    want.push_back({first + uint32_t(i), int32_t(uint32_t(uint64_t(p)))});
                                zeroValued += p != 0 && int32_t(uint32_t(uint64_t(p))) == 0;
                            }
                            std::vector<int32_t> x = a, y = b;
                            const auto r = scans.product(x.data(), y.data(), n, first, dst.data());
                            check(want, active, r.active, r.emitted, dst);
                            QVERIFY(std::all_of(x.begin(), x.end(), [](int32_t v) { return v == 0; }));
                            QVERIFY(std::all_of(y.begin(), y.end(), [](int32_t v) { return v == 0; }));
                        }
                        { // compact
                            std::vector<Event> want, dst(static_cast<size_t>(n) + 8, sentinel);
                            for (int64_t i = 0; i < n; ++i)
                                if (a[size_t(i)] != 0)
                                    want.push_back({first + uint32_t(i), a[size_t(i)]});
                            const int64_t k = scans.compact(a.data(), n, first, dst.data());
                            check(want, 0, 0, k, dst);
                        }
                    }
        }
        QVERIFY(zeroValued > 0); // products such as 65536 * 65536 emit the value 0
        qInfo("%d implementations, %lld events", isas, (long long)events);
    }
};

QTEST_GUILESS_MAIN(TestSimNeuronScan)
#include "test_sim_neuron_scan.moc"

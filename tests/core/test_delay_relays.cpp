// Delay relays: a schedule alignment longer than the chip's largest synaptic
// delay (deep residual streams) goes through a chain of relay populations
// (network_rates.cpp, insertDelayRelays). Relays copy their source, so the
// compiled package still equals the fixed-point reference bit for bit, and
// each relay's spike train, shifted by its phase, equals its source's.
#include "ir/ir_io.h"
#include "sim_test_util.h"
#include "target/target_passes.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

using namespace stc;

namespace {

using Collect = simtest::TraceCollector;

// loihi3.json with core.limits.max_synaptic_delay = `delay`, as a file (a
// chip given by path, as `stc compile --chip FILE.json` takes it).
std::string chipWithMaxDelay(int delay)
{
    std::ifstream in(std::string(STC_RESOURCE_DIR) + "/chips/loihi3.json");
    nlohmann::json j = nlohmann::json::parse(in);
    j["id"] = "loihi3-delay" + std::to_string(delay);
    j["core"]["limits"]["max_synaptic_delay"] = {{"value", delay}, {"projected", "test: short synaptic delays"}};
    const auto path = std::filesystem::temp_directory_path() /
                      ("stc-delay-relays-" + std::to_string(::getpid()) + "-" + std::to_string(delay) + ".json");
    std::ofstream(path) << j.dump(1);
    return path.string();
}

ir::Module golden(const char* name)
{
    auto r = ir::loadModule(std::string(STC_TEST_DATA_DIR) + "/ir/" + name);
    if (!r.ok())
        qFatal("%s", r.diagnostics.format().c_str());
    return std::move(*r.module);
}

std::string baseName(const std::string& relay)
{
    const size_t k = relay.find("~delay");
    return k == std::string::npos ? relay : relay.substr(0, k);
}

} // namespace

class TestDelayRelays : public QObject {
    Q_OBJECT
private slots:
    void scheduleFitsTheChip_data()
    {
        QTest::addColumn<int>("maxDelay");
        QTest::newRow("no delays") << 0;
        QTest::newRow("1 step") << 1;
        QTest::newRow("3 steps") << 3;
    }

    // Every projection's delay is within the chip's limit and equals the
    // phase difference; every relay chain link is one identity synapse per
    // neuron; the default loihi3 (62 steps) needs none for this model.
    void scheduleFitsTheChip()
    {
        QFETCH(int, maxDelay);
        const ir::Module m = golden("spikformer_cifar.sir");
        const auto plain = simtest::compile(m, "loihi3");
        int longest = 0;
        for (const auto& pr : plain.out.session->network.projections)
            longest = std::max(longest, pr.delay);
        QVERIFY2(longest > maxDelay, "the model must need longer delays than the test chip has");
        for (const auto& p : plain.out.session->network.populations)
            QVERIFY(p.name.find("~delay") == std::string::npos);

        const auto c = simtest::compile(m, chipWithMaxDelay(maxDelay));
        const target::Network& net = c.out.session->network;
        int relays = 0;
        for (size_t i = 0; i < net.populations.size(); ++i) {
            const auto& p = net.populations[i];
            if (p.name.find("~delay") == std::string::npos)
                continue;
            ++relays;
            QCOMPARE(p.kind, target::PopulationKind::Relay);
            const auto in = net.incoming(int32_t(i));
            QCOMPARE(int(in.size()), 1);
            const auto& link = net.projections[size_t(in[0])];
            QCOMPARE(link.coupling, target::Coupling::Diag);
            QCOMPARE(link.synapseCount(), p.size());
            QCOMPARE(link.delay, maxDelay);
            QCOMPARE(baseName(net.populations[size_t(link.src)].name), baseName(p.name));
        }
        QVERIFY(relays > 0);
        const std::string said = c.out.diagnostics.format();
        QVERIFY2(said.find(std::to_string(relays) + " delay relay populations") != std::string::npos, said.c_str());
        for (const auto& pr : net.projections) {
            QVERIFY2(pr.delay >= 0 && pr.delay <= maxDelay, pr.name.c_str());
            QCOMPARE(pr.delay, net.populations[size_t(pr.dst)].phase - 1 - net.populations[size_t(pr.src)].phase);
        }
        // Same pipeline depth: relays run inside the existing schedule.
        QCOMPARE(net.depth, plain.out.session->network.depth);
        QCOMPARE(c.program.depth, plain.program.depth);
    }

    void simulatorStaysExact_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("maxDelay");
        QTest::newRow("spikformer_cifar, 1 step") << "spikformer_cifar.sir" << 1;
        QTest::newRow("spikformer_imagenet, 0 steps") << "spikformer_imagenet.sir" << 0;
        QTest::newRow("spikformer_cifar, 0 steps") << "spikformer_cifar.sir" << 0;
    }

    void simulatorStaysExact()
    {
        QFETCH(QString, model);
        QFETCH(int, maxDelay);
        const ir::Module m = golden(model.toUtf8().constData());
        const auto c = simtest::compile(m, chipWithMaxDelay(maxDelay));
        const sim::SimProgram& prog = c.program;
        const int64_t size = prog.inputSize(), n = 3;
        const std::vector<float> in = simtest::randomSamples(n, size, 5);
        const fixedpoint::RunResult ref = fixedpoint::run(c.out.module, {interp::InputBatch{n, in}});
        QVERIFY2(ref.ok(), ref.error.c_str());
        Collect trace;
        sim::SimOptions opt;
        opt.trace = &trace;
        opt.threads = 2;
        const sim::SimResult r = sim::simulate(prog, in, n, opt);
        QVERIFY2(r.ok(), r.error.c_str());
        QCOMPARE(r.outputs[0].size(), ref.outputs[0].size());
        QVERIFY2(std::memcmp(r.outputs[0].data(), ref.outputs[0].data(), r.outputs[0].size() * sizeof(float)) == 0,
                 "outputs differ from the fixed-point reference");
        // A relay's train (shifted by its own phase) is its source's train.
        int relaysCompared = 0;
        for (int64_t s = 0; s < n; ++s) {
            const simtest::Trains want = simtest::referenceTrains(c.out.module, in, size, s);
            const simtest::Trains got = simtest::simulatedTrains(prog, trace.records, s);
            for (const sim::PopulationInfo& p : prog.populations) {
                if (p.name.find("~delay") == std::string::npos)
                    continue;
                auto w = want.find(baseName(p.name));
                if (w == want.end())
                    continue; // a relay of a value the reference does not observe (a product)
                auto g = got.find(p.name);
                const std::vector<std::map<int64_t, int32_t>> none(size_t(prog.timesteps));
                const auto& gs = g == got.end() ? none : g->second;
                for (size_t t = 0; t < w->second.size(); ++t)
                    QVERIFY2(w->second[t] == gs[t], ("%" + p.name + " differs from its source at step " +
                                                     std::to_string(t))
                                                        .c_str());
                ++relaysCompared;
            }
        }
        QVERIFY(relaysCompared > 0);
    }
};

QTEST_GUILESS_MAIN(TestDelayRelays)
#include "test_delay_relays.moc"

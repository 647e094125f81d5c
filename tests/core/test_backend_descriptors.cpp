// The descriptors the SpiNNaker 2 and Akida backend plugins ship, the optional
// capability fields (core.layer_ops, core.weight_bit_widths,
// core.input_weight_bit_widths), the descriptor-driven per-layer check on the
// bundled models, and the partition pass stopping before mapping when layers
// are unsupported. Core only: the plugins' own rules are tested in
// tests/plugins.
#include "bundled_models.h"
#include "target/chip_descriptor.h"
#include "target/layer_check.h"
#include "target/target_passes.h"

#include <QtTest>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

using namespace stc;
using namespace stc::target;
using nlohmann::json;

namespace {

std::string pluginChipPath(const std::string& plugin, const std::string& id)
{
    return std::string(STC_RESOURCE_DIR) + "/../plugins/backend-" + plugin + "/chips/" + id + ".json";
}

std::string readFile(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

ChipDescriptor loadOk(const std::string& plugin, const std::string& id)
{
    DescriptorLoad r = loadChipDescriptor(pluginChipPath(plugin, id));
    if (!r.chip || !r.diagnostics.empty())
        qFatal("%s", r.diagnostics.format().c_str());
    return *r.chip;
}

std::set<std::string> issueOps(const std::vector<LayerIssue>& issues)
{
    std::set<std::string> kinds;
    for (const auto& i : issues)
        kinds.insert(i.label.substr(i.label.find(" = ") + 3));
    return kinds;
}

} // namespace

class TestBackendDescriptors : public QObject {
    Q_OBJECT
private slots:
    void spinnaker2Loads()
    {
        const ChipDescriptor c = loadOk("spinnaker2", "spinnaker2");
        QCOMPARE(c.id, std::string("spinnaker2"));
        QCOMPARE(c.coresPerChip(), 152);
        QCOMPARE(c.coresPerTile, 4);
        QCOMPARE(c.limits.coreMemoryBytes, int64_t(128 * 1024));
        QCOMPARE(c.maxChips(), 48);
        QVERIFY(!c.projectedChip);
        QVERIFY(!c.provenance.at("chip.cores_per_chip").projected);
        QVERIFY(!c.provenance.at("core.limits.core_memory_bytes").projected);
        QVERIFY(c.provenance.at("energy_pj.synaptic_op").projected); // not published: says so
        QVERIFY(c.layerOps.empty());
        QVERIFY(c.weightBitWidths.empty());
    }

    void akidaLoads()
    {
        const ChipDescriptor c = loadOk("akida", "akida1000");
        QCOMPARE(c.coresPerChip(), 80);
        QCOMPARE(c.tilesX * c.tilesY, 20);
        QCOMPARE(c.weightBitWidths, (std::vector<int>{1, 2, 4}));
        QCOMPARE(c.inputWeightBitWidths, (std::vector<int>{1, 2, 4, 8}));
        QVERIFY(std::find(c.layerOps.begin(), c.layerOps.end(), "conv2d") != c.layerOps.end());
        QVERIFY(std::find(c.layerOps.begin(), c.layerOps.end(), "matmul") == c.layerOps.end());
        QVERIFY(!c.supportsModel("lif") && !c.supportsModel("leaky") && c.supportsModel("if"));
        QVERIFY(!c.provenance.at("core.weight_bit_widths").projected);
        QVERIFY(!c.provenance.at("chip.cores_per_chip").projected);
        QVERIFY(c.provenance.at("energy_pj.synaptic_op").projected);
    }

    // Every number of both files is sourced or projected (the loader enforces
    // it; this checks no section was skipped by a typo'd key).
    void everyNumberHasProvenance_data()
    {
        QTest::addColumn<QString>("plugin");
        QTest::addColumn<QString>("id");
        QTest::newRow("spinnaker2") << "spinnaker2" << "spinnaker2";
        QTest::newRow("akida1000") << "akida" << "akida1000";
    }
    void everyNumberHasProvenance()
    {
        QFETCH(QString, plugin);
        QFETCH(QString, id);
        const ChipDescriptor c = loadOk(plugin.toStdString(), id.toStdString());
        for (const auto& [path, p] : c.provenance)
            QVERIFY2(!p.text.empty(), path.c_str());
        QVERIFY(c.provenance.size() >= 40);
    }

    void badCapabilityFields_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value"); // JSON
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown op") << "layer_ops" << R"({"value": ["conv2d", "conv3d"], "source": "x"})"
                                    << "core.layer_ops: expected Spike IR op names";
        QTest::newRow("empty ops") << "layer_ops" << R"({"value": [], "source": "x"})"
                                   << "core.layer_ops: expected a non-empty array";
        QTest::newRow("bare list") << "weight_bit_widths" << "[1, 2, 4]"
                                   << "core.weight_bit_widths: expected {\"value\"";
        QTest::newRow("width 0") << "weight_bit_widths" << R"({"value": [0, 4], "source": "x"})"
                                 << "core.weight_bit_widths: expected bit widths between 1 and 32, got 0";
        QTest::newRow("width 40") << "input_weight_bit_widths" << R"({"value": [8, 40], "projected": "y"})"
                                  << "core.input_weight_bit_widths: expected bit widths between 1 and 32, got 40";
        QTest::newRow("no source") << "weight_bit_widths" << R"({"value": [4]})"
                                   << "core.weight_bit_widths: missing source";
    }
    void badCapabilityFields()
    {
        QFETCH(QString, key);
        QFETCH(QString, value);
        QFETCH(QString, message);
        json j = json::parse(readFile(pluginChipPath("akida", "akida1000")));
        j["core"][key.toStdString()] = json::parse(value.toStdString());
        const DescriptorLoad r = parseChipDescriptor(j.dump(), "bad.json");
        QVERIFY(!r.chip);
        const std::string text = r.diagnostics.format();
        QVERIFY2(text.find(message.toStdString()) != std::string::npos, text.c_str());
    }

    void searchPathFindsAddedDirectory()
    {
        QVERIFY(!findChip("akida1000").chip); // not in resources/chips
        addChipSearchDirectory(std::string(STC_RESOURCE_DIR) + "/../plugins/backend-akida/chips");
        addChipSearchDirectory(std::string(STC_RESOURCE_DIR) + "/../plugins/backend-spinnaker2/chips");
        QVERIFY(findChip("akida1000").chip);
        QVERIFY(findChip("spinnaker2").chip);
        const auto ids = availableChipIds();
        QVERIFY(std::find(ids.begin(), ids.end(), "spinnaker2") != ids.end());
        QVERIFY(std::find(ids.begin(), ids.end(), "loihi2") != ids.end());
    }

    // The descriptor-driven check on the bundled models (no plugin rules).
    void genericCheckOnBundledModels()
    {
        const ChipDescriptor akida = loadOk("akida", "akida1000");
        const ChipDescriptor s2 = loadOk("spinnaker2", "spinnaker2");
        const ir::Module sf = testutil::loadBundledModel("spikformer_fmnist.sir");
        const auto sfIssues = checkLayersAgainstDescriptor(sf, akida);
        const auto kinds = issueOps(sfIssues);
        for (const char* k : {"conv1d", "matmul", "add", "permute", "lif"})
            QVERIFY2(kinds.count(k), k);
        for (const auto& i : sfIssues) {
            QVERIFY(i.op >= 0);
            QVERIFY(i.reason.starts_with("unsupported on akida1000: "));
            QVERIFY(!i.label.empty());
        }
        QVERIFY(checkLayersAgainstDescriptor(sf, s2).empty()); // SpiNNaker 2: software neurons, no list

        const ir::Module mlp = testutil::loadBundledModel("leaky_mlp_fmnist.sir");
        const auto mlpIssues = checkLayersAgainstDescriptor(mlp, akida);
        QCOMPARE(mlpIssues.size(), size_t(2)); // two leaky neurons
        QVERIFY(mlpIssues[0].reason.find("neuron model \"leaky\"") != std::string::npos);

        // Weight widths on tests/data/backends/if_convnet.sir (IF neurons): at 8
        // bits the input convolution passes (8 is an input width), the hidden
        // conv and the dense layer do not; at 4 bits nothing is reported.
        ir::LoadResult lr = ir::loadModule(std::string(STC_TEST_DATA_DIR) + "/backends/if_convnet.sir");
        QVERIFY2(lr.ok(), lr.diagnostics.format().c_str());
        QVERIFY(checkLayersAgainstDescriptor(*lr.module, akida).empty()); // float: widths not checked
        auto q8 = testutil::runPipelineText(*lr.module, "fold-bn,canonicalize,dce,quantize{bits=8}");
        QVERIFY2(q8.ok(), q8.allDiagnostics().format().c_str());
        const auto w8 = checkLayersAgainstDescriptor(q8.module, akida);
        QCOMPARE(w8.size(), size_t(2));
        QCOMPARE(w8[0].label, std::string("%c2 = conv2d"));
        QCOMPARE(w8[1].label, std::string("%fc = linear"));
        QVERIFY2(w8[0].reason.find("8-bit weights") != std::string::npos, w8[0].reason.c_str());
        auto q4 = testutil::runPipelineText(*lr.module, "fold-bn,canonicalize,dce,quantize{bits=4}");
        QVERIFY(q4.ok());
        QVERIFY(checkLayersAgainstDescriptor(q4.module, akida).empty());
    }

    // partition reports every unsupported layer and maps nothing.
    void partitionStopsBeforeMapping()
    {
        addChipSearchDirectory(std::string(STC_RESOURCE_DIR) + "/../plugins/backend-akida/chips");
        const ir::Module sf = testutil::loadBundledModel("spikformer_fmnist.sir");
        auto session = std::make_shared<TargetSession>();
        bool hookRan = false;
        session->layerCheck = [&](const ir::Module&, const ChipDescriptor&) {
            hookRan = true;
            return std::vector<LayerIssue>{};
        };
        passes::PassRegistry reg = passes::makeBuiltinRegistry();
        registerTargetPasses(reg, session);
        Diagnostics d;
        auto p = passes::parsePipeline("partition{chip=akida1000}", reg, d);
        QVERIFY(p);
        passes::CompileContext ctx;
        const passes::RunResult r = passes::runPipeline(sf, *p, reg, ctx);
        QVERIFY(!r.ok());
        QVERIFY(hookRan);
        QVERIFY(session->layerCheck); // kept across the session reset
        QVERIFY(!session->partitioned);
        QVERIFY(session->network.populations.empty());
        QVERIFY(session->layerIssues.size() >= 20);
        const std::string text = r.allDiagnostics().format();
        QVERIFY2(text.find("layer(s) unsupported on akida1000; nothing was mapped") != std::string::npos, text.c_str());
    }
};

QTEST_GUILESS_MAIN(TestBackendDescriptors)
#include "test_backend_descriptors.moc"

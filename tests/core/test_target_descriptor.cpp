// Chip descriptors: the shipped ones load and carry provenance for every
// number; malformed or inconsistent ones are refused with the JSON path.
#include "target/chip_descriptor.h"

#include <QtTest>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using namespace stc::target;
using nlohmann::json;

namespace {

std::string readChipFile(const std::string& id)
{
    std::ifstream in(std::string(STC_RESOURCE_DIR) + "/chips/" + id + ".json");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int countNumbers(const json& j)
{
    if (j.is_object()) {
        if (j.contains("value") && (j.contains("source") || j.contains("projected")))
            return 1;
        int n = 0;
        for (const auto& [k, v] : j.items())
            if (k != "faults")
                n += countNumbers(v);
        return n;
    }
    return 0;
}

} // namespace

class TestTargetDescriptor : public QObject {
    Q_OBJECT
private slots:
    void shippedChipsLoad_data()
    {
        QTest::addColumn<QString>("id");
        QTest::newRow("loihi1") << "loihi1";
        QTest::newRow("loihi2") << "loihi2";
        QTest::newRow("loihi3") << "loihi3";
    }
    void shippedChipsLoad()
    {
        QFETCH(QString, id);
        const std::string text = readChipFile(id.toStdString());
        QVERIFY(!text.empty());
        auto r = parseChipDescriptor(text, id.toStdString() + ".json");
        QVERIFY2(r.chip.has_value(), r.diagnostics.format().c_str());
        QVERIFY2(!r.diagnostics.hasErrors(), r.diagnostics.format().c_str());
        QVERIFY2(r.diagnostics.empty(), r.diagnostics.format().c_str()); // no unknown-key warnings either
        const ChipDescriptor& c = *r.chip;
        QCOMPARE(QString::fromStdString(c.id), id);
        // Every sourced number in the file has provenance recorded.
        QCOMPARE(int(c.provenance.size()), countNumbers(json::parse(text)));
        for (const auto& [path, p] : c.provenance)
            QVERIFY2(!p.text.empty(), path.c_str());
    }

    void loihi1MatchesTable2()
    {
        auto r = findChip("loihi1");
        QVERIFY2(r.chip, r.diagnostics.format().c_str());
        const ChipDescriptor& c = *r.chip;
        QVERIFY(!c.projectedChip);
        QCOMPARE(c.coresPerChip(), 128);
        QCOMPARE(c.limits.neurons, int64_t(1024));
        QCOMPARE(c.limits.fanInAxons, int64_t(4096));
        QCOMPARE(c.limits.fanOutAxons, int64_t(4096));
        QCOMPARE(c.limits.synapticMemoryBytes, int64_t(128 * 1024));
        QCOMPARE(c.energyPj.synapticOp, 23.6);
        QCOMPARE(c.energyPj.neuronUpdateActive, 81.0);
        QCOMPARE(c.energyPj.neuronUpdateIdle, 52.0);
        QCOMPARE(c.energyPj.spikeWithinTile, 1.7);
        QCOMPARE(c.energyPj.hopEw, 3.0);
        QCOMPARE(c.energyPj.hopNs, 4.0);
        QCOMPARE(c.latencyNs.synapticOp, 3.5);
        QCOMPARE(c.latencyNs.hopEw, 4.1);
        QCOMPARE(c.latencyNs.hopNs, 6.5);
        QCOMPARE(c.barrierMinNs, 113.0);
        QCOMPARE(c.barrierMaxNs, 465.0);
        const auto& p = c.provenance.at("energy_pj.synaptic_op");
        QVERIFY(!p.projected);
        QVERIFY(p.text.find("Davies") != std::string::npos);
        QVERIFY(p.text.find("Table 2") != std::string::npos);
    }

    void loihi2PublishedFacts()
    {
        auto r = findChip("loihi2");
        QVERIFY2(r.chip, r.diagnostics.format().c_str());
        const ChipDescriptor& c = *r.chip;
        QCOMPARE(c.limits.neurons, int64_t(8192));
        QCOMPARE(c.limits.coreMemoryBytes, int64_t(192 * 1024));
        QCOMPARE(c.limits.gradedSpikeBits, int64_t(32));
        QCOMPARE(c.embeddedCpus, 6);
        QCOMPARE(c.topology, BoardTopology::Mesh3D);
        QVERIFY(!c.provenance.at("core.limits.neurons").projected);
        QVERIFY(c.provenance.at("energy_pj.synaptic_op").projected); // no published energy table
    }

    void loihi3IsProjected()
    {
        auto r = findChip("loihi3");
        QVERIFY2(r.chip, r.diagnostics.format().c_str());
        const ChipDescriptor& c = *r.chip;
        QVERIFY(c.projectedChip);
        QVERIFY(c.projectionNote.find("no public specification") != std::string::npos);
        QVERIFY(!c.provenance.empty());
        for (const auto& [path, p] : c.provenance)
            QVERIFY2(p.projected, path.c_str()); // nothing about Loihi 3 is published
        QCOMPARE(c.projectedCount(), int(c.provenance.size()));
    }

    void unknownChip()
    {
        auto r = findChip("loihi9");
        QVERIFY(!r.chip);
        QVERIFY(r.diagnostics.format().find("unknown chip 'loihi9'") != std::string::npos);
        QVERIFY(r.diagnostics.format().find("loihi2") != std::string::npos); // lists the available ones
    }

    void invalidJsonHasLine()
    {
        auto r = parseChipDescriptor("{\n  \"schema\": \"stc.chip/1\",\n  \"id\": ,\n}", "bad.json");
        QVERIFY(!r.chip);
        QCOMPARE(r.diagnostics.items().size(), size_t(1));
        QCOMPARE(r.diagnostics.items()[0].loc.line, 3);
        QVERIFY(r.diagnostics.format().find("bad.json:3:") != std::string::npos);
    }

    // Found by test_config_fuzz: nlohmann::json throws out_of_range (no offset)
    // for a number beyond double range; it must be an error at its line.
    void numberOverflowHasLine()
    {
        auto r = parseChipDescriptor("{\n  \"schema\": \"stc.chip/1\",\n  \"note\": \"1e999\",\n  \"id\": 1e999\n}", "big.json");
        QVERIFY(!r.chip);
        QCOMPARE(r.diagnostics.items().size(), size_t(1));
        QCOMPARE(r.diagnostics.items()[0].loc.line, 4);
        QCOMPARE(r.diagnostics.items()[0].loc.col, 9);
    }

    // Each row patches loihi1.json (RFC 6902 JSON patch) and names the error.
    void badDescriptors_data()
    {
        QTest::addColumn<QString>("patch");
        QTest::addColumn<QString>("expected");
        QTest::newRow("negative neurons")
            << R"([{"op":"replace","path":"/core/limits/neurons/value","value":-3}])"
            << "core.limits.neurons: expected a positive integer, got -3";
        QTest::newRow("fractional axons")
            << R"([{"op":"replace","path":"/core/limits/fan_in_axons/value","value":40.5}])"
            << "core.limits.fan_in_axons: expected a positive integer, got 40.5";
        QTest::newRow("string energy")
            << R"([{"op":"replace","path":"/energy_pj/hop_ew/value","value":"3 pJ"}])"
            << "energy_pj.hop_ew: expected a positive number, got \"3 pJ\"";
        QTest::newRow("bare number without source")
            << R"([{"op":"replace","path":"/energy_pj/synaptic_op","value":23.6}])"
            << "energy_pj.synaptic_op: expected {\"value\": ..., \"source\"|\"projected\": \"...\"}, got a number";
        QTest::newRow("missing source")
            << R"([{"op":"remove","path":"/core/limits/neurons/source"}])"
            << "core.limits.neurons: missing source";
        QTest::newRow("both source and projected")
            << R"([{"op":"add","path":"/core/limits/neurons/projected","value":"guess"}])"
            << "core.limits.neurons: give either \"source\" or \"projected\", not both";
        QTest::newRow("missing limit")
            << R"([{"op":"remove","path":"/core/limits/fan_out_axons"}])"
            << "core.limits.fan_out_axons: missing";
        QTest::newRow("synaptic memory larger than core memory")
            << R"([{"op":"replace","path":"/core/limits/core_memory_bytes/value","value":65536}])"
            << "core.limits.synaptic_memory_bytes: synaptic memory (131072 B) exceeds core_memory_bytes (65536 B)";
        QTest::newRow("state does not fit")
            << R"([{"op":"replace","path":"/core/limits/core_memory_bytes/value","value":135168}])"
            << "exceeds core_memory_bytes (135168 B)";
        QTest::newRow("cores per chip inconsistent")
            << R"([{"op":"replace","path":"/chip/cores_per_chip/value","value":100}])"
            << "chip.cores_per_chip: is 100 but tile_grid x cores_per_tile = 128";
        QTest::newRow("dead core outside grid")
            << R"([{"op":"add","path":"/faults/dead_cores/-","value":{"chip":0,"tile":[9,0],"core":1}}])"
            << "faults.dead_cores[0].tile: tile [9, 0] outside the 8 x 4 tile grid";
        QTest::newRow("dead core index")
            << R"([{"op":"add","path":"/faults/dead_cores/-","value":{"chip":0,"tile":[1,1],"core":4}}])"
            << "faults.dead_cores[0].core: core 4 out of range (4 cores per tile)";
        QTest::newRow("dead core chip")
            << R"([{"op":"add","path":"/faults/dead_cores/-","value":{"chip":40,"tile":[1,1],"core":0}}])"
            << "faults.dead_cores[0].chip: chip 40 out of range (board has 32 chips)";
        QTest::newRow("dead link not adjacent")
            << R"([{"op":"add","path":"/faults/dead_links/-","value":{"from":[0,0],"to":[2,0]}}])"
            << "faults.dead_links[0]: endpoints are not adjacent tiles";
        QTest::newRow("barrier order")
            << R"([{"op":"replace","path":"/timing_ns/barrier_min/value","value":500}])"
            << "timing_ns.barrier_min: barrier_min (500.000000) exceeds barrier_max (465.000000)";
        QTest::newRow("sparse index too narrow")
            << R"([{"op":"replace","path":"/core/synapse_encodings/sparse/index_bits/value","value":8}])"
            << "core.synapse_encodings.sparse.index_bits: 8 bits cannot address 1024 neurons";
        QTest::newRow("2-D board with z")
            << R"([{"op":"replace","path":"/board/chip_grid/value","value":[2,2,2]}])"
            << "board.chip_grid: a mesh2d board needs z = 1, got 2";
        QTest::newRow("bad topology")
            << R"([{"op":"replace","path":"/board/topology","value":"torus"}])"
            << "board.topology: expected \"mesh2d\" or \"mesh3d\", got \"torus\"";
        QTest::newRow("wrong schema")
            << R"([{"op":"replace","path":"/schema","value":"stc.chip/0"}])"
            << "schema: expected \"stc.chip/1\", got \"stc.chip/0\"";
        QTest::newRow("projected chip without note")
            << R"([{"op":"replace","path":"/projected_chip","value":true}])"
            << "projection_note: a projected chip needs a note";
        QTest::newRow("no encodings")
            << R"([{"op":"replace","path":"/core/synapse_encodings/dense/available/value","value":false},
                  {"op":"replace","path":"/core/synapse_encodings/sparse/available/value","value":false}])"
            << "core.synapse_encodings: no encoding is available";
        QTest::newRow("grid entry zero")
            << R"([{"op":"replace","path":"/chip/tile_grid/value","value":[8,0]}])"
            << "chip.tile_grid[1]: expected a positive integer, got 0";
    }
    void badDescriptors()
    {
        QFETCH(QString, patch);
        QFETCH(QString, expected);
        json doc = json::parse(readChipFile("loihi1"));
        doc = doc.patch(json::parse(patch.toStdString()));
        auto r = parseChipDescriptor(doc.dump(2), "loihi1-mutated.json");
        QVERIFY(!r.chip);
        const std::string all = r.diagnostics.format();
        QVERIFY2(all.find(expected.toStdString()) != std::string::npos, all.c_str());
        QVERIFY2(all.find("loihi1-mutated.json: error: ") != std::string::npos, all.c_str());
    }

    void unknownKeyIsWarning()
    {
        json doc = json::parse(readChipFile("loihi1"));
        doc["core"]["limits"]["nuerons"] = {{"value", 3}, {"source", "typo"}};
        auto r = parseChipDescriptor(doc.dump(), "typo.json");
        QVERIFY(r.chip);
        QVERIFY(r.diagnostics.format().find("warning: core.limits.nuerons: unknown key") != std::string::npos);
    }

    void deadCoresAndLinks()
    {
        json doc = json::parse(readChipFile("loihi2"));
        doc["faults"]["dead_cores"] = json::parse(R"([{"chip":1,"tile":[2,3],"core":1}])");
        doc["faults"]["dead_links"] = json::parse(R"([{"chip":0,"from":[3,1],"to":[3,2]}])");
        auto r = parseChipDescriptor(doc.dump(), "faulty.json");
        QVERIFY2(r.chip, r.diagnostics.format().c_str());
        QVERIFY(r.chip->isDead({1, 2, 3, 1}));
        QVERIFY(!r.chip->isDead({0, 2, 3, 1}));
        QVERIFY(r.chip->isDeadLink(0, 3, 2, 3, 1)); // either direction
        QVERIFY(!r.chip->isDeadLink(1, 3, 2, 3, 1));
    }

    void validateInMemoryEdit()
    {
        auto r = findChip("loihi2");
        QVERIFY(r.chip);
        ChipDescriptor c = *r.chip;
        QVERIFY(!validateChip(c).hasErrors());
        c.limits.synapticMemoryBytes = 300000;
        QVERIFY(validateChip(c).format().find("exceeds core_memory_bytes") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestTargetDescriptor)
#include "test_target_descriptor.moc"

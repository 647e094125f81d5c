// Deployment package: encode -> write -> read is exact; synapse tables have
// exactly the bytes the mapper accounted for and decode back to the mapped
// synapses; routing tables cover every axon; corrupt blobs are rejected.
#include "target/mapper.h"
#include "target/network_extract.h"
#include "target/package.h"

#include "ir/ir_io.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

using namespace stc;
using namespace stc::target;

namespace {

struct Compiled {
    ChipDescriptor chip;
    Network net;
    Mapping map;
    Package pkg;
};

Compiled compile(const char* model, const char* chipId, bool withConvShared = true)
{
    Compiled c;
    c.chip = *findChip(chipId).chip;
    if (!withConvShared)
        std::erase_if(c.chip.encodings, [](const SynapseEncoding& e) { return e.name == "conv_shared"; });
    auto mod = ir::loadModule(std::string(STC_TEST_DATA_DIR) + "/ir/" + model);
    auto ex = extractNetwork(*mod.module, &c.chip);
    if (!ex.ok())
        qFatal("%s", ex.diagnostics.format().c_str());
    c.net = std::move(ex.network);
    c.map = mapNetwork(c.net, c.chip, MapOptions{});
    if (!c.map.fits)
        qFatal("%s", c.map.problems[0].message.c_str());
    c.pkg = buildPackage(c.net, c.map, c.chip, "fold-bn,canonicalize", estimateCost(c.net, c.map, c.chip));
    return c;
}

} // namespace

class TestPackage : public QObject {
    Q_OBJECT
private slots:
    void roundTripExact_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("chip");
        QTest::addColumn<bool>("convShared");
        QTest::newRow("conv_snn loihi2 dense/sparse") << "conv_snn.sir" << "loihi2" << false;
        QTest::newRow("conv_snn loihi3 conv_shared") << "conv_snn.sir" << "loihi3" << true;
        QTest::newRow("spikformer_cifar loihi3") << "spikformer_cifar.sir" << "loihi3" << true;
    }
    void roundTripExact()
    {
        QFETCH(QString, model);
        QFETCH(QString, chip);
        QFETCH(bool, convShared);
        const Compiled c = compile(model.toStdString().c_str(), chip.toStdString().c_str(), convShared);
        QTemporaryDir dir;
        std::string err;
        QVERIFY2(writePackage(c.pkg, dir.path().toStdString() + "/out.stcpkg", "listing\n", &err), err.c_str());
        auto back = readPackage(dir.path().toStdString() + "/out.stcpkg", &err);
        QVERIFY2(back.has_value(), err.c_str());
        QVERIFY(*back == c.pkg);
        QCOMPARE(back->projectedChip, chip == "loihi3");
        QVERIFY(std::filesystem::exists(dir.path().toStdString() + "/out.stcpkg/listing.txt"));
        // Every core blob re-encodes to the same bytes.
        for (const auto& core : back->cores) {
            auto again = decodeCore(encodeCore(core), &err);
            QVERIFY2(again.has_value(), err.c_str());
            QVERIFY(*again == core);
        }
    }

    void tablesMatchMapperAndSynapses()
    {
        const Compiled c = compile("conv_snn.sir", "loihi2", false);
        int checked = 0;
        for (size_t ci = 0; ci < c.pkg.cores.size(); ++ci) {
            const PackageCore& core = c.pkg.cores[ci];
            for (const PackageInput& in : core.inputs) {
                const Slice& sl = core.slices[size_t(in.slice)];
                const Projection& pr = c.net.projections[size_t(in.projection)];
                const Population& sp = c.net.populations[size_t(pr.src)];
                const Population& dp = c.net.populations[size_t(sl.pop)];
                // Decoded synapses: (source neuron, target neuron) -> weight sign must match the float weights.
                std::map<std::pair<int64_t, int64_t>, int32_t> decoded;
                std::string err;
                const int ib = int(c.chip.encoding("sparse")->indexBits);
                QVERIFY2(decodeRows(in, c.pkg.weightBits, ib, sl.neurons(),
                                    [&](int64_t axon, int64_t local, int32_t w) {
                                        decoded[{in.axonSource[size_t(axon)], sl.neuronAt(dp, local)}] = w;
                                    },
                                    &err),
                         err.c_str());
                int64_t expected = 0;
                for (int64_t l = 0; l < sl.neurons(); ++l) {
                    const int64_t n = sl.neuronAt(dp, l);
                    forEachSynapseOf(pr, sp, dp, n, [&](int64_t s, float w) {
                        if (in.encoding == Encoding::Sparse && w == 0.0f)
                            return;
                        ++expected;
                        auto it = decoded.find({s, n});
                        QVERIFY(it != decoded.end());
                        if (w > 0)
                            QVERIFY(it->second >= 0);
                        if (w < 0)
                            QVERIFY(it->second <= 0);
                    });
                }
                QCOMPARE(int64_t(decoded.size()), expected);
                ++checked;
            }
        }
        QVERIFY(checked > 0);
        // One routing entry per axon of every input.
        int64_t axons = 0, routes = 0;
        for (const auto& core : c.pkg.cores) {
            routes += int64_t(core.routes.size());
            for (const auto& in : core.inputs)
                axons += int64_t(in.axonSource.size());
        }
        QCOMPARE(routes, axons);
    }

    void corruptBlobRejected()
    {
        const Compiled c = compile("conv_snn.sir", "loihi2", false);
        std::vector<uint8_t> blob = encodeCore(c.pkg.cores[0]);
        std::string err;
        std::vector<uint8_t> cut(blob.begin(), blob.begin() + long(blob.size() / 2));
        QVERIFY(!decodeCore(cut, &err));
        QVERIFY2(err.find("truncated") != std::string::npos, err.c_str());
        blob[0] ^= 0xff;
        QVERIFY(!decodeCore(blob, &err));
        QVERIFY2(err.find("magic") != std::string::npos, err.c_str());
    }

    void missingManifest()
    {
        QTemporaryDir dir;
        std::string err;
        QVERIFY(!readPackage(dir.path().toStdString(), &err));
        QVERIFY(err.find("manifest.json") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestPackage)
#include "test_package.moc"

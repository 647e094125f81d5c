// Deployment package: encode -> write -> read is exact; synapse tables have
// exactly the bytes the mapper accounted for and decode back to the mapped
// synapses; routing tables cover every axon; corrupt blobs are rejected.
#include "target/mapper.h"
#include "target/network_extract.h"
#include "target/package.h"
#include "target/package_files.h"
#include "target/package_encoder.h"
#include "target/package_layout.h"

#include "ir/ir_io.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

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

    void independentOfThreadCount()
    {
        const Compiled c = compile("spikformer_cifar.sir", "loihi3");
        const Estimate est = estimateCost(c.net, c.map, c.chip);
        const Package one = buildPackage(c.net, c.map, c.chip, "fold-bn,canonicalize", est, 1);
        const Package three = buildPackage(c.net, c.map, c.chip, "fold-bn,canonicalize", est, 3);
        QVERIFY(one == c.pkg);
        QVERIFY(three == one);
        for (size_t k = 0; k < one.cores.size(); ++k)
            QVERIFY(encodeCore(one.cores[k]) == encodeCore(three.cores[k]));
    }

    // stc compile encodes the package while placement anneals
    // (MapOptions::encodeWhilePlacing): the same package as encoding after
    // mapping, taken once; a mapping edited since does not use it.
    void encodedWhilePlacingIsTheSamePackage()
    {
        const Compiled c = compile("spikformer_cifar.sir", "loihi3");
        for (int threads : {1, 2}) {
            MapOptions opt;
            opt.threads = threads;
            opt.encodeWhilePlacing = true;
            Mapping m = mapNetwork(c.net, c.chip, opt);
            QVERIFY(m.fits);
            QVERIFY(m.packageDraft != nullptr);
            QVERIFY(m.packageDraft->builtFor(c.net, m, c.chip));
            const Estimate est = estimateCost(c.net, m, c.chip);
            const Package drafted = buildPackage(c.net, m, c.chip, "fold-bn,canonicalize", est);
            QVERIFY(drafted == c.pkg);
            QVERIFY(!m.packageDraft->take().has_value()); // consumed by the first buildPackage
            QVERIFY(buildPackage(c.net, m, c.chip, "fold-bn,canonicalize", est) == c.pkg);
        }
        MapOptions opt;
        opt.encodeWhilePlacing = true;
        Mapping edited = mapNetwork(c.net, c.chip, opt);
        QVERIFY(edited.cores.size() >= 2);
        std::swap(edited.cores[0].slices, edited.cores[1].slices);
        for (int32_t k : {0, 1})
            for (int32_t s : edited.cores[size_t(k)].slices)
                edited.sliceCore[size_t(s)] = k;
        QVERIFY(!edited.packageDraft->builtFor(c.net, edited, c.chip));
        const Estimate est = estimateCost(c.net, edited, c.chip);
        const Package fromEdited = buildPackage(c.net, edited, c.chip, "fold-bn,canonicalize", est);
        Mapping plain = edited;
        plain.packageDraft.reset();
        QVERIFY(fromEdited == buildPackage(c.net, plain, c.chip, "fold-bn,canonicalize", est));
        QVERIFY(!(fromEdited == c.pkg));
    }

    // A job dropped before finish() (placement threw) stops and joins.
    void draftJobDroppedEarly()
    {
        const Compiled c = compile("spikformer_cifar.sir", "loihi3");
        for (int k = 0; k < 3; ++k)
            PackageDraftJob job(c.net, c.map, c.chip);
    }

    // Axon, row-offset and bias lists and routing tables are run-coded: the
    // blobs hold far fewer bytes than the plain lists (version 2's layout).
    void blobsAreRunCoded()
    {
        const Compiled c = compile("spikformer_cifar.sir", "loihi3");
        int64_t blobBytes = 0, tableBytes = 0, plainListBytes = 0;
        for (const auto& core : c.pkg.cores) {
            blobBytes += int64_t(encodeCore(core).size());
            plainListBytes += 4 * int64_t(core.bias.size()) + 16 * int64_t(core.routes.size());
            for (const auto& in : core.inputs) {
                tableBytes += int64_t(in.table.size());
                plainListBytes += 8 * int64_t(in.axonSource.size());
            }
        }
        qInfo("blobs %lld B: tables %lld B, everything else %lld B (plain lists would be %lld B)",
              (long long)blobBytes, (long long)tableBytes, (long long)(blobBytes - tableBytes),
              (long long)plainListBytes);
        QVERIFY(blobBytes - tableBytes < plainListBytes / 4);
    }

    // Lists without runs and routing tables that are not sorted (not what
    // buildPackage writes) fall back to the plain codings and still round-trip.
    void irregularCoreRoundTrips()
    {
        PackageCore core;
        core.index = 7;
        core.bias = {5, -3, 5, 9, 0, 1 << 30, -(1 << 30), 2};
        PackageInput in;
        in.axonSource = {9, 2, 2147483647, -2147483647 - 1, 4};
        in.rowOffset = {0, 4000000000u, 3, 3, 12};
        in.table = {1, 2, 3};
        core.inputs.push_back(in);
        core.routes = {{3, 1, 0, 4}, {1, 0, 0, 0}, {1, 0, 0, 1}, {7, 2147483647, 1, 0}};
        std::string err;
        auto back = decodeCore(encodeCore(core), &err);
        QVERIFY2(back.has_value(), err.c_str());
        QVERIFY(*back == core);
        std::sort(core.routes.begin(), core.routes.end(), [](const RouteEntry& a, const RouteEntry& b) {
            return std::tie(a.localNeuron, a.destCore, a.destInput, a.destAxon) <
                   std::tie(b.localNeuron, b.destCore, b.destInput, b.destAxon);
        });
        back = decodeCore(encodeCore(core), &err); // sorted, but input (0, 0) fed twice by neuron 1
        QVERIFY2(back.has_value(), err.c_str());
        QVERIFY(*back == core);
        // Grouped, with destination core numbers far apart (the writer's counting
        // sort of the groups gives way to a comparison sort): same table back.
        core.routes = {{1, 0, 0, 0}, {1, 2147483647, 0, 5}, {3, 5, 1, 2}, {4, 5, 1, 3}, {4, 2147483647, 0, 6}};
        back = decodeCore(encodeCore(core), &err);
        QVERIFY2(back.has_value(), err.c_str());
        QVERIFY(*back == core);
    }

    // Blobs of stc.package/1 (version 2: plain lists and routes) are still read.
    void readsVersion2Blobs()
    {
        const Compiled c = compile("conv_snn.sir", "loihi2", false);
        const PackageCore& core = c.pkg.cores[0];
        std::vector<uint8_t> b;
        auto put = [&b](auto v) {
            uint8_t raw[sizeof v];
            std::memcpy(raw, &v, sizeof v);
            b.insert(b.end(), raw, raw + sizeof v);
        };
        put(uint32_t(0x43435453));
        put(uint16_t(2));
        put(uint16_t(0));
        put(uint32_t(core.index));
        for (int v : {core.coord.chip, core.coord.tileX, core.coord.tileY, core.coord.core})
            put(uint16_t(v));
        put(uint32_t(core.slices.size()));
        for (const Slice& s : core.slices) {
            put(uint32_t(s.pop));
            put(int64_t(s.f0));
            put(int64_t(s.f1));
            put(uint8_t(s.lo.size()));
            for (size_t a = 0; a < s.lo.size(); ++a) {
                put(int64_t(s.lo[a]));
                put(int64_t(s.hi[a]));
            }
        }
        put(uint32_t(core.bias.size()));
        for (int32_t v : core.bias)
            put(v);
        put(uint32_t(core.inputs.size()));
        for (const PackageInput& in : core.inputs) {
            put(uint32_t(in.slice));
            put(uint32_t(in.projection));
            put(uint8_t(in.encoding));
            put(int16_t(in.delay));
            put(uint32_t(in.axonSource.size()));
            put(uint32_t(in.table.size()));
            for (int32_t v : in.axonSource)
                put(v);
            for (uint32_t v : in.rowOffset)
                put(v);
            b.insert(b.end(), in.table.begin(), in.table.end());
            put(uint32_t(in.exponent.size()));
            b.insert(b.end(), in.exponent.begin(), in.exponent.end());
        }
        put(uint32_t(core.routes.size()));
        for (const RouteEntry& r : core.routes)
            for (int32_t v : {r.localNeuron, r.destCore, r.destInput, r.destAxon})
                put(uint32_t(v));
        std::string err;
        auto back = decodeCore(b, &err);
        QVERIFY2(back.has_value(), err.c_str());
        QVERIFY(*back == core);
    }

    // The blob file is written a chunk at a time, the next chunk encoded while
    // one is written: the bytes and offsets must not depend on the thread
    // count or the chunk size (small chunks here, so that several overlap).
    void blobFileSameForAnyThreadsAndChunks()
    {
        namespace fs = std::filesystem;
        const Compiled c = compile("spikformer_cifar.sir", "loihi3");
        QVERIFY(c.pkg.cores.size() > 20);
        QTemporaryDir tmp;
        auto write = [&](int threads, size_t chunk, std::vector<BlobRef>& refs) {
            const fs::path dir = fs::path(tmp.path().toStdString()) /
                                 ("t" + std::to_string(threads) + "c" + std::to_string(chunk));
            fs::create_directories(dir);
            std::string err;
            if (!writeCoreBlobs(c.pkg.cores, dir.string(), "cores.bin", threads, refs, &err, chunk))
                qFatal("%s", err.c_str());
            std::ifstream f(dir / "cores.bin", std::ios::binary);
            return std::string(std::istreambuf_iterator<char>(f), {});
        };
        std::vector<BlobRef> oneRefs;
        const std::string one = write(1, 256, oneRefs);
        QVERIFY(!one.empty());
        for (auto [threads, chunk] : {std::pair{2, size_t(7)}, std::pair{3, size_t(1)}, std::pair{2, size_t(256)}}) {
            std::vector<BlobRef> refs;
            QVERIFY(write(threads, chunk, refs) == one);
            QCOMPARE(refs.size(), oneRefs.size());
            for (size_t k = 0; k < refs.size(); ++k) {
                QCOMPARE(refs[k].offset, oneRefs[k].offset);
                QCOMPARE(refs[k].bytes, oneRefs[k].bytes);
            }
        }
        std::vector<PackageCore> back;
        std::string err;
        const fs::path dir = fs::path(tmp.path().toStdString()) / "t2c7";
        QVERIFY2(readCoreBlobs(dir.string(), oneRefs, 2, back, &err), err.c_str());
        QVERIFY(back == c.pkg.cores);
    }

    // A package written over a larger one leaves no stale core blobs (also
    // blob-named files of an older writer's cores/ that no manifest lists);
    // other files survive; other directories are refused.
    void replacesOldPackageSafely()
    {
        namespace fs = std::filesystem;
        const Compiled big = compile("spikformer_cifar.sir", "loihi3");
        const Compiled small = compile("conv_snn.sir", "loihi2", false);
        QVERIFY(big.pkg.cores.size() > small.pkg.cores.size());
        QTemporaryDir tmp;
        const fs::path dir = fs::path(tmp.path().toStdString()) / "out.stcpkg";
        std::string err;
        QVERIFY2(writePackage(big.pkg, dir.string(), "big\n", &err), err.c_str());
        const auto bigBlobs = fs::file_size(dir / "cores.bin");
        QVERIFY(!fs::exists(dir / "cores")); // stc.package/3: one blob file
        std::ofstream(dir / "notes.txt") << "mine";
        fs::create_directories(dir / "cores");
        std::ofstream(dir / "cores" / "0000.bin") << "left by an stc.package/2 writer";
        std::ofstream(dir / "cores" / "99999.bin") << "left by an older writer, in no manifest";
        QVERIFY2(writePackage(small.pkg, dir.string(), "small\n", &err), err.c_str());
        QVERIFY(!fs::exists(dir / "cores")); // emptied and removed
        int64_t smallBlobs = 0; // cores.bin, overwritten in place, is cut to the new blobs
        for (const PackageCore& core : small.pkg.cores)
            smallBlobs += int64_t(encodeCore(core).size());
        QVERIFY(smallBlobs < int64_t(bigBlobs));
        QCOMPARE(int64_t(fs::file_size(dir / "cores.bin")), smallBlobs);
        QVERIFY(fs::exists(dir / "notes.txt"));
        fs::create_directories(dir / "cores");
        std::ofstream(dir / "cores" / "mine.bin") << "mine";
        QVERIFY2(writePackage(small.pkg, dir.string(), "small\n", &err), err.c_str());
        QVERIFY(fs::exists(dir / "cores" / "mine.bin"));
        auto back = readPackage(dir.string(), &err);
        QVERIFY2(back.has_value(), err.c_str());
        QVERIFY(*back == small.pkg);

        const fs::path other = fs::path(tmp.path().toStdString()) / "documents";
        fs::create_directories(other);
        std::ofstream(other / "thesis.tex") << "text";
        QVERIFY(!writePackage(small.pkg, other.string(), "", &err));
        QVERIFY2(err.find("not a package") != std::string::npos, err.c_str());
        QVERIFY(!fs::exists(other / "manifest.json"));
        QVERIFY(!fs::exists(other / "cores"));
        std::ofstream(other / "manifest.json") << "{\"format\": \"something else\"}";
        QVERIFY(!writePackage(small.pkg, other.string(), "", &err));
        QVERIFY(fs::exists(other / "manifest.json"));
    }

    // A package manifest is recognised in writePackage's layout without a parse,
    // in any other layout by parsing; "format" must be a top-level key.
    void recognisesPackageManifests()
    {
        QVERIFY(isPackageManifest("{\n \"chip\": {\n  \"id\": \"x\"\n },\n \"format\": \"stc.package/3\"\n}\n"));
        QVERIFY(isPackageManifest("{\"format\":\"stc.package/1\",\"cores\":[]}"));
        QVERIFY(isPackageManifest("{\n    \"format\": \"stc.package/2\"\n}"));
        QVERIFY(!isPackageManifest("{\n \"chip\": {\n  \"format\": \"stc.package/3\"\n }\n}\n")); // nested
        QVERIFY(!isPackageManifest("{\"chip\":{\"format\":\"stc.package/3\"}}"));
        QVERIFY(!isPackageManifest("{\n \"format\": \"onnx\"\n}\n"));
        QVERIFY(!isPackageManifest("{\n \"format\": \"stc.package/3\""));                // truncated, no dump layout end
        QVERIFY(!isPackageManifest("[\n \"format\": \"stc.package/3\"\n]"));
        QVERIFY(!isPackageManifest(""));
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

    // Every axon of every input is one route of its source neuron's core, each
    // table sorted by (local neuron, destination core, input, axon): rebuilt
    // here entry by entry with a plain sort and compared whole, for 1 to 3
    // threads (buildRoutes splits the destination cores into chunks per thread).
    void routesAreTheAxonsSorted()
    {
        const Compiled c = compile("spikformer_cifar.sir", "loihi3");
        const NeuronLocator locator(c.net, c.map.popBlock, c.map.popFirstSlice, c.map.slices);
        std::vector<int64_t> offset(c.map.slices.size(), 0);
        for (const auto& core : c.map.cores) {
            int64_t off = 0;
            for (int32_t s : core.slices) {
                offset[size_t(s)] = off;
                off += c.map.slices[size_t(s)].neurons();
            }
        }
        std::vector<std::vector<RouteEntry>> expected(c.pkg.cores.size());
        for (size_t ci = 0; ci < c.pkg.cores.size(); ++ci)
            for (size_t i = 0; i < c.pkg.cores[ci].inputs.size(); ++i) {
                const PackageInput& in = c.pkg.cores[ci].inputs[i];
                for (size_t a = 0; a < in.axonSource.size(); ++a) {
                    int64_t local = 0;
                    const int32_t s = locator.locate(c.net.projections[size_t(in.projection)].src, in.axonSource[a], local);
                    expected[size_t(c.map.sliceCore[size_t(s)])].push_back(
                        {int32_t(offset[size_t(s)] + local), int32_t(ci), int32_t(i), int32_t(a)});
                }
            }
        size_t unsortedDestinations = 0; // tables whose destination order is not their neuron order
        for (auto& routes : expected) {
            const auto byNeuron = [](const RouteEntry& x, const RouteEntry& y) { return x.localNeuron < y.localNeuron; };
            unsortedDestinations += !std::is_sorted(routes.begin(), routes.end(), byNeuron);
            std::sort(routes.begin(), routes.end(), [](const RouteEntry& x, const RouteEntry& y) {
                return std::tie(x.localNeuron, x.destCore, x.destInput, x.destAxon) <
                       std::tie(y.localNeuron, y.destCore, y.destInput, y.destAxon);
            });
        }
        QVERIFY(unsortedDestinations > 0); // the reordering is exercised
        const Estimate est = estimateCost(c.net, c.map, c.chip);
        for (int threads : {1, 2, 3}) {
            const Package p = buildPackage(c.net, c.map, c.chip, "fold-bn,canonicalize", est, threads);
            QCOMPARE(p.cores.size(), expected.size());
            for (size_t k = 0; k < expected.size(); ++k)
                QVERIFY2(p.cores[k].routes == expected[k], ("core " + std::to_string(k)).c_str());
        }
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

    // The placement reconstructed from a package (the IDE's floorplan of an
    // opened package) has the mapper's coordinates, slices, static usage and
    // core-to-core routes.
    void layoutOfPackageMatchesMapping_data()
    {
        QTest::addColumn<QString>("chip");
        QTest::newRow("loihi2") << "loihi2";
        QTest::newRow("loihi3") << "loihi3";
    }
    void layoutOfPackageMatchesMapping()
    {
        QFETCH(QString, chip);
        const Compiled c = compile("conv_snn.sir", chip.toStdString().c_str());
        const Mapping m = mappingOfPackage(c.pkg, c.chip);
        QCOMPARE(m.cores.size(), c.map.cores.size());
        QCOMPARE(m.chipsUsed, c.map.chipsUsed);
        for (size_t k = 0; k < m.cores.size(); ++k) {
            const CoreAssignment &a = m.cores[k], &b = c.map.cores[k];
            QVERIFY(a.coord == b.coord);
            QCOMPARE(a.usage.neurons, b.usage.neurons);
            QCOMPARE(a.usage.fanInAxons, b.usage.fanInAxons);
            QCOMPARE(a.usage.fanOutAxons, b.usage.fanOutAxons);
            QCOMPARE(a.usage.synapticBytes, b.usage.synapticBytes);
            QCOMPARE(a.usage.stateBytes, b.usage.stateBytes);
            QCOMPARE(int(a.utilization.binding), int(b.utilization.binding));
            QCOMPARE(a.slices.size(), b.slices.size());
            for (size_t s = 0; s < a.slices.size(); ++s)
                QVERIFY(m.slices[size_t(a.slices[s])] == c.map.slices[size_t(b.slices[s])]);
        }
        std::set<std::pair<int, int>> want, got;
        for (const auto& r : c.map.routes)
            want.insert({r.from, r.to});
        for (const auto& r : m.routes) {
            got.insert({r.from, r.to});
            QVERIFY(!r.path.empty());
        }
        QVERIFY(got == want);
    }

    // stc.package/2 directories (a blob file per core, no byte ranges) are
    // still read: the package's own blobs rewritten in that layout.
    void readsVersion2Directories()
    {
        namespace fs = std::filesystem;
        const Compiled c = compile("spikformer_cifar.sir", "loihi3");
        QTemporaryDir tmp;
        const fs::path dir = fs::path(tmp.path().toStdString()) / "v2.stcpkg";
        std::string err;
        QVERIFY2(writePackage(c.pkg, dir.string(), "x\n", &err), err.c_str());
        nlohmann::json m = nlohmann::json::parse(std::ifstream(dir / "manifest.json"));
        QCOMPARE(m["format"].get<std::string>(), std::string("stc.package/3"));
        std::ifstream blobs(dir / "cores.bin", std::ios::binary);
        fs::create_directories(dir / "cores");
        for (auto& core : m["cores"]) {
            std::string bytes(size_t(core["bytes"].get<int64_t>()), '\0');
            blobs.seekg(core["offset"].get<int64_t>());
            QVERIFY(blobs.read(bytes.data(), std::streamsize(bytes.size())));
            char name[32];
            std::snprintf(name, sizeof name, "cores/%04d.bin", core["index"].get<int>());
            std::ofstream(dir / name, std::ios::binary) << bytes;
            core["file"] = name;
            core.erase("offset");
            core.erase("bytes");
        }
        blobs.close();
        fs::remove(dir / "cores.bin");
        m["format"] = "stc.package/2";
        std::ofstream(dir / "manifest.json") << m.dump(1);
        auto back = readPackage(dir.string(), &err);
        QVERIFY2(back.has_value(), err.c_str());
        QCOMPARE(back->format, std::string("stc.package/2"));
        back->format = c.pkg.format;
        QVERIFY(*back == c.pkg);
        // Written again, the directory becomes stc.package/3 and loses the per-core files.
        QVERIFY2(writePackage(c.pkg, dir.string(), "x\n", &err), err.c_str());
        QVERIFY(!fs::exists(dir / "cores"));
        back = readPackage(dir.string(), &err);
        QVERIFY2(back.has_value(), err.c_str());
        QVERIFY(*back == c.pkg);
    }

    // A truncated or missing cores.bin is an error naming the file (and the core).
    void damagedBlobFileIsLocated()
    {
        namespace fs = std::filesystem;
        const Compiled c = compile("spikformer_cifar.sir", "loihi3");
        QTemporaryDir tmp;
        const fs::path dir = fs::path(tmp.path().toStdString()) / "bad.stcpkg";
        std::string err;
        QVERIFY2(writePackage(c.pkg, dir.string(), "x\n", &err), err.c_str());
        fs::resize_file(dir / "cores.bin", fs::file_size(dir / "cores.bin") / 2);
        QVERIFY(!readPackage(dir.string(), &err));
        QVERIFY2(err.find("truncated core blob cores.bin (core ") != std::string::npos, err.c_str());
        fs::remove(dir / "cores.bin");
        QVERIFY(!readPackage(dir.string(), &err));
        QVERIFY2(err.find("missing core blob cores.bin") != std::string::npos, err.c_str());
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

// NIR files written by Lava-DL's own exporter (lava-dl PR #218's
// netx/nir_lava.py convert_to_nir, run unmodified by tools/nir/lava_dl_to_nir.py
// on two netx networks lava-dl's slayer wrote: trained MNIST and Oxford): they
// import (integer edges, no Output node), compute NIR's CubaLIF semantics spike
// for spike (numpy, tools/nir/lava_dl_reference.py), and the test measures what
// the files lose against the netx networks they came from (docs/nir.md, "NIR
// written by Lava-DL").
#include "interop/nir_hdf5.h"
#include "interop/nir_import.h"
#include "interp/interpreter.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace stc;
using namespace stc::interop;

namespace {

constexpr double kDt = 1.0 / 4096; // the step at which the files' decays are Lava-DL's (docs/nir.md)
constexpr int kMaxLayers = 3;

NirReadResult readFixture(const QString& network)
{
    return readNirFile(std::string(STC_TEST_FIXTURE_DIR) + "/nir/" + network.toStdString() + ".nir");
}

ir::Module importGraph(const NirGraph& g, int64_t timesteps)
{
    NirImportOptions o;
    o.timesteps = timesteps;
    o.dt = kDt;
    NirImportResult i = importFromNir(g, o, "lava_dl.nir");
    if (!i.module)
        throw std::runtime_error(i.diagnostics.format());
    return std::move(*i.module);
}

QJsonObject expected(const QString& network)
{
    QFile f(QString(STC_TEST_DATA_DIR "/nir/") + network + "_expected.json");
    if (!f.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot open " + f.fileName().toStdString());
    return QJsonDocument::fromJson(f.readAll()).object();
}

std::vector<float> inputOf(const QJsonObject& c)
{
    std::vector<float> x;
    for (const QJsonValue& v : c["input"].toArray())
        x.push_back(float(v.toDouble()));
    return x;
}

// Spikes per step of each layer's neuron, [layer][step], from the interpreter's statistics:
// the lif ops in op order except each CubaLIF's current stage (named "<node>.syn", never fires).
std::vector<std::vector<int64_t>> layerCounts(const interp::RunResult& r)
{
    std::vector<std::vector<int64_t>> out;
    for (const auto& s : r.lif)
        if (!s.name.ends_with(".syn"))
            out.push_back(s.spikesPerStep);
    return out;
}

struct Agreement {
    int64_t equalOutputs = 0, outputs = 0; // output neuron-steps
    int64_t spikes[kMaxLayers] = {}, referenceSpikes[kMaxLayers] = {};
    int64_t layerStepsDiffering = 0;
    size_t layers = 0;
};

// Runs `m` on every case of `cases` and compares with the cases' output spikes and per-layer counts.
Agreement compareWith(const ir::Module& m, const QJsonArray& cases, int T)
{
    Agreement a;
    for (const QJsonValue& cv : cases) {
        const QJsonObject c = cv.toObject();
        const interp::RunResult r = interp::run(m, {interp::InputBatch{1, inputOf(c)}});
        if (!r.ok())
            throw std::runtime_error(r.error);
        const QJsonArray out = c["output_spikes"].toArray(), counts = c["layer_spike_counts"].toArray();
        const int n = int(out[0].toArray().size());
        if (r.outputs[0].size() != size_t(T * n))
            throw std::runtime_error("output size differs from the reference's");
        for (int t = 0; t < T; ++t)
            for (int k = 0; k < n; ++k, ++a.outputs)
                a.equalOutputs += r.outputs[0][size_t(t * n + k)] == float(out[t].toArray()[k].toInt());
        const auto got = layerCounts(r);
        a.layers = got.size();
        if (got.size() != size_t(counts[0].toArray().size()) || got.size() > kMaxLayers)
            throw std::runtime_error("the number of neuron layers differs from the reference's");
        for (size_t l = 0; l < got.size(); ++l)
            for (int t = 0; t < T; ++t) {
                const int64_t want = counts[t].toArray()[l].toInt();
                a.spikes[l] += got[l][size_t(t)];
                a.referenceSpikes[l] += want;
                a.layerStepsDiffering += got[l][size_t(t)] != want;
            }
    }
    return a;
}

} // namespace

class TestNirLavaDl : public QObject {
    Q_OBJECT

private slots:
    // What Lava-DL wrote: Input, then Linear + CubaLIF per layer, edges as integer
    // indices, no Output node. Both are read with a warning at their path.
    void importsWithWarnings_data() { networks(); }
    void importsWithWarnings()
    {
        QFETCH(QString, network);
        QFETCH(int, layers);
        QFETCH(int, outputs);
        const NirReadResult read = readFixture(network);
        QVERIFY2(read.graph, read.diagnostics.format().c_str());
        QCOMPARE(read.graph->version, std::string("0.1.1"));
        QCOMPARE(read.graph->edges.size(), size_t(2 * layers));
        QCOMPARE(read.graph->edges.front(), (std::pair<std::string, std::string>("0", "1")));
        const std::string readLog = read.diagnostics.format();
        QVERIFY2(readLog.find("[/node/edges] integer edges") != std::string::npos, readLog.c_str());
        for (const NirNode& n : read.graph->nodes)
            if (n.type == "CubaLIF") // NIR 0.1's writer drops w_in (convert_to_nir passed w_in = tau_syn)
                QVERIFY(!n.fields.array("w_in") && n.fields.array("tau_syn"));

        NirImportOptions o;
        o.timesteps = 32;
        o.dt = kDt;
        const NirImportResult r = importFromNir(*read.graph, o, "lava_dl.nir");
        QVERIFY2(r.module, r.diagnostics.format().c_str());
        const std::string log = r.diagnostics.format();
        const std::string last = "\"" + std::to_string(2 * layers) + "\" (CubaLIF)";
        QVERIFY2(log.find("[/node] the graph has no Output node: the output of " + last) != std::string::npos,
                 log.c_str());
        int linears = 0, lifs = 0;
        for (const ir::Op& op : r.module->ops()) {
            linears += op.kind == ir::OpKind::Linear;
            lifs += op.kind == ir::OpKind::Lif;
        }
        QCOMPARE(linears, layers);
        QCOMPARE(lifs, 2 * layers); // a CubaLIF is a current stage and a membrane neuron
        const ir::Type out = r.module->typeOf(r.module->outputs().at(0));
        QCOMPARE(out.shape, (ir::Shape{outputs}));
        QVERIFY(out.perStep() && out.elem == ir::ElemType::Spike);
    }

    // The file under NIR's CubaLIF semantics (Euler at dt = 1/4096 s): every output
    // spike and every layer's spike count per step equals the numpy reference.
    void matchesNirSemantics_data() { networks(); }
    void matchesNirSemantics()
    {
        QFETCH(QString, network);
        const QJsonObject ref = expected(network);
        const int T = ref["timesteps"].toInt();
        QCOMPARE(T, 32);
        const ir::Module m = importGraph(*readFixture(network).graph, T);
        const Agreement a = compareWith(m, ref["cases"].toArray(), T);
        QCOMPARE(a.equalOutputs, a.outputs);
        QCOMPARE(a.layerStepsDiffering, int64_t(0));
        // Meaningful only if the first two layers fire (MNIST's third never does under these semantics).
        QVERIFY2(a.referenceSpikes[0] > 2000 && a.referenceSpikes[1] > 100,
                 qPrintable(QString("%1 %2").arg(a.referenceSpikes[0]).arg(a.referenceSpikes[1])));
    }

    // What the file loses against the netx network it was converted from (lava-dl's
    // fixed-point CUBA on the .net file, netx_cases): as written it fires fewer than
    // half of netx's spikes in every layer; with the input gains Euler needs to be
    // Lava-DL's step (w_in = tau_syn/dt, r = tau_mem/dt, set here on the read graph)
    // stc's import reproduces netx's spikes.
    void lossIsTheInputGains_data() { networks(); }
    void lossIsTheInputGains()
    {
        QFETCH(QString, network);
        const QJsonObject ref = expected(network);
        const int T = ref["timesteps"].toInt();
        const QJsonArray cases = ref["netx_cases"].toArray();
        NirGraph g = *readFixture(network).graph;
        const Agreement asWritten = compareWith(importGraph(g, T), cases, T);
        for (NirNode& n : g.nodes)
            if (n.type == "CubaLIF") {
                n.fields.arrays["w_in"] = NirArray::scalar(n.fields.array("tau_syn")->values.at(0) / kDt);
                n.fields.arrays["r"] = NirArray::scalar(n.fields.array("tau_mem")->values.at(0) / kDt);
            }
        const Agreement gains = compareWith(importGraph(g, T), cases, T);
        for (size_t l = 0; l < gains.layers; ++l) {
            qInfo("layer %zu spikes: netx %lld, NIR as written %lld, with netx's gains %lld", l + 1,
                  (long long)gains.referenceSpikes[l], (long long)asWritten.spikes[l], (long long)gains.spikes[l]);
            QVERIFY(gains.referenceSpikes[l] > 400);
            QVERIFY(asWritten.spikes[l] * 2 < gains.referenceSpikes[l]);
            const int64_t diff = std::abs(gains.spikes[l] - gains.referenceSpikes[l]);
            QVERIFY2(diff * 100 <= gains.referenceSpikes[l], qPrintable(QString::number(diff))); // within 1 %
        }
        qInfo("output neuron-steps equal to netx: as written %lld, with netx's gains %lld of %lld",
              (long long)asWritten.equalOutputs, (long long)gains.equalOutputs, (long long)gains.outputs);
        QVERIFY(gains.equalOutputs * 100 >= gains.outputs * 99);
    }

private:
    static void networks()
    {
        QTest::addColumn<QString>("network");
        QTest::addColumn<int>("layers");
        QTest::addColumn<int>("outputs");
        QTest::newRow("mnist") << "lava_dl_trained_mnist" << 3 << 10; // iDecay = vDecay = 410
        QTest::newRow("oxford") << "lava_dl_oxford" << 2 << 200;      // iDecay 4096, vDecay 415 / 409
    }
};

QTEST_GUILESS_MAIN(TestNirLavaDl)
#include "test_nir_lava_dl.moc"

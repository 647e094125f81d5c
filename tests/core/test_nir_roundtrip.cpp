// NIR export/import of our models: Spike IR -> NIR -> .nir file -> NIR -> Spike IR
// gives the same interpreter outputs; what NIR cannot express is reported per op.
#include "bundled_models.h"
#include "interop/nir_export.h"
#include "interop/nir_hdf5.h"
#include "interop/nir_import.h"
#include "ir/ir_io.h"
#include "passes/pipeline.h"
#include "passes/registry.h"
#include "passes/runner.h"
#include "test_pass_util.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>

using namespace stc;
using namespace stc::interop;

namespace {

// Through a file when HDF5 is there, else in memory.
ir::Module roundTrip(const ir::Module& m, NirGraph* exported = nullptr)
{
    NirExportResult e = exportToNir(m);
    if (!e.graph)
        throw std::runtime_error(e.diagnostics.format());
    NirGraph g = *e.graph;
    if (nirFilesAvailable()) {
        QTemporaryDir dir;
        const std::string path = dir.filePath("model.nir").toStdString();
        Diagnostics w = writeNirFile(g, path);
        if (w.hasErrors())
            throw std::runtime_error(w.format());
        NirReadResult r = readNirFile(path);
        if (!r.graph)
            throw std::runtime_error(r.diagnostics.format());
        g = *r.graph;
    }
    if (exported)
        *exported = g;
    NirImportResult i = importFromNir(g, {}, "model.nir");
    if (!i.module)
        throw std::runtime_error(i.diagnostics.format());
    return std::move(*i.module);
}

bool bitwiseEqual(const std::vector<float>& a, const std::vector<float>& b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<std::string> nodeTypes(const NirGraph& g)
{
    std::vector<std::string> types;
    for (const auto& n : g.nodes)
        types.push_back(n.type);
    std::sort(types.begin(), types.end());
    return types;
}

// The bundled conv SNN after fold-bn, with its one max pool (which NIR lacks)
// replaced by an average pool: every other layer is the trained model's.
ir::Module convSnnWithAvgPool()
{
    passes::RunResult folded = testutil::runPipelineText(testutil::loadBundledModel("convsnn_fmnist.sir"), "fold-bn,canonicalize,dce");
    if (!folded.ok())
        throw std::runtime_error(folded.allDiagnostics().format());
    ir::Module m = std::move(folded.module);
    for (auto& op : m.mutableOps())
        if (op.kind == ir::OpKind::MaxPool2d) {
            op.kind = ir::OpKind::AvgPool2d;
            op.attrs.erase("dilation");
            ir::Type t = m.typeOf(op.result);
            t.elem = ir::ElemType::F32;
            m.setValueType(op.result, t);
        }
    return m;
}

ir::Attributes leaky(double beta, const char* reset, const char* output = "spikes")
{
    ir::Attributes a;
    a.set("neuron", std::string("leaky"));
    a.set("beta", beta);
    a.set("v_threshold", 1.0);
    a.set("reset", std::string(reset));
    a.set("output", std::string(output));
    return a;
}

// Two snnTorch Synaptic layers (alpha 0.8 / 0.7, beta 0.9 / 0.85): each a current stage
// (leaky integrator, no reset) feeding a leaky neuron; the second is the membrane readout.
ir::Module synapticModel()
{
    ir::Module m;
    m.name = "synaptic";
    m.timesteps = 6;
    std::string err;
    auto weight = [&](ir::Shape shape, float scale, const std::string& name) {
        std::vector<float> w(size_t(ir::numElements(shape)));
        for (size_t i = 0; i < w.size(); ++i)
            w[i] = scale * float(std::sin(0.7 * double(i) + 0.3));
        return m.addConst(ir::Tensor::fromFloats(shape, std::move(w)), name, name);
    };
    auto build = [&](ir::OpKind k, std::vector<ir::ValueId> ops, ir::Attributes a, const std::string& name) {
        const ir::ValueId v = m.build(k, std::move(ops), std::move(a), name, name, &err);
        if (v == ir::kNoValue)
            throw std::runtime_error(err);
        return v;
    };
    const auto x = m.addInput({ir::ElemType::F32, {6}, ir::TimeKind::Invariant}, "x");
    ir::Attributes enc;
    enc.set("mode", std::string("direct"));
    ir::ValueId v = build(ir::OpKind::Encode, {x}, enc, "enc");
    v = build(ir::OpKind::Linear, {v, weight({5, 6}, 0.6f, "fc1.w"), weight({5}, 0.2f, "fc1.b")}, {}, "fc1");
    v = build(ir::OpKind::Lif, {v}, leaky(0.8, "none", "membrane"), "lif1.syn");
    v = build(ir::OpKind::Lif, {v}, leaky(0.9, "subtract-delayed"), "lif1");
    v = build(ir::OpKind::Linear, {v, weight({3, 5}, 0.8f, "fc2.w")}, {}, "fc2");
    v = build(ir::OpKind::Lif, {v}, leaky(0.7, "none", "membrane"), "lif2.syn");
    v = build(ir::OpKind::Lif, {v}, leaky(0.85, "none", "membrane"), "lif2");
    ir::Attributes mean;
    mean.set("over_time", true);
    v = build(ir::OpKind::Mean, {v}, mean, "readout");
    m.addOutput({v});
    return m;
}

} // namespace

class TestNirRoundTrip : public QObject {
    Q_OBJECT
private slots:
    void leakyMlpRoundTripsExactly()
    {
        const ir::Module m = testutil::loadBundledModel("leaky_mlp_fmnist.sir");
        NirExportResult e = exportToNir(m);
        QVERIFY2(e.graph, e.diagnostics.format().c_str());
        // snnTorch's subtract reset and the membrane readout are not NIR: warned per neuron.
        QVERIFY(e.diagnostics.items().size() >= 2);
        for (const auto& d : e.diagnostics.items())
            QCOMPARE(d.severity, Severity::Warning);
        QVERIFY(e.diagnostics.format().find("reset by subtraction") != std::string::npos);

        NirGraph g;
        const ir::Module back = roundTrip(m, &g);
        QCOMPARE(nodeTypes(g), (std::vector<std::string>{"Affine", "Affine", "Input", "LI", "LIF", "Output"}));
        const NirNode* lif = g.find("lif1");
        QVERIFY(lif);
        QCOMPARE(lif->fields.array("tau")->shape, ir::Shape{256});
        QCOMPARE(lif->fields.array("v_threshold")->values[0], 1.0);
        // beta = 0.9 at dt = 1e-4 s: tau = dt / (1 - beta), r = tau / dt (snnTorch's own export).
        QVERIFY(std::abs(lif->fields.array("tau")->values[0] - 1e-4 / (1.0 - 0.8999999761581421)) < 1e-15);
        const NirNode* fc1 = g.find("fc1");
        QCOMPARE(fc1->fields.array("weight")->shape, (ir::Shape{256, 784}));
        QCOMPARE(fc1->fields.array("weight")->dtype, NirArray::DType::Float32);

        const auto in = testutil::randomInputs(m, 8, 11);
        const auto a = interp::run(m, in), b = interp::run(back, in);
        QVERIFY2(a.ok() && b.ok(), (a.error + b.error).c_str());
        QVERIFY(bitwiseEqual(a.outputs[0], b.outputs[0]));
        QCOMPARE(a.lif[0].total, b.lif[0].total);
        QVERIFY(a.lif[0].total > 0);
    }

    void leakyMlpWithoutStcMetadataFollowsNir()
    {
        // What another tool sees: NIR's hard reset and v > threshold; the readout becomes a plain LI.
        const ir::Module m = testutil::loadBundledModel("leaky_mlp_fmnist.sir");
        NirGraph g = *exportToNir(m).graph;
        for (auto& n : g.nodes)
            if (n.type == "LIF" || n.type == "LI")
                n.metadata = {};
        NirImportResult r = importFromNir(g, {}, "stripped.nir");
        QVERIFY2(r.module, r.diagnostics.format().c_str());
        int lifs = 0;
        for (const auto& op : r.module->ops()) {
            if (op.kind != ir::OpKind::Lif)
                continue;
            ++lifs;
            QCOMPARE(op.attrs.getString("fire"), std::string("gt"));
            QCOMPARE(op.attrs.getBool("decay_input"), false); // r = tau / dt: input added undecayed
            QVERIFY(std::abs(op.attrs.getFloat("tau") - 1.0 / (1.0 - 0.8999999761581421)) < 1e-9);
            QCOMPARE(op.attrs.getString("reset"), std::string(lifs == 1 ? "hard" : "none"));
        }
        QCOMPARE(lifs, 2);
        QCOMPARE(testutil::countOps(*r.module, ir::OpKind::Scale), 0);
    }

    void convSnnReportsEveryOpNirLacks()
    {
        const ir::Module m = testutil::loadBundledModel("convsnn_fmnist.sir");
        NirExportResult e = exportToNir(m);
        QVERIFY(!e.graph);
        std::vector<std::string> origins;
        for (const auto& d : e.diagnostics.items())
            if (d.severity == Severity::Error)
                origins.push_back(d.origin.substr(0, d.origin.find(' ')));
        QCOMPARE(origins, (std::vector<std::string>{"conv_fc.0.module.1", "conv_fc.2.module", "conv_fc.3.module.1"}));
        QVERIFY(e.diagnostics.format().find("fold-bn") != std::string::npos);
        QVERIFY(e.diagnostics.format().find("NIR has no max pooling") != std::string::npos);

        passes::RunResult folded = testutil::runPipelineText(m, "fold-bn,canonicalize,dce");
        QVERIFY(folded.ok());
        NirExportResult e2 = exportToNir(folded.module);
        QVERIFY(!e2.graph);
        QCOMPARE(e2.diagnostics.errorCount(), size_t{1}); // only the max pool is left
    }

    void convSnnLayersRoundTripExactly()
    {
        const ir::Module m = convSnnWithAvgPool();
        NirGraph g;
        const ir::Module back = roundTrip(m, &g);
        QCOMPARE(nodeTypes(g), (std::vector<std::string>{"Affine", "AvgPool2d", "AvgPool2d", "Conv2d", "Conv2d", "Flatten",
                                                         "Input", "LIF", "LIF", "Output"}));
        const NirNode* conv = nullptr;
        for (const auto& n : g.nodes)
            if (n.type == "Conv2d" && n.fields.array("weight")->shape[1] == 1)
                conv = &n;
        QVERIFY(conv);
        QCOMPARE(conv->fields.array("input_shape")->values, (std::vector<double>{28, 28}));
        QCOMPARE(conv->fields.array("padding")->values, (std::vector<double>{1, 1}));
        QCOMPARE(conv->fields.array("groups")->shape, ir::Shape{});
        for (const auto& n : g.nodes)
            if (n.type == "LIF") // SpikingJelly tau = 2, decay_input: NIR tau = 2 dt, r = 1, v_leak = v_reset
                QCOMPARE(n.fields.array("r")->values[0], 1.0);

        const auto in = testutil::randomInputs(m, 6, 5);
        const auto a = interp::run(m, in), b = interp::run(back, in);
        QVERIFY2(a.ok() && b.ok(), (a.error + b.error).c_str());
        QVERIFY(bitwiseEqual(a.outputs[0], b.outputs[0]));
        QCOMPARE(a.outputShapes[0], b.outputShapes[0]);
        for (size_t i = 0; i < a.lif.size(); ++i) {
            QCOMPARE(a.lif[i].total, b.lif[i].total);
            QVERIFY(a.lif[i].total > 0);
        }
    }

    void synapticRoundTripsExactly()
    {
        const ir::Module m = synapticModel();
        NirGraph g;
        const ir::Module back = roundTrip(m, &g);
        QCOMPARE(nodeTypes(g), (std::vector<std::string>{"Affine", "CubaLI", "CubaLIF", "Input", "Linear", "Output"}));
        // snnTorch's export_nir.py for Synaptic: tau_syn = dt/(1-alpha), tau_mem = dt/(1-beta),
        // r = tau_mem/dt, w_in = tau_syn/dt, v_leak = 0.
        const NirNode* cuba = nullptr;
        for (const auto& n : g.nodes)
            if (n.type == "CubaLIF")
                cuba = &n;
        QVERIFY(cuba);
        auto field = [&](const char* key) { return cuba->fields.array(key)->values.at(0); };
        const double dt = 1e-4;
        QVERIFY(std::abs(field("tau_syn") - dt / (1 - 0.8)) < 1e-15);
        QVERIFY(std::abs(field("tau_mem") - dt / (1 - 0.9)) < 1e-15);
        QVERIFY(std::abs(field("r") - 1 / (1 - 0.9)) < 1e-12);
        QVERIFY(std::abs(field("w_in") - 1 / (1 - 0.8)) < 1e-12);
        QCOMPARE(field("v_leak"), 0.0);
        QCOMPARE(cuba->fields.array("tau_syn")->shape, ir::Shape{5});

        const auto in = testutil::randomInputs(m, 8, 3);
        const auto a = interp::run(m, in), b = interp::run(back, in);
        QVERIFY2(a.ok() && b.ok(), (a.error + b.error).c_str());
        QVERIFY(bitwiseEqual(a.outputs[0], b.outputs[0]));
        QCOMPARE(testutil::countOps(back, ir::OpKind::Lif), 4);
        QVERIFY(a.lif[1].total > 0);
        QCOMPARE(a.lif[1].total, b.lif[1].total);
    }

    void synapticWithoutStcMetadataFollowsNir()
    {
        // What another tool's CubaLIF gives us: the current stage and the neuron, both Euler steps.
        NirGraph g = *exportToNir(synapticModel()).graph;
        for (auto& n : g.nodes)
            n.metadata = {};
        NirImportResult r = importFromNir(g, {}, "stripped.nir");
        QVERIFY2(r.module, r.diagnostics.format().c_str());
        std::vector<std::pair<double, std::string>> lifs; // (tau in steps, output)
        for (const auto& op : r.module->ops())
            if (op.kind == ir::OpKind::Lif) {
                QCOMPARE(op.attrs.getBool("decay_input"), false); // r = tau_mem/dt, w_in = tau_syn/dt
                lifs.emplace_back(op.attrs.getFloat("tau"), op.attrs.getString("output", "spikes"));
            }
        QCOMPARE(lifs.size(), size_t(4));
        const double taus[] = {1 / 0.2, 1 / 0.1, 1 / 0.3, 1 / 0.15};
        for (size_t i = 0; i < 4; ++i)
            QVERIFY2(std::abs(lifs[i].first - taus[i]) < 1e-9, std::to_string(lifs[i].first).c_str());
        QCOMPARE(lifs[0].second, std::string("membrane"));
        QCOMPARE(lifs[1].second, std::string("spikes"));
    }

    void spikformerListsAttentionAndPooling()
    {
        passes::RunResult folded = testutil::runPipelineText(testutil::loadBundledModel("spikformer_fmnist.sir"), "fold-bn,canonicalize,dce");
        QVERIFY(folded.ok());
        NirExportResult e = exportToNir(folded.module);
        QVERIFY(!e.graph);
        const std::string text = e.diagnostics.format();
        QVERIFY2(text.find("spike x spike") != std::string::npos, text.c_str());
        QVERIFY(e.diagnostics.errorCount() >= 2);
    }

    void rateEncodingIsRejected()
    {
        ir::Module m;
        m.timesteps = 2;
        const auto x = m.addInput({ir::ElemType::F32, {4}, ir::TimeKind::Invariant}, "x");
        std::string err;
        ir::Attributes enc;
        enc.set("mode", std::string("rate"));
        const auto s = m.build(ir::OpKind::Encode, {x}, enc, "enc", "s", &err);
        m.addOutput({s});
        NirExportResult e = exportToNir(m);
        QVERIFY(!e.graph);
        QVERIFY(e.diagnostics.format().find("rate") != std::string::npos);
        QCOMPARE(e.diagnostics.items()[0].origin, std::string("enc"));
    }
};

QTEST_GUILESS_MAIN(TestNirRoundTrip)
#include "test_nir_roundtrip.moc"

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
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

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

// Spike IR text of a constant with deterministic weights scale * sin(0.7 i + phase).
std::string constText(const std::string& name, const ir::Shape& shape, double scale, double phase)
{
    std::string s = "  %" + name + " = const [";
    for (int64_t i = 0; i < ir::numElements(shape); ++i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s%.6f", i ? ", " : "", scale * std::sin(0.7 * double(i) + phase));
        s += buf;
    }
    return s + "] : f32[" + ir::shapeToString(shape) + "]\n";
}

ir::Module parseModel(const std::string& text)
{
    ir::LoadResult r = ir::loadModuleFromText(text, "residual.sir");
    if (!r.ok())
        throw std::runtime_error(r.diagnostics.format());
    return std::move(*r.module);
}

const std::string kLif = R"({decay_input = true, fire = "ge", neuron = "lif", reset = "hard", tau = 2.0, v_reset = 0.0, v_threshold = 1.0})";
const std::string kConv2d = "{dilation = [1, 1], groups = 1, padding = [1, 1], stride = [1, 1]}";
const std::string kConv1d = "{dilation = [1], groups = 1, padding = [0], stride = [1]}";

// A SEW-ResNet-style block (Fang et al. 2021): conv -> lif -> conv -> lif, its spikes
// added to the block's input spikes (SEW ADD) into the next conv; that conv's current
// plus the first conv's (a membrane residual) into the next neuron; the sum of three
// spike tensors flattened into the readout.
std::string sewResidualText()
{
    std::string t = "module @sew_residual {timesteps = 4} {\n"
                    "  %x = input : f32[2,6,6]\n"
                    "  %s = encode %x {mode = \"direct\"} : f32[T,2,6,6]\n";
    t += constText("c1.w", {4, 2, 3, 3}, 0.6, 0.3) + constText("c1.b", {4}, 0.1, 1.0);
    t += "  %c1 = conv2d %s, %c1.w, %c1.b " + kConv2d + " : f32[T,4,6,6]\n";
    t += "  %l1 = lif %c1 " + kLif + " : spike[T,4,6,6]\n";
    t += constText("c2.w", {4, 4, 3, 3}, 0.5, 0.9);
    t += "  %c2 = conv2d %l1, %c2.w " + kConv2d + " : f32[T,4,6,6]\n";
    t += "  %l2 = lif %c2 " + kLif + " : spike[T,4,6,6]\n";
    t += "  %sew = add %l2, %l1 : graded[T,4,6,6]\n";
    t += constText("c3.w", {4, 4, 3, 3}, 0.4, 2.1);
    t += "  %c3 = conv2d %sew, %c3.w " + kConv2d + " : f32[T,4,6,6]\n";
    t += "  %mem = add %c3, %c1 : f32[T,4,6,6]\n";
    t += "  %l3 = lif %mem " + kLif + " : spike[T,4,6,6]\n";
    t += "  %r3 = add %l3, %sew : graded[T,4,6,6]\n";
    t += "  %fl = flatten %r3 {end = 2, start = 0} : graded[T,144]\n";
    t += constText("fc.w", {3, 144}, 0.3, 0.5);
    t += "  %fc = linear %fl, %fc.w : f32[T,3]\n";
    t += "  %out = mean %fc {over_time = true} : f32[3]\n";
    return t + "  output %out\n}\n";
}

// Spikformer's token form: a conv1d branch added to the reshaped stem spikes
// (NIR holds the stem as [4,4,4], the branch as [4,16]), and a sum as the output.
std::string tokenResidualText()
{
    std::string t = "module @token_residual {timesteps = 3} {\n"
                    "  %x = input : f32[2,4,4]\n"
                    "  %s = encode %x {mode = \"direct\"} : f32[T,2,4,4]\n";
    t += constText("c1.w", {4, 2, 3, 3}, 0.7, 0.2);
    t += "  %c1 = conv2d %s, %c1.w " + kConv2d + " : f32[T,4,4,4]\n";
    t += "  %l1 = lif %c1 " + kLif + " : spike[T,4,4,4]\n";
    t += "  %tok = reshape %l1 {shape = [4, 16]} : spike[T,4,16]\n";
    t += constText("q.w", {4, 4, 1}, 0.9, 1.3);
    t += "  %q = conv1d %tok, %q.w " + kConv1d + " : f32[T,4,16]\n";
    t += "  %lq = lif %q " + kLif + " : spike[T,4,16]\n";
    t += "  %res = add %tok, %lq : graded[T,4,16]\n";
    t += constText("m.w", {4, 4, 1}, 0.8, 2.5);
    t += "  %m = conv1d %res, %m.w " + kConv1d + " : f32[T,4,16]\n";
    t += "  %out = add %m, %q : f32[T,4,16]\n";
    return t + "  output %out\n}\n";
}

using Edges = std::vector<std::pair<std::string, std::string>>;

bool sameOutputsAndSpikes(const ir::Module& a, const ir::Module& b, uint64_t seed)
{
    const auto in = testutil::randomInputs(a, 6, seed);
    const auto ra = interp::run(a, in), rb = interp::run(b, in);
    if (!ra.ok() || !rb.ok())
        throw std::runtime_error(ra.error + rb.error);
    bool same = bitwiseEqual(ra.outputs[0], rb.outputs[0]) && ra.lif.size() == rb.lif.size();
    for (size_t i = 0; same && i < ra.lif.size(); ++i)
        same = ra.lif[i].total == rb.lif[i].total && ra.lif[i].total > 0;
    return same;
}

// The export's errors (op label: message) for a module given as text.
std::string exportErrors(const std::string& text)
{
    const NirExportResult e = exportToNir(parseModel(text));
    std::string out;
    for (const auto& d : e.diagnostics.items())
        if (d.severity == Severity::Error)
            out += d.op + ": " + d.message + "\n";
    return out;
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
        // Its residual adds are summed edges now. Left: the max pools, the attention (permutes,
        // spike x spike matmuls), the mean over tokens, and the fmnist model's head over [1, D].
        const std::vector<std::pair<std::string, std::set<std::string>>> models = {
            {std::string(STC_RESOURCE_DIR) + "/models/spikformer_fmnist.sir", {"linear", "matmul", "maxpool2d", "mean", "permute"}},
            {std::string(STC_TEST_DATA_DIR) + "/ir/spikformer_cifar.sir", {"matmul", "maxpool2d", "mean", "permute"}}};
        for (const auto& [path, expectedKinds] : models) {
            ir::LoadResult loaded = ir::loadModule(path);
            QVERIFY2(loaded.ok(), loaded.diagnostics.format().c_str());
            passes::RunResult folded = testutil::runPipelineText(*loaded.module, "fold-bn,canonicalize,dce");
            QVERIFY(folded.ok());
            NirExportResult e = exportToNir(folded.module);
            QVERIFY(!e.graph);
            std::map<std::string, int> errorsByKind; // "%x = maxpool2d" -> "maxpool2d"
            for (const auto& d : e.diagnostics.items())
                if (d.severity == Severity::Error)
                    ++errorsByKind[d.op.substr(d.op.rfind(' ') + 1)];
            std::set<std::string> kinds;
            for (const auto& [kind, count] : errorsByKind)
                kinds.insert(kind);
            QCOMPARE(kinds, expectedKinds);
            QCOMPARE(errorsByKind["maxpool2d"], 2);
            QVERIFY(errorsByKind["matmul"] >= 2);
            QVERIFY(e.diagnostics.format().find("spike x spike") != std::string::npos);
        }
    }

    void sewResidualExportsAsSummedEdges()
    {
        const ir::Module m = parseModel(sewResidualText());
        NirGraph g;
        const ir::Module back = roundTrip(m, &g); // through an HDF5 file when HDF5 is there
        // Hand-checked: each add is an edge from each term into the op using it, no node of its own;
        // r3 = l3 + (l2 + l1) lists the sum first, so that adding the edges in order rounds alike.
        const Edges expected = {{"x", "c1"},         {"c1", "l1"},         {"l1", "c2"},         {"c2", "l2"},
                                {"l2", "c3"},        {"l1", "c3"},         {"c3", "l3"},         {"c1", "l3"},
                                {"l2", "r3.flatten"}, {"l1", "r3.flatten"}, {"l3", "r3.flatten"}, {"r3.flatten", "fc"},
                                {"fc", "output"}};
        QCOMPARE(g.edges, expected);
        QCOMPARE(nodeTypes(g), (std::vector<std::string>{"Conv2d", "Conv2d", "Conv2d", "Flatten", "Input", "LIF", "LIF",
                                                         "LIF", "Linear", "Output"}));
        for (const char* add : {"sew", "mem", "r3"})
            QVERIFY(!g.find(add));
        const NirNode* flat = g.find("r3.flatten");
        QCOMPARE(flat->fields.array("input_type")->values, (std::vector<double>{4, 6, 6}));
        QCOMPARE(flat->fields.array("end_dim")->values, std::vector<double>{2});
        // NIR -> stc sums the edges into each node again: one add into c3, one into l3 and two for the
        // three edges into r3.flatten (l2 + l1 is summed twice now); bit-identical outputs and spike counts.
        QCOMPARE(testutil::countOps(back, ir::OpKind::Add), 4);
        QVERIFY(sameOutputsAndSpikes(m, back, 21));
    }

    void tokenResidualFlattensOneTermAndSumsTheOutput()
    {
        const ir::Module m = parseModel(tokenResidualText());
        NirGraph g;
        const ir::Module back = roundTrip(m, &g);
        // %res adds [4,4,4] spikes (NIR's shape of the reshaped %l1) to [4,16] ones: the stem is
        // flattened (the Flatten %q already needs). The output %out is a sum: nirtorch hands each
        // edge into an Output on as an output of its own, so a Scale of 1 sums them first.
        const Edges expected = {{"x", "c1"},   {"c1", "l1"}, {"l1", "l1.flatten"}, {"l1.flatten", "q"},
                                {"q", "lq"},   {"l1.flatten", "m"}, {"lq", "m"},    {"m", "out"},
                                {"q", "out"},  {"out", "output"}};
        QCOMPARE(g.edges, expected);
        const NirNode* sum = g.find("out");
        QCOMPARE(sum->type, std::string("Scale"));
        QCOMPARE(uniformValue(*sum->fields.array("scale")), std::optional<double>(1.0));
        QCOMPARE(sum->fields.array("scale")->shape, (ir::Shape{4, 16}));
        QVERIFY(sameOutputsAndSpikes(m, back, 8));
    }

    void sumIntoAnOutputIsHandChecked()
    {
        // y = 2x + 3x on x = [1, -2, 0.5]: NIR gets two Scale nodes summed into a Scale of 1.
        const ir::Module m = parseModel("module @sum {timesteps = 1} {\n"
                                        "  %x = input : f32[3]\n"
                                        "  %s = encode %x {mode = \"direct\"} : f32[T,3]\n"
                                        "  %a = scale %s {factor = 2.0} : f32[T,3]\n"
                                        "  %b = scale %s {factor = 3.0} : f32[T,3]\n"
                                        "  %y = add %a, %b : f32[T,3]\n"
                                        "  output %y\n}\n");
        NirGraph g;
        const ir::Module back = roundTrip(m, &g);
        QCOMPARE(g.edges, (Edges{{"x", "a"}, {"x", "b"}, {"a", "y"}, {"b", "y"}, {"y", "output"}}));
        interp::InputBatch in;
        in.batch = 1;
        in.data = {1.0f, -2.0f, 0.5f};
        const auto r = interp::run(back, {in});
        QVERIFY2(r.ok(), r.error.c_str());
        QCOMPARE(r.outputs[0], (std::vector<float>{5.0f, -10.0f, 2.5f}));
    }

    void addsNirCannotSumAreLocatedErrors()
    {
        const std::string head = "module @bad {timesteps = 2} {\n"
                                 "  %x = input : f32[4]\n"
                                 "  %s = encode %x {mode = \"direct\"} : f32[T,4]\n"
                                 "  %l1 = lif %s " + kLif + " : spike[T,4]\n"
                                 "  %l2 = lif %s " + kLif + " : spike[T,4]\n";
        // x + x, also inside a longer sum: an edge cannot count twice.
        std::string errors = exportErrors(head + "  %twice = add %l1, %l1 : graded[T,4]\n  output %twice\n}\n");
        QVERIFY2(errors.find("%twice = add: it adds the output of NIR node \"l1\" twice") == 0, errors.c_str());
        QVERIFY(errors.find("`scale` by 2") != std::string::npos);
        errors = exportErrors(head + "  %ab = add %l1, %l2 : graded[T,4]\n  %aba = add %ab, %l1 : graded[T,4]\n"
                                     "  output %aba\n}\n");
        QVERIFY2(errors.find("%aba = add: it adds the output of NIR node \"l1\" twice") == 0, errors.c_str());
        // A constant term and a broadcast have no NIR form either.
        errors = exportErrors(head + "  %c = const [1.0, 2.0, 3.0, 4.0] : f32[4]\n  %lc = add %l1, %c : f32[T,4]\n"
                                     "  output %lc\n}\n");
        QVERIFY2(errors.find("%lc = add: adds a constant tensor") == 0, errors.c_str());
        errors = exportErrors(head + "  %r = reshape %l2 {shape = [4, 1]} : spike[T,4,1]\n"
                                     "  %bc = add %l1, %r : graded[T,4,4]\n  output %bc\n}\n");
        QVERIFY2(errors.find("%bc = add: a broadcasting add ([4] + [4,1])") == 0, errors.c_str());
    }

    void rightNestedSumKeepsItsRounding()
    {
        // y = a + (b + c) in floats: the edges into the output's Scale list b, c, a, so that
        // adding them left to right is (b + c) + a, bitwise a + (b + c).
        const ir::Module m = parseModel("module @nested {timesteps = 1} {\n"
                                        "  %x = input : f32[64]\n"
                                        "  %s = encode %x {mode = \"direct\"} : f32[T,64]\n"
                                        "  %a = scale %s {factor = 0.1} : f32[T,64]\n"
                                        "  %b = scale %s {factor = 0.7} : f32[T,64]\n"
                                        "  %c = scale %s {factor = 0.3} : f32[T,64]\n"
                                        "  %bc = add %b, %c : f32[T,64]\n"
                                        "  %y = add %a, %bc : f32[T,64]\n"
                                        "  output %y\n}\n");
        NirGraph g;
        const ir::Module back = roundTrip(m, &g);
        QCOMPARE(g.edges, (Edges{{"x", "a"}, {"x", "b"}, {"x", "c"}, {"b", "y"}, {"c", "y"}, {"a", "y"}, {"y", "output"}}));
        QVERIFY(sameOutputsAndSpikes(m, back, 4));
        // The check can fail: for these inputs the order a, b, c rounds differently somewhere.
        const auto in = testutil::randomInputs(m, 6, 4);
        bool orderMatters = false;
        for (float x : in[0].data) {
            const float a = x * float(0.1), b = x * float(0.7), c = x * float(0.3);
            orderMatters = orderMatters || (a + b) + c != a + (b + c);
        }
        QVERIFY(orderMatters);
    }

    void sumOfTwoSumsWarnsAboutRounding()
    {
        const std::string text = "module @sums {timesteps = 1} {\n"
                                 "  %x = input : f32[2]\n"
                                 "  %s = encode %x {mode = \"direct\"} : f32[T,2]\n"
                                 "  %a = scale %s {factor = 0.1} : f32[T,2]\n"
                                 "  %b = scale %s {factor = 0.2} : f32[T,2]\n"
                                 "  %c = scale %s {factor = 0.3} : f32[T,2]\n"
                                 "  %d = scale %s {factor = 0.4} : f32[T,2]\n"
                                 "  %ab = add %a, %b : f32[T,2]\n"
                                 "  %cd = add %c, %d : f32[T,2]\n"
                                 "  %y = add %ab, %cd : f32[T,2]\n"
                                 "  output %y\n}\n";
        const NirExportResult e = exportToNir(parseModel(text));
        QVERIFY(e.graph);
        QCOMPARE(e.diagnostics.items().size(), size_t{1});
        QCOMPARE(e.diagnostics.items()[0].op, std::string("%y = add"));
        QVERIFY(e.diagnostics.items()[0].message.find("a sum of two sums") == 0);
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

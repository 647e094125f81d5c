// .nir files written by hand from the NIR spec's examples (tools/nir/write_spec_examples.py,
// h5py in NIR 1.0.7's layout): read, import, and run against the spec's equations
// computed here; malformed files give located errors.
#include "interop/nir_hdf5.h"
#include "interop/nir_import.h"
#include "interp/interpreter.h"
#include "sim_test_util.h"
#include "test_pass_util.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>

using namespace stc;
using namespace stc::interop;

namespace {

std::string fixture(const char* name) { return std::string(STC_TEST_FIXTURE_DIR) + "/nir/" + name; }

struct Imported {
    NirGraph graph;
    ir::Module module;
};

Imported importFile(const char* name, int64_t timesteps)
{
    NirReadResult r = readNirFile(fixture(name));
    if (!r.graph)
        throw std::runtime_error(r.diagnostics.format());
    NirImportOptions o;
    o.timesteps = timesteps;
    NirImportResult i = importFromNir(*r.graph, o, name);
    if (!i.module)
        throw std::runtime_error(i.diagnostics.format());
    return {*r.graph, std::move(*i.module)};
}

std::vector<float> runModule(const ir::Module& m, std::vector<float> input)
{
    auto r = interp::run(m, {interp::InputBatch{1, std::move(input)}});
    if (!r.ok())
        throw std::runtime_error(r.error);
    return r.outputs.at(0);
}

const std::vector<double>& values(const NirGraph& g, const char* node, const char* key)
{
    return g.find(node)->fields.array(key)->values;
}

// Forward-Euler step of NIR's LIF/IF with reset to 0; asserts that no neuron is
// within `margin` of the threshold (float vs double could decide it either way).
double fire(double& v, double threshold)
{
    if (std::abs(v - threshold) < 1e-4)
        throw std::runtime_error("test input too close to the threshold");
    if (v > threshold) {
        v = 0.0;
        return 1.0;
    }
    return 0.0;
}

constexpr int64_t kCubaSteps = 8;

// spec_cubalif.nir run against snnTorch's Synaptic (syn = alpha syn + w_in/(tau_syn/dt) x;
// mem = beta mem + syn, this step's syn; reset to 0) and the CubaLI readout's Euler step;
// the largest difference of the readout's membrane.
double cubaMaxError(const Imported& im, const std::vector<double>& wIn)
{
    const std::vector<float> x = {0.9f, 0.6f};
    const auto out = runModule(im.module, x);
    if (out.size() != size_t(kCubaSteps * 2))
        throw std::runtime_error("unexpected output size");
    const auto& w1 = values(im.graph, "fc1", "weight");
    const auto& b1 = values(im.graph, "fc1", "bias");
    const auto& w2 = values(im.graph, "fc2", "weight");
    std::vector<double> syn(3, 0.0), mem(3, 0.0), i2(2, 0.0), v2(2, 0.0);
    double maxErr = 0.0;
    int spikes = 0;
    for (int64_t t = 0; t < kCubaSteps; ++t) {
        std::vector<double> z(3);
        for (size_t j = 0; j < 3; ++j) {
            syn[j] += 0.2 * (-syn[j] + wIn[j] * (w1[j * 2] * x[0] + w1[j * 2 + 1] * x[1] + b1[j]));
            mem[j] = 0.9 * mem[j] + syn[j];
            z[j] = fire(mem[j], 1.0);
            spikes += int(z[j]);
        }
        for (size_t k = 0; k < 2; ++k) { // CubaLI, Euler at dt = 1e-4: tau_syn 5e-4, tau_mem 2e-4, r = w_in = 1
            const double y = w2[k * 3] * z[0] + w2[k * 3 + 1] * z[1] + w2[k * 3 + 2] * z[2];
            i2[k] += 0.2 * (-i2[k] + y);
            v2[k] += 0.5 * (-v2[k] + i2[k]);
            maxErr = std::max(maxErr, std::abs(v2[k] - out[size_t(t * 2) + k]));
        }
    }
    if (spikes == 0 || spikes == kCubaSteps * 3)
        throw std::runtime_error("the test input should make some but not all neurons fire");
    return maxErr;
}

} // namespace

class TestNirFiles : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        if (!nirFilesAvailable())
            QSKIP("built without HDF5: NIR files are not yet available in this build");
    }

    void affineLifFollowsTheSpec()
    {
        const int64_t T = 6;
        const Imported im = importFile("spec_affine_lif.nir", T);
        QCOMPARE(im.graph.version, std::string("1.0.7"));
        const std::vector<float> x = {0.8f, 0.3f};
        const auto out = runModule(im.module, x);
        QCOMPARE(out.size(), size_t(T * 3));
        // tau dv/dt = (v_leak - v) + r I, I = W x + b, dt = 1e-4 s; spike when v > v_threshold.
        const auto& w = values(im.graph, "affine", "weight");
        const auto& b = values(im.graph, "affine", "bias");
        const double tau = values(im.graph, "lif", "tau")[0], r = values(im.graph, "lif", "r")[0];
        std::vector<double> v(3, 0.0);
        int spikes = 0;
        for (int64_t t = 0; t < T; ++t)
            for (int j = 0; j < 3; ++j) {
                const double current = w[size_t(j) * 2] * x[0] + w[size_t(j) * 2 + 1] * x[1] + b[size_t(j)];
                v[size_t(j)] += 1e-4 / tau * (0.0 - v[size_t(j)] + r * current);
                const double z = fire(v[size_t(j)], 1.0);
                spikes += int(z);
                QCOMPARE(double(out[size_t(t * 3 + j)]), z);
            }
        QVERIFY(spikes > 0 && spikes < T * 3);
    }

    void convIfSumPoolLiFollowsTheSpec()
    {
        const int64_t T = 3;
        const Imported im = importFile("spec_conv.nir", T);
        std::vector<float> x(36);
        for (size_t i = 0; i < x.size(); ++i)
            x[i] = float(std::fmod(i * 0.37, 1.0));
        const auto out = runModule(im.module, x);
        QCOMPARE(out.size(), size_t(T * 4));
        const auto& w = values(im.graph, "conv", "weight"); // [2,1,3,3]
        const auto& bias = values(im.graph, "conv", "bias");
        const auto& fc = values(im.graph, "fc", "weight"); // [4,18]
        std::vector<double> current(72, 0.0);
        for (int o = 0; o < 2; ++o)
            for (int i = 0; i < 6; ++i)
                for (int j = 0; j < 6; ++j) {
                    double s = bias[size_t(o)];
                    for (int ki = 0; ki < 3; ++ki)
                        for (int kj = 0; kj < 3; ++kj) {
                            const int ii = i + ki - 1, jj = j + kj - 1;
                            if (ii >= 0 && ii < 6 && jj >= 0 && jj < 6)
                                s += w[size_t(o * 9 + ki * 3 + kj)] * x[size_t(ii * 6 + jj)];
                        }
                    current[size_t(o * 36 + i * 6 + j)] = s;
                }
        std::vector<double> vIf(72, 0.0), vLi(4, 0.0);
        double maxErr = 0.0;
        for (int64_t t = 0; t < T; ++t) {
            std::vector<double> spikes(72);
            for (size_t n = 0; n < 72; ++n) {
                vIf[n] += 1e-4 * 1e4 * current[n]; // IF: dv/dt = r I
                spikes[n] = fire(vIf[n], 1.0);
            }
            std::vector<double> pooled(18, 0.0); // SumPool2d 2x2 stride 2, flattened [2,3,3]
            for (int c = 0; c < 2; ++c)
                for (int i = 0; i < 6; ++i)
                    for (int j = 0; j < 6; ++j)
                        pooled[size_t(c * 9 + (i / 2) * 3 + j / 2)] += spikes[size_t(c * 36 + i * 6 + j)];
            for (int k = 0; k < 4; ++k) {
                double y = 0.0;
                for (int n = 0; n < 18; ++n)
                    y += fc[size_t(k * 18 + n)] * pooled[size_t(n)];
                vLi[size_t(k)] += 1e-4 / 2e-4 * (0.0 - vLi[size_t(k)] + 2.0 * y); // LI, tau 2e-4, r 2
                maxErr = std::max(maxErr, std::abs(vLi[size_t(k)] - out[size_t(t * 4 + k)]));
            }
        }
        QVERIFY2(maxErr < 1e-4, std::to_string(maxErr).c_str());
    }

    void branchesAreSummedAndThresholded()
    {
        const int64_t T = 2;
        const Imported im = importFile("spec_branches.nir", T);
        std::vector<float> x = {0.1f, 0.9f, 0.4f, 0.3f, 0.7f, 0.2f, 0.5f, 0.8f, 0.05f, 0.6f};
        const auto out = runModule(im.module, x);
        QCOMPARE(out.size(), size_t(T * 5));
        const auto& w = values(im.graph, "c1", "weight"); // [1,2,3], padding "same" = 1
        std::vector<double> c(5);
        for (int i = 0; i < 5; ++i) {
            double s = 0.25;
            for (int ch = 0; ch < 2; ++ch)
                for (int k = 0; k < 3; ++k)
                    if (i + k - 1 >= 0 && i + k - 1 < 5)
                        s += w[size_t(ch * 3 + k)] * x[size_t(ch * 5 + i + k - 1)];
            c[size_t(i)] = s;
        }
        double total = 0;
        for (double v : c)
            total += v;
        int ones = 0;
        for (int64_t t = 0; t < T; ++t)
            for (int i = 0; i < 5; ++i) {
                double v = 2.0 * (c[size_t(i)] + 0.1 * total); // (a + b) * scale
                const double z = fire(v, 0.5);
                ones += int(z);
                QCOMPARE(double(out[size_t(t * 5 + i)]), z);
            }
        QVERIFY(ones > 0 && ones < T * 5);
    }

    void cubaLifFollowsSnnTorchSynaptic()
    {
        // CubaLIF as snnTorch writes its Synaptic (alpha 0.8, beta 0.9), then a CubaLI readout.
        const Imported im = importFile("spec_cubalif.nir", kCubaSteps);
        const double err = cubaMaxError(im, {5.0, 5.0, 5.0});
        QVERIFY2(err < 1e-5, std::to_string(err).c_str());
    }

    // The CubaLIF's current stage (a never-firing lif whose membrane feeds the
    // neuron) and the CubaLI readout compile for a chip: the current leaves
    // its population as a graded value. The chip simulator reproduces the
    // fixed-point reference bit for bit, and that follows the float model.
    void cubaLifCompilesForAChip()
    {
        const Imported im = importFile("spec_cubalif.nir", kCubaSteps);
        simtest::Compiled c;
        try {
            c = simtest::compile(im.module, "loihi2");
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        const int64_t n = 64, size = c.program.inputSize();
        const std::vector<float> in = simtest::randomSamples(n, size, 5);
        const auto ref = fixedpoint::run(c.out.module, {interp::InputBatch{n, in}});
        QVERIFY2(ref.ok(), ref.error.c_str());
        const sim::SimResult r = sim::simulate(c.program, in, n, sim::SimOptions{});
        QVERIFY2(r.ok(), r.error.c_str());
        QCOMPARE(r.outputs[0].size(), ref.outputs[0].size());
        QVERIFY(std::memcmp(r.outputs[0].data(), ref.outputs[0].data(), r.outputs[0].size() * sizeof(float)) == 0);
        const auto f = interp::run(im.module, {interp::InputBatch{n, in}});
        QVERIFY2(f.ok(), f.error.c_str());
        double diff = 0.0, mag = 0.0;
        for (size_t i = 0; i < f.outputs[0].size(); ++i) {
            diff += std::fabs(double(f.outputs[0][i]) - double(ref.outputs[0][i]));
            mag += std::fabs(double(f.outputs[0][i]));
        }
        QVERIFY2(diff / mag < 0.05, std::to_string(diff / mag).c_str());
    }

    void perNeuronWInIsAnInputGain()
    {
        NirReadResult r = readNirFile(fixture("spec_cubalif.nir"));
        QVERIFY(r.graph);
        Imported im{*r.graph, {}};
        for (auto& n : im.graph.nodes)
            if (n.name == "lif1")
                n.fields.arrays["w_in"].values = {5.0, 2.5, 10.0};
        NirImportOptions o;
        o.timesteps = kCubaSteps;
        NirImportResult i = importFromNir(im.graph, o, "per_neuron_w_in.nir");
        QVERIFY2(i.module, i.diagnostics.format().c_str());
        im.module = std::move(*i.module);
        QCOMPARE(testutil::countOps(im.module, ir::OpKind::Mul), 1);
        const double err = cubaMaxError(im, {5.0, 2.5, 10.0});
        QVERIFY2(err < 1e-5, std::to_string(err).c_str());
    }

    void nestedGraphsAreFlattened()
    {
        // The same network with fc1 -> CubaLIF and the readout inside nested NIRGraph nodes.
        const int64_t T = 8;
        const Imported flat = importFile("spec_cubalif.nir", T);
        const Imported nested = importFile("spec_nested.nir", T);
        QVERIFY(nested.graph.find("block") && nested.graph.find("block")->subgraph);
        const std::vector<float> x = {0.9f, 0.6f};
        QCOMPARE(runModule(nested.module, x), runModule(flat.module, x));
        // Our writer keeps the nesting: written and read back, the same graph.
        QTemporaryDir dir;
        const std::string path = dir.filePath("nested.nir").toStdString();
        QVERIFY(!writeNirFile(nested.graph, path).hasErrors());
        NirReadResult again = readNirFile(path);
        QVERIFY2(again.graph, again.diagnostics.format().c_str());
        QVERIFY(again.graph->find("readout") && again.graph->find("readout")->subgraph);
        NirImportOptions o;
        o.timesteps = T;
        NirImportResult i = importFromNir(*again.graph, o, path);
        QVERIFY2(i.module, i.diagnostics.format().c_str());
        QCOMPARE(runModule(*i.module, x), runModule(flat.module, x));
        bool named = false; // flattened nodes are named <graph>.<node>
        for (const auto& op : nested.module.ops())
            named = named || op.origin == "block.lif1";
        QVERIFY(named);
    }

    // Files Norse, Rockpool and Sinabs wrote (the NIR paper's experiments).
    void filesNorseRockpoolAndSinabsWroteImport()
    {
        NirImportOptions o;
        o.timesteps = 10; // their graphs carry no step count
        // Norse: LIFBoxCell(tau_mem_inv = 400, v_th = 0.1), dt = 1e-4: tau = 25 steps, no input gain (r = 1).
        for (const char* name : {"norse_lif.nir", "rockpool_lif.nir"}) {
            NirReadResult r = readNirFile(fixture(name));
            QVERIFY2(r.graph, r.diagnostics.format().c_str());
            NirImportResult i = importFromNir(*r.graph, o, name);
            QVERIFY2(i.module, i.diagnostics.format().c_str());
            QCOMPARE(testutil::countOps(*i.module, ir::OpKind::Lif), 1);
            QCOMPARE(testutil::countOps(*i.module, ir::OpKind::Linear), 1);
            for (const auto& op : i.module->ops())
                if (op.kind == ir::OpKind::Lif) {
                    QVERIFY(std::abs(op.attrs.getFloat("tau") - 25.0) < 1e-5);
                    QVERIFY(std::abs(op.attrs.getFloat("v_threshold") - 0.1) < 1e-7);
                }
            // Rockpool's re-export: weight 0.04 and r = 24.02 (an input gain) for the same neuron.
            QCOMPARE(testutil::countOps(*i.module, ir::OpKind::Scale), std::string(name) == "rockpool_lif.nir" ? 1 : 0);
        }
        // Sinabs: IF neurons stepping v += I (dt = 1), four convolutions, sum pooling, two linear layers.
        NirReadResult r = readNirFile(fixture("sinabs_cnn.nir"));
        QVERIFY2(r.graph, r.diagnostics.format().c_str());
        o.dt = 1.0;
        NirImportResult i = importFromNir(*r.graph, o, "sinabs_cnn.nir");
        QVERIFY2(i.module, i.diagnostics.format().c_str());
        QCOMPARE(i.module->typeOf(i.module->inputs()[0]).shape, (ir::Shape{2, 34, 34}));
        QCOMPARE(testutil::countOps(*i.module, ir::OpKind::Lif), 5);
        QCOMPARE(testutil::countOps(*i.module, ir::OpKind::Linear), 2);
        QCOMPARE(testutil::countOps(*i.module, ir::OpKind::Scale), 0); // r * dt = 1: no input gain
        for (const auto& op : i.module->ops())
            if (op.kind == ir::OpKind::Lif)
                QCOMPARE(op.attrs.getString("neuron"), std::string("if"));
    }

    void perNeuronResistanceIsAnInputGain()
    {
        const int64_t T = 6;
        NirReadResult r = readNirFile(fixture("spec_affine_lif.nir"));
        QVERIFY(r.graph);
        NirGraph g = *r.graph;
        for (auto& n : g.nodes)
            if (n.name == "lif")
                n.fields.arrays["r"].values = {10.0, 4.0, 25.0};
        NirImportOptions o;
        o.timesteps = T;
        NirImportResult i = importFromNir(g, o, "per_neuron_r.nir");
        QVERIFY2(i.module, i.diagnostics.format().c_str());
        QCOMPARE(testutil::countOps(*i.module, ir::OpKind::Mul), 1);
        const std::vector<float> x = {0.8f, 0.3f};
        const auto out = runModule(*i.module, x);
        const auto& w = values(g, "affine", "weight");
        const auto& b = values(g, "affine", "bias");
        const double rs[] = {10.0, 4.0, 25.0};
        std::vector<double> v(3, 0.0);
        for (int64_t t = 0; t < T; ++t)
            for (size_t j = 0; j < 3; ++j) {
                const double current = w[j * 2] * x[0] + w[j * 2 + 1] * x[1] + b[j];
                v[j] += 1e-4 / 1e-3 * (0.0 - v[j] + rs[j] * current);
                QCOMPARE(double(out[size_t(t * 3) + j]), fire(v[j], 1.0));
            }
    }

    void missingTimestepsIsAnError()
    {
        NirReadResult r = readNirFile(fixture("spec_affine_lif.nir"));
        QVERIFY(r.graph);
        QVERIFY(!nirHasTimesteps(*r.graph));
        NirImportResult i = importFromNir(*r.graph, {}, "spec_affine_lif.nir");
        QVERIFY(!i.module);
        QVERIFY(i.diagnostics.format().find("--timesteps") != std::string::npos);
    }

    void malformedFilesGiveLocatedErrors_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("where");
        QTest::addColumn<QString>("message");
        QTest::newRow("not hdf5") << "bad_not_hdf5.nir" << "" << "HDF5 file";
        QTest::newRow("truncated") << "bad_truncated.nir" << "" << "HDF5 file";
        QTest::newRow("no graph") << "bad_no_graph.nir" << "/node" << "missing";
        QTest::newRow("no type") << "bad_missing_type.nir" << "/node/nodes/affine" << "no scalar string dataset \"type\"";
        QTest::newRow("edge") << "bad_edge.nir" << "/node" << "names no node \"nowhere\"";
        QTest::newRow("cycle") << "bad_cycle.nir" << "/node/nodes/affine (Affine)"
                               << "the recurrent edge from \"affine\" has no known shape";
        QTest::newRow("delay fraction") << "bad_delay_fraction.nir" << "/node/nodes/delay (Delay)"
                                        << "\"delay\" 0.00015 s is 1.5 time steps of dt = 0.0001 s: not a whole number";
        QTest::newRow("delay per neuron") << "bad_delay_per_neuron.nir" << "/node/nodes/delay (Delay)"
                                          << "\"delay\" differs between elements";
        QTest::newRow("weight rank") << "bad_weight_rank.nir" << "/node/nodes/affine (Affine)" << "\"weight\" must be 2-D";
        QTest::newRow("unknown type") << "bad_unknown_type.nir" << "/node/nodes/affine (Quantum)" << "unknown NIR node type";
        QTest::newRow("huge shape") << "bad_huge_shape.nir" << "/node/nodes/input (Input)" << "shape";
        QTest::newRow("shape mismatch") << "bad_shape_mismatch.nir" << "/node/nodes/affine (Affine)" << "linear";
        QTest::newRow("per neuron") << "bad_per_neuron.nir" << "/node/nodes/lif (LIF)" << "\"tau\" differs between neurons";
        QTest::newRow("nested edge") << "bad_nested_edge.nir" << "/node/nodes/block" << "names no node \"lif\"";
        QTest::newRow("nested shape") << "bad_nested_shape.nir" << "/node/nodes/block/nodes/input (a nested graph's Input/Output)"
                                      << "shape [5] does not match the incoming [2]";
        QTest::newRow("per neuron cuba") << "bad_per_neuron_cuba.nir" << "/node/nodes/lif1 (CubaLIF)"
                                         << "\"tau_syn\" differs between neurons";
        QTest::newRow("float edges") << "bad_float_edges.nir" << "/node/edges" << "floating-point numbers, not node names";
        QTest::newRow("no output") << "bad_no_output.nir" << "/node" << "no Output node, and no node without out-edges";
        QTest::newRow("compound") << "bad_compound.nir" << "/node/nodes/affine/bias" << "not a NIR number or string";
    }

    void malformedFilesGiveLocatedErrors()
    {
        QFETCH(QString, file);
        QFETCH(QString, where);
        QFETCH(QString, message);
        const std::string path = fixture(file.toStdString().c_str());
        Diagnostics d;
        NirReadResult r = readNirFile(path);
        d.append(r.diagnostics);
        if (r.graph) {
            NirImportOptions o;
            o.timesteps = 2;
            NirImportResult i = importFromNir(*r.graph, o, path);
            QVERIFY(!i.module);
            d.append(i.diagnostics);
        }
        QVERIFY(d.hasErrors());
        bool found = false;
        for (const auto& item : d.items())
            found = found || (item.severity == Severity::Error && item.loc.file == path && item.op == where.toStdString() &&
                              item.message.find(message.toStdString()) != std::string::npos);
        QVERIFY2(found, d.format().c_str());
    }
};

QTEST_GUILESS_MAIN(TestNirFiles)
#include "test_nir_files.moc"

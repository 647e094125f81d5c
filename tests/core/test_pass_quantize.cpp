// quantize + the fixed-point reference executor (core/fixedpoint).
#include "fixedpoint/arith.h"
#include "fixedpoint/executor.h"
#include "fixedpoint/qmodel.h"
#include "ir/ir_io.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/runner.h"
#include "test_pass_util.h"

#include <QtTest>

#include <fstream>
#include <limits>
#include <sstream>

using namespace stc;
using namespace stc::passes;
namespace fx = stc::fixedpoint;

namespace {

RunResult runText(const ir::Module& m, const std::string& text, CompileContext* ctxIn = nullptr)
{
    const PassRegistry reg = makeBuiltinRegistry();
    Diagnostics d;
    auto p = parsePipeline(text, reg, d);
    if (!p)
        throw std::runtime_error(d.format());
    CompileContext local;
    return runPipeline(m, *p, reg, ctxIn ? *ctxIn : local);
}

// Pixel-like inputs: multiples of 1/255 in [0, 1].
std::vector<interp::InputBatch> pixelInputs(const ir::Module& m, int64_t batch, uint64_t seed)
{
    auto in = testutil::randomInputs(m, batch, seed);
    for (auto& b : in)
        for (auto& x : b.data)
            x = float(std::min(255.0, std::floor(double(x) / 1.5 * 256.0))) / 255.0f;
    return in;
}

int argmaxAt(const std::vector<float>& v, size_t s, size_t n)
{
    return int(std::max_element(v.begin() + long(s * n), v.begin() + long(s * n + n)) - v.begin() - long(s * n));
}

// Snaps every conv/linear weight to the 8-bit per-layer grid the quantizer
// will use (max |w| = 127 * 2^-6, steps of 2^-6) and biases to multiples of
// 2^-6, so that quantization itself is lossless.
ir::Module snapToGrid(ir::Module m)
{
    for (auto& op : m.mutableOps()) {
        if (op.kind != ir::OpKind::Conv1d && op.kind != ir::OpKind::Conv2d && op.kind != ir::OpKind::Linear)
            continue;
        for (size_t k = 1; k < op.operands.size(); ++k) {
            ir::Op& c = m.mutableOps()[size_t(m.value(op.operands[k]).def)];
            std::vector<float> v = c.constant->toFloats();
            for (auto& x : v)
                x = std::clamp(std::round(x * 64.0f), -126.0f, 126.0f) / 64.0f;
            if (k == 1)
                v[0] = 127.0f / 64.0f;
            c.constant = std::make_shared<const ir::Tensor>(ir::Tensor::fromFloats(c.constant->shape(), v));
        }
    }
    return m;
}

ir::Attributes leakyAttrs(double beta, const std::string& reset, const std::string& output)
{
    ir::Attributes a;
    a.set("neuron", std::string("leaky"));
    a.set("beta", beta);
    a.set("fire", std::string("gt"));
    a.set("reset", reset);
    a.set("output", output);
    a.set("v_threshold", 1.0);
    return a;
}

// A NIR LI readout as imported: a lif that never fires (threshold = largest
// finite f32), no reset, the membrane as output.
ir::Attributes liAttrs()
{
    ir::Attributes a;
    a.set("neuron", std::string("lif"));
    a.set("tau", 4.0);
    a.set("decay_input", false);
    a.set("reset", std::string("none"));
    a.set("output", std::string("membrane"));
    a.set("fire", std::string("gt"));
    a.set("v_threshold", double(std::numeric_limits<float>::max()));
    return a;
}

// snnTorch-style MLP on a [64] input, T = 8: its first layer applied once to
// the float input before a direct encode (encodeFirst = false) or after it,
// leaky neurons with the delayed subtract reset, and a membrane readout (a
// leaky one with a reset, or an LI that never fires) averaged over time.
ir::Module leakyMlp(uint64_t seed, double beta, bool encodeFirst, bool liReadout)
{
    testutil::Builder b(seed, 8);
    ir::ValueId x = b.m.addInput({ir::ElemType::F32, {64}, ir::TimeKind::Invariant}, "image");
    if (encodeFirst)
        x = b.encode(x);
    ir::ValueId fc1 = b.op(ir::OpKind::Linear, {x, b.weight({32, 64}, 0.3f, "fc1.w"), b.weight({32}, 0.1f, "fc1.b")},
                           {}, "fc1");
    if (!encodeFirst)
        fc1 = b.encode(fc1);
    ir::ValueId s = b.op(ir::OpKind::Lif, {fc1}, leakyAttrs(beta, "subtract-delayed", "spikes"), "lif1");
    ir::ValueId fc2 = b.op(ir::OpKind::Linear, {s, b.weight({10, 32}, 0.5f, "fc2.w"), b.weight({10}, 0.1f, "fc2.b")},
                           {}, "fc2");
    ir::ValueId r = b.op(ir::OpKind::Lif, {fc2},
                         liReadout ? liAttrs() : leakyAttrs(beta, "subtract-delayed", "membrane"), "readout");
    b.m.addOutput({b.meanTime(r)});
    return std::move(b.m);
}

ir::Module loadTestModel(const std::string& rel)
{
    ir::LoadResult lr = ir::loadModule(std::string(STC_TEST_DATA_DIR) + "/" + rel);
    if (!lr.ok())
        throw std::runtime_error(lr.diagnostics.format());
    return std::move(*lr.module);
}

// Fraction of samples whose argmax agrees, and the mean absolute output
// difference relative to the mean absolute float output.
std::pair<double, double> compareOutputs(const std::vector<float>& ref, const std::vector<float>& got, int64_t batch)
{
    const size_t n = ref.size() / size_t(batch);
    int agree = 0;
    for (size_t s = 0; s < size_t(batch); ++s)
        agree += argmaxAt(ref, s, n) == argmaxAt(got, s, n);
    double diff = 0.0, mag = 0.0;
    for (size_t i = 0; i < ref.size() && i < got.size(); ++i) {
        diff += std::fabs(double(ref[i]) - double(got[i]));
        mag += std::fabs(double(ref[i]));
    }
    return {double(agree) / double(batch), ref.size() == got.size() ? diff / std::max(mag, 1e-30) : 1.0};
}

fx::RunOptions twoThreads()
{
    fx::RunOptions o;
    o.threads = 2;
    return o;
}

// log2 of a / b if it is an integer, else NaN.
double exactLog2(double a, double b)
{
    const double l = std::log2(a / b);
    return std::fabs(l - std::round(l)) <= 1e-12 ? std::round(l) : std::nan("");
}

// One sample of the module's (single) input, values in [0, 1).
std::vector<float> m0Input(const ir::Module& m)
{
    std::vector<float> x(size_t(m.typeOf(m.inputs()[0]).numElements()));
    for (size_t i = 0; i < x.size(); ++i)
        x[i] = float((i * 37) % 100) / 100.0f;
    return x;
}

} // namespace

class TestPassQuantize : public QObject {
    Q_OBJECT
private slots:
    void neuronArithmetic()
    {
        QCOMPARE(fx::decay(7, 2048), int64_t{3});
        QCOMPARE(fx::decay(-7, 2048), int64_t{-3}); // toward zero
        QCOMPARE(fx::decay(100, 4096), int64_t{0});
        QCOMPARE(fx::decay(100, 0), int64_t{100});
        QCOMPARE(fx::wrapState(fx::kStateMax + 1), -fx::kStateMax - 1);
        QCOMPARE(fx::saturateState(int64_t{1} << 30), fx::kStateMax);
        fx::NeuronParams p;
        p.dv = 2048;
        p.actShift = 0;
        p.theta = 10;
        int32_t u = 0, v = 0;
        QVERIFY(!fx::neuronStep(p, u, v, 6)); // v = 6
        QCOMPARE(v, 6);
        QVERIFY(fx::neuronStep(p, u, v, 7)); // v = 3 + 7 = 10 >= 10: spike, hard reset
        QCOMPARE(v, 0);
        p.fireOnEqual = false;
        v = 0;
        QVERIFY(!fx::neuronStep(p, u, v, 10));
        const fx::Threshold t = fx::encodeThreshold((int64_t{1} << 17) + 1);
        QVERIFY(t.mantissa < (int64_t{1} << 17));
        QVERIFY(t.value() >= (int64_t{1} << 17) + 1);
        // Never firing: the encoded kNeverFires lies above every saturated v.
        QVERIFY(fx::encodeThreshold(fx::kNeverFires).value() > fx::kStateMax);
        p.theta = fx::encodeThreshold(fx::kNeverFires).value();
        p.dv = 0;
        v = 0;
        for (int k = 0; k < 4; ++k)
            QVERIFY(!fx::neuronStep(p, u, v, fx::kStateMax));
        QCOMPARE(v, int32_t(fx::kStateMax));
        // snnTorch's delayed subtract reset: v keeps its value when it fires,
        // the next step subtracts theta after the decay; `charged` is v.
        fx::NeuronParams d;
        d.dv = 1024; // beta = 0.75
        d.actShift = 0;
        d.theta = 100;
        d.fireOnEqual = false;
        d.reset = fx::Reset::SubtractDelayed;
        int32_t du = 0, dvv = 0, charged = -1;
        QVERIFY(fx::neuronStep(d, du, dvv, 120, charged)); // v = 120 > 100: spike, no reset yet
        QCOMPARE(dvv, 120);
        QCOMPARE(charged, 120);
        QVERIFY(!fx::neuronStep(d, du, dvv, 40, charged)); // v = 90 + 40 - 100 = 30
        QCOMPARE(dvv, 30);
        QVERIFY(!fx::neuronStep(d, du, dvv, 0, charged)); // 30 is not above theta: nothing subtracted
        QCOMPARE(dvv, 22);                                 // 30 * 0.75 = 22.5, toward zero
        QCOMPARE(std::string(fx::resetName(fx::resetFromName("subtract-delayed"))), std::string("subtract-delayed"));
        // Membrane bound: 10 << 2 per step, 4 steps without leak.
        fx::NeuronParams b;
        b.actShift = 2;
        QCOMPARE(fx::membraneBound(b, 10, 4), int64_t{160});
        b.dv = 2048; // halves: 40 * (1 + 0.5 + 0.25 + 0.125)
        QCOMPARE(fx::membraneBound(b, 10, 4), int64_t{75});
    }

    void annotationsAndStats()
    {
        const ir::Module m = testutil::convNet();
        RunResult r = runText(m, "fold-bn,quantize{bits=8}");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        const ir::Module& q = r.module;
        QVERIFY(q.attrs.getBool("quantized"));
        QVERIFY2(!ir::verify(q).hasErrors(), ir::verify(q).format().c_str());
        for (const auto& op : q.ops()) {
            if (op.kind == ir::OpKind::Conv2d || op.kind == ir::OpKind::Linear) {
                QVERIFY(q.typeOf(op.operands[1]).elem == ir::ElemType::I8);
                QVERIFY(q.typeOf(op.operands[2]).elem == ir::ElemType::I32);
                QVERIFY(op.attrs.getFloat("q.weight_scale") > 0);
            }
            if (op.kind == ir::OpKind::Lif) {
                QCOMPARE(op.attrs.getInt("q.dv"), int64_t{2048}); // tau = 2
                QVERIFY(op.attrs.getInt("q.theta_mant") > 0);
            }
        }
        const auto& s = r.records[1].stats;
        QCOMPARE(s.getInt("layers-quantized"), int64_t{3});
        QVERIFY(s.getFloat("weight-error.conv", 1.0) < 0.01);
        QVERIFY(fx::analyzeQuantized(q).ok());
    }

    void quantizeNeedsFoldBn()
    {
        RunResult r = runText(testutil::convNet(), "quantize");
        QCOMPARE(r.status, RunStatus::Failed);
        QVERIFY(r.diagnostics.format().find("quantize needs fold-bn before it") != std::string::npos);
    }

    void losslessGridMatchesFloatExactly_data()
    {
        QTest::addColumn<int>("which");
        QTest::newRow("cnn") << 0;
        QTest::newRow("attention conv1d") << 1;
        QTest::newRow("attention linear") << 2;
    }
    void losslessGridMatchesFloatExactly()
    {
        // With weights on the quantization grid, the only differences left are
        // float rounding in the reference; spikes must agree layer by layer.
        QFETCH(int, which);
        RunResult folded = runText(which == 0 ? testutil::convNet(5) : testutil::attentionNet(which == 2, 5), "fold-bn");
        const ir::Module m = snapToGrid(folded.module);
        RunResult r = runText(m, "quantize{per-channel=false}");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        const auto in = pixelInputs(m, 32, 3);
        const auto ref = interp::run(m, in);
        const auto fixed = fx::run(r.module, in);
        QVERIFY2(fixed.ok(), fixed.error.c_str());
        QCOMPARE(ref.lif.size(), fixed.lif.size());
        for (size_t l = 0; l < ref.lif.size(); ++l)
            QVERIFY2(ref.lif[l].total == fixed.lif[l].total,
                     (ref.lif[l].name + ": " + std::to_string(ref.lif[l].total) + " vs " +
                      std::to_string(fixed.lif[l].total)).c_str());
        QVERIFY(testutil::maxAbsDiff(ref.outputs[0], fixed.outputs[0]) < 1e-4);
    }

    void eightBitAgreesWithFloat_data()
    {
        QTest::addColumn<int>("which");
        QTest::addColumn<bool>("perChannel");
        QTest::newRow("cnn per-channel") << 0 << true;
        QTest::newRow("cnn per-layer") << 0 << false;
        QTest::newRow("attention") << 1 << true;
    }
    void eightBitAgreesWithFloat()
    {
        QFETCH(int, which);
        QFETCH(bool, perChannel);
        const ir::Module m = which == 0 ? testutil::convNet(8) : testutil::attentionNet(false, 8);
        RunResult r = runText(m, std::string("fold-bn,quantize{per-channel=") + (perChannel ? "true" : "false") + "}");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        const int64_t batch = 200;
        const auto in = pixelInputs(m, batch, 9);
        const auto ref = testutil::runOutputs(m, in);
        const auto fixed = fx::run(r.module, in, {2});
        QVERIFY2(fixed.ok(), fixed.error.c_str());
        const size_t n = ref.size() / size_t(batch);
        int agree = 0;
        for (size_t s = 0; s < size_t(batch); ++s)
            agree += argmaxAt(ref, s, n) == argmaxAt(fixed.outputs[0], s, n);
        QVERIFY2(agree >= batch * 9 / 10, std::to_string(agree).c_str());
    }

    void residualAddIsAligned_data()
    {
        // Spiking ResNet BasicBlocks (tools/models/gen_residual_block_sir.py):
        // conv+bn output + identity spikes, and + a downsample conv+bn output.
        // Both were refused before add alignment.
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("alignedLayer");
        QTest::newRow("identity spikes") << "passes/residual_block.sir" << "c2";
        QTest::newRow("downsample conv") << "passes/residual_block_downsample.sir" << "dc";
    }
    void residualAddIsAligned()
    {
        QFETCH(QString, file);
        QFETCH(QString, alignedLayer);
        const ir::Module m = loadTestModel(file.toStdString());
        RunResult r = runText(m, "fold-bn,canonicalize,dce,quantize{bits=8}");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        const ir::Module& q = r.module;
        const fx::Analysis a = fx::analyzeQuantized(q);
        QVERIFY2(a.ok(), a.error.c_str());
        int adds = 0;
        for (const auto& op : q.ops())
            if (op.kind == ir::OpKind::Add) {
                ++adds;
                const double l = exactLog2(a.values[size_t(op.operands[0])].scale,
                                           a.values[size_t(op.operands[1])].scale);
                QVERIFY2(!std::isnan(l), "add operand scales are not a power of two apart");
            }
        QCOMPARE(adds, 1);
        // Exactly the layer quantized second was moved onto the grid, by less than a bit.
        const auto& s = r.records.back().stats;
        int moved = 0;
        for (const auto& st : s.items())
            if (st.name.rfind("add-alignment-bits.", 0) == 0) {
                ++moved;
                QCOMPARE(QString::fromStdString(st.name), "add-alignment-bits." + alignedLayer);
                const double bits = s.getFloat(st.name);
                QVERIFY(bits > 0.0 && bits < 1.0);
            }
        QCOMPARE(moved, 1);
        QVERIFY(s.getFloat("weight-error." + alignedLayer.toStdString(), 1.0) < 0.02);
    }

    void residualBlockAgreesWithFloat_data()
    {
        // Measured agreement (200 samples): 8 bits 177 and 179, 10 bits 196
        // and 192, 12 bits 197 and 198; spike totals within 0.3 % at 8 bits.
        // It converges with the bits: the aligned layer's < 1 bit is not
        // what limits it (the stem layer, never aligned, is off by as much).
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("minAgree");
        QTest::newRow("identity spikes 8 bits") << "passes/residual_block.sir" << 8 << 170;
        QTest::newRow("downsample conv 8 bits") << "passes/residual_block_downsample.sir" << 8 << 170;
        QTest::newRow("identity spikes 10 bits") << "passes/residual_block.sir" << 10 << 185;
        QTest::newRow("downsample conv 10 bits") << "passes/residual_block_downsample.sir" << 10 << 185;
    }
    void residualBlockAgreesWithFloat()
    {
        // Tolerance style of eightBitAgreesWithFloat (top-1 agreement of the
        // readout), plus per-layer spike totals.
        QFETCH(QString, file);
        QFETCH(int, bits);
        QFETCH(int, minAgree);
        const ir::Module m = loadTestModel(file.toStdString());
        RunResult r = runText(m, "fold-bn,canonicalize,dce,quantize{bits=" + std::to_string(bits) + "}");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        const int64_t batch = 200;
        const auto in = pixelInputs(m, batch, 9);
        const auto ref = interp::run(m, in);
        fx::RunOptions ro;
        ro.threads = 2;
        const auto fixed = fx::run(r.module, in, ro);
        QVERIFY2(ref.ok(), ref.error.c_str());
        QVERIFY2(fixed.ok(), fixed.error.c_str());
        QCOMPARE(ref.lif.size(), fixed.lif.size());
        for (size_t l = 0; l < ref.lif.size(); ++l) {
            const double want = double(ref.lif[l].total), got = double(fixed.lif[l].total);
            QVERIFY2(want > 0 && std::fabs(got - want) <= 0.01 * want,
                     (ref.lif[l].name + ": " + std::to_string(got) + " vs " + std::to_string(want)).c_str());
        }
        const size_t n = ref.outputs[0].size() / size_t(batch);
        int agree = 0;
        for (size_t s = 0; s < size_t(batch); ++s)
            agree += argmaxAt(ref.outputs[0], s, n) == argmaxAt(fixed.outputs[0], s, n);
        QVERIFY2(agree >= minAgree, std::to_string(agree).c_str());
    }

    // The f32 interpreter refuses a quantized module (integer mantissas read as
    // floats computed 8 % on the bundled Spikformer) and says what runs it.
    void f32InterpreterRefusesAQuantizedModule()
    {
        RunResult r = runText(loadTestModel("backends/if_convnet.sir"), "fold-bn,canonicalize,dce,quantize{bits=8}");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        const auto in = m0Input(r.module);
        const interp::RunResult f = interp::run(r.module, {interp::InputBatch{1, in}});
        QVERIFY(!f.ok());
        QVERIFY2(f.error.find("quantized") != std::string::npos && f.error.find("--fixed-point") != std::string::npos,
                 f.error.c_str());
        const fx::RunResult q = fx::run(r.module, {interp::InputBatch{1, in}});
        QVERIFY2(q.ok(), q.error.c_str());
    }

    void unalignableAddIsRefused()
    {
        // spikes + 3 x spikes: no layer feeds the add, so no weight unit can
        // align it; the refusal is located and says why.
        const char* text = R"(module @scaled_add {timesteps = 2} {
  %x = input : f32[4]
  %w = const [0.5, 0.25, 1.0, -0.5, 0.75, 0.5, 0.25, 1.0, 1.0, 0.5, -0.25, 0.5] : f32[3,4] loc("fc")
  %e = encode %x {mode = "direct"} : f32[T,4]
  %fc = linear %e, %w : f32[T,3] loc("fc")
  %s = lif %fc {decay_input = true, reset = "hard", tau = 2.0, v_reset = 0.0, v_threshold = 1.0} : spike[T,3] loc("lif")
  %s3 = scale %s {factor = 3.0} : f32[T,3] loc("triple")
  %sum = add %s3, %s : f32[T,3] loc("sum")
  %o = lif %sum {decay_input = true, reset = "hard", tau = 2.0, v_reset = 0.0, v_threshold = 1.0} : spike[T,3] loc("out")
  %r = mean %o {over_time = true} : f32[3]
  output %r
}
)";
        auto lr = ir::loadModuleFromText(text, "scaled_add.sir");
        QVERIFY2(lr.ok(), lr.diagnostics.format().c_str());
        RunResult r = runText(*lr.module, "quantize");
        QCOMPARE(r.status, RunStatus::Failed);
        const std::string d = r.records[0].diagnostics.format();
        QVERIFY2(d.find("[%sum = add]") != std::string::npos && d.find("not a power of two") != std::string::npos &&
                     d.find("ratio 3") != std::string::npos && d.find("neither operand comes from one") != std::string::npos &&
                     d.find("at sum") != std::string::npos,
                 d.c_str());
    }


    // A membrane readout (lif output = "membrane") is a graded value in the
    // neuron's state unit, not a 0/1 spike: the fixed-point logits follow the
    // float ones (tests/data/backends/if_convnet.sir: IF readout, no reset).
    void membraneReadoutIsAValue()
    {
        const ir::Module m = loadTestModel("backends/if_convnet.sir");
        RunResult r = runText(m, "fold-bn,canonicalize,dce,quantize{bits=8}");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        const ir::Module& q = r.module;
        const fx::Analysis a = fx::analyzeQuantized(q);
        QVERIFY2(a.ok(), a.error.c_str());
        const ir::ValueId out = q.findValue("out");
        const ir::Op& readout = q.definingOp(out);
        QVERIFY(readout.attrs.getFloat("q.v_scale") > 0.0);
        QCOMPARE(a.values[size_t(out)].scale, readout.attrs.getFloat("q.v_scale"));
        QVERIFY(a.values[size_t(out)].bound > 1);
        const int64_t batch = 100;
        const auto in = pixelInputs(m, batch, 4);
        const auto fixed = fx::run(q, in, twoThreads());
        QVERIFY2(fixed.ok(), fixed.error.c_str());
        const auto [agree, relErr] = compareOutputs(testutil::runOutputs(m, in), fixed.outputs[0], batch);
        QVERIFY2(agree >= 0.9, std::to_string(agree).c_str());
        QVERIFY2(relErr < 0.1, std::to_string(relErr).c_str());
    }

    // A never-firing readout (NIR LI: threshold = FLT_MAX) needs no threshold.
    void neverFiringReadoutQuantizes()
    {
        const ir::Module m = leakyMlp(6, 0.75, true, true);
        RunResult r = runText(m, "quantize");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        const ir::Op& li = r.module.definingOp(r.module.findValue("readout"));
        QCOMPARE(li.attrs.getInt("q.theta_mant") << li.attrs.getInt("q.theta_exp"),
                 fx::encodeThreshold(fx::kNeverFires).value());
        QCOMPARE(li.attrs.getInt("q.act_shift"), int64_t{fx::kDefaultActShift}); // not lowered for the threshold
        const int64_t batch = 100;
        const auto in = pixelInputs(m, batch, 5);
        const auto fixed = fx::run(r.module, in, twoThreads());
        QVERIFY2(fixed.ok(), fixed.error.c_str());
        const auto [agree, relErr] = compareOutputs(testutil::runOutputs(m, in), fixed.outputs[0], batch);
        QVERIFY2(agree >= 0.9, std::to_string(agree).c_str());
        QVERIFY2(relErr < 0.1, std::to_string(relErr).c_str());
        QCOMPARE(fixed.lif.back().total, int64_t{0});
    }

    // snnTorch's form: the first layer runs once on the float input, then a
    // direct encode repeats it; quantize moves the encode to the input (the
    // float model is unchanged bit for bit) and runs the delayed subtract reset.
    void leakyLayerOnFloatInput()
    {
        const ir::Module m = leakyMlp(7, 0.75, false, false);
        RunResult r = runText(m, "quantize");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QCOMPARE(r.records[0].stats.getInt("encodes-hoisted"), int64_t{1});
        const ir::Module& q = r.module;
        const ir::Op& enc = q.definingOp(q.findValue("enc"));
        QCOMPARE(enc.kind, ir::OpKind::Encode);
        QCOMPARE(q.definingOp(enc.operands[0]).kind, ir::OpKind::Input);
        QVERIFY(q.typeOf(q.findValue("fc1")).perStep());
        const int64_t batch = 100;
        const auto in = pixelInputs(m, batch, 6);
        const auto ref = interp::run(m, in);
        const auto fixed = fx::run(q, in, twoThreads());
        QVERIFY2(fixed.ok(), fixed.error.c_str());
        const auto [agree, relErr] = compareOutputs(ref.outputs[0], fixed.outputs[0], batch);
        QVERIFY2(agree >= 0.9, std::to_string(agree).c_str());
        QVERIFY2(relErr < 0.1, std::to_string(relErr).c_str());
        const double rate = double(fixed.lif[0].total) / double(ref.lif[0].total);
        QVERIFY2(ref.lif[0].total > 0 && std::fabs(rate - 1.0) < 0.05, std::to_string(rate).c_str());
    }

    // Golden IR: the encode moved before the first layer, the delayed reset
    // kept, q.v_scale on the membrane readout (tests/data/passes/).
    void encodeAfterLayerGolden()
    {
        const std::string dir = std::string(STC_TEST_DATA_DIR) + "/passes/";
        RunResult r = runText(loadTestModel("passes/leaky_encode_after_layer.sir"), "quantize");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        std::ifstream f(dir + "leaky_encode_after_layer.quantized.sir");
        std::stringstream golden;
        golden << f.rdbuf();
        QVERIFY(!golden.str().empty());
        const std::string printed = ir::printModule(r.module);
        size_t i = 0;
        while (i < printed.size() && i < golden.str().size() && printed[i] == golden.str()[i])
            ++i;
        QVERIFY2(printed == golden.str(), ("differs at byte " + std::to_string(i) + ": " + printed.substr(i, 80)).c_str());
    }

    void calibrationAndRebalance()
    {
        const ir::Module m = testutil::convNet(8);
        CompileContext ctx;
        int64_t asked = 0;
        ctx.calibration = [&](int64_t n) {
            asked = n;
            CalibrationSet set;
            set.sampleShape = {1, 8, 8};
            for (const auto& b : pixelInputs(m, n, 21))
                for (int64_t s = 0; s < n; ++s)
                    set.samples.emplace_back(b.data.begin() + s * 64, b.data.begin() + (s + 1) * 64);
            return set;
        };
        RunResult r = runText(m, "fold-bn,quantize{calibration-samples=64 rebalance=true rebalance-rounds=2}", &ctx);
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QCOMPARE(asked, int64_t{64});
        const auto& s = r.records[1].stats;
        QCOMPARE(s.getInt("calibration-samples"), int64_t{64});
        QVERIFY(s.find("rate-error.conv.lif"));
        QVERIFY(s.getFloat("calibration-top1-agreement") > 0.8);
    }

    void unsupportedIsReported()
    {
        // rate encoding has no fixed-point form here: a located error.
        testutil::Builder b(1);
        ir::ValueId x = b.m.addInput({ir::ElemType::F32, {4}, ir::TimeKind::Invariant}, "x");
        ir::Attributes a;
        a.set("mode", std::string("rate"));
        ir::ValueId e = b.op(ir::OpKind::Encode, {x}, a, "enc");
        b.m.addOutput({b.meanTime(b.lif(b.op(ir::OpKind::Linear, {e, b.weight({3, 4}, 1.0f)}, {}, "fc")))});
        RunResult r = runText(b.m, "quantize");
        QCOMPARE(r.status, RunStatus::Failed);
        QVERIFY2(r.records[0].diagnostics.format().find("direct encoding") != std::string::npos,
                 r.records[0].diagnostics.format().c_str());
    }

    void executorRejectsFloatModule()
    {
        const auto res = fx::run(testutil::convNet(), testutil::randomInputs(testutil::convNet(), 1, 1));
        QVERIFY(!res.ok());
        QVERIFY(res.error.find("not quantized") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestPassQuantize)
#include "test_pass_quantize.moc"

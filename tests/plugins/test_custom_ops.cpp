// Custom ops end to end through the plugin host: the real SDT attention plugin
// (custom.sdt_mask_add) registers at load; a .sir using it parses, verifies,
// prints back byte for byte; its reference implementation and its lowering
// into built-in ops give bit-identical interpreter outputs; the lowered module
// compiles and the chip simulator reproduces the fixed-point reference; wrong
// operands are located verifier errors; an unknown op or a plugin refused for
// its metadata is a located parse error naming the plugin.
#include "interp/interpreter.h"
#include "ir/custom_op.h"
#include "ir/ir_io.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/registry.h"
#include "passes/runner.h"
#include "plugin_host.h"
#include "sim_test_util.h"
#include "target/network_extract.h"

#include <QtTest>
#include <cstring>

using namespace stc;

namespace {

const char* kModel = STC_TEST_DATA_DIR "/customops/sdt_attention.sir";

std::string readFile(const std::string& path)
{
    std::string text, error;
    if (!ir::readTextFile(path, text, error))
        throw std::runtime_error(error);
    return text;
}

// The file without its whole-line comments (the printer drops them).
std::string withoutComments(const std::string& text)
{
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        end = end == std::string::npos ? text.size() : end + 1;
        const std::string line = text.substr(pos, end - pos);
        if (line.rfind("//", 0) != 0)
            out += line;
        pos = end;
    }
    return out;
}

plugins::PluginHost& host()
{
    static plugins::PluginHost h({QStringLiteral(STC_PLUGIN_DIR)});
    return h;
}

ir::Module load(const std::string& text)
{
    ir::LoadOptions opt;
    opt.customOps = &host().customOps();
    ir::LoadResult r = ir::loadModuleFromText(text, "sdt.sir", opt);
    if (!r.ok())
        throw std::runtime_error(r.diagnostics.format());
    return std::move(*r.module);
}

ir::Module lowered(const ir::Module& m, const std::string& pipeline = "lower-custom")
{
    const passes::PassRegistry reg = passes::makeBuiltinRegistry();
    Diagnostics d;
    auto p = passes::parsePipeline(pipeline, reg, d);
    if (!p)
        throw std::runtime_error(d.format());
    passes::CompileContext ctx;
    passes::RunResult r = passes::runPipeline(m, *p, reg, ctx);
    if (!r.ok())
        throw std::runtime_error(r.allDiagnostics().format());
    return std::move(r.module);
}

std::vector<float> randomInputs(int64_t batch, int64_t size)
{
    return simtest::randomSamples(batch, size, 5);
}

// Replaces the first occurrence of `from` (which must exist) by `to`.
std::string edited(std::string text, const std::string& from, const std::string& to)
{
    const size_t p = text.find(from);
    if (p == std::string::npos)
        throw std::runtime_error("fixture text lacks: " + from);
    return text.replace(p, from.size(), to);
}

// "sdt.sir:LINE:COL: error: ..." of the single verifier/parser error for `text`.
std::string firstError(const std::string& text, const ir::CustomOpRegistry* registry, int* line, int* col)
{
    ir::LoadOptions opt;
    opt.customOps = registry;
    ir::LoadResult r = ir::loadModuleFromText(text, "sdt.sir", opt);
    for (const Diagnostic& d : r.diagnostics.items())
        if (d.severity == Severity::Error) {
            *line = d.loc.line;
            *col = d.loc.col;
            return d.format();
        }
    return {};
}

int lineOf(const std::string& text, const std::string& needle)
{
    const size_t p = text.find(needle);
    return p == std::string::npos ? -1 : int(std::count(text.begin(), text.begin() + ptrdiff_t(p), '\n')) + 1;
}

} // namespace

class TestCustomOps : public QObject {
    Q_OBJECT
private slots:
    void pluginRegistersItsOps()
    {
        const plugins::PluginInfo* found = nullptr;
        for (const auto& p : host().plugins())
            if (p.name == "customop-sdt-attention")
                found = &p;
        QVERIFY2(found, "customop-sdt-attention plugin not found in " STC_PLUGIN_DIR);
        QVERIFY2(found->usable, qPrintable(found->problem));
        QCOMPARE(found->kind, QString("customops"));
        QCOMPARE(found->iid, QString("org.stc.CustomOps/1"));
        QCOMPARE(found->ops, QStringList{"custom.sdt_mask_add"});
        const auto def = host().customOps().find("custom.sdt_mask_add");
        QVERIFY(def);
        QVERIFY(def->hasLowering());
        QVERIFY2(host().customOpProblems().isEmpty(), qPrintable(host().customOpProblems().join("\n")));
        QVERIFY(host().isLoaded("customop-sdt-attention"));
    }

    void textRoundTrip()
    {
        const std::string text = readFile(kModel);
        const ir::Module m = load(text);
        int custom = 0;
        for (const auto& op : m.ops())
            custom += op.kind == ir::OpKind::Custom;
        QCOMPARE(custom, 1);
        const std::string printed = ir::printModule(m);
        QCOMPARE(printed, withoutComments(text)); // golden file: canonical text prints back byte for byte
        QVERIFY(load(printed).sameAs(m));
    }

    void referenceMatchesLowering()
    {
        const ir::Module m = load(readFile(kModel));
        const ir::Module low = lowered(m);
        int custom = 0, lifs = 0;
        for (const auto& op : low.ops()) {
            custom += op.kind == ir::OpKind::Custom;
            lifs += op.kind == ir::OpKind::Lif;
        }
        QCOMPARE(custom, 0);
        QCOMPARE(lifs, 4); // q, k, v and the LIF on the token sum
        QVERIFY2(!ir::verify(low).hasErrors(), ir::verify(low).format().c_str());
        QVERIFY(low.typeOf(low.findValue("attn")) == m.typeOf(m.findValue("attn"))); // the name is kept

        const int64_t batch = 7, size = 16;
        const std::vector<interp::InputBatch> in{{batch, randomInputs(batch, size)}};
        interp::RunOptions opt;
        opt.threads = 2;
        const interp::RunResult a = interp::run(m, in, opt);
        const interp::RunResult b = interp::run(low, in, opt);
        QVERIFY2(a.ok(), a.error.c_str());
        QVERIFY2(b.ok(), b.error.c_str());
        QCOMPARE(a.outputs.size(), size_t(2));
        QCOMPARE(a.outputShapes, b.outputShapes);
        for (size_t o = 0; o < a.outputs.size(); ++o) {
            QCOMPARE(a.outputs[o].size(), b.outputs[o].size());
            QVERIFY2(std::memcmp(a.outputs[o].data(), b.outputs[o].data(), a.outputs[o].size() * sizeof(float)) == 0,
                     qPrintable(QString("output %1 differs between the reference implementation and the lowering")
                                    .arg(o)));
        }
        // Not a vacuous comparison: the attention output has spikes and silent positions.
        const auto& attn = a.outputs[1];
        const auto ones = std::count(attn.begin(), attn.end(), 1.0f);
        QVERIFY2(ones > 0 && ones < int64_t(attn.size()), qPrintable(QString("%1 of %2 spikes").arg(ones).arg(attn.size())));
        QCOMPARE(std::count(attn.begin(), attn.end(), 0.0f) + ones, int64_t(attn.size()));
    }

    void loweredModuleCompilesAndSimulates()
    {
        const ir::Module m = load(readFile(kModel));
        // Unlowered: quantize's order constraint names the pass to add.
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, lowered(m, "fold-bn,canonicalize,dce,quantize{bits=8}"));
        try {
            lowered(m, "quantize{bits=8}");
        } catch (const std::runtime_error& e) {
            QVERIFY2(std::string(e.what()).find("quantize needs lower-custom before it (requires property "
                                                "'custom-lowered')") != std::string::npos,
                     e.what());
        }
        // Unlowered: the network extraction reports the op.
        const target::ExtractResult ex = target::extractNetwork(m, nullptr);
        QVERIFY(!ex.ok());
        QVERIFY2(ex.diagnostics.format().find("%attn = custom.sdt_mask_add") != std::string::npos,
                 ex.diagnostics.format().c_str());

        const std::string pipeline = "lower-custom,fold-bn,canonicalize,dce,quantize{bits=8},schedule-time";
        simtest::Compiled c;
        try {
            c = simtest::compile(m, "loihi3", pipeline);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        const int64_t n = 5, size = c.program.inputSize();
        QCOMPARE(size, int64_t(16));
        const std::vector<float> in = randomInputs(n, size);
        const fixedpoint::RunResult ref = fixedpoint::run(c.out.module, {interp::InputBatch{n, in}});
        QVERIFY2(ref.ok(), ref.error.c_str());
        sim::SimOptions opt;
        const sim::SimResult r = sim::simulate(c.program, in, n, opt);
        QVERIFY2(r.ok(), r.error.c_str());
        QCOMPARE(r.outputs[0].size(), ref.outputs[0].size());
        QVERIFY2(std::memcmp(r.outputs[0].data(), ref.outputs[0].data(), r.outputs[0].size() * sizeof(float)) == 0,
                 "chip simulator output differs from the fixed-point reference");
        QVERIFY(r.counters.total().synapticOps > 0);
    }

    void wrongOperandsAreLocated_data()
    {
        QTest::addColumn<QString>("from");
        QTest::addColumn<QString>("to");
        QTest::addColumn<QString>("message");
        QTest::newRow("shape") << "%qp, %kp, %vp {" << "%qp, %kp, %vh {"
                               << "q, k and v must have the same shape: q is spike[T,2,4,2], v is spike[T,4,2,2]";
        QTest::newRow("not spikes") << "%qp, %kp, %vp {" << "%q_in, %kp, %vp {"
                                    << "operand 0 (q) must be a per-step spike tensor, got f32[T,4,4]";
        QTest::newRow("count") << "%qp, %kp, %vp {" << "%qp, %kp {"
                               << "custom.sdt_mask_add expects 3 operands (spike-driven self-attention";
        QTest::newRow("attribute kind") << "{tau = 2.0, v_threshold = 0.5} : spike[T,2,4,2]"
                                        << "{tau = 2, v_threshold = 0.5} : spike[T,2,4,2]"
                                        << "attribute 'tau' expects float like 2.0, got int 2";
        QTest::newRow("attribute name") << "{tau = 2.0, v_threshold = 0.5} : spike[T,2,4,2]"
                                        << "{tau = 2.0, vth = 0.5} : spike[T,2,4,2]"
                                        << "unknown attribute 'vth' for custom.sdt_mask_add (expected one of: tau, "
                                           "v_threshold;";
        QTest::newRow("attribute value") << "{tau = 2.0, v_threshold = 0.5} : spike[T,2,4,2]"
                                         << "{tau = -1.0, v_threshold = 0.5} : spike[T,2,4,2]"
                                         << "tau must be a positive finite number";
        QTest::newRow("declared type") << "v_threshold = 0.5} : spike[T,2,4,2]" << "v_threshold = 0.5} : spike[T,2,4,3]"
                                       << "declared result type spike[T,2,4,3] does not match the inferred type "
                                          "spike[T,2,4,2]";
    }
    void wrongOperandsAreLocated()
    {
        QFETCH(QString, from);
        QFETCH(QString, to);
        QFETCH(QString, message);
        const std::string text = edited(readFile(kModel), from.toStdString(), to.toStdString());
        int line = 0, col = 0;
        const std::string err = firstError(text, &host().customOps(), &line, &col);
        QVERIFY2(err.find(message.toStdString()) != std::string::npos, err.c_str());
        QVERIFY2(err.find("[%attn = custom.sdt_mask_add]") != std::string::npos, err.c_str());
        QVERIFY2(err.find("(at blocks.0.attn)") != std::string::npos, err.c_str());
        QCOMPARE(line, lineOf(text, "%attn = custom."));
        QCOMPARE(col, 3);
    }

    void unknownCustomOpIsLocated()
    {
        const std::string text = edited(readFile(kModel), "= custom.sdt_mask_add", "= custom.sdt_mask_mul");
        int line = 0, col = 0;
        std::string err = firstError(text, &host().customOps(), &line, &col);
        QCOMPARE(line, lineOf(text, "%attn = custom."));
        QCOMPARE(col, 11); // the op name
        QVERIFY2(err.find("unknown custom op 'custom.sdt_mask_mul': no loaded custom-op plugin (org.stc.CustomOps/1) "
                          "provides it; loaded: custom.sdt_mask_add ('customop-sdt-attention'") != std::string::npos,
                 err.c_str());
        // Without a registry (a caller that loaded no plugins) the message says so.
        err = firstError(readFile(kModel), nullptr, &line, &col);
        QVERIFY2(err.find("unknown custom op 'custom.sdt_mask_add': custom ops come from custom-op plugins "
                          "(org.stc.CustomOps/1) and none were given to this parse") != std::string::npos,
                 err.c_str());
        // 'custom' itself is not an op name.
        err = firstError(edited(readFile(kModel), "= custom.sdt_mask_add", "= custom"), &host().customOps(), &line, &col);
        QVERIFY2(err.find("'custom' is not an op name") != std::string::npos, err.c_str());
    }

    void pluginWithWrongApiVersionIsRefused()
    {
        plugins::PluginHost bad({QStringLiteral(STC_BAD_PLUGIN_DIR)});
        QCOMPARE(bad.plugins().size(), size_t(1));
        const plugins::PluginInfo& info = bad.plugins()[0];
        QCOMPARE(info.name, QString("customop-sdt-attention-badabi"));
        QVERIFY(!info.usable);
        QCOMPARE(info.problem, QString("plugin API version 0, this host needs 1"));
        const ir::CustomOpRegistry& reg = bad.customOps();
        QVERIFY(!reg.find("custom.sdt_mask_add"));
        QVERIFY(!bad.isLoaded(info.name)); // refused from its metadata: the library was never loaded
        QCOMPARE(bad.customOpProblems().size(), qsizetype(1));
        int line = 0, col = 0;
        const std::string err = firstError(readFile(kModel), &reg, &line, &col);
        QVERIFY2(err.find("custom op 'custom.sdt_mask_add' is provided by plugin 'customop-sdt-attention-badabi' (") !=
                     std::string::npos,
                 err.c_str());
        QVERIFY2(err.find("which was not loaded: plugin API version 0, this host needs 1") != std::string::npos,
                 err.c_str());
        QVERIFY(line > 0 && col == 11);
    }

    void registryRefusesBadNames()
    {
        ir::CustomOpRegistry reg;
        const auto def = host().customOps().find("custom.sdt_mask_add");
        QVERIFY(def);
        QCOMPARE(reg.add(def, "a"), std::string());
        QVERIFY(reg.add(def, "b").find("already registered by a") != std::string::npos);
        QVERIFY(!ir::checkCustomOpName("conv2d").empty());
        QVERIFY(!ir::checkCustomOpName("a.b.c").empty());
        QVERIFY(!ir::checkCustomOpName(".b").empty());
        QVERIFY(ir::checkCustomOpName("sdt.mask_add").empty());
    }
};

QTEST_GUILESS_MAIN(TestCustomOps)
#include "test_custom_ops.moc"

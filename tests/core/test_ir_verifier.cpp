// Spike IR verifier: every rule on modules broken in code (the shapes a pass
// or an importer could produce), all problems reported at once, located
// diagnostics for parsed text, and docs/spike-ir.md and docs/ir-reference.md
// covering every op.
#include "ir/ir_io.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "ir_text_test_util.h"

#include <QtTest>

#include <functional>

using namespace stc;
using namespace stc::ir;
using namespace stc::irtest;

namespace {

// x[1,8,8] -> encode -> conv2d(w, b) -> lif -> flatten -> linear -> mean(T) -> output
struct Base {
    Module m;
    ValueId x, w, b, enc, conv, lif, flat, fcw, fc, mean;
    int convOp = 0, lifOp = 0, outputOp = 0;
    Base()
    {
        m.name = "base";
        m.timesteps = 4;
        std::string err;
        x = m.addInput({ElemType::F32, {1, 8, 8}, TimeKind::Invariant}, "x");
        w = m.addConst(Tensor::fromFloats({2, 1, 3, 3}, std::vector<float>(18, 0.5f)), "conv.weight", "conv");
        b = m.addConst(Tensor::fromFloats({2}, {0.1f, -0.1f}), "conv.bias", "conv");
        Attributes encA;
        encA.set("mode", std::string("direct"));
        enc = m.build(OpKind::Encode, {x}, encA, "", "enc", &err);
        Attributes convA;
        convA.set("padding", IntList{1, 1});
        conv = m.build(OpKind::Conv2d, {enc, w, b}, convA, "features.0", "conv", &err);
        convOp = m.value(conv).def;
        Attributes lifA;
        lifA.set("tau", 2.0);
        lifA.set("decay_input", true);
        lifA.set("v_threshold", 1.0);
        lifA.set("reset", std::string("hard"));
        lif = m.build(OpKind::Lif, {conv}, lifA, "features.1", "lif", &err);
        lifOp = m.value(lif).def;
        flat = m.build(OpKind::Flatten, {lif}, {}, "", "flat", &err);
        fcw = m.addConst(Tensor::fromFloats({3, 128}, std::vector<float>(384, 0.25f)), "fc.weight", "fc");
        fc = m.build(OpKind::Linear, {flat, fcw}, {}, "fc", "fc", &err);
        Attributes meanA;
        meanA.set("over_time", true);
        mean = m.build(OpKind::Mean, {fc}, meanA, "readout", "logits", &err);
        m.addOutput({mean});
        outputOp = int(m.ops().size()) - 1;
        if (!err.empty())
            qFatal("base module: %s", err.c_str());
    }
    Op& op(int i) { return m.mutableOps()[size_t(i)]; }
};

struct BrokenCase {
    const char* name;
    std::function<void(Base&)> breakIt;
    std::vector<std::string> expected; // substrings, one error each
};

const std::vector<BrokenCase>& brokenCases()
{
    static const std::vector<BrokenCase> cases = {
        {"operand out of range", [](Base& b) { b.op(b.convOp).operands[0] = 99; },
         {"[%conv = conv2d] operand 0 refers to value #99, which does not exist (at features.0)"}},
        {"negative operand id", [](Base& b) { b.op(b.lifOp).operands[0] = -5; },
         {"operand 0 refers to value #-5, which does not exist"}},
        {"use before definition", [](Base& b) { b.op(b.convOp).operands[0] = b.lif; },
         {"operand %lif is used before its definition (defined by op #5)"}},
        {"operand count", [](Base& b) { b.op(b.lifOp).operands.push_back(b.x); },
         {"lif expects 1 operand (spiking neuron with membrane state carried across time steps), got 2"}},
        {"output without operands", [](Base& b) { b.op(b.outputOp).operands.clear(); },
         {"output expects 1 or more operands"}},
        {"unknown attribute", [](Base& b) { b.op(b.convOp).attrs.set("strides", IntList{2, 2}); },
         {"unknown attribute 'strides' for conv2d (expected one of: stride, padding, dilation, groups;"}},
        {"annotations are free-form",
         [](Base& b) {
             b.op(b.convOp).attrs.set("_note", std::string("anything"));
             b.op(b.convOp).attrs.set("map.core", int64_t(3));
             b.op(b.convOp).attrs.set("_x.y", FloatList{});
         },
         {}},
        {"int for float", [](Base& b) { b.op(b.lifOp).attrs.set("tau", int64_t(2)); },
         {"[%lif = lif] attribute 'tau' expects float like 2.0, got int 2 (at features.1)"}},
        {"float list for int list", [](Base& b) { b.op(b.convOp).attrs.set("stride", FloatList{1.0, 1.0}); },
         {"attribute 'stride' expects int list like [1, 1], got float list [1.0, 1.0]"}},
        {"string for bool", [](Base& b) { b.op(b.lifOp).attrs.set("decay_input", std::string("yes")); },
         {"attribute 'decay_input' expects bool like true, got string \"yes\""}},
        {"missing required", [](Base& b) { b.op(b.lifOp).attrs.erase("v_threshold"); },
         {"missing required attribute 'v_threshold' (float: firing threshold)"}},
        {"checkAttributes", [](Base& b) { b.op(b.lifOp).attrs.set("tau", -1.0); },
         {"tau must be a positive finite number"}},
        {"bad attribute name", [](Base& b) { b.op(b.lifOp).attrs.set("bad key", 1.0); },
         {"attribute name 'bad key' is not an identifier"}},
        {"huge int attribute", [](Base& b) { b.op(b.convOp).attrs.set("padding", IntList{int64_t(1) << 62, 1}); },
         {"attribute 'padding' value 4611686018427387904 out of range"}},
        {"declared type differs",
         [](Base& b) { b.m.setValueType(b.conv, {ElemType::F32, {2, 8, 8}, TimeKind::Invariant}); },
         {"declared result type f32[2,8,8] does not match the inferred type f32[T,2,8,8]"}},
        {"inference error", [](Base& b) { b.op(b.convOp).attrs.set("groups", int64_t(2)); },
         {"groups=2 must divide input and output channels"}},
        {"value type out of limits",
         [](Base& b) { b.m.setValueType(b.x, {ElemType::F32, {int64_t(1) << 40, 8, 8}, TimeKind::Invariant}); },
         {"result type f32[1099511627776,8,8]: dimension 1099511627776 out of range"}},
        {"too many elements",
         [](Base& b) { b.m.setValueType(b.x, {ElemType::F32, {1 << 30, 1 << 30, 8}, TimeKind::Invariant}); },
         {"type has more than 2^40 elements"}},
        {"per-step input", [](Base& b) { b.m.setValueType(b.x, {ElemType::F32, {1, 8, 8}, TimeKind::PerStep}); },
         {"input type must be time-invariant (no T), got f32[T,1,8,8]",
          "encode needs a time-invariant input, got f32[T,1,8,8]"}},
        {"per-step constant",
         [](Base& b) { b.m.setValueType(b.b, {ElemType::F32, {2}, TimeKind::PerStep}); },
         {"constant type must be time-invariant (no T), got f32[T,2]"}},
        {"payload shape differs",
         [](Base& b) { b.op(1).constant = std::make_shared<const Tensor>(Tensor(ElemType::F32, {18})); },
         {"constant payload is f32[18] but the declared type is f32[2,1,3,3]"}},
        {"payload element type differs",
         [](Base& b) { b.op(2).constant = std::make_shared<const Tensor>(Tensor(ElemType::I8, {2})); },
         {"constant payload is i8[2] but the declared type is f32[2]"}},
        {"missing payload", [](Base& b) { b.op(2).constant.reset(); }, {"const op has no payload"}},
        {"payload on a non-const", [](Base& b) { b.op(b.lifOp).constant = b.op(2).constant; },
         {"only const ops carry a constant payload"}},
        {"spike constant",
         [](Base& b) {
             Tensor t(ElemType::Spike, {3});
             t.mutableBytes()[2] = 7;
             b.m.addConst(std::move(t), "mask");
         },
         {"spike constant has value 7 at element 2", "'output' must be the last op, but 1 op follows it"}},
        {"timesteps", [](Base& b) { b.m.timesteps = 0; }, {"[module @base] module timesteps must be >= 1, got 0"}},
        {"timesteps in attrs", [](Base& b) { b.m.attrs.set("timesteps", int64_t(4)); },
         {"module attribute 'timesteps' duplicates Module::timesteps"}},
        {"module attribute name", [](Base& b) { b.m.attrs.set("a b", true); },
         {"module attribute name 'a b' is not an identifier"}},
        {"empty module name", [](Base& b) { b.m.name.clear(); }, {"module name is empty"}},
        {"no output", [](Base& b) { b.m.mutableOps().back().kind = OpKind::Sum; },
         {"module has no 'output' op", "op has no valid result value", "missing required attribute 'axes'"}},
        {"two outputs", [](Base& b) { b.m.addOutput({b.fc}); }, {"more than one 'output' op (the first is op #10)"}},
        {"output not last",
         [](Base& b) {
             std::string err;
             b.m.build(OpKind::Scale, {b.fc}, [] { Attributes a; a.set("factor", 2.0); return a; }(), "", "late", &err);
         },
         {"'output' must be the last op, but 1 op follows it (first: %late = scale)"}},
        {"duplicate name", [](Base& b) { b.m.renameValue(b.lif, "conv"); },
         {"[%conv = lif] value %conv redefined (first defined by op #4)"}},
        {"invalid name", [](Base& b) { b.m.renameValue(b.flat, "a-b"); },
         {"value name 'a-b' must be non-empty and use only [A-Za-z0-9_.$]"}},
        {"empty name", [](Base& b) { b.m.renameValue(b.flat, ""); }, {"value name '' must be non-empty"}},
        {"invalid op kind", [](Base& b) { b.op(b.lifOp).kind = static_cast<OpKind>(200); },
         {"invalid op kind 200"}},
        {"corrupt element type",
         [](Base& b) { b.m.setValueType(b.enc, {static_cast<ElemType>(9), {1, 8, 8}, TimeKind::PerStep}); },
         {"[%enc = encode] result type <elem 9>[T,1,8,8]: invalid element type 9"}},
        {"reshape overflow",
         [](Base& b) {
             Op op;
             op.kind = OpKind::Reshape;
             op.operands = {b.flat};
             op.attrs.set("shape", IntList{2147483647, 2147483647, 2147483647, 1});
             b.m.append(op, {ElemType::Spike, {1}, TimeKind::PerStep}, "huge");
         },
         {"reshape target shape has more than 2^40 elements", "'output' must be the last op"}},
    };
    return cases;
}

} // namespace

class TestIrVerifier : public QObject {
    Q_OBJECT

private slots:
    void baseModuleVerifies()
    {
        Base b;
        const Diagnostics d = verify(b.m);
        QVERIFY2(d.empty(), d.format().c_str());
    }

    void goldenFilesVerify_data()
    {
        QTest::addColumn<QString>("file");
        for (const QString& f : irFiles(false))
            QTest::newRow(qPrintable(f)) << f;
    }

    void goldenFilesVerify()
    {
        QFETCH(QString, file);
        const LoadResult r = loadModule((irDataDir() + "/" + file).toStdString());
        QVERIFY2(r.ok() && r.diagnostics.empty(), r.diagnostics.format().c_str());
    }

    void brokenModules_data()
    {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < brokenCases().size(); ++i)
            QTest::newRow(brokenCases()[i].name) << int(i);
    }

    void brokenModules()
    {
        QFETCH(int, index);
        const BrokenCase& c = brokenCases()[size_t(index)];
        Base b;
        c.breakIt(b);
        const Diagnostics d = verify(b.m);
        const std::string all = d.format();
        QVERIFY2(d.errorCount() == c.expected.size(),
                 qPrintable(QString("expected %1 error(s), got:\n%2").arg(c.expected.size()).arg(all.c_str())));
        for (const auto& e : c.expected)
            QVERIFY2(all.find(e) != std::string::npos, qPrintable(QString("missing \"%1\" in:\n%2")
                                                                       .arg(e.c_str())
                                                                       .arg(all.c_str())));
        for (const auto& item : d.items())
            QVERIFY2(!item.op.empty(), "every diagnostic names its op or module");
        printModule(b.m); // printing a broken module must not crash either
    }

    void reportsEveryProblem()
    {
        Base b;
        b.m.timesteps = -1;
        b.op(b.lifOp).attrs.set("tau", int64_t(2));
        b.op(b.convOp).attrs.set("strides", IntList{1, 1});
        b.m.setValueType(b.fc, {ElemType::F32, {4}, TimeKind::PerStep}); // and %logits does not cascade
        b.m.renameValue(b.flat, "lif");
        const Diagnostics d = verify(b.m);
        QCOMPARE(d.errorCount(), size_t(5));
    }

    void parsedModuleDiagnosticsAreLocated()
    {
        const std::string text = readIrFile("bad_shape_mismatch.sir");
        const ParseResult r = parseModule(text, "models/bad.sir");
        QVERIFY(r.ok());
        const Diagnostics d = verify(*r.module, r.moduleLoc);
        QCOMPARE(d.items().size(), size_t(1));
        QCOMPARE(d.items()[0].format(),
                 std::string("models/bad.sir:6:3: error: [%1 = conv2d] declared result type f32[T,2,8,8] does not "
                             "match the inferred type f32[T,2,4,4] (at features.0)"));

        // Module-level problems point at the header; without moduleLoc they
        // still carry the file name taken from the ops.
        const ParseResult noOutput = parseModule(readIrFile("bad_no_output.sir"), "x.sir");
        QVERIFY(noOutput.ok());
        QCOMPARE(verify(*noOutput.module, noOutput.moduleLoc).items()[0].format(),
                 std::string("x.sir:2:1: error: [module @m] module has no 'output' op (expected exactly one, as the "
                             "last op)"));
        QCOMPARE(verify(*noOutput.module).items()[0].loc.file, std::string("x.sir"));
    }

    void verifiesGeneratedModules()
    {
        for (uint64_t seed = 100; seed < 140; ++seed) {
            const Module m = randomModule(seed);
            const Diagnostics d = verify(m);
            QVERIFY2(d.empty(), d.format().c_str());
        }
    }

    void docsCoverEveryOpAndAttribute()
    {
        std::string docs, error;
        QVERIFY2(readTextFile(STC_TEST_DATA_DIR "/../../docs/spike-ir.md", docs, error), error.c_str());
        for (const OpDef& def : allOpDefs()) {
            // The op's row in the op table: "| `conv2d` | ... |".
            const size_t row = docs.find("\n| `" + std::string(def.name) + "` |");
            QVERIFY2(row != std::string::npos,
                     qPrintable(QString("docs/spike-ir.md has no table row for op `%1`").arg(QString::fromUtf8(def.name.data(), qsizetype(def.name.size())))));
            const std::string line = docs.substr(row + 1, docs.find('\n', row + 1) - row - 1);
            for (const AttrSpec& a : def.attrs)
                QVERIFY2(line.find("`" + a.name + "`") != std::string::npos,
                         qPrintable(QString("docs/spike-ir.md: the row of %1 does not mention attribute `%2`")
                                        .arg(QString::fromUtf8(def.name.data(), qsizetype(def.name.size())))
                                        .arg(a.name.c_str())));
        }
    }

    // docs/ir-reference.md: a "### `op`" section per registered op naming each of
    // its attributes, and no section for an op the registry does not have.
    void irReferenceCoversEveryOpAndAttribute()
    {
        std::string docs, error;
        QVERIFY2(readTextFile(STC_TEST_DATA_DIR "/../../docs/ir-reference.md", docs, error), error.c_str());
        for (const OpDef& def : allOpDefs()) {
            const std::string name(def.name);
            const size_t start = docs.find("\n### `" + name + "`\n");
            QVERIFY2(start != std::string::npos,
                     qPrintable(QString("docs/ir-reference.md has no section '### `%1`'").arg(name.c_str())));
            const size_t next = docs.find("\n#", start + 1); // the next heading of any level ends the section
            const std::string section = docs.substr(start, next == std::string::npos ? std::string::npos : next - start);
            for (const AttrSpec& a : def.attrs)
                QVERIFY2(section.find("`" + a.name + "`") != std::string::npos,
                         qPrintable(QString("docs/ir-reference.md: the section of %1 does not mention attribute `%2`")
                                        .arg(name.c_str())
                                        .arg(a.name.c_str())));
        }
        for (size_t pos = docs.find("\n### `"); pos != std::string::npos; pos = docs.find("\n### `", pos + 1)) {
            const size_t begin = pos + 6, end = docs.find('`', begin);
            QVERIFY(end != std::string::npos);
            const std::string heading = docs.substr(begin, end - begin);
            QVERIFY2(opKindFromName(heading).has_value(),
                     qPrintable(QString("docs/ir-reference.md documents op `%1`, which core/ir/ops.cpp does not define")
                                    .arg(heading.c_str())));
        }
    }
};

QTEST_GUILESS_MAIN(TestIrVerifier)
#include "test_ir_verifier.moc"

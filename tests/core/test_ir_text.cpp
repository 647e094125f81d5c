// Spike IR text format: golden files (print(parse(file)) == file byte for
// byte), round trips of generated modules (weights bit-exact), literal syntax,
// located parse errors, file I/O, and parse/print speed on big inputs.
#include "ir/ir_io.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "ir_text_test_util.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <ctime>
#include <cstring>

using namespace stc;
using namespace stc::ir;
using namespace stc::irtest;

namespace {

// Process CPU time: wall time is meaningless on a shared, loaded build machine.
double cpuMs() { return 1000.0 * double(std::clock()) / CLOCKS_PER_SEC; }

// Loads (parse + verify) `text` and checks the errors are exactly `expected`,
// each at its line:col with the message substring.
void checkErrors(const std::string& text, const std::vector<Expectation>& expected)
{
    const LoadResult r = loadModuleFromText(text, "input.sir");
    std::vector<Diagnostic> errors;
    for (const auto& d : r.diagnostics.items())
        if (d.severity == Severity::Error)
            errors.push_back(d);
    const std::string all = r.diagnostics.format();
    QVERIFY2(errors.size() == expected.size(),
             qPrintable(QString("expected %1 error(s), got:\n%2").arg(expected.size()).arg(all.c_str())));
    for (const auto& e : expected) {
        bool found = false;
        for (const auto& d : errors)
            found = found || (d.loc.line == e.line && d.loc.col == e.col && d.loc.file == "input.sir" &&
                              d.format().find(e.message) != std::string::npos);
        QVERIFY2(found, qPrintable(QString("no error at %1:%2 containing \"%3\"; got:\n%4")
                                       .arg(e.line)
                                       .arg(e.col)
                                       .arg(e.message.c_str())
                                       .arg(all.c_str())));
    }
}

Module parseOk(const std::string& text)
{
    ParseResult r = parseModule(text, "t.sir");
    if (!r.ok())
        qWarning("%s", r.diagnostics.format().c_str());
    return r.module ? std::move(*r.module) : Module{};
}

// A module whose constants hold `totalFloats` f32 weights in tensors of
// `perTensor` elements, each feeding a linear layer.
Module bigModule(int64_t totalFloats, int64_t perTensor)
{
    Module m;
    m.name = "big";
    Rng rng(99);
    const int64_t in = 1000;
    const ValueId x = m.addInput({ElemType::F32, {in}, TimeKind::Invariant}, "x");
    std::vector<ValueId> outs;
    for (int64_t done = 0, i = 0; done < totalFloats; done += perTensor, ++i) {
        const ValueId w =
            m.addConst(randomTensor(rng, ElemType::F32, {perTensor / in, in}), "layer" + std::to_string(i) + ".weight");
        std::string err;
        outs.push_back(m.build(OpKind::Linear, {x, w}, {}, "layer" + std::to_string(i), "y" + std::to_string(i), &err));
    }
    m.addOutput(outs);
    return m;
}

} // namespace

class TestIrText : public QObject {
    Q_OBJECT

private slots:
    void goldenRoundTrip_data()
    {
        QTest::addColumn<QString>("file");
        for (const QString& f : irFiles(false))
            QTest::newRow(qPrintable(f)) << f;
        QVERIFY(irFiles(false).size() >= 4);
    }

    void goldenRoundTrip()
    {
        QFETCH(QString, file);
        const std::string text = readIrFile(file);
        QVERIFY(!text.empty());
        ParseResult r = parseModule(text, file.toStdString());
        QVERIFY2(r.ok(), r.diagnostics.format().c_str());
        const Diagnostics v = verify(*r.module, r.moduleLoc);
        QVERIFY2(v.empty(), v.format().c_str());
        const std::string printed = printModule(*r.module);
        const std::string canonical = stripCommentLines(text);
        if (printed != canonical) {
            size_t i = 0;
            while (i < printed.size() && i < canonical.size() && printed[i] == canonical[i])
                ++i;
            QFAIL(qPrintable(QString("printed text differs at byte %1:\n  printed: %2\n  golden:  %3")
                                 .arg(i)
                                 .arg(QString::fromStdString(printed.substr(i, 80)))
                                 .arg(QString::fromStdString(canonical.substr(i, 80)))));
        }
        // sameAs() treats NaN attributes as different from themselves (all_ops.sir
        // has some), so compare the reprint instead of the modules.
        QCOMPARE(printModule(parseOk(printed)), printed);
        if (file != "all_ops.sir")
            QVERIFY(parseOk(printed).sameAs(*r.module));
    }

    void generatedRoundTrip_data()
    {
        QTest::addColumn<int>("seed");
        for (int seed = 1; seed <= 40; ++seed)
            QTest::newRow(qPrintable(QString("seed %1").arg(seed))) << seed;
    }

    void generatedRoundTrip()
    {
        QFETCH(int, seed);
        const Module m = randomModule(uint64_t(seed));
        const Diagnostics v = verify(m);
        QVERIFY2(v.empty(), v.format().c_str());
        const std::string text = printModule(m);
        ParseResult r = parseModule(text);
        QVERIFY2(r.ok(), (r.diagnostics.format() + text.substr(0, 2000)).c_str());
        QVERIFY(r.module->sameAs(m));
        QCOMPARE(printModule(*r.module), text);
    }

    void awkwardWeightsAreBitExact()
    {
        // Every float class, inline (<= 16 elements, no NaN) and as base64.
        const uint32_t bits[] = {0x80000000u, 0x00000000u, 0x00000001u, 0x807fffffu, 0x7f800000u, 0xff800000u,
                                 0x7f7fffffu, 0x00800000u, 0x3f800000u, 0x3dcccccdu};
        const uint32_t nans[] = {0x7fc00000u, 0xffc00001u, 0x7f800001u, 0xff812345u};
        Module m;
        std::vector<float> plain, withNan;
        for (uint32_t b : bits)
            plain.push_back(bitsToFloat(b));
        withNan = plain;
        for (uint32_t b : nans)
            withNan.push_back(bitsToFloat(b));
        const ValueId a = m.addConst(Tensor::fromFloats({int64_t(plain.size())}, plain), "plain");
        const ValueId b = m.addConst(Tensor::fromFloats({int64_t(withNan.size())}, withNan), "nan");
        m.addOutput({a, b});
        const std::string text = printModule(m);
        QVERIFY2(text.find("%plain = const [-0.0, 0.0, 1e-45, -1.1754942e-38, inf, -inf, 3.4028235e+38, "
                           "1.1754944e-38, 1.0, 0.1] : f32[10]") != std::string::npos,
                 text.c_str());
        QVERIFY2(text.find("%nan = const b64\"") != std::string::npos, text.c_str());
        const Module back = parseOk(text);
        QVERIFY(back.sameAs(m));
        QVERIFY(std::memcmp(back.definingOp(1).constant->bytes().data(), withNan.data(), withNan.size() * 4) == 0);
    }

    void floatFormat_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("text");
        QTest::newRow("int-valued") << 2.0 << "2.0";
        QTest::newRow("negative zero") << -0.0 << "-0.0";
        QTest::newRow("tenth") << 0.1 << "0.1";
        QTest::newRow("small") << 1e-7 << "1e-07";
        QTest::newRow("large") << 1e20 << "1e+20";
        QTest::newRow("9 digits") << 123456789.0 << "123456789.0";
        QTest::newRow("max") << std::numeric_limits<double>::max() << "1.7976931348623157e+308";
        QTest::newRow("denormal") << 5e-324 << "5e-324";
        QTest::newRow("inf") << std::numeric_limits<double>::infinity() << "inf";
        QTest::newRow("-inf") << -std::numeric_limits<double>::infinity() << "-inf";
        QTest::newRow("nan") << std::numeric_limits<double>::quiet_NaN() << "nan";
    }

    void floatFormat()
    {
        QFETCH(double, value);
        QFETCH(QString, text);
        QCOMPARE(QString::fromStdString(formatFloat(value)), text);
        const Module m = parseOk("module @m {timesteps = 1, v = " + text.toStdString() + "} {\n}\n");
        const double back = m.attrs.getFloat("v");
        QVERIFY(std::isnan(value) ? std::isnan(back) : std::memcmp(&back, &value, sizeof value) == 0);
    }

    void attrValueSyntax_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("canonical");
        QTest::newRow("int") << "3" << "int" << "3";
        QTest::newRow("negative int") << "-3" << "int" << "-3";
        QTest::newRow("float") << "2.50" << "float" << "2.5";
        QTest::newRow("exponent makes float") << "1e5" << "float" << "1e+05";
        QTest::newRow("capital exponent") << "2E-3" << "float" << "0.002";
        QTest::newRow("-inf") << "-inf" << "float" << "-inf";
        QTest::newRow("bool") << "false" << "bool" << "false";
        // Control bytes print as \xHH; other bytes (UTF-8) print as they are.
        QTest::newRow("string escapes") << "\"a\\\"b\\\\c\\n\\t\\r\\x01\\x7f\\xc2\\xb5\"" << "string"
                                        << "\"a\\\"b\\\\c\\n\\t\\r\\x01\\x7f\xc2\xb5\"";
        QTest::newRow("int list") << "[1,2 ,-3]" << "int list" << "[1, 2, -3]";
        QTest::newRow("mixed list is float") << "[1, 2.5]" << "float list" << "[1.0, 2.5]";
        QTest::newRow("inf makes float list") << "[1, inf, nan]" << "float list" << "[1.0, inf, nan]";
        QTest::newRow("empty int list") << "[ ]" << "int list" << "[]";
        QTest::newRow("empty float list") << "f[]" << "float list" << "f[]";
        QTest::newRow("f-prefixed list") << "f[1, 2]" << "float list" << "[1.0, 2.0]";
    }

    void attrValueSyntax()
    {
        QFETCH(QString, text);
        QFETCH(QString, kind);
        QFETCH(QString, canonical);
        const Module m = parseOk("module @m {timesteps = 1, v = " + text.toStdString() + "} {\n}\n");
        const AttrValue* v = m.attrs.find("v");
        QVERIFY(v);
        QCOMPARE(QString(toString(kindOf(*v))), kind);
        QCOMPARE(QString::fromStdString(printAttrValue(*v)), canonical);
    }

    void badInput_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("expected"); // "L:C: message" lines
        for (const QString& f : irFiles(true)) {
            const std::string text = readIrFile(f);
            std::string expected;
            for (const auto& e : parseExpectations(text))
                expected += std::to_string(e.line) + ":" + std::to_string(e.col) + ": " + e.message + "\n";
            QTest::newRow(qPrintable(f)) << QByteArray::fromStdString(text) << QString::fromStdString(expected);
        }
        const std::string header = "module @m {timesteps = 1} {\n";
        auto row = [](const char* name, const std::string& text, const char* expected) {
            QTest::newRow(name) << QByteArray::fromStdString(text) << QString(expected);
        };
        row("empty text", "", "1:1: empty file");
        row("whitespace only", " \t\r\n\n  // just a comment", "3:20: empty file");
        row("module keyword only", "module", "1:7: truncated file: expected module name '@name' after 'module'");
        row("not a module", "modul @m", "1:1: expected 'module @name {timesteps = N} {' at the start of the file, "
                                        "found 'modul'");
        row("float timesteps", "module @m {timesteps = 1.5} {\n}", "1:24: module attribute 'timesteps' expects int");
        row("duplicate attribute", "module @m {timesteps = 1, timesteps = 2} {\n}",
            "1:27: duplicate attribute 'timesteps'");
        row("lone percent", header + "  % = input : f32[3]\n}", "2:3: expected a name after '%'");
        row("missing equals", header + "  %x input : f32[3]\n}", "2:6: expected '=' after %x, found 'input'");
        row("op without result", header + "  add %x, %x\n}", "2:3: op 'add' produces a result");
        row("malformed number", header + "  %x = input {_a = 1.e5} : f32[3]\n}",
            "2:22: malformed number: expected digits after '.'");
        row("number glued to word", header + "  %x = input {_a = 12ab} : f32[3]\n}", "2:20: malformed number '12a'");
        row("negative dimension", header + "  %x = input : f32[-3]\n}", "2:20: dimension -3 out of range");
        row("bad escape", header + "  %x = input : f32[3] loc(\"a\\qb\")\n}", "2:29: unknown escape in string");
        row("bad base64 quote", header + "  %w = const b64\"AAAA\n  output %w\n}",
            "2:14: unterminated base64 payload");
        row("missing type", header + "  %x = input\n  output %x\n}",
            "3:3: expected operands, '{' or ':' after 'input', found 'output'");
        row("trailing comma in list", header + "  %x = input {_a = [1, 2,]} : f32[3]\n}",
            "2:26: expected number in list, found ']'");
        row("nan spelled -nan", header + "  %x = input {_a = -nan} : f32[3]\n}", "2:20: unexpected character '-'");
        row("100k nested brackets", header + "  %x = input {_a = " + std::string(100000, '[') + "\n}",
            "2:21: expected number in list, found '['");
        row("million-digit integer", "module @m {timesteps = " + std::string(1000000, '7') + "} {\n}",
            "1:24: integer 77777777777777777777777777777777777777");
        std::string garbage(1 << 20, '\0');
        Rng rng(5);
        for (auto& c : garbage)
            c = static_cast<char>(rng.next() | 0x80);
        row("1 MB of high bytes", header + garbage, "2:1: unexpected byte 0x");
    }

    void badInput()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, expected);
        std::vector<Expectation> exp;
        for (const QString& line : expected.split('\n', Qt::SkipEmptyParts)) {
            const auto parsed = parseExpectations("// expect: " + line.toStdString() + "\n");
            exp.insert(exp.end(), parsed.begin(), parsed.end());
        }
        QVERIFY(!exp.empty());
        QElapsedTimer timer;
        timer.start();
        checkErrors(text.toStdString(), exp);
        QVERIFY2(timer.elapsed() < 2000, "a bad input took more than 2 s");
    }

    void textLocations()
    {
        const std::string text = readIrFile("conv_snn.sir");
        const ParseResult r = parseModule(text, "conv_snn.sir");
        QVERIFY(r.ok());
        const Module& m = *r.module;
        const int firstLine = 1 + int(std::count(text.begin(), text.begin() + long(text.find("module @")), '\n'));
        QCOMPARE(r.moduleLoc.line, firstLine);
        QCOMPARE(r.moduleLoc.col, 1);
        QCOMPARE(r.moduleLoc.file, std::string("conv_snn.sir"));
        // %1 = conv2d %0, %conv1.weight, %conv1.bias ... is the 5th op.
        const Op& conv = m.ops()[4];
        QCOMPARE(conv.kind, OpKind::Conv2d);
        QCOMPARE(conv.textLoc.file, std::string("conv_snn.sir"));
        QCOMPARE(conv.textLoc.line, firstLine + 5);
        QCOMPARE(conv.textLoc.col, 3);
        QCOMPARE(r.operandPos.size(), m.ops().size());
        QCOMPARE(r.operandPos[4].size(), size_t(3));
        QCOMPARE(r.operandPos[4][0].col, 15); // "  %1 = conv2d %0, ..."
        QCOMPARE(r.operandPos[4][1].col, 19);
        QCOMPARE(r.operandPos[4][0].line, firstLine + 5);
        const Op& out = m.ops().back();
        QCOMPARE(out.kind, OpKind::Output);
        QCOMPARE(out.textLoc.col, 3);
    }

    void commentsWhitespaceAndLineEndings()
    {
        const std::string text = "\xEF\xBB\xBF// BOM, CRLF, tabs and comments everywhere\r\n"
                                 "module @m // header\r\n{timesteps = 2} {\r\n"
                                 "\t%x = input : f32[3] // an input\r\n"
                                 "  %y = scale %x {factor = 0.5}\t: f32[3]\r\n"
                                 "  output %y // done\r\n"
                                 "}\r\n// trailing comment";
        const Module m = parseOk(text);
        QCOMPARE(printModule(m), std::string("module @m {timesteps = 2} {\n  %x = input : f32[3]\n"
                                             "  %y = scale %x {factor = 0.5} : f32[3]\n  output %y\n}\n"));
    }

    void moduleNameQuoting()
    {
        Module m;
        m.name = "my model-v2 \"final\"";
        m.addOutput({m.addInput({ElemType::F32, {2}, TimeKind::Invariant}, "x")});
        const std::string text = printModule(m);
        QVERIFY2(text.rfind("module @\"my model-v2 \\\"final\\\"\" {timesteps = 1} {\n", 0) == 0, text.c_str());
        QVERIFY(parseOk(text).sameAs(m));
    }

    void elidedConstants()
    {
        const Module m = parseOk(readIrFile("conv_snn.sir"));
        PrintOptions options;
        options.elideConstants = true;
        const std::string listing = printModule(m, options);
        QVERIFY2(listing.find("%conv1.weight = const <elided 144 bytes> : f32[4,1,3,3] loc(\"conv1\")") !=
                     std::string::npos,
                 listing.c_str());
        QVERIFY(listing.find("%conv1.bias = const [") != std::string::npos); // small ones stay inline
        QVERIFY(listing.find("b64\"") == std::string::npos);
        const ParseResult r = parseModule(listing, "listing.sir");
        QVERIFY(!r.ok());
        QVERIFY(r.diagnostics.format().find("elided constant") != std::string::npos);
        QCOMPARE(printOp(m, m.ops()[4]), std::string("%1 = conv2d %0, %conv1.weight, %conv1.bias {padding = [1, 1], "
                                                     "stride = [2, 2]} : f32[T,4,14,14] loc(\"conv1\")"));
        QCOMPARE(opLabel(m, m.ops()[4]), std::string("%1 = conv2d"));
    }

    void printsBrokenModulesWithoutCrashing()
    {
        Module m;
        const ValueId x = m.addInput({ElemType::F32, {2}, TimeKind::Invariant}, "x");
        Op bad;
        bad.kind = OpKind::Add;
        bad.operands = {x, 42, -7};
        m.append(bad, {ElemType::F32, {2}, TimeKind::Invariant}, "y");
        Op noPayload;
        noPayload.kind = OpKind::Const;
        m.append(noPayload, {ElemType::F32, {2}, TimeKind::Invariant}, "c");
        const std::string text = printModule(m);
        QVERIFY2(text.find("%y = add %x, %<invalid 42>, %<invalid -7> : f32[2]") != std::string::npos, text.c_str());
        QVERIFY2(text.find("%c = const <missing payload> : f32[2]") != std::string::npos, text.c_str());
    }

    void saveAndLoadFiles()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string path = (dir.path() + "/model.sir").toStdString();
        const Module m = randomModule(7);
        const Diagnostics saved = saveModule(m, path);
        QVERIFY2(saved.empty(), saved.format().c_str());
        const LoadResult r = loadModule(path);
        QVERIFY2(r.ok(), r.diagnostics.format().c_str());
        QVERIFY(r.module->sameAs(m));
        QCOMPARE(r.module->ops().front().textLoc.file, path);

        const LoadResult missing = loadModule(path + ".nope");
        QVERIFY(!missing.ok() && !missing.module);
        QVERIFY2(missing.diagnostics.format().find("cannot open") != std::string::npos,
                 missing.diagnostics.format().c_str());
        QVERIFY(!saveModule(m, dir.path().toStdString() + "/no/such/dir/x.sir").empty());

        // A file that parses but does not verify still yields the module (for the IDE).
        const LoadResult invalid = loadModule((irDataDir() + "/bad_shape_mismatch.sir").toStdString());
        QVERIFY(invalid.module && !invalid.ok());
        LoadOptions noVerify;
        noVerify.verify = false;
        QVERIFY(loadModule((irDataDir() + "/bad_shape_mismatch.sir").toStdString(), noVerify).ok());
    }

    void bigWeights()
    {
        // 9 M f32 weights (36 MB) print as ~48 MB of base64. The task budget
        // is ~1 s to parse in a release build; sanitizer builds use 1 M.
#if defined(__SANITIZE_ADDRESS__)
        const int64_t total = 1'000'000;
#else
        const int64_t total = 9'000'000;
#endif
        const Module m = bigModule(total, 1'000'000);
        double t0 = cpuMs();
        const std::string text = printModule(m);
        const double printMs = cpuMs() - t0;
        t0 = cpuMs();
        const ParseResult r = parseModule(text, "big.sir");
        const double parseMs = cpuMs() - t0;
        QVERIFY2(r.ok(), r.diagnostics.format().c_str());
        t0 = cpuMs();
        const Diagnostics v = verify(*r.module, r.moduleLoc);
        const double verifyMs = cpuMs() - t0;
        QVERIFY(v.empty());
        QVERIFY(r.module->sameAs(m));
        qInfo("%lld f32 weights, %.1f MB of text, CPU time: print %.0f ms, parse %.0f ms, verify %.0f ms",
              (long long)total, text.size() / 1e6, printMs, parseMs, verifyMs);
        QVERIFY2(parseMs < 30000, "parsing is far too slow (quadratic?)");
    }

    void manyOps()
    {
        // 200 k ops: name lookup, printing and verification must stay linear.
        Module m;
        ValueId v = m.addInput({ElemType::F32, {4}, TimeKind::Invariant}, "x");
        const ValueId x = v;
        std::string err;
        for (int i = 0; i < 200000; ++i)
            v = m.build(OpKind::Add, {v, x}, {}, i % 2 ? "blocks." + std::to_string(i) : "", "v" + std::to_string(i),
                        &err);
        m.addOutput({v});
        double t0 = cpuMs();
        const std::string text = printModule(m);
        const double printMs = cpuMs() - t0;
        t0 = cpuMs();
        const ParseResult r = parseModule(text);
        const double parseMs = cpuMs() - t0;
        QVERIFY(r.ok());
        t0 = cpuMs();
        QVERIFY(verify(*r.module).empty());
        const double verifyMs = cpuMs() - t0;
        QVERIFY(r.module->sameAs(m));
        qInfo("200k ops, %.1f MB, CPU time: print %.0f ms, parse %.0f ms, verify %.0f ms", text.size() / 1e6, printMs,
              parseMs, verifyMs);
        QVERIFY(parseMs < 30000 && verifyMs < 30000);
    }

    void inlineListForAnySize()
    {
        // The parser accepts an inline list for a big constant and base64 for a
        // small one; printing picks the canonical encoding.
        std::string list = "[";
        for (int i = 0; i < 20; ++i)
            list += (i ? ", " : "") + std::to_string(i);
        list += "]";
        const Module m = parseOk("module @m {timesteps = 1} {\n  %a = const " + list +
                                 " : i16[4,5]\n  %b = const b64\"AACAPw==\" : f32[1]\n  output %a, %b\n}\n");
        QCOMPARE(m.definingOp(0).constant->at(19), 19.0);
        const std::string text = printModule(m);
        QVERIFY2(text.find("%a = const b64\"") != std::string::npos, text.c_str());
        QVERIFY2(text.find("%b = const [1.0] : f32[1]") != std::string::npos, text.c_str());
    }
};

QTEST_GUILESS_MAIN(TestIrText)
#include "test_ir_text.moc"

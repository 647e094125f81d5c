// Pipeline text (round trip, located errors), registry and order constraints.
#include "passes/pipeline.h"
#include "passes/registry.h"
#include "test_pass_util.h"

#include <QtTest>

using namespace stc;
using namespace stc::passes;

namespace {

PassDef fakePass(std::string name, std::vector<OptionSpec> opts, std::vector<std::string> needs,
                 std::vector<std::string> provides, std::vector<std::string> invalidates = {})
{
    PassInfo info;
    info.name = std::move(name);
    info.description = "test pass";
    info.options = std::move(opts);
    info.needs = std::move(needs);
    info.provides = std::move(provides);
    info.invalidates = std::move(invalidates);
    return {std::move(info), [](ir::Module&, PassRun&) {}};
}

// Passes named like the real ones, with the same kinds of options and constraints.
PassRegistry testRegistry()
{
    PassRegistry r;
    r.registerProperty({"bn-folded", "no batchnorm", [](const ir::Module& m) {
                            return testutil::countOps(m, ir::OpKind::BatchNorm) == 0;
                        }});
    r.registerProperty({"quantized", "quantized", nullptr});
    r.registerPass(fakePass("fold-bn", {}, {}, {"bn-folded"}));
    r.registerPass(fakePass("fuse", {}, {}, {}));
    r.registerPass(fakePass("quantize",
                            {OptionSpec::integer("bits", 8, 2, 16, "weight bits"),
                             OptionSpec::boolean("per-channel", true, "per-channel scales"),
                             OptionSpec::real("percentile", 99.99, 50, 100, "calibration percentile"),
                             OptionSpec::string("label", "", "free text")},
                            {"bn-folded"}, {"quantized"}));
    r.registerPass(fakePass("prune",
                            {OptionSpec::real("sparsity", 0.5, 0.0, 0.99, "target"),
                             OptionSpec::enumeration("mode", "magnitude", {"magnitude", "channel", "head"}, "kind")},
                            {}, {}));
    r.registerPass(fakePass("unfold", {}, {}, {}, {"bn-folded"}));
    r.registerPass(fakePass("map", {}, {"quantized"}, {}));
    return r;
}

} // namespace

class TestPassPipeline : public QObject {
    Q_OBJECT
private slots:
    void roundTrip_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("canonical");
        QTest::newRow("empty") << "" << "";
        QTest::newRow("one") << "fold-bn" << "fold-bn";
        QTest::newRow("issue example") << "fold-bn,fuse,quantize{bits=8 per-channel=true},prune{sparsity=0.5}"
                                       << "fold-bn,fuse,quantize{bits=8 per-channel=true},prune{sparsity=0.5}";
        QTest::newRow("disabled") << "-prune{sparsity=0.5}" << "-prune{sparsity=0.5}";
        QTest::newRow("spec order") << "quantize{per-channel=false bits=6}" << "quantize{bits=6 per-channel=false}";
        QTest::newRow("whitespace") << "  fold-bn ,  quantize { bits = 4 }  " << "fold-bn,quantize{bits=4}";
        QTest::newRow("comma options") << "quantize{bits=4,per-channel=false}" << "quantize{bits=4 per-channel=false}";
        QTest::newRow("default kept") << "quantize{bits=8}" << "quantize{bits=8}";
        QTest::newRow("float int") << "prune{sparsity=0}" << "prune{sparsity=0.0}";
        QTest::newRow("float exp") << "quantize{percentile=99.999}" << "quantize{percentile=99.999}";
        QTest::newRow("enum") << "prune{mode=head sparsity=0.25}" << "prune{sparsity=0.25 mode=head}";
        QTest::newRow("quoted") << "quantize{label=\"a b,{c}=\\\"d\\\"\"}" << "quantize{label=\"a b,{c}=\\\"d\\\"\"}";
        QTest::newRow("empty string") << "quantize{label=\"\"}" << "quantize{label=\"\"}";
        QTest::newRow("empty braces") << "fuse{}" << "fuse";
        QTest::newRow("repeat pass") << "fold-bn,fold-bn,-fold-bn" << "fold-bn,fold-bn,-fold-bn";
    }
    void roundTrip()
    {
        QFETCH(QString, text);
        QFETCH(QString, canonical);
        const PassRegistry reg = testRegistry();
        Diagnostics d;
        auto p = parsePipeline(text.toStdString(), reg, d);
        QVERIFY2(p.has_value(), d.format().c_str());
        QCOMPARE(QString::fromStdString(p->print(reg)), canonical);
        Diagnostics d2;
        auto again = parsePipeline(p->print(reg), reg, d2);
        QVERIFY(again.has_value());
        QVERIFY(*again == *p); // parse(print(p)) == p
        auto noReg = parsePipeline(p->print(), reg, d2); // registry-free printing round-trips too
        QVERIFY(noReg.has_value() && *noReg == *p);
    }

    void programmaticRoundTrip()
    {
        const PassRegistry reg = testRegistry();
        Pipeline p;
        p.add("fold-bn").add("quantize", {{"bits", int64_t{4}}, {"percentile", 99.5}, {"label", std::string("x y")}})
            .add("prune", {{"sparsity", 0.1 + 0.2}}, false);
        Diagnostics d;
        auto q = parsePipeline(p.print(reg), reg, d);
        QVERIFY2(q.has_value(), d.format().c_str());
        QVERIFY(*q == p); // 0.30000000000000004 survives: shortest round-trip digits
        QVERIFY(!q->entries[2].enabled);
    }

    void errors_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("column");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown pass") << "fold-bn,qantize" << 9 << "unknown pass 'qantize'; did you mean 'quantize'?";
        QTest::newRow("unknown far") << "xyzzy-frobnicate" << 1 << "unknown pass 'xyzzy-frobnicate'";
        QTest::newRow("unknown option") << "quantize{bitz=8}" << 10
                                        << "unknown option 'bitz' for pass 'quantize'; did you mean 'bits'?";
        QTest::newRow("option of optionless") << "fuse{x=1}" << 6 << "unknown option 'x' for pass 'fuse' (it has no options)";
        QTest::newRow("bad int") << "quantize{bits=eight}" << 15 << "expected an integer, got 'eight'";
        QTest::newRow("float for int") << "quantize{bits=8.5}" << 15 << "expected an integer, got '8.5'";
        QTest::newRow("out of range") << "quantize{bits=1}" << 15 << "value 1 out of range [2, 16]";
        QTest::newRow("float range") << "prune{sparsity=1.5}" << 16 << "value 1.5 out of range [0.0, 0.99]";
        QTest::newRow("bad bool") << "quantize{per-channel=yes}" << 22 << "expected true or false, got 'yes'";
        QTest::newRow("bad enum") << "prune{mode=random}" << 12 << "expected one of magnitude|channel|head, got 'random'";
        QTest::newRow("unbalanced open") << "fold-bn,quantize{bits=8" << 17 << "unbalanced '{': missing '}'";
        QTest::newRow("unbalanced close") << "fold-bn}" << 8 << "unbalanced '}': no matching '{'";
        QTest::newRow("nested") << "quantize{bits={8}}" << 15 << "expected a value";
        QTest::newRow("missing equals") << "quantize{bits 8}" << 15 << "expected '=' after option 'bits'";
        QTest::newRow("trailing comma") << "fold-bn," << 9 << "expected a pass name after ','";
        QTest::newRow("double comma") << "fold-bn,,fuse" << 9 << "expected a pass name, got ','";
        QTest::newRow("missing comma") << "fold-bn fuse" << 9 << "expected ',' between passes, got 'f'";
        QTest::newRow("duplicate option") << "quantize{bits=8 bits=4}" << 17 << "option 'bits' given twice";
        QTest::newRow("unterminated") << "quantize{label=\"abc}" << 16 << "unterminated string";
        QTest::newRow("brace first") << "{bits=8}" << 1 << "expected a pass name before '{'";
    }
    void errors()
    {
        QFETCH(QString, text);
        QFETCH(int, column);
        QFETCH(QString, message);
        const PassRegistry reg = testRegistry();
        Diagnostics d;
        auto p = parsePipeline(text.toStdString(), reg, d);
        QVERIFY(!p.has_value());
        QVERIFY(d.hasErrors());
        const Diagnostic& first = d.items().front();
        QVERIFY2(QString::fromStdString(first.message).contains(message), first.message.c_str());
        QCOMPARE(first.loc.col, column);
        QCOMPARE(first.loc.line, 1);
    }

    void allSemanticErrorsReported()
    {
        const PassRegistry reg = testRegistry();
        Diagnostics d;
        QVERIFY(!parsePipeline("foldbn,quantize{bits=99 per-chanel=true}", reg, d));
        QCOMPARE(int(d.errorCount()), 3);
    }

    void validateProgrammatic()
    {
        const PassRegistry reg = testRegistry();
        Pipeline p;
        p.add("quantize", {{"bits", int64_t{40}}}).add("nope");
        Diagnostics d;
        QVERIFY(!validateEntries(p, reg, d));
        QCOMPARE(int(d.errorCount()), 2);
        QVERIFY(QString::fromStdString(d.format()).contains("out of range"));
    }

    void orderConstraints_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("inputHasBn");
        QTest::addColumn<QString>("error"); // empty: valid
        QTest::newRow("ok") << "fold-bn,fuse,quantize,map" << true << "";
        QTest::newRow("reordered") << "quantize,fold-bn" << true
                                   << "quantize needs fold-bn before it (requires property 'bn-folded'); "
                                      "fold-bn comes after it (position 2)";
        QTest::newRow("missing") << "fuse,quantize" << true << "quantize needs fold-bn before it (requires property 'bn-folded')";
        QTest::newRow("model without bn") << "quantize,map" << false << "";
        QTest::newRow("disabled provider") << "-fold-bn,quantize" << true << "fold-bn (position 1) is disabled";
        QTest::newRow("invalidated") << "fold-bn,unfold,quantize" << true << "unfold (position 2) invalidates it";
        QTest::newRow("map needs quantized") << "fold-bn,map" << false
                                             << "map needs quantize before it (requires property 'quantized')";
        QTest::newRow("disabled consumer") << "-quantize,fold-bn" << true << "";
    }
    void orderConstraints()
    {
        QFETCH(QString, text);
        QFETCH(bool, inputHasBn);
        QFETCH(QString, error);
        const PassRegistry reg = testRegistry();
        Diagnostics pd;
        auto p = parsePipeline(text.toStdString(), reg, pd);
        QVERIFY(p);
        const ir::Module m = inputHasBn ? testutil::convNet() : ir::Module{};
        Diagnostics d;
        const bool ok = checkOrder(*p, reg, &m, d);
        QCOMPARE(ok, error.isEmpty());
        if (!ok) {
            QVERIFY2(QString::fromStdString(d.format()).contains(error), d.format().c_str());
            QVERIFY(d.items().front().loc.col > 0);
        }
    }

    void orderWithoutInputIsStrict()
    {
        const PassRegistry reg = testRegistry();
        Diagnostics pd, d;
        auto p = parsePipeline("quantize", reg, pd);
        QVERIFY(!checkOrder(*p, reg, nullptr, d)); // nothing known about the IR
        Diagnostics d2;
        QVERIFY(checkOrder(*p, reg, nullptr, d2, {"quantize"})); // disabled in the context
    }

    void reorderLikeTheIde()
    {
        // Drag fold-bn below quantize: the checker names who needs what.
        const PassRegistry reg = testRegistry();
        Pipeline p;
        p.add("fold-bn").add("quantize");
        const ir::Module m = testutil::convNet();
        Diagnostics d;
        QVERIFY(checkOrder(p, reg, &m, d));
        std::swap(p.entries[0], p.entries[1]);
        QVERIFY(!checkOrder(p, reg, &m, d));
        QCOMPARE(d.items().front().op, std::string("quantize (position 1)"));
    }

    void registry()
    {
        PassRegistry r = testRegistry();
        QVERIFY(r.find("quantize"));
        QVERIFY(!r.find("quantise"));
        QCOMPARE(r.providers("bn-folded"), std::vector<std::string>{"fold-bn"});
        QVERIFY_THROWS_EXCEPTION(std::logic_error, r.registerPass(fakePass("fuse", {}, {}, {})));
        const PassRegistry builtin = makeBuiltinRegistry();
        for (const char* n : {"fold-bn", "dce", "canonicalize"})
            QVERIFY2(builtin.find(n), n);
        for (const auto& def : builtin.passes()) {
            QVERIFY(!def.info.description.empty());
            for (const auto& spec : def.info.options) // defaults satisfy their own spec
                QVERIFY2(checkOptionValue(spec, spec.defaultValue).empty(), (def.info.name + "." + spec.name).c_str());
            for (const auto& prop : def.info.needs)
                QVERIFY(builtin.findProperty(prop));
            for (const auto& prop : def.info.provides)
                QVERIFY(builtin.findProperty(prop));
        }
    }

    void optionsAccess()
    {
        const PassRegistry reg = testRegistry();
        const PassInfo& q = reg.find("quantize")->info;
        Options o(q.options, {{"bits", int64_t{4}}});
        QCOMPARE(o.getInt("bits"), int64_t{4});
        QCOMPARE(o.getBool("per-channel"), true);
        QCOMPARE(o.getFloat("percentile"), 99.99);
        QVERIFY(o.isExplicit("bits") && !o.isExplicit("per-channel"));
        QVERIFY_THROWS_EXCEPTION(std::logic_error, o.getInt("nope"));
    }
};

QTEST_GUILESS_MAIN(TestPassPipeline)
#include "test_pass_pipeline.moc"

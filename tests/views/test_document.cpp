// Document edits as undo commands: attribute edits, bypass, delete; every
// undo restores the IR text exactly; edits re-verify and mark errors.
#include "document/document.h"
#include "tiny_models.h"

#include <QSignalSpy>
#include <QTest>

using namespace stc;
using namespace stc::views;

namespace {
int firstOp(const ir::Module& m, ir::OpKind kind)
{
    for (size_t i = 0; i < m.ops().size(); ++i)
        if (m.ops()[i].kind == kind)
            return int(i);
    return -1;
}
} // namespace

class TestDocument : public QObject {
    Q_OBJECT
private slots:
    void tinyModuleVerifies()
    {
        const ir::Module m = test::makeTinySpikformer();
        const Diagnostics d = verifyIr(m);
        QVERIFY2(!d.hasErrors(), d.format().c_str());
        QVERIFY(!printIr(m, false).empty());
    }

    void editAttribute_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<double>("value");
        QTest::newRow("threshold") << "v_threshold" << 0.75;
        QTest::newRow("tau") << "tau" << 3.5;
    }
    void editAttribute()
    {
        QFETCH(QString, key);
        QFETCH(double, value);
        Document doc;
        doc.load("tiny.sir", std::make_shared<const ir::Module>(test::makeTinySpikformer()), {}, "test");
        const std::string before = printIr(*doc.module(), false);
        const int lif = firstOp(*doc.module(), ir::OpKind::Lif);
        QSignalSpy changed(&doc, &Document::moduleChanged);
        QVERIFY(doc.setOpAttribute(lif, key.toStdString(), value));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(doc.module()->ops()[size_t(lif)].attrs.getFloat(key.toStdString()), value);
        QVERIFY(printIr(*doc.module(), false) != before);
        doc.undoStack()->undo();
        QCOMPARE(printIr(*doc.module(), false), before);
        doc.undoStack()->redo();
        QCOMPARE(doc.module()->ops()[size_t(lif)].attrs.getFloat(key.toStdString()), value);
    }

    void bypassMarksErrorsAndUndoRestores()
    {
        Document doc;
        doc.load("tiny.sir", std::make_shared<const ir::Module>(test::makeTinySpikformer()), {}, "test");
        const std::string before = printIr(*doc.module(), false);
        // Bypassing the conv feeds [1,28,28] where [8,14,14] was expected: the
        // verifier must flag the users.
        const int conv = firstOp(*doc.module(), ir::OpKind::Conv2d);
        QString why;
        QVERIFY2(doc.bypassOp(conv, &why), qPrintable(why));
        QVERIFY(!doc.opsWithErrors().empty());
        doc.undoStack()->undo();
        QCOMPARE(printIr(*doc.module(), false), before);
        QVERIFY(doc.opsWithErrors().empty());
    }

    void deleteRemovesOpAndPrivateConstants()
    {
        Document doc;
        const ir::Module original = test::makeTinySpikformer();
        doc.load("tiny.sir", std::make_shared<const ir::Module>(original), {}, "test");
        const int bn = firstOp(*doc.module(), ir::OpKind::BatchNorm);
        QString why;
        QVERIFY2(doc.deleteOp(bn, &why), qPrintable(why));
        // batchnorm + its 4 statistics constants are gone.
        QCOMPARE(doc.module()->ops().size(), original.ops().size() - 5);
        QCOMPARE(firstOp(*doc.module(), ir::OpKind::BatchNorm), -1);
        QVERIFY(doc.opsWithErrors().empty()); // conv output feeds the lif directly: still valid
        doc.undoStack()->undo();
        QVERIFY(doc.module()->sameAs(original));
    }

    void diagnosticsResolveToOps()
    {
        Document doc;
        doc.load("tiny.sir", std::make_shared<const ir::Module>(test::makeTinySpikformer()), {}, "test");
        const ir::Module& m = *doc.module();
        const int lif = firstOp(m, ir::OpKind::Lif);
        Diagnostic d;
        d.op = "%" + m.value(m.ops()[size_t(lif)].result).name + " = lif";
        QCOMPARE(doc.resolveOp(d), lif);
        Diagnostic byOrigin;
        byOrigin.origin = "blocks.0.attn.q_lif";
        QVERIFY(doc.resolveOp(byOrigin) >= 0);
    }
};

QTEST_MAIN(TestDocument)
#include "test_document.moc"

// IR editor: lexer classification (data-driven), folding, go-to-definition,
// selection sync with the document, verifier markers, elided large constants.
#include "document/document.h"
#include "editor/ir_editor_panel.h"
#include "editor/spike_ir_lexer.h"
#include "jobs/job_runner.h"
#include "tiny_models.h"

#include <Qsci/qsciscintilla.h>

#include <QRegularExpression>
#include <QTest>

using namespace stc;
using namespace stc::views;

class TestEditor : public QObject {
    Q_OBJECT
private slots:
    void lexer_data()
    {
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("token");
        QTest::addColumn<int>("style");
        using L = SpikeIrLexer;
        QTest::newRow("op") << "  %3 = conv2d %x, %w : f32[T,8,14,14]" << "conv2d" << int(L::OpName);
        QTest::newRow("value") << "  %3 = conv2d %x, %w : f32[T,8,14,14]" << "%x" << int(L::ValueRef);
        QTest::newRow("type") << "  %3 = conv2d %x, %w : f32[T,8,14,14]" << "f32" << int(L::TypeName);
        QTest::newRow("attr key") << "  %4 = lif %3 {tau = 2.0, v_threshold = 1.0}" << "v_threshold" << int(L::AttrKey);
        QTest::newRow("float") << "  %4 = lif %3 {tau = 2.0}" << "2.0" << int(L::Number);
        QTest::newRow("string") << "  %2 = encode %x {mode = \"direct\"} loc(\"encode\")" << "\"direct\"" << int(L::String);
        QTest::newRow("keyword") << "module @main {timesteps = 4} {" << "module" << int(L::Keyword);
        QTest::newRow("module") << "module @main {timesteps = 4} {" << "@main" << int(L::ModuleRef);
        QTest::newRow("comment") << "  // a comment with conv2d" << "conv2d" << int(L::Comment);
        QTest::newRow("payload") << "  %w = const b64\"AAAA\" : f32[4]" << "b64\"AAAA\"" << int(L::Payload);
    }
    void lexer()
    {
        QFETCH(QString, line);
        QFETCH(QString, token);
        QFETCH(int, style);
        SpikeIrLexer lexer;
        const QByteArray bytes = line.toUtf8();
        const auto styles = lexer.classifyLine(bytes);
        const int at = int(bytes.indexOf(token.toUtf8()));
        QVERIFY(at >= 0);
        for (int i = at; i < at + token.toUtf8().size(); ++i)
            QCOMPARE(styles[size_t(i)], style);
    }

    void panelShowsModuleFoldsAndSyncs()
    {
        Document doc;
        JobRunner jobs;
        IrEditorPanel panel(&doc, &jobs);
        panel.resize(800, 600);
        panel.show();
        doc.load("tiny.sir", std::make_shared<const ir::Module>(test::makeTinySpikformer()), {}, "test");
        QVERIFY(jobs.waitForIdle(10000));
        QsciScintilla* ed = panel.editor();
        QVERIFY(ed->text().startsWith("module"));
        QVERIFY(!panel.elided());
        // The module header is a fold point.
        QApplication::processEvents();
        ed->SendScintilla(QsciScintilla::SCI_COLOURISE, 0, -1);
        const int level = int(ed->SendScintilla(QsciScintilla::SCI_GETFOLDLEVEL, 0));
        QVERIFY(level & QsciScintilla::SC_FOLDLEVELHEADERFLAG);
        // Document selection -> editor line, editor line -> selection.
        const int op = 10;
        doc.selectOp(op);
        const int line = panel.lineOfOp(op);
        QVERIFY(line > 1);
        QVERIFY(ed->text(line - 1).contains("%" + QString::fromStdString(doc.module()->value(doc.module()->ops()[op].result).name)));
        ed->setCursorPosition(panel.lineOfOp(op + 1) - 1, 2);
        QTRY_COMPARE_WITH_TIMEOUT(doc.selectedOp(), op + 1, 5000); // Scintilla reports the caret on UI update
        // Go to definition of the first operand on that line.
        const QString text = ed->text(panel.lineOfOp(op + 1) - 1);
        const int pct = text.indexOf('%', text.indexOf('=') + 1);
        QVERIFY(pct > 0);
        ed->setCursorPosition(panel.lineOfOp(op + 1) - 1, pct + 1);
        panel.gotoDefinitionAtCursor();
        int curLine = 0, curIndex = 0;
        ed->getCursorPosition(&curLine, &curIndex);
        QVERIFY(ed->text(curLine).trimmed().startsWith(text.mid(pct, text.indexOf(QRegularExpression("[ ,]"), pct) - pct)));
        // A verifier error gets a margin marker.
        Diagnostics d;
        Diagnostic e;
        e.op = "%" + doc.module()->value(doc.module()->ops()[op].result).name;
        e.message = "synthetic";
        d.add(e);
        doc.setDiagnostics(DiagSource::Verify, d);
        QVERIFY(ed->markersAtLine(line - 1) & (1 << 1));
    }

    void largeConstantsAreElided()
    {
        ir::Module m = test::makeTinySpikformer();
        std::vector<float> big(300000, 0.5f); // 1.2 MB of constants
        m.addConst(ir::Tensor::fromFloats({300000}, big), "big");
        Document doc;
        JobRunner jobs;
        IrEditorPanel panel(&doc, &jobs);
        doc.load("big.sir", std::make_shared<const ir::Module>(std::move(m)), {}, "test");
        QVERIFY(jobs.waitForIdle(10000));
        QVERIFY(panel.elided());
        QVERIFY(panel.editor()->isReadOnly());
        QVERIFY(panel.text().contains("elided"));
        QVERIFY(panel.text().size() < 200000);
    }
};

QTEST_MAIN(TestEditor)
#include "test_editor.moc"

#include "editor/ir_editor_panel.h"

#include "common/not_yet_panel.h"
#include "common/theme.h"
#include "editor/spike_ir_lexer.h"
#include "jobs/job_runner.h"

#include <Qsci/qsciscintilla.h>

#include <QApplication>
#include <QLabel>
#include <QMouseEvent>
#include <QRegularExpression>
#include <QTimer>
#include <QVBoxLayout>

namespace stc::views {

namespace {
constexpr int kErrorMarker = 1;
constexpr int kWarningMarker = 2;
constexpr int kErrorIndicator = 8;
constexpr int kSelectedLineMarker = 3;
// Above this many constant bytes the editor shows elided constants: a single
// base64 line of megabytes makes Scintilla's layout slow.
constexpr int64_t kMaxInlineConstantBytes = 512 * 1024;

int64_t constantBytes(const ir::Module& m)
{
    int64_t n = 0;
    for (const auto& op : m.ops())
        if (op.constant)
            n += op.constant->byteSize();
    return n;
}
} // namespace

IrEditorPanel::IrEditorPanel(Document* document, JobRunner* jobs, QWidget* parent)
    : QWidget(parent), doc_(document), jobs_(jobs)
{
    setObjectName("irEditor");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    banner_ = new QLabel(this);
    banner_->setWordWrap(true);
    banner_->setContentsMargins(8, 4, 8, 4);
    banner_->hide();
    layout->addWidget(banner_);

    editor_ = new QsciScintilla(this);
    lexer_ = new SpikeIrLexer(editor_);
    editor_->setLexer(lexer_);
    editor_->setUtf8(true);
    editor_->setMarginType(0, QsciScintilla::NumberMargin);
    editor_->setMarginWidth(0, "00000");
    editor_->setMarginType(1, QsciScintilla::SymbolMargin);
    editor_->setMarginWidth(1, 14);
    editor_->setMarginSensitivity(1, false);
    editor_->setFolding(QsciScintilla::BoxedTreeFoldStyle, 2);
    editor_->setCaretLineVisible(true);
    editor_->setBraceMatching(QsciScintilla::SloppyBraceMatch);
    editor_->setWrapMode(QsciScintilla::WrapNone);
    editor_->setIndentationGuides(true);
    editor_->setTabWidth(2);
    editor_->setFrameShape(QFrame::NoFrame);
    editor_->markerDefine(QsciScintilla::Circle, kErrorMarker);
    editor_->markerDefine(QsciScintilla::RightTriangle, kWarningMarker);
    editor_->markerDefine(QsciScintilla::Background, kSelectedLineMarker);
    editor_->indicatorDefine(QsciScintilla::SquiggleIndicator, kErrorIndicator);
    layout->addWidget(editor_, 1);

    auto applyColours = [this] {
        const bool dark = theme::isDark();
        const QPalette pal = QApplication::palette();
        lexer_->applyPalette();
        editor_->setMarginsBackgroundColor(pal.color(QPalette::Window));
        editor_->setMarginsForegroundColor(pal.color(QPalette::PlaceholderText));
        editor_->setFoldMarginColors(pal.color(QPalette::Window), pal.color(QPalette::Window));
        editor_->setCaretForegroundColor(pal.color(QPalette::Text));
        editor_->setCaretLineBackgroundColor(dark ? QColor("#2a2e35") : QColor("#eef3fb"));
        editor_->setSelectionBackgroundColor(pal.color(QPalette::Highlight));
        editor_->setSelectionForegroundColor(pal.color(QPalette::HighlightedText));
        editor_->setMarkerBackgroundColor(theme::errorColor(dark), kErrorMarker);
        editor_->setMarkerForegroundColor(theme::errorColor(dark), kErrorMarker);
        editor_->setMarkerBackgroundColor(theme::warningColor(dark), kWarningMarker);
        editor_->setMarkerBackgroundColor(dark ? QColor("#33415a") : QColor("#dce8fb"), kSelectedLineMarker);
        editor_->setIndicatorForegroundColor(theme::errorColor(dark), kErrorIndicator);
        banner_->setStyleSheet(QString("background:%1; color:%2;")
                                   .arg(dark ? "#3a3222" : "#fff4d6", dark ? "#f0d9a0" : "#6b4e00"));
    };
    applyColours();
    editor_->viewport()->installEventFilter(this);
    connect(qApp, &QApplication::paletteChanged, this, applyColours);

    reparseTimer_ = new QTimer(this);
    reparseTimer_->setSingleShot(true);
    reparseTimer_->setInterval(reparseDelayMs_);
    connect(reparseTimer_, &QTimer::timeout, this, &IrEditorPanel::reparse);
    connect(editor_, &QsciScintilla::textChanged, this, &IrEditorPanel::scheduleReparse);
    connect(editor_, &QsciScintilla::cursorPositionChanged, this, &IrEditorPanel::onCursorMoved);

    connect(doc_, &Document::moduleChanged, this, [this] {
        if (applyingEdit_) {
            // The text already is what the user typed; only the mapping changed.
            shownModule_ = doc_->module();
            rebuildLineMap();
            refreshMarkers();
            return;
        }
        showModule();
    });
    connect(doc_, &Document::diagnosticsChanged, this, &IrEditorPanel::refreshMarkers);
    connect(doc_, &Document::selectionChanged, this, [this](int op) {
        editor_->markerDeleteAll(kSelectedLineMarker);
        const int line = lineOfOp(op);
        if (line <= 0)
            return;
        editor_->markerAdd(line - 1, kSelectedLineMarker);
        int curLine = 0, curIndex = 0;
        editor_->getCursorPosition(&curLine, &curIndex);
        if (curLine != line - 1) {
            settingText_ = true;
            editor_->setCursorPosition(line - 1, 0);
            editor_->ensureLineVisible(line - 1);
            settingText_ = false;
        }
    });
}

QString IrEditorPanel::text() const { return editor_->text(); }

void IrEditorPanel::setReparseDelayMs(int ms)
{
    reparseDelayMs_ = ms;
    reparseTimer_->setInterval(ms);
}

void IrEditorPanel::setLoadedText(const QString& text)
{
    if (text.isEmpty() || !doc_->hasModule())
        return;
    // A .sir file is shown as written (comments and all); its ops carry textLoc.
    jobs_->cancel("print");
    shownModule_ = doc_->module();
    setEditorText(text, false);
}

void IrEditorPanel::showModule()
{
    if (!doc_->hasModule()) {
        shownModule_.reset();
        setEditorText({}, false);
        return;
    }
    ModulePtr module = doc_->module();
    struct Printed {
        QString text;
        bool elided = false;
    };
    const int editsAtStart = userEdits_;
    jobs_->start<Printed>(
        "print", "Printing IR",
        [module](JobContext&) {
            const bool elide = constantBytes(*module) > kMaxInlineConstantBytes;
            return Printed{QString::fromStdString(printIr(*module, elide)), elide};
        },
        [this, module, editsAtStart](Printed p) {
            if (userEdits_ != editsAtStart)
                return; // the user typed meanwhile; their text wins and re-parses
            shownModule_ = module;
            setEditorText(p.text, p.elided);
        });
}

void IrEditorPanel::setEditorText(const QString& text, bool elided)
{
    settingText_ = true;
    int line = 0, index = 0;
    editor_->getCursorPosition(&line, &index);
    const int first = editor_->firstVisibleLine();
    editor_->setText(text);
    editor_->setCursorPosition(std::min(line, std::max(0, editor_->lines() - 1)), 0);
    editor_->setFirstVisibleLine(first);
    settingText_ = false;
    reparseTimer_->stop();
    elided_ = elided;
    editor_->setReadOnly(elided);
    if (elided) {
        banner_->setText("Large constants are shown elided (<elided N bytes>) to keep the editor responsive; "
                         "the text is read-only. Edit parameters in the Inspector, or save the full IR with "
                         "File › Save IR As.");
        banner_->show();
    } else {
        banner_->hide();
    }
    rebuildLineMap();
    refreshMarkers();
}

void IrEditorPanel::rebuildLineMap()
{
    opLine_.clear();
    lineOp_.clear();
    if (!shownModule_)
        return;
    const ir::Module& m = *shownModule_;
    opLine_.assign(m.ops().size(), 0);
    bool fromText = !m.ops().empty();
    for (const auto& op : m.ops())
        fromText = fromText && op.textLoc.known();
    if (fromText) {
        for (size_t i = 0; i < m.ops().size(); ++i)
            opLine_[i] = m.ops()[i].textLoc.line;
    } else {
        // Printed text: after the `module` header, one op per non-blank line.
        const int lines = editor_->lines();
        size_t op = 0;
        bool inBody = false;
        for (int l = 0; l < lines && op < m.ops().size(); ++l) {
            const QString t = editor_->text(l).trimmed();
            if (!inBody) {
                inBody = t.startsWith("module");
                continue;
            }
            if (t.isEmpty() || t.startsWith("//") || t == "}")
                continue;
            opLine_[op++] = l + 1;
        }
    }
    for (size_t i = 0; i < opLine_.size(); ++i)
        if (opLine_[i] > 0)
            lineOp_[opLine_[i]] = int(i);
}

int IrEditorPanel::lineOfOp(int opIndex) const
{
    return opIndex >= 0 && opIndex < int(opLine_.size()) ? opLine_[size_t(opIndex)] : 0;
}

int IrEditorPanel::opAtLine(int line) const
{
    auto it = lineOp_.find(line);
    return it == lineOp_.end() ? -1 : it->second;
}

void IrEditorPanel::scheduleReparse()
{
    if (settingText_ || editor_->isReadOnly())
        return;
    ++userEdits_;
    reparseTimer_->start();
}

void IrEditorPanel::reparse()
{
    const std::string text = editor_->text().toStdString();
    const std::string file = doc_->filePath().toStdString();
    ModulePtr before = doc_->module();
    jobs_->start<ParseOutcome>(
        "reparse", "Parsing IR edit", [text, file](JobContext&) { return parseIrText(text, file); },
        [this, before](ParseOutcome r) {
            doc_->setDiagnostics(DiagSource::Editor, r.diagnostics);
            if (!r.module)
                return;
            if (before && r.module->sameAs(*before))
                return;
            applyingEdit_ = true;
            doc_->replaceModule(r.module, "Edit IR text");
            applyingEdit_ = false;
            emit textApplied();
        });
}

void IrEditorPanel::refreshMarkers()
{
    editor_->markerDeleteAll(kErrorMarker);
    editor_->markerDeleteAll(kWarningMarker);
    editor_->clearIndicatorRange(0, 0, std::max(0, editor_->lines() - 1),
                                 editor_->lineLength(std::max(0, editor_->lines() - 1)), kErrorIndicator);
    for (const LocatedDiagnostic& d : doc_->diagnostics()) {
        if (d.diag.severity == Severity::Note)
            continue;
        int line = lineOfOp(d.opIndex);
        int col = 0;
        if (d.source == DiagSource::Editor || (line == 0 && d.diag.loc.known())) {
            line = d.diag.loc.line;
            col = std::max(0, d.diag.loc.col - 1);
        }
        if (line <= 0 || line > editor_->lines())
            continue;
        const bool error = d.diag.severity == Severity::Error;
        editor_->markerAdd(line - 1, error ? kErrorMarker : kWarningMarker);
        if (error) {
            const int len = editor_->lineLength(line - 1);
            editor_->fillIndicatorRange(line - 1, std::min(col, std::max(0, len - 1)), line - 1, std::max(0, len - 1),
                                        kErrorIndicator);
        }
    }
}

void IrEditorPanel::gotoLine(int line)
{
    if (line <= 0)
        return;
    editor_->setCursorPosition(line - 1, 0);
    editor_->ensureLineVisible(line - 1);
    editor_->setFocus();
}

void IrEditorPanel::gotoDefinitionAtCursor()
{
    int line = 0, index = 0;
    editor_->getCursorPosition(&line, &index);
    const QString lineText = editor_->text(line);
    // The %name under the cursor (the '%' may be just left of it).
    int start = index;
    while (start > 0 && lineText[start - 1] != '%' && !lineText[start - 1].isSpace() && lineText[start - 1] != ',')
        --start;
    if (start == 0 || lineText[start - 1] != '%')
        return;
    int end = index;
    static const QRegularExpression nameChar("[A-Za-z0-9_.$]");
    while (end < lineText.size() && nameChar.match(lineText.mid(end, 1)).hasMatch())
        ++end;
    const QString name = lineText.mid(start, end - start);
    const QRegularExpression def("^\\s*%" + QRegularExpression::escape(name) + "\\s*=");
    for (int l = 0; l < editor_->lines(); ++l)
        if (def.match(editor_->text(l)).hasMatch()) {
            gotoLine(l + 1);
            return;
        }
}

bool IrEditorPanel::eventFilter(QObject* watched, QEvent* event)
{
    // Ctrl+click on a %value jumps to its definition (after Scintilla moved the caret).
    if (watched == editor_->viewport() && event->type() == QEvent::MouseButtonRelease &&
        (static_cast<QMouseEvent*>(event)->modifiers() & Qt::ControlModifier))
        QTimer::singleShot(0, this, &IrEditorPanel::gotoDefinitionAtCursor);
    return QWidget::eventFilter(watched, event);
}

void IrEditorPanel::onCursorMoved(int line, int)
{
    if (settingText_)
        return;
    const int op = opAtLine(line + 1);
    if (op >= 0)
        doc_->selectOp(op);
}

} // namespace stc::views

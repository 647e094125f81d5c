// IR editor: the module as Spike IR text in QScintilla. Document changes are
// printed in a job; user edits are re-parsed in a job after a short pause and
// applied to the document as one undoable change. Verifier errors show as
// margin markers and squiggles; the cursor line and the graph selection follow
// each other.
#pragma once

#include "document/document.h"

#include <QWidget>

class QLabel;
class QTimer;
class QsciScintilla;

namespace stc::views {

class JobRunner;
class SpikeIrLexer;

class IrEditorPanel : public QWidget {
    Q_OBJECT
public:
    IrEditorPanel(Document* document, JobRunner* jobs, QWidget* parent = nullptr);

    QsciScintilla* editor() const { return editor_; }
    QString text() const;
    bool elided() const { return elided_; }
    int lineOfOp(int opIndex) const;  // 1-based, 0 = unknown
    int opAtLine(int line) const;     // 1-based line, -1 = none
    int reparseDelayMs() const { return reparseDelayMs_; }
    void setReparseDelayMs(int ms);

    // The text of a freshly opened .sir file (shown as written); empty = print.
    void setLoadedText(const QString& text);

public slots:
    void gotoLine(int line);
    void gotoDefinitionAtCursor();

signals:
    void textApplied(); // a re-parsed edit became the document's module

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void showModule();          // print the current module (job)
    void setEditorText(const QString& text, bool elided);
    void scheduleReparse();
    void reparse();
    void refreshMarkers();
    void rebuildLineMap();
    void onCursorMoved(int line, int index);

    Document* doc_;
    JobRunner* jobs_;
    QsciScintilla* editor_;
    SpikeIrLexer* lexer_;
    QLabel* banner_;
    QTimer* reparseTimer_;
    int reparseDelayMs_ = 450;
    bool settingText_ = false;
    bool applyingEdit_ = false; // the document change came from this editor
    bool elided_ = false;
    int userEdits_ = 0;         // bumps on every user edit; a print started before one is dropped
    std::vector<int> opLine_;   // op index -> 1-based line
    std::map<int, int> lineOp_; // 1-based line -> op index
    ModulePtr shownModule_;     // the module the text corresponds to
};

} // namespace stc::views

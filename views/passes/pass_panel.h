// Pass pipeline panel: entries with enable checkboxes, drag-and-drop order,
// per-pass options, "add pass" from the registry and the pipeline text, all
// mirrored both ways. Every change is an undoable command and recompiles the
// document's module in the background (lane "compile"), showing per pass
// ✓/✗, time, statistics and the IR diff; clicking a pass highlights the ops
// it changed in the graph.
#pragma once

#include "document/document.h"
#include "passes/pipeline.h"
#include "passes/registry.h"
#include "passes/runner.h"

#include <QWidget>

#include <set>

class QLabel;
class QLineEdit;
class QListView;
class QPlainTextEdit;
class QTableWidget;
class QTimer;
class QToolButton;

namespace stc::views {

class JobRunner;
class PipelineModel;

struct PassDiff {
    QString text;          // unified-style: "  same", "- old", "+ new"
    std::set<int> changedOps; // document ops whose line changed or vanished
};
// Line diff of two IR texts (LCS); ops are document ops by result name.
PassDiff diffIr(const std::string& before, const std::string& after, const ir::Module* document);

class PassPanel : public QWidget {
    Q_OBJECT
public:
    PassPanel(Document* document, JobRunner* jobs, QWidget* parent = nullptr);
    ~PassPanel() override;

    bool available() const;
    PipelineModel* model() const { return model_; }
    QLineEdit* pipelineText() const { return text_; }
    QString pipelineString() const;
    const passes::PassRegistry& registry() const { return *registry_; }
    bool compiling() const;
    passes::RunStatus lastStatus() const { return lastStatus_; }
    ModulePtr compiledModule() const { return compiled_; }
    int compileCount() const { return compileCount_; }

    // Sets the pipeline through the undo stack (like any user edit).
    void setPipelineText(const QString& text);
    // The chip the target passes (partition/place/route) compile for: the
    // Floorplan panel's choice, or the chip of an opened package.
    QString target() const { return target_; }

public slots:
    void recompile();
    void setTarget(const QString& chip); // recompiles if the pipeline has a target pass
    void selectPass(int index);

signals:
    void compiled(bool ok);
    void highlightOps(const std::set<int>& ops);

private:
    friend class PipelineCommand;
    void applyPipeline(const passes::Pipeline& p); // from the undo command
    void pushChange(const passes::Pipeline& p, const QString& description);
    void showDetails(int row);
    void commitText();

    Document* doc_;
    JobRunner* jobs_;
    std::unique_ptr<passes::PassRegistry> registry_;
    PipelineModel* model_;
    QLineEdit* text_;
    QLabel* textError_;
    QListView* list_;
    QToolButton* add_;
    QToolButton* remove_;
    QTableWidget* options_;
    QLabel* details_;
    QPlainTextEdit* diff_;
    QLabel* summary_;
    QLabel* targetLabel_;
    QString target_ = "loihi3";
    bool fillingOptions_ = false;
    std::vector<std::string> before_, after_; // IR snapshots per entry
    ModulePtr compiled_;
    passes::RunStatus lastStatus_ = passes::RunStatus::Ok;
    int compileCount_ = 0;
    QWidget* content_;
};

} // namespace stc::views

// The open model: the truth every view renders. Holds an immutable module
// snapshot (shared with background jobs without copying), its diagnostics
// and the undo stack. Every edit is a QUndoCommand that swaps snapshots;
// after each swap the module is re-verified and views are told.
#pragma once

#include "document/stages.h"

#include <QObject>
#include <QString>
#include <QUndoStack>

#include <optional>

namespace stc::views {

// Where a diagnostic came from, so the diagnostics list can group and route
// clicks (IR line, graph node, pipeline entry).
enum class DiagSource { Load, Verify, Editor, Pipeline, Simulation, Mapping, Project };

struct LocatedDiagnostic {
    Diagnostic diag;
    DiagSource source = DiagSource::Load;
    int opIndex = -1;    // graph node, if the diagnostic names one
    int passIndex = -1;  // pipeline entry, if any
};

class Document : public QObject {
    Q_OBJECT
public:
    explicit Document(QObject* parent = nullptr);

    // Replaces the whole document (a freshly opened file): clears undo.
    void load(const QString& path, ModulePtr module, const Diagnostics& loadDiagnostics, const QString& engine,
              std::vector<int64_t> inputShape = {});
    void close();

    bool hasModule() const { return static_cast<bool>(module_); }
    ModulePtr module() const { return module_; }
    QString filePath() const { return path_; }
    QString engine() const { return engine_; }
    const std::vector<int64_t>& inputShape() const { return inputShape_; }
    QUndoStack* undoStack() { return &undo_; }

    const std::vector<LocatedDiagnostic>& diagnostics() const { return diagnostics_; }
    void setDiagnostics(DiagSource source, const Diagnostics& diags);
    // Diagnostics that already know their pipeline entry / op.
    void setLocatedDiagnostics(DiagSource source, std::vector<LocatedDiagnostic> diags);
    // Ops with verifier errors (graph nodes get a red mark).
    std::vector<int> opsWithErrors() const;
    // Op index a diagnostic refers to (by %value name or origin), or -1.
    int resolveOp(const Diagnostic& d) const;

    // Edits (undoable). Each returns false and sets `why` when not applicable.
    bool setOpAttribute(int opIndex, const std::string& key, const ir::AttrValue& value, QString* why = nullptr);
    bool bypassOp(int opIndex, QString* why = nullptr);
    bool deleteOp(int opIndex, QString* why = nullptr);
    // Whole-module replacement (IR editor re-parse, pass pipeline result).
    void replaceModule(ModulePtr module, const QString& description);

    int selectedOp() const { return selectedOp_; }
    void selectOp(int opIndex); // -1 clears

    // Called by the undo commands only.
    void swapIn(ModulePtr module);

signals:
    void loaded();
    void moduleChanged();       // any snapshot swap (load, edit, undo, redo)
    void diagnosticsChanged();
    void selectionChanged(int opIndex);

private:
    void reverify();

    QString path_;
    QString engine_;
    ModulePtr module_;
    std::vector<int64_t> inputShape_;
    std::vector<LocatedDiagnostic> diagnostics_;
    QUndoStack undo_;
    int selectedOp_ = -1;
};

// Module surgery used by the edits; exposed for tests.
namespace edit {
// Copies `m` without the ops where keep[i] is false; operands are first
// mapped through `replace` (value -> value). Returns nullopt with `why` when
// a kept op would use a value that no longer exists.
std::optional<ir::Module> rebuild(const ir::Module& m, const std::vector<bool>& keep,
                                  const std::map<ir::ValueId, ir::ValueId>& replace, std::string* why);
// The operand that carries the data through an op (skips constants).
ir::ValueId dataOperand(const ir::Module& m, int opIndex);
} // namespace edit

} // namespace stc::views

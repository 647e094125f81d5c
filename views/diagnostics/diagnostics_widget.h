// Diagnostics dock: every stage's errors and warnings; activating a row
// routes to where it belongs (graph node, IR line, pipeline entry).
#pragma once

#include "document/document.h"

#include <QWidget>

class QTreeView;
class QLabel;

namespace stc::views {

class DiagnosticsModel;

class DiagnosticsWidget : public QWidget {
    Q_OBJECT
public:
    explicit DiagnosticsWidget(Document* document, QWidget* parent = nullptr);
    DiagnosticsModel* model() const { return model_; }
    QTreeView* view() const { return view_; }
    void activateRow(int row);

signals:
    void showIrLine(int line);
    void showPass(int passIndex);
    void countsChanged(int errors, int warnings);

private:
    Document* doc_;
    DiagnosticsModel* model_;
    QTreeView* view_;
    QLabel* empty_;
};

} // namespace stc::views

// Inspector dock content: property table of the selected op plus the node
// edit actions (bypass, delete).
#pragma once

#include <QWidget>

class QLabel;
class QTreeView;
class QToolButton;

namespace stc::views {

class Document;
class InspectorModel;

class InspectorWidget : public QWidget {
    Q_OBJECT
public:
    explicit InspectorWidget(Document* document, QWidget* parent = nullptr);
    InspectorModel* model() const { return model_; }

private:
    void refreshHeader();
    Document* doc_;
    InspectorModel* model_;
    QTreeView* table_;
    QLabel* header_;
    QLabel* status_;
    QToolButton* bypass_;
    QToolButton* delete_;
};

} // namespace stc::views

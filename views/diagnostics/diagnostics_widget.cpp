#include "diagnostics/diagnostics_widget.h"

#include "diagnostics/diagnostics_model.h"

#include <QHeaderView>
#include <QLabel>
#include <QTreeView>
#include <QVBoxLayout>

namespace stc::views {

DiagnosticsWidget::DiagnosticsWidget(Document* document, QWidget* parent) : QWidget(parent), doc_(document)
{
    setObjectName("diagnostics");
    model_ = new DiagnosticsModel(doc_, this);
    view_ = new QTreeView(this);
    view_->setModel(model_);
    view_->setRootIsDecorated(false);
    view_->setUniformRowHeights(true);
    view_->setAlternatingRowColors(true);
    view_->setFrameShape(QFrame::NoFrame);
    view_->header()->setSectionResizeMode(DiagnosticsModel::SeverityColumn, QHeaderView::ResizeToContents);
    view_->header()->setSectionResizeMode(DiagnosticsModel::SourceColumn, QHeaderView::ResizeToContents);
    view_->header()->resizeSection(DiagnosticsModel::LocationColumn, 240);
    view_->header()->setStretchLastSection(true);
    empty_ = new QLabel("No problems.", this);
    empty_->setEnabled(false);
    empty_->setContentsMargins(8, 4, 8, 4);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(empty_);
    layout->addWidget(view_, 1);
    connect(view_, &QTreeView::activated, this, [this](const QModelIndex& i) { activateRow(i.row()); });
    connect(view_, &QTreeView::clicked, this, [this](const QModelIndex& i) { activateRow(i.row()); });
    connect(model_, &QAbstractItemModel::modelReset, this, [this] {
        empty_->setVisible(model_->rowCount() == 0);
        emit countsChanged(model_->errorCount(), model_->warningCount());
    });
}

void DiagnosticsWidget::activateRow(int row)
{
    const LocatedDiagnostic* d = model_->at(row);
    if (!d)
        return;
    if (d->opIndex >= 0)
        doc_->selectOp(d->opIndex);
    if (d->diag.loc.known())
        emit showIrLine(d->diag.loc.line);
    if (d->passIndex >= 0)
        emit showPass(d->passIndex);
}

} // namespace stc::views

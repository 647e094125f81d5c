#include "inspector/inspector_widget.h"

#include "document/document.h"
#include "inspector/inspector_model.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

namespace stc::views {

InspectorWidget::InspectorWidget(Document* document, QWidget* parent) : QWidget(parent), doc_(document)
{
    setObjectName("inspector");
    model_ = new InspectorModel(doc_, this);
    table_ = new QTreeView(this);
    table_->setModel(model_);
    table_->setRootIsDecorated(false);
    table_->setAlternatingRowColors(true);
    table_->setUniformRowHeights(true);
    table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed |
                            QAbstractItemView::SelectedClicked);
    table_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    table_->header()->setStretchLastSection(true);
    table_->setFrameShape(QFrame::NoFrame);

    header_ = new QLabel(this);
    header_->setTextFormat(Qt::RichText);
    header_->setWordWrap(true);
    status_ = new QLabel(this);
    status_->setWordWrap(true);
    status_->setStyleSheet("color: palette(link);");
    bypass_ = new QToolButton(this);
    bypass_->setIcon(QIcon(":/icons/bypass.svg"));
    bypass_->setText("Bypass");
    bypass_->setToolTip("Route the op's input to its users (undoable)");
    bypass_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    delete_ = new QToolButton(this);
    delete_->setIcon(QIcon(":/icons/delete.svg"));
    delete_->setText("Delete");
    delete_->setToolTip("Remove the op and its private constants; users are rewired to its input (undoable)");
    delete_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(bypass_);
    buttons->addWidget(delete_);
    buttons->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    layout->addWidget(header_);
    layout->addLayout(buttons);
    layout->addWidget(table_, 1);
    layout->addWidget(status_);

    connect(bypass_, &QToolButton::clicked, this, [this] {
        QString why;
        if (!doc_->bypassOp(doc_->selectedOp(), &why))
            status_->setText(why);
    });
    connect(delete_, &QToolButton::clicked, this, [this] {
        QString why;
        if (!doc_->deleteOp(doc_->selectedOp(), &why))
            status_->setText(why);
    });
    connect(model_, &QAbstractItemModel::modelReset, this, [this] {
        refreshHeader();
        if (!model_->lastError().isEmpty())
            status_->setText(model_->lastError());
    });
    connect(model_, &QAbstractItemModel::dataChanged, this, [this] { status_->setText(model_->lastError()); });
    refreshHeader();
}

void InspectorWidget::refreshHeader()
{
    const int op = doc_->selectedOp();
    const bool has = doc_->hasModule() && op >= 0 && op < int(doc_->module()->ops().size());
    bypass_->setEnabled(has);
    delete_->setEnabled(has);
    if (!has) {
        header_->setText(doc_->hasModule() ? "<i>Select a node in the graph or a line in the IR editor.</i>"
                                           : "<i>No model open.</i>");
        status_->clear();
        return;
    }
    const ir::Module& m = *doc_->module();
    const ir::Op& o = m.ops()[size_t(op)];
    QString title = QString::fromUtf8(ir::opName(o).data(), int(ir::opName(o).size()));
    if (o.result != ir::kNoValue)
        title = "%" + QString::fromStdString(m.value(o.result).name).toHtmlEscaped() + " = " + title;
    header_->setText(QString("<b>%1</b>").arg(title) +
                     (o.kind == ir::OpKind::Lif ? "<br><small>Double-click a value to edit (v_threshold, tau, …)</small>"
                                                 : QString()));
}

} // namespace stc::views

#include "sim/bottleneck_panel.h"

#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLocale>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace stc::views {

namespace {

QString share(double v) { return v > 0 ? QString::number(100 * v, 'f', 1) + " %" : QString("—"); }

QString itemText(const ::stc::sim::Bottleneck& b)
{
    switch (b.kind) {
    case ::stc::sim::Bottleneck::Kind::Core: return QString("core %1").arg(b.core);
    case ::stc::sim::Bottleneck::Kind::Layer: return "%" + QString::fromStdString(b.layer);
    case ::stc::sim::Bottleneck::Kind::Mesh: return "mesh";
    }
    return {};
}

} // namespace

BottleneckModel::BottleneckModel(QObject* parent) : QAbstractTableModel(parent) {}

void BottleneckModel::setBottlenecks(BottleneckList list)
{
    beginResetModel();
    list_ = std::move(list);
    endResetModel();
}

const ::stc::sim::Bottleneck* BottleneckModel::at(int row) const
{
    return list_ && row >= 0 && row < int(list_->size()) ? &(*list_)[size_t(row)] : nullptr;
}

int BottleneckModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !list_ ? 0 : int(list_->size());
}

int BottleneckModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant BottleneckModel::data(const QModelIndex& index, int role) const
{
    const ::stc::sim::Bottleneck* b = index.isValid() ? at(index.row()) : nullptr;
    if (!b)
        return {};
    if (role == CoreRole)
        return b->kind == ::stc::sim::Bottleneck::Kind::Core ? b->core : -1;
    if (role == LayerRole)
        return QString::fromStdString(b->layer);
    if (role == SortRole) {
        switch (index.column()) {
        case LatencyShare: return b->latencyShare;
        case EnergyShare: return b->energyShare;
        case SynapticOps: return b->synapticOps;
        default: return index.row();
        }
    }
    if (role == Qt::ToolTipRole)
        return "<p>" + QString::fromStdString(b->explanation).toHtmlEscaped() + "</p><p><b>Suggestion:</b> " +
               QString::fromStdString(b->suggestion).toHtmlEscaped() + "</p>";
    if (role == Qt::TextAlignmentRole && (index.column() == LatencyShare || index.column() == EnergyShare ||
                                          index.column() == SynapticOps))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Item: return itemText(*b);
    case LatencyShare: return share(b->latencyShare);
    case EnergyShare: return share(b->energyShare);
    case SynapticOps: return b->synapticOps > 0 ? QLocale().toString(b->synapticOps, 'f', 0) : QString("—");
    case Explanation: return QString::fromStdString(b->explanation);
    case Suggestion: return QString::fromStdString(b->suggestion);
    }
    return {};
}

QVariant BottleneckModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Item: return "Where";
    case LatencyShare: return "Critical path";
    case EnergyShare: return "Dynamic energy";
    case SynapticOps: return "Synaptic ops / inference";
    case Explanation: return "Why";
    case Suggestion: return "Suggestion";
    }
    return {};
}

BottleneckPanel::BottleneckPanel(QWidget* parent) : QWidget(parent)
{
    model_ = new BottleneckModel(this);
    auto* proxy = new QSortFilterProxyModel(this);
    proxy->setSourceModel(model_);
    proxy->setSortRole(BottleneckModel::SortRole);
    source_ = new QLabel(this);
    source_->setWordWrap(true);
    source_->setTextFormat(Qt::RichText);
    view_ = new QTableView(this);
    view_->setObjectName("bottleneck.view");
    view_->setModel(proxy);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setSelectionMode(QAbstractItemView::SingleSelection);
    view_->setSortingEnabled(false); // ranked by kind as findBottlenecks returns them
    view_->verticalHeader()->hide();
    view_->setWordWrap(false);
    view_->horizontalHeader()->setStretchLastSection(true);
    connect(view_->selectionModel(), &QItemSelectionModel::selectionChanged, this, &BottleneckPanel::selectionChanged);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(source_);
    layout->addWidget(view_, 1);
    setBottlenecks(nullptr, {});
}

void BottleneckPanel::setBottlenecks(BottleneckList list, const QString& source)
{
    const bool empty = !list || list->empty();
    model_->setBottlenecks(std::move(list));
    source_->setText(empty ? QString("<span style='color:gray'>No bottlenecks yet: run the Simulator panel with the chip "
                                     "simulator engine (F5); its counters rank the cores on the critical path and the "
                                     "layers that spend the energy.</span>")
                           : "Measured by the chip simulator: " + source.toHtmlEscaped() +
                                 ". Select a row to highlight it on the floorplan.");
    view_->resizeColumnsToContents();
    for (int c : {int(BottleneckModel::Explanation), int(BottleneckModel::Suggestion)})
        view_->setColumnWidth(c, std::min(view_->columnWidth(c), 520));
}

QString BottleneckPanel::sourceText() const { return source_->text(); }

void BottleneckPanel::selectionChanged()
{
    const QModelIndexList rows = view_->selectionModel()->selectedRows();
    if (rows.isEmpty()) {
        emit coreSelected(-1);
        emit layerSelected({});
        return;
    }
    const int core = rows.first().data(BottleneckModel::CoreRole).toInt();
    const QString layer = rows.first().data(BottleneckModel::LayerRole).toString();
    emit coreSelected(core);
    emit layerSelected(layer);
}

} // namespace stc::views

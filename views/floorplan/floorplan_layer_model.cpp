#include "floorplan/floorplan_layer_model.h"

#include "common/theme.h"

#include <QApplication>
#include <QPalette>

#include <cmath>
#include <limits>

namespace stc::views {

FloorplanLayerModel::FloorplanLayerModel(QObject* parent) : QAbstractTableModel(parent) {}

void FloorplanLayerModel::setData(std::shared_ptr<const FloorplanData> data)
{
    beginResetModel();
    data_ = std::move(data);
    measurement_.reset();
    endResetModel();
}

void FloorplanLayerModel::setMeasurement(std::shared_ptr<const FloorMeasurement> measurement)
{
    measurement_ = std::move(measurement);
    if (rowCount() > 0)
        emit dataChanged(index(0, Energy), index(rowCount() - 1, Energy));
    emit headerDataChanged(Qt::Horizontal, Energy, Energy);
}

double FloorplanLayerModel::energyPj(const FloorLayer& l) const
{
    if (measurement_) {
        const auto it = measurement_->layerEnergyPj.find(l.name);
        return it == measurement_->layerEnergyPj.end() ? 0.0 : it->second; // no line: no dynamic energy
    }
    return data_->perCoreEstimate ? l.energyPj : std::numeric_limits<double>::quiet_NaN();
}

int FloorplanLayerModel::rowForOp(int opIndex) const
{
    if (!data_ || opIndex < 0)
        return -1;
    for (size_t i = 0; i < data_->layers.size(); ++i)
        if (data_->layers[i].opIndex == opIndex)
            return int(i);
    return -1;
}

int FloorplanLayerModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !data_ ? 0 : int(data_->layers.size());
}

int FloorplanLayerModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant FloorplanLayerModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || !data_ || index.row() >= rowCount())
        return {};
    const FloorLayer& l = data_->layers[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Name: return l.name;
        case Kind: return l.kind;
        case Cores: return qulonglong(l.cores.size());
        case Neurons: return qlonglong(l.neurons);
        case Energy: {
            const double e = energyPj(l);
            if (std::isnan(e))
                return QStringLiteral("—"); // an opened package has no per-layer estimate
            return e >= 1e3 ? QString("%1 nJ").arg(e * 1e-3, 0, 'f', 2) : QString("%1 pJ").arg(e, 0, 'f', 1);
        }
        }
        break;
    case Qt::DecorationRole:
        if (index.column() == Name)
            return theme::layerColor(index.row(), theme::isDark(QApplication::palette()));
        break;
    case Qt::ToolTipRole:
        if (index.column() == Energy)
            return measurement_ ? "dynamic energy measured by the " + measurement_->label
                                : QString("cost-model estimate from the mapping (firing rates estimated); run the "
                                          "chip simulator (F5) to measure it");
        return QString("%1 (%2)\n%3\n%4 neurons on %5 core(s)%6")
            .arg(l.name, l.kind, l.origin.isEmpty() ? QString("(no model location)") : l.origin)
            .arg(l.neurons)
            .arg(l.cores.size())
            .arg(l.opIndex >= 0 ? "\nclick: highlight its cores and routes, select the graph node" : "");
    case Qt::TextAlignmentRole:
        if (index.column() >= Cores)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case LayerIndexRole: return index.row();
    case OpIndexRole: return l.opIndex;
    case SortRole:
        switch (index.column()) {
        case Cores: return qulonglong(l.cores.size());
        case Neurons: return qlonglong(l.neurons);
        case Energy: return energyPj(l);
        default: return index.row();
        }
    }
    return {};
}

QVariant FloorplanLayerModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name: return "Layer";
    case Kind: return "Kind";
    case Cores: return "Cores";
    case Neurons: return "Neurons";
    case Energy: return measurement_ ? "Energy/inf. (measured)" : "Energy/inf.";
    }
    return {};
}

} // namespace stc::views

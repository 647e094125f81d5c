#include "charts/energy_model.h"

#include <algorithm>
#include <map>

namespace stc::views {

QString formatEnergy(double pj)
{
    const double a = std::abs(pj);
    if (a >= 1e6)
        return QString::number(pj * 1e-6, 'f', 3) + " µJ";
    if (a >= 1e3)
        return QString::number(pj * 1e-3, 'f', 2) + " nJ";
    return QString::number(pj, 'f', 1) + " pJ";
}

std::vector<int> utilizationHistogram(const std::vector<double>& utilization, int bins)
{
    std::vector<int> h(size_t(std::max(1, bins)), 0);
    for (double u : utilization) {
        const int b = std::clamp(int(u * double(h.size())), 0, int(h.size()) - 1);
        ++h[size_t(b)];
    }
    return h;
}

EnergyLayerModel::EnergyLayerModel(QObject* parent) : QAbstractTableModel(parent) {}

void EnergyLayerModel::setData(std::shared_ptr<const EnergyChartData> data)
{
    beginResetModel();
    data_ = std::move(data);
    cells_.clear();
    if (data_) {
        cells_.assign(size_t(data_->layers.size()), std::vector<const EnergyLine*>(size_t(data_->kinds.size()), nullptr));
        std::map<QString, int> row, col;
        for (int i = 0; i < data_->layers.size(); ++i)
            row.emplace(data_->layers[i], i);
        for (int k = 0; k < data_->kinds.size(); ++k)
            col.emplace(data_->kinds[k], k);
        for (const auto& l : data_->lines) {
            if (l.scope != "layer")
                continue;
            auto r = row.find(l.item);
            auto c = col.find(l.kind);
            if (r != row.end() && c != col.end())
                cells_[size_t(r->second)][size_t(c->second)] = &l;
        }
    }
    endResetModel();
}

int EnergyLayerModel::kindCount() const { return data_ ? int(data_->kinds.size()) : 0; }

const EnergyLine* EnergyLayerModel::line(int layer, int kind) const
{
    if (layer < 0 || size_t(layer) >= cells_.size() || kind < 0 || size_t(kind) >= cells_[size_t(layer)].size())
        return nullptr;
    return cells_[size_t(layer)][size_t(kind)];
}

double EnergyLayerModel::energy(int layer, int kind) const
{
    const EnergyLine* l = line(layer, kind);
    return l ? l->energyPj : 0.0;
}

double EnergyLayerModel::layerTotal(int layer) const
{
    double t = 0;
    for (int k = 0; k < kindCount(); ++k)
        t += energy(layer, k);
    return t;
}

QString EnergyLayerModel::segmentText(int layer, int kind) const
{
    const EnergyLine* l = line(layer, kind);
    if (!l)
        return {};
    return QString("<b>%1</b> · %2<br>%3 events × %4 pJ = <b>%5</b> per inference<br>constant <code>%6</code>: "
                   "%7%8<br><span style='color:gray'>%9</span>")
        .arg(l->item.toHtmlEscaped(), l->kind)
        .arg(l->count, 0, 'g', 4)
        .arg(l->unitPj, 0, 'g', 4)
        .arg(formatEnergy(l->energyPj), l->constant, l->source.toHtmlEscaped(),
             l->projected ? " <b>(projected)</b>" : QString(),
             data_->measured ? "measured by the chip simulator" : "estimated by the cost model");
}

int EnergyLayerModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(cells_.size());
}

int EnergyLayerModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() || !data_ ? 0 : kindCount() + 1;
}

QVariant EnergyLayerModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= columnCount())
        return {};
    const bool total = index.column() == totalColumn();
    const double e = total ? layerTotal(index.row()) : energy(index.row(), index.column());
    const EnergyLine* l = total ? nullptr : line(index.row(), index.column());
    switch (role) {
    case Qt::DisplayRole: return formatEnergy(e);
    case EnergyRole: return e;
    case CountRole: return l ? QVariant(l->count) : QVariant();
    case ConstantRole: return l ? QVariant(l->constant) : QVariant();
    case SourceRole: return l ? QVariant(l->source) : QVariant();
    case Qt::ToolTipRole: return total ? QVariant() : QVariant(segmentText(index.row(), index.column()));
    case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

QVariant EnergyLayerModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole || !data_)
        return {};
    if (orientation == Qt::Vertical)
        return section < data_->layers.size() ? QVariant(data_->layers[section]) : QVariant();
    if (section == totalColumn())
        return "total";
    return section < data_->kinds.size() ? QVariant(data_->kinds[section]) : QVariant();
}

} // namespace stc::views

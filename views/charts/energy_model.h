// Table model over EnergyChartData: one row per layer, one column per event
// kind (stacking order) plus the total. DisplayRole is the energy in pJ per
// inference; ToolTipRole names the events, the descriptor constant, its JSON
// path and its source — what the charts show on hover. Works the same for the
// cost model's estimate and (later) the simulator's measured ledger.
#pragma once

#include "charts/energy_data.h"

#include <QAbstractTableModel>

#include <memory>

namespace stc::views {

class EnergyLayerModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Roles { EnergyRole = Qt::UserRole + 1, CountRole, ConstantRole, SourceRole };
    explicit EnergyLayerModel(QObject* parent = nullptr);

    void setData(std::shared_ptr<const EnergyChartData> data);
    const EnergyChartData* chartData() const { return data_.get(); }
    int kindCount() const;
    int totalColumn() const { return kindCount(); }
    double energy(int layer, int kind) const;  // pJ per inference
    double layerTotal(int layer) const;
    // Hover text of one stacked segment (layer x kind).
    QString segmentText(int layer, int kind) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    const EnergyLine* line(int layer, int kind) const;
    std::shared_ptr<const EnergyChartData> data_;
    std::vector<std::vector<const EnergyLine*>> cells_; // [layer][kind]
};

// Per-core utilization histogram: `bins` equal bins over [0, 1] (values at
// or above 1 land in the last bin).
std::vector<int> utilizationHistogram(const std::vector<double>& utilization, int bins);

// "12.3 pJ", "4.56 nJ", "7.890 µJ"
QString formatEnergy(double pj);

} // namespace stc::views

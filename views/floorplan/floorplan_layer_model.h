// The layers (populations) of a mapping as a table: colour swatch + name,
// kind, cores, neurons, energy per inference (estimated, or measured by the
// chip simulator). The floorplan's layer list and
// legend; selecting a row highlights the layer's cores and routes.
#pragma once

#include "floorplan/floorplan_data.h"

#include <QAbstractTableModel>

#include <memory>

namespace stc::views {

class FloorplanLayerModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Kind, Cores, Neurons, Energy, ColumnCount };
    enum Roles { LayerIndexRole = Qt::UserRole + 1, OpIndexRole, SortRole };
    explicit FloorplanLayerModel(QObject* parent = nullptr);

    void setData(std::shared_ptr<const FloorplanData> data); // clears the measurement
    // After a chip-simulator run: the Energy column shows the measured dynamic
    // energy per layer instead of the estimate (nullptr: back to the estimate).
    void setMeasurement(std::shared_ptr<const FloorMeasurement> measurement);
    bool showsMeasurement() const { return measurement_ != nullptr; }
    int rowForOp(int opIndex) const; // -1 when no layer stands for the op

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    // NaN when neither a measurement nor an estimate exists for the layer.
    double energyPj(const FloorLayer& l) const;

    std::shared_ptr<const FloorplanData> data_;
    std::shared_ptr<const FloorMeasurement> measurement_;
};

} // namespace stc::views

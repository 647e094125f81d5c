// The layers (populations) of a mapping as a table: colour swatch + name,
// kind, cores, neurons, estimated energy. The floorplan's layer list and
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

    void setData(std::shared_ptr<const FloorplanData> data);
    int rowForOp(int opIndex) const; // -1 when no layer stands for the op

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::shared_ptr<const FloorplanData> data_;
};

} // namespace stc::views

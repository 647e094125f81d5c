// The bottlenecks of the last chip-simulator run (core/sim findBottlenecks):
// cores ranked by their share of the critical path, layers by their share of
// the dynamic energy, the mesh when it dominates latency; each row with the
// numbers behind it and the suggested change. Selecting a core row asks the
// floorplan to highlight that core, a layer row its layer.
#pragma once

#include "sim/ledger.h"

#include <QAbstractTableModel>
#include <QWidget>

#include <memory>
#include <vector>

class QLabel;
class QTableView;

namespace stc::views {

using BottleneckList = std::shared_ptr<const std::vector<::stc::sim::Bottleneck>>;

class BottleneckModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Item, LatencyShare, EnergyShare, SynapticOps, Explanation, Suggestion, ColumnCount };
    enum Roles { CoreRole = Qt::UserRole + 1, LayerRole, SortRole };
    explicit BottleneckModel(QObject* parent = nullptr);

    void setBottlenecks(BottleneckList list);
    const ::stc::sim::Bottleneck* at(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    BottleneckList list_;
};

class BottleneckPanel : public QWidget {
    Q_OBJECT
public:
    explicit BottleneckPanel(QWidget* parent = nullptr);

    // `source` says what was measured, e.g. "chip simulator, image 3, loihi3 (projected)".
    void setBottlenecks(BottleneckList list, const QString& source);
    BottleneckModel* model() const { return model_; }
    QTableView* view() const { return view_; }
    QString sourceText() const;

signals:
    void coreSelected(int core);           // -1: none
    void layerSelected(const QString& name); // empty: none

private:
    void selectionChanged();

    BottleneckModel* model_;
    QTableView* view_;
    QLabel* source_;
};

} // namespace stc::views

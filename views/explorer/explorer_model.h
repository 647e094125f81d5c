// The Explorer's table: one row per compile run of the project (a sweep point
// or a `stc compile --project` run) with its configuration, the accuracy
// measured on it, the cost model's energy and latency per inference, cores,
// Pareto membership and tags. Values come from the ProjectSnapshot as the
// store read them; the model formats, it does not compute.
#pragma once

#include "explorer/project_snapshot.h"

#include <QAbstractTableModel>

#include <memory>

namespace stc::views {

class ExplorerModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Run, Sweep, Bits, Sparsity, Accuracy, Energy, Latency, SimEnergy, SimLatency, Cores, Pareto, Tags, Pipeline, Chip,
        Status, ColumnCount
    };
    enum Role { SortRole = Qt::UserRole + 1, RunIdRole };

    explicit ExplorerModel(QObject* parent = nullptr);

    void setSnapshot(std::shared_ptr<const ProjectSnapshot> snapshot);
    const ProjectSnapshot* snapshot() const { return snap_.get(); }
    const ExplorerRow* rowAt(int row) const;
    int rowOf(int64_t runId) const; // -1 if none

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Every row in run order; numbers unformatted (energy in pJ, latency in
    // ns, accuracy 0..1, shortest round-trip digits); RFC 4180 quoting.
    QString toCsv() const;

private:
    std::shared_ptr<const ProjectSnapshot> snap_;
};

// "87.50 %", "1.25 µJ", "2.61 ms"; "—" when missing.
QString accuracyText(std::optional<double> fraction);
QString energyText(std::optional<double> pj);
QString latencyText(std::optional<double> ns);
// The sweep dimensions among the run's parameters, bits and sparsity first
// ("bits=8 sparsity=0.5 timesteps=4"); bookkeeping parameters (achieved
// sparsity, prune mode, calibration) are left out. The label when none.
QString configurationText(const store::RunMeta& meta);

} // namespace stc::views

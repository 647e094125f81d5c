// The pass pipeline as a list model: one row per entry, checkable (enabled),
// drag-and-drop reorderable, decorated with the last compile's status per
// pass. Edits do not change the model directly: they are requested through
// `changeRequested(newPipeline, description)` so the panel can make each one
// an undoable command.
#pragma once

#include "passes/pipeline.h"
#include "passes/runner.h"

#include <QAbstractListModel>

namespace stc::views {

class PipelineModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Roles { StatusRole = Qt::UserRole + 1, SecondsRole, StatsRole, EntryTextRole };
    explicit PipelineModel(const passes::PassRegistry* registry, QObject* parent = nullptr);

    const passes::Pipeline& pipeline() const { return pipeline_; }
    void setPipeline(passes::Pipeline p); // resets; clears records
    void setRecords(std::vector<passes::PassRecord> records);
    const std::vector<passes::PassRecord>& records() const { return records_; }
    QString text() const; // pipeline text form

    // Requests (emit changeRequested).
    void requestToggle(int row, bool enabled);
    void requestMove(int from, int to); // `to` = index before which to insert (0..rowCount)
    void requestRemove(int row);
    void requestAdd(const std::string& pass);
    void requestOptions(int row, passes::OptionMap options);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    Qt::DropActions supportedDropActions() const override;
    QStringList mimeTypes() const override;
    QMimeData* mimeData(const QModelIndexList& indexes) const override;
    bool dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                      const QModelIndex& parent) override;

signals:
    void changeRequested(const passes::Pipeline& pipeline, const QString& description);

private:
    const passes::PassRegistry* registry_;
    passes::Pipeline pipeline_;
    std::vector<passes::PassRecord> records_;
};

} // namespace stc::views

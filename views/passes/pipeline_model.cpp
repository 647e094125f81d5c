#include "passes/pipeline_model.h"

#include "common/theme.h"

#include <QApplication>
#include <QBrush>
#include <QIcon>
#include <QMimeData>
#include <QStyle>

namespace stc::views {

namespace {
constexpr const char* kMime = "application/x-stc-pipeline-row";
}

PipelineModel::PipelineModel(const passes::PassRegistry* registry, QObject* parent)
    : QAbstractListModel(parent), registry_(registry)
{
}

void PipelineModel::setPipeline(passes::Pipeline p)
{
    beginResetModel();
    pipeline_ = std::move(p);
    records_.clear();
    endResetModel();
}

void PipelineModel::setRecords(std::vector<passes::PassRecord> records)
{
    records_ = std::move(records);
    if (rowCount() > 0)
        emit dataChanged(index(0), index(rowCount() - 1));
}

QString PipelineModel::text() const { return QString::fromStdString(pipeline_.print(*registry_)); }

void PipelineModel::requestToggle(int row, bool enabled)
{
    if (row < 0 || row >= rowCount())
        return;
    passes::Pipeline p = pipeline_;
    p.entries[size_t(row)].enabled = enabled;
    emit changeRequested(p, QString("%1 pass %2").arg(enabled ? "Enable" : "Disable",
                                                     QString::fromStdString(p.entries[size_t(row)].pass)));
}

void PipelineModel::requestMove(int from, int to)
{
    if (from < 0 || from >= rowCount() || to < 0 || to > rowCount() || to == from || to == from + 1)
        return;
    passes::Pipeline p = pipeline_;
    passes::PipelineEntry e = p.entries[size_t(from)];
    p.entries.erase(p.entries.begin() + from);
    p.entries.insert(p.entries.begin() + (to > from ? to - 1 : to), e);
    emit changeRequested(p, QString("Move pass %1").arg(QString::fromStdString(e.pass)));
}

void PipelineModel::requestRemove(int row)
{
    if (row < 0 || row >= rowCount())
        return;
    passes::Pipeline p = pipeline_;
    const QString name = QString::fromStdString(p.entries[size_t(row)].pass);
    p.entries.erase(p.entries.begin() + row);
    emit changeRequested(p, "Remove pass " + name);
}

void PipelineModel::requestAdd(const std::string& pass)
{
    passes::Pipeline p = pipeline_;
    p.add(pass);
    emit changeRequested(p, "Add pass " + QString::fromStdString(pass));
}

void PipelineModel::requestOptions(int row, passes::OptionMap options)
{
    if (row < 0 || row >= rowCount())
        return;
    passes::Pipeline p = pipeline_;
    p.entries[size_t(row)].options = std::move(options);
    emit changeRequested(p, "Set options of " + QString::fromStdString(p.entries[size_t(row)].pass));
}

int PipelineModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(pipeline_.entries.size());
}

QVariant PipelineModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const passes::PipelineEntry& e = pipeline_.entries[size_t(index.row())];
    const passes::PassRecord* r = size_t(index.row()) < records_.size() ? &records_[size_t(index.row())] : nullptr;
    const bool dark = theme::isDark();
    switch (role) {
    case Qt::DisplayRole: {
        QString s = QString::fromStdString(e.pass);
        if (!e.options.empty()) {
            QStringList opts;
            for (const auto& [k, v] : e.options)
                opts << QString::fromStdString(k + "=" + passes::formatOptionValue(v));
            s += "  {" + opts.join(" ") + "}";
        }
        if (r && r->status == passes::PassStatus::Ok)
            s += QString("   %1 ms%2").arg(r->seconds * 1000, 0, 'f', 1).arg(r->changed ? " · changed" : "");
        return s;
    }
    case Qt::CheckStateRole: return e.enabled ? Qt::Checked : Qt::Unchecked;
    case Qt::DecorationRole: {
        if (!r)
            return {};
        switch (r->status) {
        case passes::PassStatus::Ok: return QApplication::style()->standardIcon(QStyle::SP_DialogApplyButton);
        case passes::PassStatus::Failed: return QApplication::style()->standardIcon(QStyle::SP_MessageBoxCritical);
        case passes::PassStatus::Cancelled: return QApplication::style()->standardIcon(QStyle::SP_BrowserStop);
        default: return {};
        }
    }
    case Qt::ForegroundRole:
        if (!e.enabled || (r && r->status == passes::PassStatus::Skipped))
            return QApplication::palette().brush(QPalette::Disabled, QPalette::Text);
        if (r && r->status == passes::PassStatus::Failed)
            return QBrush(theme::errorColor(dark));
        return {};
    case Qt::ToolTipRole: {
        const passes::PassDef* def = registry_->find(e.pass);
        QString tip = def ? QString::fromStdString(def->info.description) : QString("unknown pass");
        if (r) {
            tip += QString("\nstatus: %1").arg(passes::toString(r->status));
            for (const auto& d : r->diagnostics.items())
                tip += "\n" + QString::fromStdString(d.format());
        }
        return tip;
    }
    case StatusRole: return r ? QString(passes::toString(r->status)) : QString();
    case SecondsRole: return r ? r->seconds : 0.0;
    case StatsRole: {
        QStringList stats;
        if (r)
            for (const auto& s : r->stats.items())
                stats << QString::fromStdString(s.name + " = " + passes::formatStatValue(s.value));
        return stats;
    }
    case EntryTextRole: return r ? QString::fromStdString(r->entryText) : QString::fromStdString(e.pass);
    default: return {};
    }
}

bool PipelineModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (!index.isValid() || role != Qt::CheckStateRole)
        return false;
    requestToggle(index.row(), value.toInt() == Qt::Checked);
    return true;
}

Qt::ItemFlags PipelineModel::flags(const QModelIndex& index) const
{
    if (!index.isValid())
        return Qt::ItemIsDropEnabled;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable | Qt::ItemIsDragEnabled;
}

Qt::DropActions PipelineModel::supportedDropActions() const { return Qt::MoveAction; }

QStringList PipelineModel::mimeTypes() const { return {kMime}; }

QMimeData* PipelineModel::mimeData(const QModelIndexList& indexes) const
{
    if (indexes.isEmpty())
        return nullptr;
    auto* mime = new QMimeData;
    mime->setData(kMime, QByteArray::number(indexes.first().row()));
    return mime;
}

bool PipelineModel::dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int, const QModelIndex& parent)
{
    if (!data || !data->hasFormat(kMime) || action != Qt::MoveAction)
        return false;
    const int from = data->data(kMime).toInt();
    int to = row >= 0 ? row : parent.isValid() ? parent.row() : rowCount();
    requestMove(from, to);
    // The move goes through the undo stack and resets the model; returning
    // false keeps the view from also removing the dragged row.
    return false;
}

} // namespace stc::views

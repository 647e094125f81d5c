#include "diagnostics/diagnostics_model.h"

#include "common/theme.h"

#include <QApplication>
#include <QBrush>
#include <QIcon>
#include <QStyle>

namespace stc::views {

QString sourceName(DiagSource s)
{
    switch (s) {
    case DiagSource::Load: return "import";
    case DiagSource::Verify: return "verifier";
    case DiagSource::Editor: return "IR editor";
    case DiagSource::Pipeline: return "pipeline";
    case DiagSource::Simulation: return "simulation";
    case DiagSource::Mapping: return "mapping";
    case DiagSource::Project: return "project";
    }
    return {};
}

DiagnosticsModel::DiagnosticsModel(Document* document, QObject* parent) : QAbstractTableModel(parent), doc_(document)
{
    connect(doc_, &Document::diagnosticsChanged, this, [this] {
        beginResetModel();
        rows_ = doc_->diagnostics();
        // Errors first, then warnings, then notes; stable within a severity.
        std::stable_sort(rows_.begin(), rows_.end(), [](const auto& a, const auto& b) {
            return int(a.diag.severity) > int(b.diag.severity);
        });
        endResetModel();
    });
}

const LocatedDiagnostic* DiagnosticsModel::at(int row) const
{
    return row >= 0 && row < int(rows_.size()) ? &rows_[size_t(row)] : nullptr;
}

int DiagnosticsModel::errorCount() const
{
    return int(std::count_if(rows_.begin(), rows_.end(), [](const auto& d) { return d.diag.severity == Severity::Error; }));
}

int DiagnosticsModel::warningCount() const
{
    return int(
        std::count_if(rows_.begin(), rows_.end(), [](const auto& d) { return d.diag.severity == Severity::Warning; }));
}

int DiagnosticsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int DiagnosticsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant DiagnosticsModel::data(const QModelIndex& index, int role) const
{
    const LocatedDiagnostic* d = at(index.row());
    if (!d || !index.isValid())
        return {};
    const Diagnostic& g = d->diag;
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        switch (index.column()) {
        case SeverityColumn:
            return g.severity == Severity::Error ? "error" : g.severity == Severity::Warning ? "warning" : "note";
        case SourceColumn: return sourceName(d->source);
        case LocationColumn: {
            QStringList parts;
            if (g.loc.known())
                parts << QString("line %1").arg(g.loc.line);
            if (!g.op.empty())
                parts << QString::fromStdString(g.op);
            if (!g.origin.empty())
                parts << QString::fromStdString(g.origin);
            return parts.join("  ·  ");
        }
        case MessageColumn: return role == Qt::ToolTipRole ? QString::fromStdString(g.format()) : QString::fromStdString(g.message);
        }
    }
    if (role == Qt::DecorationRole && index.column() == SeverityColumn) {
        const auto icon = g.severity == Severity::Error     ? QStyle::SP_MessageBoxCritical
                          : g.severity == Severity::Warning ? QStyle::SP_MessageBoxWarning
                                                            : QStyle::SP_MessageBoxInformation;
        return QApplication::style()->standardIcon(icon);
    }
    if (role == Qt::ForegroundRole && index.column() == SeverityColumn) {
        const bool dark = theme::isDark();
        return QBrush(g.severity == Severity::Error     ? theme::errorColor(dark)
                      : g.severity == Severity::Warning ? theme::warningColor(dark)
                                                        : QApplication::palette().color(QPalette::Text));
    }
    return {};
}

QVariant DiagnosticsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char* names[] = {"Severity", "Stage", "Where", "Message"};
    return names[section];
}

} // namespace stc::views

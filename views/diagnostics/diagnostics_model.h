// Table of the document's diagnostics (all stages), newest source last.
#pragma once

#include "document/document.h"

#include <QAbstractTableModel>

namespace stc::views {

class DiagnosticsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { SeverityColumn, SourceColumn, LocationColumn, MessageColumn, ColumnCount };
    explicit DiagnosticsModel(Document* document, QObject* parent = nullptr);

    const LocatedDiagnostic* at(int row) const;
    int errorCount() const;
    int warningCount() const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    Document* doc_;
    std::vector<LocatedDiagnostic> rows_;
};

QString sourceName(DiagSource s);

} // namespace stc::views

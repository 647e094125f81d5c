// Property rows of the selected op (kind, value, type, origin, operands,
// attributes, parameters, the cores it is mapped to after a compile, its
// firing rate after a simulation). Attribute rows of editable kinds are
// editable; an edit goes to the Document as an undoable command.
#pragma once

#include "document/stages.h"

#include <QAbstractTableModel>

#include <functional>
#include <optional>

namespace stc::views {

class Document;

struct PropertyRow {
    QString section;  // "Op", "Attributes", "Operands", "Mapping", "Activity"
    QString name;
    QString value;
    QString tooltip;
    std::string attrKey; // non-empty: an editable attribute
    bool error = false;
};

struct Activity {
    double firingRate = 0;
    QString engine; // what measured it
};

// Builds the rows for one op; plain function so tests can check it directly.
// `mapping`: the floorplan of the last mapping (layers link to ops by index).
std::vector<PropertyRow> inspectOp(const ir::Module& m, int opIndex, std::optional<Activity> activity,
                                   const FloorplanData* mapping = nullptr);

class InspectorModel : public QAbstractTableModel {
    Q_OBJECT
public:
    explicit InspectorModel(Document* document, QObject* parent = nullptr);

    void setOp(int opIndex);
    int op() const { return op_; }
    void setFiringRates(std::map<int, double> rates, const QString& engine);
    void setMapping(std::shared_ptr<const FloorplanData> mapping);
    QString lastError() const { return lastError_; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;

private:
    void rebuild();
    Document* doc_;
    int op_ = -1;
    std::vector<PropertyRow> rows_;
    std::map<int, double> rates_;
    QString ratesEngine_;
    std::shared_ptr<const FloorplanData> mapping_;
    QString lastError_;
};

// Parses a typed attribute value from text for the kind the op already has
// (or the op's schema says). Returns nullopt with `why` on bad input.
std::optional<ir::AttrValue> parseAttrValue(ir::AttrKind kind, const QString& text, QString* why);
QString attrValueToText(const ir::AttrValue& v);

} // namespace stc::views

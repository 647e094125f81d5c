#include "inspector/inspector_model.h"

#include "common/theme.h"
#include "document/document.h"
#include "graph/graph_data.h"

#include <QApplication>
#include <QBrush>
#include <QFont>
#include <QPalette>

namespace stc::views {

QString attrValueToText(const ir::AttrValue& v)
{
    return std::visit(
        [](const auto& x) -> QString {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>)
                return QString::fromStdString(x);
            else if constexpr (std::is_same_v<T, bool>)
                return x ? "true" : "false";
            else if constexpr (std::is_same_v<T, int64_t>)
                return QString::number(x);
            else if constexpr (std::is_same_v<T, double>)
                return QString::number(x, 'g', 17).length() > 12 ? QString::number(x, 'g', 9) : QString::number(x, 'g', 17);
            else {
                QStringList parts;
                for (const auto& e : x)
                    parts << QString::number(e, 'g', 9);
                return "[" + parts.join(", ") + "]";
            }
        },
        v);
}

std::optional<ir::AttrValue> parseAttrValue(ir::AttrKind kind, const QString& raw, QString* why)
{
    const QString text = raw.trimmed();
    bool ok = false;
    auto fail = [&](const QString& msg) -> std::optional<ir::AttrValue> {
        if (why)
            *why = msg;
        return std::nullopt;
    };
    switch (kind) {
    case ir::AttrKind::Int: {
        const qlonglong v = text.toLongLong(&ok);
        return ok ? std::optional<ir::AttrValue>(int64_t(v)) : fail("expected an integer");
    }
    case ir::AttrKind::Float: {
        const double v = text.toDouble(&ok);
        return ok ? std::optional<ir::AttrValue>(v) : fail("expected a number");
    }
    case ir::AttrKind::Bool:
        if (text == "true" || text == "1")
            return ir::AttrValue(true);
        if (text == "false" || text == "0")
            return ir::AttrValue(false);
        return fail("expected true or false");
    case ir::AttrKind::String: return ir::AttrValue(text.toStdString());
    case ir::AttrKind::IntList:
    case ir::AttrKind::FloatList: {
        QString body = text;
        if (body.startsWith('['))
            body = body.mid(1);
        if (body.endsWith(']'))
            body.chop(1);
        ir::IntList ints;
        ir::FloatList floats;
        for (const QString& part : body.split(',', Qt::SkipEmptyParts)) {
            if (kind == ir::AttrKind::IntList) {
                ints.push_back(part.trimmed().toLongLong(&ok));
            } else {
                floats.push_back(part.trimmed().toDouble(&ok));
            }
            if (!ok)
                return fail("expected a list like [1, 2]");
        }
        return kind == ir::AttrKind::IntList ? ir::AttrValue(ints) : ir::AttrValue(floats);
    }
    }
    return fail("unsupported attribute kind");
}

std::vector<PropertyRow> inspectOp(const ir::Module& m, int opIndex, std::optional<double> firingRate)
{
    std::vector<PropertyRow> rows;
    if (opIndex < 0 || opIndex >= int(m.ops().size()))
        return rows;
    const ir::Op& op = m.ops()[size_t(opIndex)];
    const ir::OpDef& def = ir::opDef(op.kind);
    auto add = [&](QString section, QString name, QString value, QString tip = {}) {
        rows.push_back({std::move(section), std::move(name), std::move(value), std::move(tip), {}, false});
    };
    add("Op", "kind", QString::fromUtf8(def.name.data(), int(def.name.size())), QString::fromUtf8(def.doc.data(), int(def.doc.size())));
    if (op.result != ir::kNoValue) {
        add("Op", "result", "%" + QString::fromStdString(m.value(op.result).name));
        add("Op", "type", QString::fromStdString(ir::toString(m.typeOf(op.result))));
        add("Op", "elements", QString::number(m.typeOf(op.result).numElements()));
    }
    add("Op", "module path", QString::fromStdString(graph::modulePathOf(m, opIndex)));
    if (!op.origin.empty())
        add("Op", "origin", QString::fromStdString(op.origin));
    if (op.textLoc.known())
        add("Op", "IR line", QString::number(op.textLoc.line));
    int64_t params = 0;
    for (ir::ValueId v : op.operands) {
        const ir::Op& d = m.definingOp(v);
        QString value = QString::fromStdString(ir::toString(m.typeOf(v)));
        if (d.kind == ir::OpKind::Const && d.constant) {
            params += d.constant->numElements();
            value += "  (constant)";
        }
        add("Operands", "%" + QString::fromStdString(m.value(v).name), value);
    }
    if (params > 0)
        add("Op", "parameters", QString::number(params));
    if (op.kind == ir::OpKind::Const && op.constant)
        add("Op", "parameters", QString::number(op.constant->numElements()));
    // Attributes: present ones first, then schema attributes left at default.
    for (const auto& [key, value] : op.attrs.map()) {
        QString tip;
        for (const auto& spec : def.attrs)
            if (spec.name == key)
                tip = QString::fromStdString(spec.doc);
        rows.push_back({"Attributes", QString::fromStdString(key), attrValueToText(value), tip, key, false});
    }
    for (const auto& spec : def.attrs)
        if (!op.attrs.has(spec.name))
            add("Attributes", QString::fromStdString(spec.name), "(default)", QString::fromStdString(spec.doc));
    if (firingRate)
        add("Activity", "firing rate", QString::number(*firingRate * 100.0, 'f', 2) + " %",
            "spikes / (neurons × time steps) in the last simulation");
    return rows;
}

InspectorModel::InspectorModel(Document* document, QObject* parent) : QAbstractTableModel(parent), doc_(document)
{
    connect(doc_, &Document::moduleChanged, this, &InspectorModel::rebuild);
    connect(doc_, &Document::selectionChanged, this, &InspectorModel::setOp);
}

void InspectorModel::setOp(int opIndex)
{
    op_ = opIndex;
    rebuild();
}

void InspectorModel::setFiringRates(std::map<int, double> rates)
{
    rates_ = std::move(rates);
    rebuild();
}

void InspectorModel::rebuild()
{
    beginResetModel();
    rows_.clear();
    if (doc_->hasModule() && op_ >= 0 && op_ < int(doc_->module()->ops().size())) {
        auto it = rates_.find(op_);
        rows_ = inspectOp(*doc_->module(), op_, it == rates_.end() ? std::nullopt : std::optional<double>(it->second));
        for (const auto& d : doc_->diagnostics())
            if (d.opIndex == op_)
                rows_.push_back({"Diagnostics", d.diag.severity == Severity::Error ? "error" : "warning",
                                 QString::fromStdString(d.diag.message), QString::fromStdString(d.diag.format()), {},
                                 d.diag.severity == Severity::Error});
    }
    endResetModel();
}

int InspectorModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int InspectorModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : 2; }

QVariant InspectorModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= int(rows_.size()))
        return {};
    const PropertyRow& row = rows_[size_t(index.row())];
    const bool firstOfSection = index.row() == 0 || rows_[size_t(index.row() - 1)].section != row.section;
    switch (role) {
    case Qt::DisplayRole:
        if (index.column() == 0)
            return row.name;
        return row.value;
    case Qt::EditRole: return index.column() == 1 ? row.value : row.name;
    case Qt::ToolTipRole: return row.tooltip.isEmpty() ? QVariant() : row.tooltip;
    case Qt::ForegroundRole:
        if (row.error)
            return QBrush(theme::errorColor(theme::isDark()));
        if (index.column() == 0)
            return QBrush(QApplication::palette().color(QPalette::PlaceholderText));
        return {};
    case Qt::FontRole:
        if (index.column() == 1 && !row.attrKey.empty()) {
            QFont f = QApplication::font();
            f.setBold(true);
            return f;
        }
        return {};
    case Qt::UserRole: return row.section;
    case Qt::UserRole + 1: return firstOfSection;
    default: return {};
    }
}

QVariant InspectorModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal && role == Qt::DisplayRole)
        return section == 0 ? QStringLiteral("Property") : QStringLiteral("Value");
    return {};
}

Qt::ItemFlags InspectorModel::flags(const QModelIndex& index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (index.column() == 1 && !rows_[size_t(index.row())].attrKey.empty())
        f |= Qt::ItemIsEditable;
    return f;
}

bool InspectorModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (role != Qt::EditRole || !index.isValid() || index.column() != 1 || !doc_->hasModule())
        return false;
    const PropertyRow row = rows_[size_t(index.row())];
    if (row.attrKey.empty())
        return false;
    const ir::Op& op = doc_->module()->ops()[size_t(op_)];
    const ir::AttrValue* old = op.attrs.find(row.attrKey);
    if (!old)
        return false;
    QString why;
    auto parsed = parseAttrValue(ir::kindOf(*old), value.toString(), &why);
    if (!parsed) {
        lastError_ = QString("%1: %2").arg(row.name, why);
        return false;
    }
    lastError_.clear();
    // The document change rebuilds the rows.
    return doc_->setOpAttribute(op_, row.attrKey, *parsed, &lastError_);
}

} // namespace stc::views

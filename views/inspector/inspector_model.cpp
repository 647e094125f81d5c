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

namespace {

// "chip 0 · tile (3, 1) · core 2"
QString coreName(const FloorplanData& f, const FloorCore& c)
{
    return QString("%1tile (%2, %3) · core %4")
        .arg(f.chips > 1 ? QString("chip %1 · ").arg(c.chip) : QString())
        .arg(c.tileX)
        .arg(c.tileY)
        .arg(c.core);
}

void addMappingRows(std::vector<PropertyRow>& rows, const FloorplanData& f, int opIndex)
{
    auto add = [&](QString name, QString value, QString tip = {}) {
        rows.push_back({"Mapping", std::move(name), std::move(value), std::move(tip), {}, false});
    };
    const FloorLayer* layer = nullptr;
    for (const auto& l : f.layers)
        if (l.opIndex == opIndex)
            layer = &l;
    const QString chip = f.chipId + (f.projectedChip ? " (projected)" : "");
    if (!layer) {
        add("cores", "—",
            QString("No population of its own on %1: its synapses or arithmetic live on the cores of the layer it "
                    "feeds (select that layer)").arg(chip));
        return;
    }
    add("chip", QString("%1 × %2").arg(chip).arg(f.chips), f.chipName);
    add("population", QString("%%1 (%2, %3 neurons)").arg(layer->name, layer->kind).arg(layer->neurons));
    QStringList names;
    for (int c : layer->cores)
        names << coreName(f, f.cores[size_t(c)]);
    QString value = QString("%1: ").arg(layer->cores.size()) + names.mid(0, 2).join("; ");
    if (names.size() > 2)
        value += QString("; … (+%1)").arg(names.size() - 2);
    add("cores", value, "<b>" + QString::number(names.size()) + " core(s) on " + chip.toHtmlEscaped() + "</b><br>" +
                            names.join("<br>") + "<br><span style='color:gray'>click the layer in the Floorplan to "
                                                 "see them and their routes</span>");
}

} // namespace

std::vector<PropertyRow> inspectOp(const ir::Module& m, int opIndex, std::optional<Activity> activity,
                                   const FloorplanData* mapping)
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
    if (mapping)
        addMappingRows(rows, *mapping, opIndex);
    if (activity) {
        add("Activity", "firing rate", QString::number(activity->firingRate * 100.0, 'f', 2) + " %",
            "spikes / (neurons × time steps) in the last simulation");
        add("Activity", "measured by", activity->engine);
    }
    return rows;
}

InspectorModel::InspectorModel(Document* document, QObject* parent) : QAbstractTableModel(parent), doc_(document)
{
    connect(doc_, &Document::moduleChanged, this, &InspectorModel::rebuild);
    connect(doc_, &Document::selectionChanged, this, &InspectorModel::setOp);
    // Op indices of the old module mean nothing in a newly loaded one.
    connect(doc_, &Document::loaded, this, [this] {
        rates_.clear();
        mapping_.reset();
        rebuild();
    });
}

void InspectorModel::setOp(int opIndex)
{
    op_ = opIndex;
    rebuild();
}

void InspectorModel::setFiringRates(std::map<int, double> rates, const QString& engine)
{
    rates_ = std::move(rates);
    ratesEngine_ = engine;
    rebuild();
}

void InspectorModel::setMapping(std::shared_ptr<const FloorplanData> mapping)
{
    mapping_ = std::move(mapping);
    rebuild();
}

void InspectorModel::rebuild()
{
    beginResetModel();
    rows_.clear();
    if (doc_->hasModule() && op_ >= 0 && op_ < int(doc_->module()->ops().size())) {
        auto it = rates_.find(op_);
        rows_ = inspectOp(*doc_->module(), op_,
                          it == rates_.end() ? std::nullopt : std::optional<Activity>(Activity{it->second, ratesEngine_}),
                          mapping_.get());
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

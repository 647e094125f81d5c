#include "document/document.h"

#include <QElapsedTimer>

#include <set>

namespace stc::views {

namespace {

class SwapModuleCommand : public QUndoCommand {
public:
    SwapModuleCommand(Document* doc, ModulePtr before, ModulePtr after, const QString& text)
        : QUndoCommand(text), doc_(doc), before_(std::move(before)), after_(std::move(after))
    {
    }
    void redo() override { doc_->swapIn(after_); }
    void undo() override { doc_->swapIn(before_); }

private:
    Document* doc_;
    ModulePtr before_, after_;
};

QString opLabel(const ir::Module& m, int opIndex)
{
    const ir::Op& op = m.ops()[size_t(opIndex)];
    QString name = QString::fromUtf8(ir::opName(op).data(), int(ir::opName(op).size()));
    if (op.result != ir::kNoValue)
        name = "%" + QString::fromStdString(m.value(op.result).name) + " = " + name;
    return name;
}

std::string attrToText(const ir::AttrValue& v)
{
    return std::visit(
        [](const auto& x) -> std::string {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>)
                return x;
            else if constexpr (std::is_same_v<T, bool>)
                return x ? "true" : "false";
            else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>)
                return QString::number(x).toStdString();
            else
                return "[...]";
        },
        v);
}

} // namespace

Document::Document(QObject* parent) : QObject(parent) {}

void Document::load(const QString& path, ModulePtr module, const Diagnostics& loadDiagnostics, const QString& engine,
                    std::vector<int64_t> inputShape)
{
    undo_.clear();
    path_ = path;
    engine_ = engine;
    module_ = std::move(module);
    inputShape_ = std::move(inputShape);
    selectedOp_ = -1;
    diagnostics_.clear();
    for (const auto& d : loadDiagnostics.items())
        diagnostics_.push_back({d, DiagSource::Load, -1, -1});
    for (auto& ld : diagnostics_)
        ld.opIndex = resolveOp(ld.diag);
    emit loaded();
    emit moduleChanged();
    emit diagnosticsChanged();
    emit selectionChanged(-1);
}

void Document::close()
{
    load({}, nullptr, {}, {});
}

void Document::setDiagnostics(DiagSource source, const Diagnostics& diags)
{
    std::erase_if(diagnostics_, [&](const LocatedDiagnostic& d) { return d.source == source; });
    for (const auto& d : diags.items())
        diagnostics_.push_back({d, source, resolveOp(d), -1});
    emit diagnosticsChanged();
}

void Document::setLocatedDiagnostics(DiagSource source, std::vector<LocatedDiagnostic> diags)
{
    std::erase_if(diagnostics_, [&](const LocatedDiagnostic& d) { return d.source == source; });
    for (auto& d : diags) {
        d.source = source;
        if (d.opIndex < 0)
            d.opIndex = resolveOp(d.diag);
        diagnostics_.push_back(std::move(d));
    }
    emit diagnosticsChanged();
}

std::vector<int> Document::opsWithErrors() const
{
    std::set<int> ops;
    for (const auto& d : diagnostics_)
        if (d.opIndex >= 0 && d.diag.severity == Severity::Error)
            ops.insert(d.opIndex);
    return {ops.begin(), ops.end()};
}

int Document::resolveOp(const Diagnostic& d) const
{
    if (!module_)
        return -1;
    const ir::Module& m = *module_;
    // "%name = kind" or "%name" or "kind %name": find the first %token.
    const auto pct = d.op.find('%');
    if (pct != std::string::npos) {
        size_t end = pct + 1;
        while (end < d.op.size() && d.op[end] != ' ' && d.op[end] != ']' && d.op[end] != ',')
            ++end;
        const ir::ValueId v = m.findValue(d.op.substr(pct + 1, end - pct - 1));
        if (v != ir::kNoValue)
            return m.value(v).def;
    }
    if (d.loc.known()) {
        for (size_t i = 0; i < m.ops().size(); ++i)
            if (m.ops()[i].textLoc.line == d.loc.line)
                return int(i);
    }
    if (!d.origin.empty()) {
        for (size_t i = 0; i < m.ops().size(); ++i)
            if (m.ops()[i].origin == d.origin && m.ops()[i].kind != ir::OpKind::Const)
                return int(i);
    }
    return -1;
}

void Document::swapIn(ModulePtr module)
{
    module_ = std::move(module);
    if (module_ && selectedOp_ >= int(module_->ops().size()))
        selectOp(-1);
    emit moduleChanged();
    reverify();
}

void Document::reverify()
{
    if (!module_)
        return;
    setDiagnostics(DiagSource::Verify, verifyIr(*module_));
}

void Document::replaceModule(ModulePtr module, const QString& description)
{
    undo_.push(new SwapModuleCommand(this, module_, std::move(module), description));
}

void Document::selectOp(int opIndex)
{
    if (opIndex == selectedOp_)
        return;
    selectedOp_ = opIndex;
    emit selectionChanged(opIndex);
}

bool Document::setOpAttribute(int opIndex, const std::string& key, const ir::AttrValue& value, QString* why)
{
    if (!module_ || opIndex < 0 || opIndex >= int(module_->ops().size())) {
        if (why)
            *why = "no such op";
        return false;
    }
    const ir::AttrValue* old = module_->ops()[size_t(opIndex)].attrs.find(key);
    if (old && *old == value)
        return true;
    auto next = std::make_shared<ir::Module>(*module_);
    next->mutableOps()[size_t(opIndex)].attrs.set(key, value);
    const QString text = QString("Set %1 = %2 on %3")
                             .arg(QString::fromStdString(key), QString::fromStdString(attrToText(value)),
                                  opLabel(*module_, opIndex));
    replaceModule(std::move(next), text);
    return true;
}

bool Document::bypassOp(int opIndex, QString* why)
{
    if (!module_ || opIndex < 0 || opIndex >= int(module_->ops().size()))
        return false;
    const ir::Module& m = *module_;
    const ir::Op& op = m.ops()[size_t(opIndex)];
    const ir::ValueId through = edit::dataOperand(m, opIndex);
    if (op.result == ir::kNoValue || through == ir::kNoValue) {
        if (why)
            *why = "only an op with a data input and a result can be bypassed";
        return false;
    }
    std::vector<bool> keep(m.ops().size(), true);
    std::string error;
    auto next = edit::rebuild(m, keep, {{op.result, through}}, &error);
    if (!next) {
        if (why)
            *why = QString::fromStdString(error);
        return false;
    }
    replaceModule(std::make_shared<const ir::Module>(std::move(*next)), "Bypass " + opLabel(m, opIndex));
    return true;
}

bool Document::deleteOp(int opIndex, QString* why)
{
    if (!module_ || opIndex < 0 || opIndex >= int(module_->ops().size()))
        return false;
    const ir::Module& m = *module_;
    const ir::Op& op = m.ops()[size_t(opIndex)];
    std::map<ir::ValueId, ir::ValueId> replace;
    if (op.result != ir::kNoValue) {
        const ir::ValueId through = edit::dataOperand(m, opIndex);
        if (through != ir::kNoValue)
            replace[op.result] = through; // users are rewired around the deleted op
    }
    std::vector<bool> keep(m.ops().size(), true);
    keep[size_t(opIndex)] = false;
    // Constants only this op used go with it.
    const auto users = m.computeUsers();
    for (ir::ValueId v : op.operands) {
        const int def = m.value(v).def;
        if (m.ops()[size_t(def)].kind == ir::OpKind::Const && users[size_t(v)].size() == 1)
            keep[size_t(def)] = false;
    }
    std::string error;
    auto next = edit::rebuild(m, keep, replace, &error);
    if (!next) {
        if (why)
            *why = QString::fromStdString(error);
        return false;
    }
    selectOp(-1);
    replaceModule(std::make_shared<const ir::Module>(std::move(*next)), "Delete " + opLabel(m, opIndex));
    return true;
}

namespace edit {

ir::ValueId dataOperand(const ir::Module& m, int opIndex)
{
    for (ir::ValueId v : m.ops()[size_t(opIndex)].operands)
        if (m.definingOp(v).kind != ir::OpKind::Const)
            return v;
    return ir::kNoValue;
}

std::optional<ir::Module> rebuild(const ir::Module& m, const std::vector<bool>& keep,
                                  const std::map<ir::ValueId, ir::ValueId>& replace, std::string* why)
{
    ir::Module out;
    out.name = m.name;
    out.timesteps = m.timesteps;
    out.attrs = m.attrs;
    std::vector<ir::ValueId> newId(m.values().size(), ir::kNoValue);
    auto resolve = [&](ir::ValueId v) {
        for (int guard = 0; guard < 1000; ++guard) {
            auto it = replace.find(v);
            if (it == replace.end())
                break;
            v = it->second;
        }
        return v;
    };
    for (size_t i = 0; i < m.ops().size(); ++i) {
        if (!keep[i])
            continue;
        ir::Op op = m.ops()[i];
        for (ir::ValueId& v : op.operands) {
            const ir::ValueId mapped = newId[size_t(resolve(v))];
            if (mapped == ir::kNoValue) {
                if (why)
                    *why = "op " + std::to_string(i) + " (" + std::string(ir::opName(op)) + ") would lose its input %" +
                           m.value(v).name;
                return std::nullopt;
            }
            v = mapped;
        }
        const ir::ValueId oldResult = op.result;
        ir::Type type = oldResult != ir::kNoValue ? m.typeOf(oldResult) : ir::Type{};
        std::string name = oldResult != ir::kNoValue ? m.value(oldResult).name : std::string{};
        const ir::ValueId r = out.append(std::move(op), std::move(type), std::move(name));
        if (oldResult != ir::kNoValue)
            newId[size_t(oldResult)] = r;
    }
    return out;
}

} // namespace edit

} // namespace stc::views

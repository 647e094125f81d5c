#include "ir/custom_op.h"

namespace stc::ir {

namespace {

bool identStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool identChar(char c) { return identStart(c) || (c >= '0' && c <= '9'); }

std::string operandCountError(const OpDef& def, size_t n)
{
    std::string expected = std::to_string(def.minOperands);
    if (def.maxOperands != def.minOperands)
        expected += def.maxOperands < 0 ? " or more" : ".." + std::to_string(def.maxOperands);
    return "expects " + expected + " operands, got " + std::to_string(n);
}

} // namespace

CustomOpDef::CustomOpDef(std::string name, int minOperands, int maxOperands, std::vector<AttrSpec> attrs,
                         std::string doc)
    : name_(std::move(name)), doc_(std::move(doc))
{
    schema_.kind = OpKind::Custom;
    schema_.name = name_;
    schema_.minOperands = minOperands;
    schema_.maxOperands = maxOperands;
    schema_.hasResult = true;
    schema_.attrs = std::move(attrs);
    schema_.doc = doc_;
}

ValueId CustomOpDef::lower(LoweringBuilder&, const std::vector<ValueId>&, const Attributes&, std::string* error) const
{
    if (error)
        *error = "custom op " + name_ + " has no lowering into built-in ops";
    return kNoValue;
}

std::string checkCustomOpName(std::string_view name)
{
    const size_t dot = name.find('.');
    auto part = [](std::string_view p) {
        if (p.empty() || !identStart(p[0]))
            return false;
        for (char c : p)
            if (!identChar(c))
                return false;
        return true;
    };
    if (dot == std::string_view::npos || name.find('.', dot + 1) != std::string_view::npos || !part(name.substr(0, dot)) ||
        !part(name.substr(dot + 1)))
        return "custom op name '" + std::string(name) +
               "' must have the form <namespace>.<op>, each part [A-Za-z_][A-Za-z0-9_]* (e.g. custom.sdt_mask_add)";
    return {};
}

std::string CustomOpRegistry::add(std::shared_ptr<const CustomOpDef> def, const std::string& provider)
{
    if (!def)
        return "null custom op definition from " + provider;
    if (auto e = checkCustomOpName(def->name()); !e.empty())
        return e;
    if (def->schema().minOperands < 0 || (def->schema().maxOperands >= 0 &&
                                          def->schema().maxOperands < def->schema().minOperands))
        return "custom op " + def->name() + " has an invalid operand count range";
    auto it = entries_.find(def->name());
    if (it != entries_.end() && it->second.def)
        return "custom op " + def->name() + " from " + provider + " is already registered by " + it->second.provider;
    const std::string name = def->name();
    entries_[name] = Entry{std::move(def), provider, {}};
    return {};
}

void CustomOpRegistry::addUnavailable(const std::string& opName, const std::string& provider,
                                      const std::string& problem)
{
    auto it = entries_.find(opName);
    if (it != entries_.end() && it->second.def)
        return; // another plugin provides it
    entries_[opName] = Entry{nullptr, provider, problem};
}

std::shared_ptr<const CustomOpDef> CustomOpRegistry::find(std::string_view name) const
{
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : it->second.def;
}

std::string CustomOpRegistry::unknownOpMessage(std::string_view name) const
{
    const std::string n(name);
    auto it = entries_.find(name);
    if (it != entries_.end() && !it->second.def)
        return "custom op '" + n + "' is provided by plugin " + it->second.provider + ", which was not loaded: " +
               it->second.problem;
    std::string loaded;
    for (const auto& [opName, e] : entries_)
        if (e.def)
            loaded += (loaded.empty() ? "" : ", ") + opName + " (" + e.provider + ")";
    return "unknown custom op '" + n + "': no loaded custom-op plugin (org.stc.CustomOps/1) provides it; " +
           (loaded.empty() ? std::string("none is loaded") : "loaded: " + loaded) +
           " (a plugin's metadata lists its ops under \"ops\"; see docs/custom-ops.md)";
}

std::string unknownCustomOpMessage(const CustomOpRegistry* registry, std::string_view name)
{
    if (registry)
        return registry->unknownOpMessage(name);
    return "unknown custom op '" + std::string(name) +
           "': custom ops come from custom-op plugins (org.stc.CustomOps/1) and none were given to this parse "
           "(see docs/custom-ops.md)";
}

const OpDef& opDefOf(const Op& op)
{
    if (op.kind == OpKind::Custom && op.custom)
        return op.custom->schema();
    return opDef(op.kind);
}

std::string_view opName(const Op& op) { return opDefOf(op).name; }

InferResult inferOpType(const Op& op, const std::vector<Type>& operands)
{
    if (op.kind != OpKind::Custom)
        return inferType(op.kind, operands, op.attrs);
    if (!op.custom)
        return InferResult::fail("custom op without a definition (no plugin registered it)");
    const OpDef& def = op.custom->schema();
    const auto n = operands.size();
    if (n < size_t(def.minOperands) || (def.maxOperands >= 0 && n > size_t(def.maxOperands)))
        return InferResult::fail(operandCountError(def, n));
    return op.custom->inferType(operands, op.attrs);
}

std::string checkOpAttributes(const Op& op)
{
    if (op.kind != OpKind::Custom)
        return checkAttributes(op.kind, op.attrs);
    return op.custom ? op.custom->checkAttributes(op.attrs) : std::string();
}

} // namespace stc::ir

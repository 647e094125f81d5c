#include "ir/verifier.h"

#include "ir/custom_op.h"
#include "ir/lexer.h"
#include "ir/name_index.h"
#include "ir/printer.h"

#include <cstring>

namespace stc::ir {

std::string checkTypeLimits(const Type& t)
{
    if (static_cast<int>(t.elem) > static_cast<int>(ElemType::Graded))
        return "invalid element type " + std::to_string(static_cast<int>(t.elem));
    int64_t n = 1;
    for (int64_t d : t.shape) {
        if (d < 0 || d > kMaxDimension)
            return "dimension " + std::to_string(d) + " out of range (0.." + std::to_string(kMaxDimension) + ")";
        if (d != 0 && n > kMaxElements / d)
            n = kMaxElements + 1;
        else
            n *= d;
    }
    if (n > kMaxElements)
        return "type has more than 2^40 elements";
    return {};
}

namespace {

std::string clip(std::string s, size_t max = 60) { return s.size() <= max ? s : s.substr(0, max) + "..."; }
std::string posString(const SourceLoc& l) { return std::to_string(l.line) + ":" + std::to_string(l.col); }

const char* kindExample(AttrKind k)
{
    switch (k) {
    case AttrKind::Int: return "3";
    case AttrKind::Float: return "2.0";
    case AttrKind::Bool: return "true";
    case AttrKind::String: return "\"hard\"";
    case AttrKind::IntList: return "[1, 1]";
    case AttrKind::FloatList: return "[0.5, 1.0] (empty: f[])";
    }
    return "?";
}

bool isAnnotation(const std::string& key) { return key[0] == '_' || key.find('.') != std::string::npos; }

// Shape-like int attributes are bounded so that type inference cannot overflow.
bool isBoundedIntAttr(const AttrSpec& spec)
{
    return (spec.kind == AttrKind::Int || spec.kind == AttrKind::IntList) && spec.name != "seed";
}

class Verifier {
public:
    Verifier(const Module& m, const SourceLoc& moduleLoc) : m_(m), moduleLoc_(moduleLoc)
    {
        if (!moduleLoc_.known() && moduleLoc_.file.empty() && !m.ops().empty())
            moduleLoc_.file = m.ops().front().textLoc.file;
    }

    Diagnostics run()
    {
        checkModule();
        checkValues();
        for (size_t i = 0; i < m_.ops().size(); ++i)
            checkOp(static_cast<int32_t>(i));
        checkOutputPlacement();
        return std::move(d_);
    }

private:
    void error(const Op& op, std::string msg) { d_.error(op.textLoc, opLabel(m_, op), std::move(msg), op.origin); }
    void moduleError(std::string msg) { d_.error(moduleLoc_, "module @" + clip(m_.name), std::move(msg)); }
    bool validValue(ValueId id) const { return id >= 0 && static_cast<size_t>(id) < m_.values().size(); }
    bool validOpIndex(int32_t i) const { return i >= 0 && static_cast<size_t>(i) < m_.ops().size(); }

    void checkModule();
    void checkValues();
    void checkOp(int32_t index);
    bool checkOperands(int32_t index, const Op& op, std::vector<Type>& types);
    bool checkAttrs(const Op& op, const OpDef& def);
    void checkConst(const Op& op);
    void inferAndCompare(const Op& op, const std::vector<Type>& types);
    void checkOutputPlacement();

    const Module& m_;
    SourceLoc moduleLoc_;
    Diagnostics d_;
    std::vector<bool> badType_; // per value: type out of limits or wrong; its users skip inference
    std::vector<int32_t> outputOps_;
};

void Verifier::checkModule()
{
    if (m_.name.empty())
        moduleError("module name is empty");
    if (m_.timesteps < 1)
        moduleError("module timesteps must be >= 1, got " + std::to_string(m_.timesteps));
    for (const auto& [key, value] : m_.attrs.map()) {
        if (key == "timesteps")
            moduleError("module attribute 'timesteps' duplicates Module::timesteps; remove it from Module::attrs");
        else if (!text::isValidIdent(key))
            moduleError("module attribute name '" + clip(key) + "' is not an identifier ([A-Za-z_][A-Za-z0-9_.]*)");
    }
}

void Verifier::checkValues()
{
    const auto& values = m_.values();
    badType_.assign(values.size(), false);
    NameIndex firstByName(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        const Value& v = values[i];
        const auto id = static_cast<ValueId>(i);
        const bool defOk = validOpIndex(v.def) && m_.ops()[size_t(v.def)].result == id;
        auto report = [&](std::string msg) {
            if (defOk)
                error(m_.ops()[size_t(v.def)], std::move(msg));
            else
                moduleError("value %" + clip(v.name) + ": " + msg);
        };
        if (!defOk)
            moduleError("value %" + clip(v.name) + " (#" + std::to_string(i) + ") is not the result of its defining op #" +
                        std::to_string(v.def));
        if (!text::isValidName(v.name))
            report("value name '" + clip(v.name) + "' must be non-empty and use only [A-Za-z0-9_.$]");
        if (const ValueId previous = firstByName.insert(v.name, id); previous != kNoValue) {
            const Value& first = values[size_t(previous)];
            std::string where = "by op #" + std::to_string(first.def);
            if (validOpIndex(first.def) && m_.ops()[size_t(first.def)].textLoc.known())
                where = "at " + posString(m_.ops()[size_t(first.def)].textLoc);
            report("value %" + clip(v.name) + " redefined (first defined " + where + ")");
        }
        if (std::string why = checkTypeLimits(v.type); !why.empty()) {
            badType_[i] = true;
            report("result type " + printType(v.type) + ": " + why);
        }
    }
}

void Verifier::checkOp(int32_t index)
{
    const Op& op = m_.ops()[size_t(index)];
    if (static_cast<int>(op.kind) >= kOpKindCount) {
        error(op, "invalid op kind " + std::to_string(static_cast<int>(op.kind)));
        return;
    }
    if (op.kind == OpKind::Custom && !op.custom) {
        error(op, "custom op without a definition (Op::custom is not set; custom ops come from plugins)");
        return;
    }
    const OpDef& def = opDefOf(op);
    bool resultOk = true;
    if (def.hasResult && (!validValue(op.result) || m_.value(op.result).def != index)) {
        error(op, "op has no valid result value (result id " + std::to_string(op.result) + ")");
        resultOk = false;
    }
    if (!def.hasResult && op.result != kNoValue)
        error(op, std::string(def.name) + " must not have a result value");
    if (op.kind != OpKind::Const && op.constant)
        error(op, "only const ops carry a constant payload");
    if (op.kind != OpKind::Custom && op.custom)
        error(op, "only custom ops carry a custom op definition");

    std::vector<Type> types;
    const bool operandsOk = checkOperands(index, op, types);
    const bool attrsOk = checkAttrs(op, def);

    switch (op.kind) {
    case OpKind::Input:
        if (resultOk && m_.typeOf(op.result).perStep())
            error(op, "input type must be time-invariant (no T), got " + printType(m_.typeOf(op.result)));
        break;
    case OpKind::Const:
        if (resultOk)
            checkConst(op);
        break;
    case OpKind::Output: outputOps_.push_back(index); break;
    default:
        if (resultOk && operandsOk && attrsOk && !badType_[size_t(op.result)])
            inferAndCompare(op, types);
        break;
    }
}

bool Verifier::checkOperands(int32_t index, const Op& op, std::vector<Type>& types)
{
    const OpDef& def = opDefOf(op);
    const int n = static_cast<int>(op.operands.size());
    bool ok = true;
    if (n < def.minOperands || (def.maxOperands >= 0 && n > def.maxOperands)) {
        std::string expected = std::to_string(def.minOperands);
        if (def.maxOperands != def.minOperands)
            expected += def.maxOperands < 0 ? " or more" : ".." + std::to_string(def.maxOperands);
        error(op, std::string(def.name) + " expects " + expected + " operand" + (expected == "1" ? "" : "s") + " (" +
                      std::string(def.doc) + "), got " + std::to_string(n));
        ok = false;
    }
    for (int k = 0; k < n; ++k) {
        const ValueId v = op.operands[size_t(k)];
        if (!validValue(v)) {
            error(op, "operand " + std::to_string(k) + " refers to value #" + std::to_string(v) + ", which does not exist");
            ok = false;
            continue;
        }
        const Value& value = m_.value(v);
        // A delay may read a value defined later (a back edge): every cycle then passes through a delay.
        if (value.def >= index && op.kind != OpKind::Delay) {
            std::string where = validOpIndex(value.def) && m_.ops()[size_t(value.def)].textLoc.known()
                                    ? " at " + posString(m_.ops()[size_t(value.def)].textLoc)
                                    : "";
            error(op, "operand %" + clip(value.name) + " is used before its definition (defined by op #" +
                          std::to_string(value.def) + where +
                          "): only a delay may use a value defined later, so every cycle must pass through a delay");
            ok = false;
        }
        if (badType_[size_t(v)])
            ok = false;
        types.push_back(value.type);
    }
    return ok;
}

bool Verifier::checkAttrs(const Op& op, const OpDef& def)
{
    bool ok = true;
    for (const auto& [key, value] : op.attrs.map()) {
        if (!text::isValidIdent(key)) {
            error(op, "attribute name '" + clip(key) + "' is not an identifier ([A-Za-z_][A-Za-z0-9_.]*)");
            ok = false;
            continue;
        }
        const AttrSpec* spec = nullptr;
        for (const auto& s : def.attrs)
            if (s.name == key)
                spec = &s;
        if (!spec) {
            if (isAnnotation(key))
                continue;
            std::string known;
            for (const auto& s : def.attrs)
                known += (known.empty() ? "" : ", ") + s.name;
            error(op, "unknown attribute '" + key + "' for " + std::string(def.name) +
                          (known.empty() ? " (it takes no attributes" : " (expected one of: " + known) +
                          "; free-form annotations start with '_' or contain '.')");
            ok = false;
            continue;
        }
        if (kindOf(value) != spec->kind) {
            error(op, "attribute '" + key + "' expects " + toString(spec->kind) + " like " + kindExample(spec->kind) +
                          ", got " + toString(kindOf(value)) + " " + clip(printAttrValue(value)));
            ok = false;
            continue;
        }
        if (isBoundedIntAttr(*spec)) {
            const IntList values = spec->kind == AttrKind::Int ? IntList{std::get<int64_t>(value)}
                                                               : std::get<IntList>(value);
            for (int64_t v : values)
                if (v < -kMaxDimension || v > kMaxDimension) {
                    error(op, "attribute '" + key + "' value " + std::to_string(v) + " out of range (|v| <= " +
                                  std::to_string(kMaxDimension) + ")");
                    ok = false;
                    break;
                }
        }
    }
    for (const auto& spec : def.attrs)
        if (spec.required && !op.attrs.has(spec.name)) {
            error(op, "missing required attribute '" + spec.name + "' (" + toString(spec.kind) + ": " + spec.doc + ")");
            ok = false;
        }
    if (ok)
        if (std::string msg = checkOpAttributes(op); !msg.empty())
            error(op, msg);
    return ok;
}

void Verifier::checkConst(const Op& op)
{
    const Type& type = m_.typeOf(op.result);
    if (type.perStep())
        error(op, "constant type must be time-invariant (no T), got " + printType(type));
    if (!op.constant) {
        error(op, "const op has no payload");
        return;
    }
    const Tensor& t = *op.constant;
    const Type payloadType{t.elem(), t.shape(), TimeKind::Invariant};
    if (t.elem() != type.elem || t.shape() != type.shape) {
        error(op, "constant payload is " + printType(payloadType) + " but the declared type is " + printType(type));
        return;
    }
    if (!checkTypeLimits(payloadType).empty() || t.byteSize() != t.numElements() * elemByteSize(t.elem())) {
        error(op, "constant payload has " + std::to_string(t.byteSize()) + " bytes, " + printType(type) + " needs " +
                      std::to_string(t.numElements() * elemByteSize(t.elem())));
        return;
    }
    if (t.elem() == ElemType::Spike) {
        const auto bytes = t.bytes();
        for (size_t i = 0; i < bytes.size(); ++i)
            if (bytes[i] > 1) {
                error(op, "spike constant has value " + std::to_string(bytes[i]) + " at element " + std::to_string(i) +
                              " (spikes are 0 or 1; use graded or i8 for counts)");
                break;
            }
    }
}

void Verifier::inferAndCompare(const Op& op, const std::vector<Type>& types)
{
    if (op.kind == OpKind::Reshape) { // the product of the target shape must not overflow in inferType
        int64_t n = 1;
        for (int64_t v : op.attrs.getInts("shape")) {
            if (v <= 0)
                continue;
            if (n > kMaxElements / v) {
                error(op, "reshape target shape has more than 2^40 elements");
                return;
            }
            n *= v;
        }
    }
    const InferResult r = inferOpType(op, types);
    const Type& declared = m_.typeOf(op.result);
    if (r.type && *r.type == declared)
        return;
    if (!r.type)
        error(op, r.error);
    else
        error(op, "declared result type " + printType(declared) + " does not match the inferred type " +
                      printType(*r.type));
    // Users of this value would only repeat the problem: report the root cause once.
    badType_[size_t(op.result)] = true;
}

void Verifier::checkOutputPlacement()
{
    const auto& ops = m_.ops();
    if (outputOps_.empty()) {
        moduleError("module has no 'output' op (expected exactly one, as the last op)");
        return;
    }
    const Op& first = ops[size_t(outputOps_.front())];
    for (size_t k = 1; k < outputOps_.size(); ++k) {
        const std::string where = first.textLoc.known() ? " at " + posString(first.textLoc) : "";
        error(ops[size_t(outputOps_[k])], "more than one 'output' op (the first is op #" +
                                              std::to_string(outputOps_.front()) + where + ")");
    }
    size_t firstOther = 0, others = 0; // non-output ops after the first output
    for (size_t i = size_t(outputOps_.front()) + 1; i < ops.size(); ++i)
        if (ops[i].kind != OpKind::Output && !others++)
            firstOther = i;
    if (others > 0)
        error(first, "'output' must be the last op, but " + std::to_string(others) +
                         (others == 1 ? " op follows it" : " ops follow it") + " (first: " +
                         opLabel(m_, ops[firstOther]) + ")");
}

} // namespace

Diagnostics verify(const Module& m, const SourceLoc& moduleLoc) { return Verifier(m, moduleLoc).run(); }

} // namespace stc::ir

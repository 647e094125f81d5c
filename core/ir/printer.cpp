#include "ir/printer.h"

#include "ir/lexer.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace stc::ir {

namespace {

template <typename F> void appendFloatText(std::string& out, F v)
{
    if (std::isnan(v)) {
        out += "nan";
        return;
    }
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    const std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
    out += s;
    if (s.find_first_of(".en") == std::string_view::npos) // "inf" has an 'n'
        out += ".0";
}

void appendInt(std::string& out, int64_t v)
{
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void appendAttrValue(std::string& out, const AttrValue& v)
{
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, int64_t>) {
                appendInt(out, x);
            } else if constexpr (std::is_same_v<T, double>) {
                appendFloatText(out, x);
            } else if constexpr (std::is_same_v<T, bool>) {
                out += x ? "true" : "false";
            } else if constexpr (std::is_same_v<T, std::string>) {
                text::appendQuoted(out, x);
            } else {
                if constexpr (std::is_same_v<T, FloatList>)
                    if (x.empty())
                        out += 'f';
                out += '[';
                for (size_t i = 0; i < x.size(); ++i) {
                    if (i)
                        out += ", ";
                    if constexpr (std::is_same_v<T, IntList>)
                        appendInt(out, x[i]);
                    else
                        appendFloatText(out, x[i]);
                }
                out += ']';
            }
        },
        v);
}

void appendAttrs(std::string& out, const Attributes& attrs)
{
    if (attrs.empty())
        return;
    out += " {";
    bool first = true;
    for (const auto& [key, value] : attrs.map()) {
        if (!first)
            out += ", ";
        first = false;
        out += key;
        out += " = ";
        appendAttrValue(out, value);
    }
    out += '}';
}

bool validId(const Module& m, ValueId id) { return id >= 0 && static_cast<size_t>(id) < m.values().size(); }

void appendValueRef(std::string& out, const Module& m, ValueId id)
{
    if (!validId(m, id)) {
        out += "%<invalid " + std::to_string(id) + ">";
        return;
    }
    out += '%';
    out += m.value(id).name;
}

template <typename T> T element(const Tensor& t, int64_t i)
{
    T v;
    std::memcpy(&v, t.bytes().data() + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    return v;
}

bool printsInline(const Tensor& t)
{
    if (t.numElements() > kMaxInlineConstantElements ||
        t.byteSize() != t.numElements() * elemByteSize(t.elem()))
        return false;
    if (t.elem() == ElemType::F32)
        for (int64_t i = 0; i < t.numElements(); ++i)
            if (std::isnan(element<float>(t, i)))
                return false;
    return true;
}

void appendInlineElements(std::string& out, const Tensor& t)
{
    out += '[';
    for (int64_t i = 0; i < t.numElements(); ++i) {
        if (i)
            out += ", ";
        switch (t.elem()) {
        case ElemType::F32: appendFloatText(out, element<float>(t, i)); break;
        case ElemType::I8:
        case ElemType::Graded: appendInt(out, element<int8_t>(t, i)); break;
        case ElemType::Spike: appendInt(out, element<uint8_t>(t, i)); break;
        case ElemType::I16: appendInt(out, element<int16_t>(t, i)); break;
        case ElemType::I32: appendInt(out, element<int32_t>(t, i)); break;
        }
    }
    out += ']';
}

void appendConstPayload(std::string& out, const Tensor* t, const PrintOptions& options)
{
    if (!t) {
        out += "<missing payload>";
    } else if (printsInline(*t)) {
        appendInlineElements(out, *t);
    } else if (options.elideConstants) {
        out += "<elided " + std::to_string(t->byteSize()) + " bytes>";
    } else {
        out += "b64\"";
        text::appendBase64(out, t->bytes());
        out += '"';
    }
}

void appendOp(std::string& out, const Module& m, const Op& op, const PrintOptions& options)
{
    if (static_cast<int>(op.kind) >= kOpKindCount) {
        out += "<invalid op kind " + std::to_string(static_cast<int>(op.kind)) + ">";
        return;
    }
    const OpDef& def = opDefOf(op);
    if (def.hasResult) {
        appendValueRef(out, m, op.result);
        out += " = ";
    }
    out += def.name;
    if (op.kind == OpKind::Const) {
        out += ' ';
        appendConstPayload(out, op.constant.get(), options);
    }
    for (size_t i = 0; i < op.operands.size(); ++i) {
        out += i ? ", " : " ";
        appendValueRef(out, m, op.operands[i]);
    }
    appendAttrs(out, op.attrs);
    if (def.hasResult && validId(m, op.result)) {
        out += " : ";
        out += printType(m.typeOf(op.result));
    }
    if (!op.origin.empty()) {
        out += " loc(";
        text::appendQuoted(out, op.origin);
        out += ')';
    }
}

} // namespace

std::string formatFloat(double v)
{
    std::string out;
    appendFloatText(out, v);
    return out;
}

std::string formatFloat(float v)
{
    std::string out;
    appendFloatText(out, v);
    return out;
}

std::string printType(const Type& t)
{
    if (static_cast<int>(t.elem) <= static_cast<int>(ElemType::Graded))
        return toString(t);
    Type copy = t;
    copy.elem = ElemType::F32;
    return "<elem " + std::to_string(static_cast<int>(t.elem)) + ">" + toString(copy).substr(3);
}

std::string printAttrValue(const AttrValue& v)
{
    std::string out;
    appendAttrValue(out, v);
    return out;
}

std::string opLabel(const Module& m, const Op& op)
{
    if (static_cast<int>(op.kind) >= kOpKindCount)
        return "<invalid op kind " + std::to_string(static_cast<int>(op.kind)) + ">";
    const OpDef& def = opDefOf(op);
    if (!def.hasResult)
        return std::string(def.name);
    std::string out;
    appendValueRef(out, m, op.result);
    return out + " = " + std::string(def.name);
}

std::string printOp(const Module& m, const Op& op, const PrintOptions& options)
{
    std::string out;
    appendOp(out, m, op, options);
    return out;
}

std::string printModule(const Module& m, const PrintOptions& options)
{
    size_t estimate = 64 + m.ops().size() * 96;
    for (const auto& op : m.ops())
        if (op.constant && !options.elideConstants)
            estimate += static_cast<size_t>(op.constant->byteSize()) / 3 * 4 + 8;
    std::string out;
    out.reserve(estimate);

    out += "module @";
    if (text::isValidName(m.name))
        out += m.name;
    else
        text::appendQuoted(out, m.name);
    out += " {timesteps = ";
    appendInt(out, m.timesteps);
    for (const auto& [key, value] : m.attrs.map()) {
        out += ", ";
        out += key;
        out += " = ";
        appendAttrValue(out, value);
    }
    out += "} {\n";
    for (const auto& op : m.ops()) {
        out += "  ";
        appendOp(out, m, op, options);
        out += '\n';
    }
    out += "}\n";
    return out;
}

} // namespace stc::ir

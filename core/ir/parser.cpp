#include "ir/parser.h"

#include "ir/custom_op.h"
#include "ir/lexer.h"
#include "ir/name_index.h"
#include "ir/verifier.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstring>
#include <limits>
#include <new>

namespace stc::ir {

namespace {

using text::Lexer;
using text::SyntaxError;
using text::TokKind;
using text::Token;

std::string clip(std::string_view s, size_t max = 40)
{
    return s.size() <= max ? std::string(s) : std::string(s.substr(0, max)) + "...";
}

std::string posString(int line, int col) { return std::to_string(line) + ":" + std::to_string(col); }

bool isFloatWord(const Token& t) { return t.kind == TokKind::Ident && (t.text == "inf" || t.text == "nan"); }
bool isNumber(const Token& t) { return t.kind == TokKind::Int || t.kind == TokKind::Float || isFloatWord(t); }

// A constant payload is read before the type that says how to decode it: an
// inline list is skipped (and counted) first, then decoded from a saved lexer.
struct PendingPayload {
    Token start;
    std::optional<Lexer> listLexer; // positioned after '[' for an inline list
    int64_t count = 0;
};

class Parser {
public:
    Parser(std::string_view src, const std::string& file, ParseResult& out, const CustomOpRegistry* customOps)
        : lex_(src), file_(file), out_(out), customOps_(customOps)
    {
    }

    Module run()
    {
        parseHeader();
        parseBody();
        resolveBackEdges();
        return std::move(m_);
    }
    // "%3 = conv2d" (or "output") while parsing that op; built only for an error.
    std::string context() const
    {
        if (contextIsOutput_)
            return "output";
        if (contextName_.empty())
            return {};
        std::string out = "%" + std::string(contextName_);
        if (!contextOp_.empty())
            out += " = " + std::string(contextOp_);
        return out;
    }

private:
    [[noreturn]] void fail(int line, int col, std::string msg) { throw SyntaxError{line, col, std::move(msg)}; }
    [[noreturn]] void fail(const Token& t, std::string msg) { fail(t.line, t.col, std::move(msg)); }
    [[noreturn]] void failExpected(const Token& found, const std::string& expected)
    {
        const char* prefix = found.kind == TokKind::Eof ? "truncated file: " : "";
        fail(found, prefix + ("expected " + expected + ", found " + describe(found)));
    }
    Token expectPunct(char c, const std::string& expected)
    {
        Token t = lex_.next();
        if (!t.isPunct(c))
            failExpected(t, expected);
        return t;
    }
    SourceLoc loc(const Token& t) const { return {file_, t.line, t.col}; }

    void parseHeader();
    void parseBody();
    void parseResultOp();
    void parseOutputOp(const Token& keyword);
    void parseOperands(Op& op, std::vector<TextPos>& pos);
    void resolveBackEdges();
    Attributes parseAttrDict(std::vector<Token>* valueTokens = nullptr);
    AttrValue parseAttrValue();
    AttrValue parseList(bool forceFloat);
    Type parseType();
    std::string parseLoc();
    PendingPayload parsePayloadStart();
    TensorPtr decodePayload(PendingPayload& p, const Type& type);
    void decodeListElement(const Token& e, const Type& type, uint8_t* dst);
    int64_t parseInt(const Token& t);
    double parseDouble(const Token& t);

    Lexer lex_;
    const std::string& file_;
    ParseResult& out_;
    const CustomOpRegistry* customOps_;
    Module m_;
    NameIndex names_; // views into the source text
    std::string_view contextName_, contextOp_;
    bool contextIsOutput_ = false;
    Token moduleToken_;
    // Operands naming a value not defined yet, in text order: resolved after the
    // body. A delay's operand may be defined later (a recurrent back edge).
    struct ForwardRef {
        size_t op;
        size_t operand;
        Token name;
        std::string_view contextName, contextOp;
        bool contextIsOutput;
    };
    std::vector<ForwardRef> forwardRefs_;
};

int64_t Parser::parseInt(const Token& t)
{
    int64_t v = 0;
    const auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (r.ec != std::errc() || r.ptr != t.text.data() + t.text.size())
        fail(t, "integer " + clip(t.text) + " out of range (64-bit signed)");
    return v;
}

double Parser::parseDouble(const Token& t)
{
    if (t.text == "inf")
        return std::numeric_limits<double>::infinity();
    if (t.text == "-inf")
        return -std::numeric_limits<double>::infinity();
    if (t.text == "nan")
        return std::numeric_limits<double>::quiet_NaN();
    double v = 0;
    const auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (r.ec != std::errc() || r.ptr != t.text.data() + t.text.size())
        fail(t, "number " + clip(t.text) + " out of range for a 64-bit float");
    return v;
}

void Parser::parseHeader()
{
    const Token kw = lex_.next();
    if (kw.kind == TokKind::Eof)
        fail(kw, "empty file: expected 'module @name {timesteps = N} {'");
    if (!kw.isIdent("module"))
        failExpected(kw, "'module @name {timesteps = N} {' at the start of the file");
    moduleToken_ = kw;
    out_.moduleLoc = loc(kw);

    const Token name = lex_.next();
    if (name.kind == TokKind::ModuleName)
        m_.name = std::string(name.text);
    else if (name.kind == TokKind::QuotedModName)
        m_.name = text::unescape(name.text);
    else
        failExpected(name, "module name '@name' after 'module'");

    if (!lex_.peek().isPunct('{'))
        failExpected(lex_.peek(), "'{timesteps = N}' after the module name");
    const Token open = lex_.peek();
    std::vector<Token> valueTokens;
    Attributes attrs = parseAttrDict(&valueTokens);
    size_t index = 0;
    for (const auto& [key, value] : attrs.map()) {
        if (key == "timesteps") {
            if (kindOf(value) != AttrKind::Int)
                fail(valueTokens[index], std::string("module attribute 'timesteps' expects int, got ") +
                                             toString(kindOf(value)));
            m_.timesteps = std::get<int64_t>(value);
        }
        ++index;
    }
    if (!attrs.has("timesteps"))
        fail(open, "module attributes need 'timesteps = N' (the number of time steps)");
    attrs.erase("timesteps");
    m_.attrs = std::move(attrs);
    expectPunct('{', "'{' opening the module body");
}

void Parser::parseBody()
{
    while (true) {
        contextName_ = contextOp_ = {};
        contextIsOutput_ = false;
        const Token t = lex_.peek();
        if (t.isPunct('}')) {
            lex_.next();
            const Token after = lex_.next();
            if (after.kind != TokKind::Eof)
                fail(after, "unexpected " + describe(after) + " after the '}' closing the module");
            return;
        }
        if (t.kind == TokKind::Eof)
            fail(t, "truncated file: missing '}' closing module started at " +
                        posString(moduleToken_.line, moduleToken_.col));
        if (t.kind == TokKind::ValueName) {
            parseResultOp();
        } else if (t.isIdent("output")) {
            parseOutputOp(lex_.next());
        } else if (t.kind == TokKind::Ident && opKindFromName(t.text)) {
            fail(t, "op '" + std::string(t.text) + "' produces a result: expected '%name = " + std::string(t.text) +
                        " ...'");
        } else {
            failExpected(t, "an op ('%name = op ...' or 'output ...') or '}' closing the module");
        }
    }
}

void Parser::parseResultOp()
{
    const Token res = lex_.next();
    contextName_ = res.text;
    expectPunct('=', "'=' after " + describe(res));
    const Token name = lex_.next();
    if (name.kind != TokKind::Ident)
        failExpected(name, "op name after '='");
    auto kind = opKindFromName(name.text);
    std::shared_ptr<const CustomOpDef> custom;
    if (kind == OpKind::Custom)
        fail(name, "'custom' is not an op name: a custom op is written by its registered name "
                   "(<namespace>.<op>, e.g. custom.sdt_mask_add)");
    if (!kind && name.text.find('.') != std::string_view::npos) {
        custom = customOps_ ? customOps_->find(name.text) : nullptr;
        if (!custom)
            fail(name, clip(unknownCustomOpMessage(customOps_, name.text), 400));
        kind = OpKind::Custom;
    }
    if (!kind)
        fail(name, "unknown op '" + clip(name.text) + "'");
    const OpDef& def = custom ? custom->schema() : opDef(*kind);
    contextOp_ = name.text;
    if (!def.hasResult)
        fail(name, "op '" + std::string(name.text) + "' has no result: write '" + std::string(name.text) +
                       " %a, ...' without '%name ='");
    if (const ValueId previous = names_.find(res.text); previous != kNoValue) {
        const SourceLoc& first = m_.definingOp(previous).textLoc;
        fail(res, "value %" + clip(res.text) + " redefined (first defined at " + posString(first.line, first.col) + ")");
    }

    Op op;
    op.kind = *kind;
    op.custom = std::move(custom);
    op.textLoc = loc(res);
    std::vector<TextPos> pos;
    std::optional<PendingPayload> payload;
    if (op.kind == OpKind::Const)
        payload = parsePayloadStart();
    parseOperands(op, pos);
    const bool hadAttrs = lex_.peek().isPunct('{');
    if (hadAttrs)
        op.attrs = parseAttrDict();
    const Token colon = lex_.next();
    if (!colon.isPunct(':')) {
        if (hadAttrs)
            failExpected(colon, "':' and the result type after the attributes");
        if (!pos.empty())
            failExpected(colon, "',', '{' or ':' after operand");
        if (payload)
            failExpected(colon, "'{' or ':' after the constant payload");
        failExpected(colon, "operands, '{' or ':' after '" + std::string(name.text) + "'");
    }
    Type type = parseType();
    if (lex_.peek().isIdent("loc"))
        op.origin = parseLoc();
    if (payload)
        op.constant = decodePayload(*payload, type);
    const ValueId id = m_.append(std::move(op), std::move(type), std::string(res.text));
    names_.insert(res.text, id);
    out_.operandPos.push_back(std::move(pos));
}

void Parser::resolveBackEdges()
{
    for (const ForwardRef& r : forwardRefs_) {
        const ValueId id = names_.find(r.name.text);
        Op& op = m_.mutableOps()[r.op];
        if (id != kNoValue && op.kind == OpKind::Delay) {
            op.operands[r.operand] = id;
            continue;
        }
        contextName_ = r.contextName;
        contextOp_ = r.contextOp;
        contextIsOutput_ = r.contextIsOutput;
        if (id == kNoValue)
            fail(r.name, "use of undefined value %" + clip(r.name.text) +
                             (op.kind == OpKind::Delay ? " (nowhere in the module)" : ""));
        const SourceLoc& def = m_.definingOp(id).textLoc;
        fail(r.name, "%" + clip(r.name.text) + " is defined later (at " + posString(def.line, def.col) +
                         "): only a delay may use a value defined later, so every cycle must pass through a delay");
    }
}

void Parser::parseOutputOp(const Token& keyword)
{
    contextIsOutput_ = true;
    Op op;
    op.kind = OpKind::Output;
    op.textLoc = loc(keyword);
    std::vector<TextPos> pos;
    // The operand list starts on the `output` line: an output without operands
    // (invalid, but printable) must not swallow the result name of the next op.
    if (lex_.peek().line == keyword.line)
        parseOperands(op, pos);
    if (lex_.peek().isPunct('{'))
        op.attrs = parseAttrDict();
    if (lex_.peek().isIdent("loc"))
        op.origin = parseLoc();
    m_.append(std::move(op), Type{});
    out_.operandPos.push_back(std::move(pos));
}

void Parser::parseOperands(Op& op, std::vector<TextPos>& pos)
{
    if (lex_.peek().kind != TokKind::ValueName)
        return;
    while (true) {
        const Token v = lex_.next();
        if (v.kind != TokKind::ValueName)
            failExpected(v, "value name after ','");
        const ValueId id = names_.find(v.text);
        // Resolved after the body: only a delay may use a value defined later.
        if (id == kNoValue)
            forwardRefs_.push_back({m_.ops().size(), op.operands.size(), v, contextName_, contextOp_,
                                    contextIsOutput_});
        op.operands.push_back(id);
        pos.push_back({v.line, v.col});
        if (!lex_.peek().isPunct(','))
            return;
        lex_.next();
    }
}

Attributes Parser::parseAttrDict(std::vector<Token>* valueTokens)
{
    expectPunct('{', "'{'");
    Attributes attrs;
    std::vector<std::pair<std::string, Token>> seen; // kept sorted like the map, for valueTokens
    if (lex_.peek().isPunct('}')) {
        lex_.next();
        return attrs;
    }
    while (true) {
        const Token key = lex_.next();
        if (key.kind != TokKind::Ident)
            failExpected(key, "attribute name");
        std::string keyText(key.text);
        if (attrs.has(keyText))
            fail(key, "duplicate attribute '" + clip(keyText) + "'");
        expectPunct('=', "'=' after attribute name '" + clip(keyText) + "'");
        if (valueTokens)
            seen.emplace_back(keyText, lex_.peek());
        attrs.set(keyText, parseAttrValue());
        const Token sep = lex_.next();
        if (sep.isPunct('}'))
            break;
        if (!sep.isPunct(','))
            failExpected(sep, "',' or '}' after the value of attribute '" + clip(keyText) + "'");
    }
    if (valueTokens) {
        std::sort(seen.begin(), seen.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (auto& s : seen)
            valueTokens->push_back(s.second);
    }
    return attrs;
}

AttrValue Parser::parseAttrValue()
{
    const Token t = lex_.next();
    switch (t.kind) {
    case TokKind::Int: return parseInt(t);
    case TokKind::Float: return parseDouble(t);
    case TokKind::String: return text::unescape(t.text);
    case TokKind::FloatListOpen: return parseList(true);
    case TokKind::Ident:
        if (t.text == "true" || t.text == "false")
            return t.text == "true";
        if (isFloatWord(t))
            return parseDouble(t);
        break;
    case TokKind::Punct:
        if (t.punct == '[')
            return parseList(false);
        break;
    default: break;
    }
    failExpected(t, "attribute value (number, true, false, \"string\", [list] or f[list])");
}

AttrValue Parser::parseList(bool forceFloat)
{
    std::vector<Token> elems;
    bool anyFloat = forceFloat;
    if (lex_.peek().isPunct(']')) {
        lex_.next();
        return forceFloat ? AttrValue(FloatList{}) : AttrValue(IntList{});
    }
    while (true) {
        const Token e = lex_.next();
        if (!isNumber(e))
            failExpected(e, "number in list");
        anyFloat = anyFloat || e.kind != TokKind::Int;
        elems.push_back(e);
        const Token sep = lex_.next();
        if (sep.isPunct(']'))
            break;
        if (!sep.isPunct(','))
            failExpected(sep, "',' or ']' in list");
    }
    if (anyFloat) {
        FloatList out;
        out.reserve(elems.size());
        for (const Token& e : elems)
            out.push_back(parseDouble(e));
        return out;
    }
    IntList out;
    out.reserve(elems.size());
    for (const Token& e : elems)
        out.push_back(parseInt(e));
    return out;
}

Type Parser::parseType()
{
    const Token e = lex_.next();
    if (e.kind != TokKind::Ident)
        failExpected(e, "a type like f32[1,28,28]");
    const auto elem = elemTypeFromString(e.text);
    if (!elem)
        fail(e, "unknown element type '" + clip(e.text) + "' (expected f32, i8, i16, i32, spike or graded)");
    expectPunct('[', "'[' after element type '" + std::string(e.text) + "'");
    Type type;
    type.elem = *elem;
    if (lex_.peek().isPunct(']')) {
        lex_.next();
        return type;
    }
    for (bool first = true;; first = false) {
        const Token d = lex_.next();
        if (d.isIdent("T")) {
            if (!first)
                fail(d, "'T' (the time dimension) must be the first dimension");
            type.time = TimeKind::PerStep;
        } else if (d.kind == TokKind::Int) {
            const int64_t v = parseInt(d);
            if (v < 0 || v > kMaxDimension)
                fail(d, "dimension " + clip(d.text) + " out of range (0.." + std::to_string(kMaxDimension) + ")");
            type.shape.push_back(v);
        } else {
            failExpected(d, first ? "dimension or 'T'" : "dimension");
        }
        const Token sep = lex_.next();
        if (sep.isPunct(']'))
            break;
        if (!sep.isPunct(','))
            failExpected(sep, "',' or ']' in type");
    }
    if (std::string why = checkTypeLimits(type); !why.empty())
        fail(e, why);
    return type;
}

std::string Parser::parseLoc()
{
    lex_.next(); // loc
    expectPunct('(', "'(' after 'loc'");
    const Token s = lex_.next();
    if (s.kind != TokKind::String)
        failExpected(s, "a string in loc(\"...\")");
    expectPunct(')', "')' closing loc(\"...\"");
    return text::unescape(s.text);
}

PendingPayload Parser::parsePayloadStart()
{
    PendingPayload p;
    p.start = lex_.next();
    if (p.start.kind == TokKind::Base64)
        return p;
    if (p.start.isPunct('<'))
        fail(p.start, "elided constant: this text was printed with elideConstants for reading and cannot be parsed "
                      "back; print the module without elision");
    if (!p.start.isPunct('['))
        failExpected(p.start, "constant payload: an inline list [...] or b64\"...\"");
    p.listLexer = lex_;
    if (lex_.peek().isPunct(']')) {
        lex_.next();
        return p;
    }
    while (true) {
        const Token e = lex_.next();
        if (!isNumber(e))
            failExpected(e, "number in constant list");
        ++p.count;
        const Token sep = lex_.next();
        if (sep.isPunct(']'))
            return p;
        if (!sep.isPunct(','))
            failExpected(sep, "',' or ']' in constant list");
    }
}

void Parser::decodeListElement(const Token& e, const Type& type, uint8_t* dst)
{
    if (type.elem == ElemType::F32) {
        float v = 0;
        if (e.text == "inf" || e.text == "-inf")
            v = e.text[0] == '-' ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
        else if (e.text == "nan")
            v = std::numeric_limits<float>::quiet_NaN();
        else if (auto r = std::from_chars(e.text.data(), e.text.data() + e.text.size(), v);
                 r.ec != std::errc() || r.ptr != e.text.data() + e.text.size())
            fail(e, "value " + clip(e.text) + " out of range for f32");
        std::memcpy(dst, &v, sizeof v);
        return;
    }
    if (e.kind != TokKind::Int)
        fail(e, "expected an integer element for a " + std::string(toString(type.elem)) + " constant, found " +
                    describe(e));
    const int64_t v = parseInt(e);
    int64_t lo = -128, hi = 127;
    switch (type.elem) {
    case ElemType::Spike: lo = 0, hi = 255; break;
    case ElemType::I16: lo = INT16_MIN, hi = INT16_MAX; break;
    case ElemType::I32: lo = INT32_MIN, hi = INT32_MAX; break;
    default: break;
    }
    if (v < lo || v > hi)
        fail(e, "value " + clip(e.text) + " out of range for " + std::string(toString(type.elem)) + " (" +
                    std::to_string(lo) + ".." + std::to_string(hi) + ")");
    const auto size = static_cast<size_t>(elemByteSize(type.elem));
    if (size == 1) {
        const auto b = static_cast<uint8_t>(v);
        std::memcpy(dst, &b, 1);
    } else if (size == 2) {
        const auto s = static_cast<int16_t>(v);
        std::memcpy(dst, &s, 2);
    } else {
        const auto w = static_cast<int32_t>(v);
        std::memcpy(dst, &w, 4);
    }
}

TensorPtr Parser::decodePayload(PendingPayload& p, const Type& type)
{
    const int64_t n = type.numElements();
    const int64_t elemSize = elemByteSize(type.elem);
    const std::string typeText = toString(type);
    if (!p.listLexer) {
        const auto size = text::base64DecodedSize(p.start.text);
        if (!size)
            fail(p.start, "base64 payload length " + std::to_string(p.start.text.size()) +
                              " is not a multiple of 4 (truncated or corrupted?)");
        if (static_cast<int64_t>(*size) != n * elemSize)
            fail(p.start, "constant payload has " + std::to_string(*size) + " bytes, type " + typeText + " needs " +
                              std::to_string(n * elemSize) + " (" + std::to_string(n) + " elements x " +
                              std::to_string(elemSize) + " bytes)");
        Tensor t(type.elem, type.shape);
        const size_t bad = text::decodeBase64(p.start.text, t.mutableBytes());
        if (bad != std::string_view::npos) {
            const int64_t col = int64_t(p.start.col) + 4 + int64_t(bad); // 4 = b64"
            const char c = p.start.text[bad];
            static const char* hex = "0123456789abcdef";
            const auto b = static_cast<uint8_t>(c);
            const std::string shown = b >= 0x20 && b < 0x7f ? std::string(1, c) : std::string("\\x") + hex[b >> 4] + hex[b & 15];
            fail(p.start.line, col > INT_MAX ? INT_MAX : int(col), "invalid base64 character '" + shown + "'");
        }
        return std::make_shared<const Tensor>(std::move(t));
    }
    if (p.count != n)
        fail(p.start, "constant list has " + std::to_string(p.count) + " elements, type " + typeText + " needs " +
                          std::to_string(n));
    Tensor t(type.elem, type.shape);
    uint8_t* dst = t.mutableBytes().data();
    Lexer& lx = *p.listLexer;
    for (int64_t i = 0; i < n; ++i, dst += elemSize) {
        decodeListElement(lx.next(), type, dst);
        lx.next(); // ',' or ']' (checked while skipping)
    }
    return std::make_shared<const Tensor>(std::move(t));
}

} // namespace

ParseResult parseModule(std::string_view text, const std::string& fileName, const CustomOpRegistry* customOps)
{
    ParseResult result;
    Parser parser(text, fileName, result, customOps);
    try {
        result.module = parser.run();
    } catch (const SyntaxError& e) {
        result.diagnostics.error({fileName, e.line, e.col}, parser.context(), e.message);
    } catch (const std::bad_alloc&) {
        result.diagnostics.error({fileName, 0, 0}, parser.context(), "out of memory while parsing");
    }
    if (!result.module)
        result.operandPos.clear();
    return result;
}

} // namespace stc::ir

#include "ir/lexer.h"

#include <array>
#include <climits>
#include <cstring>

namespace stc::ir::text {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hexValue(char c) { return isDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10; }

constexpr std::string_view kBase64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> makeBase64Table()
{
    std::array<int8_t, 256> t{};
    for (auto& v : t)
        v = -1;
    for (size_t i = 0; i < kBase64Alphabet.size(); ++i)
        t[static_cast<uint8_t>(kBase64Alphabet[i])] = static_cast<int8_t>(i);
    return t;
}
constexpr std::array<int8_t, 256> kBase64Table = makeBase64Table();

// Number of '=' padding characters at the end of a payload whose length is a multiple of 4.
size_t base64Padding(std::string_view b64)
{
    const size_t n = b64.size();
    if (n < 4 || b64[n - 1] != '=')
        return 0;
    return b64[n - 2] == '=' ? 2 : 1;
}

std::string clip(std::string_view s, size_t max = 40)
{
    return s.size() <= max ? std::string(s) : std::string(s.substr(0, max)) + "...";
}

} // namespace

bool isNameChar(char c) { return isAlpha(c) || isDigit(c) || c == '_' || c == '.' || c == '$'; }
bool isIdentStart(char c) { return isAlpha(c) || c == '_'; }
bool isIdentChar(char c) { return isAlpha(c) || isDigit(c) || c == '_' || c == '.'; }

bool isValidName(std::string_view s)
{
    if (s.empty())
        return false;
    for (char c : s)
        if (!isNameChar(c))
            return false;
    return true;
}

bool isValidIdent(std::string_view s)
{
    if (s.empty() || !isIdentStart(s[0]))
        return false;
    for (char c : s)
        if (!isIdentChar(c))
            return false;
    return true;
}

std::string describe(const Token& t)
{
    // Appends instead of `"'" + std::string(...)`: GCC 12 -O3 warns falsely (-Wrestrict) on the latter.
    auto wrap = [&](const char* before, const char* after) {
        std::string out = before;
        out += clip(t.text);
        out += after;
        return out;
    };
    switch (t.kind) {
    case TokKind::Eof: return "end of file";
    case TokKind::Ident:
    case TokKind::Int:
    case TokKind::Float: return wrap("'", "'");
    case TokKind::ValueName: return wrap("%", "");
    case TokKind::ModuleName: return wrap("@", "");
    case TokKind::QuotedModName: return wrap("@\"", "\"");
    case TokKind::String: return wrap("string \"", "\"");
    case TokKind::Base64: return "base64 payload";
    case TokKind::FloatListOpen: return "'f['";
    case TokKind::Punct: return {'\'', t.punct, '\''};
    }
    return "?";
}

Lexer::Lexer(std::string_view src) : src_(src)
{
    if (src_.substr(0, 3) == "\xEF\xBB\xBF") // UTF-8 byte order mark
        pos_ = lineStart_ = 3;
}

const Token& Lexer::peek()
{
    if (!peeked_)
        peeked_ = lex();
    return *peeked_;
}

Token Lexer::next()
{
    if (peeked_) {
        Token t = *peeked_;
        peeked_.reset();
        return t;
    }
    return lex();
}

int Lexer::colAt(size_t offset) const
{
    const size_t col = offset - lineStart_ + 1;
    return col > size_t(INT_MAX) ? INT_MAX : static_cast<int>(col);
}

void Lexer::fail(size_t offset, std::string message) const { throw SyntaxError{line_, colAt(offset), std::move(message)}; }

Token Lexer::make(TokKind kind, size_t begin, size_t end, int col) const
{
    Token t;
    t.kind = kind;
    t.text = src_.substr(begin, end - begin);
    t.line = line_;
    t.col = col;
    return t;
}

void Lexer::skipSpaceAndComments()
{
    while (pos_ < src_.size()) {
        const char c = src_[pos_];
        if (c == ' ' || c == '\t' || c == '\r') {
            ++pos_;
        } else if (c == '\n') {
            ++pos_;
            ++line_;
            lineStart_ = pos_;
        } else if (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '/') {
            const void* nl = std::memchr(src_.data() + pos_, '\n', src_.size() - pos_);
            pos_ = nl ? static_cast<size_t>(static_cast<const char*>(nl) - src_.data()) : src_.size();
        } else {
            return;
        }
    }
}

Token Lexer::lex()
{
    skipSpaceAndComments();
    const size_t begin = pos_;
    const int col = colAt(begin);
    if (pos_ >= src_.size())
        return make(TokKind::Eof, begin, begin, col);
    const char c = src_[pos_];
    auto at = [&](size_t i) { return i < src_.size() ? src_[i] : '\0'; };

    if (c == '%' || c == '@') {
        if (c == '@' && at(pos_ + 1) == '"')
            return lexQuoted(TokKind::QuotedModName, pos_ + 1, col);
        size_t p = pos_ + 1;
        while (p < src_.size() && isNameChar(src_[p]))
            ++p;
        if (p == pos_ + 1)
            fail(begin, std::string("expected a name after '") + c + "' ([A-Za-z0-9_.$]+)");
        pos_ = p;
        return make(c == '%' ? TokKind::ValueName : TokKind::ModuleName, begin + 1, p, col);
    }
    if (c == '"')
        return lexQuoted(TokKind::String, pos_, col);
    if (isDigit(c) || (c == '-' && (isDigit(at(pos_ + 1)) || src_.substr(pos_ + 1, 3) == "inf")))
        return lexNumber(begin);
    if (isIdentStart(c)) {
        size_t p = pos_ + 1;
        while (p < src_.size() && isIdentChar(src_[p]))
            ++p;
        const std::string_view word = src_.substr(begin, p - begin);
        if (word == "b64" && at(p) == '"')
            return lexQuoted(TokKind::Base64, p, col);
        if (word == "f" && at(p) == '[') {
            pos_ = p + 1;
            return make(TokKind::FloatListOpen, begin, pos_, col);
        }
        pos_ = p;
        return make(TokKind::Ident, begin, p, col);
    }
    if (c != '\0' && std::strchr("=,:{}[]()<", c)) {
        ++pos_;
        Token t = make(TokKind::Punct, begin, pos_, col);
        t.punct = c;
        return t;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f)
        fail(begin, std::string("unexpected character '") + c + "'");
    static const char* hex = "0123456789abcdef";
    fail(begin, std::string("unexpected byte 0x") + hex[byte >> 4] + hex[byte & 15] +
                    " (a .sir file is text; is this a binary file?)");
}

Token Lexer::lexNumber(size_t begin)
{
    const int col = colAt(begin);
    size_t p = begin;
    auto at = [&](size_t i) { return i < src_.size() ? src_[i] : '\0'; };
    if (at(p) == '-')
        ++p;
    if (src_.substr(p, 3) == "inf" && !isIdentChar(at(p + 3))) {
        pos_ = p + 3;
        return make(TokKind::Float, begin, pos_, col);
    }
    bool isFloat = false;
    while (isDigit(at(p)))
        ++p;
    if (at(p) == '.') {
        ++p;
        if (!isDigit(at(p)))
            fail(p, "malformed number: expected digits after '.'");
        while (isDigit(at(p)))
            ++p;
        isFloat = true;
    }
    if (at(p) == 'e' || at(p) == 'E') {
        size_t q = p + 1;
        if (at(q) == '+' || at(q) == '-')
            ++q;
        if (!isDigit(at(q)))
            fail(q, "malformed number: expected exponent digits");
        p = q;
        while (isDigit(at(p)))
            ++p;
        isFloat = true;
    }
    if (isIdentChar(at(p)) || at(p) == '$')
        fail(begin, "malformed number '" + clip(src_.substr(begin, p + 1 - begin)) + "'");
    pos_ = p;
    return make(isFloat ? TokKind::Float : TokKind::Int, begin, p, col);
}

Token Lexer::lexQuoted(TokKind kind, size_t quotePos, int col)
{
    const size_t bodyBegin = quotePos + 1;
    size_t p = bodyBegin;
    if (kind == TokKind::Base64) {
        // Payloads can be tens of megabytes: find the quote with memchr.
        const void* q = std::memchr(src_.data() + p, '"', src_.size() - p);
        const size_t end = q ? static_cast<size_t>(static_cast<const char*>(q) - src_.data()) : src_.size();
        const void* nl = std::memchr(src_.data() + p, '\n', end - p);
        if (!q || nl)
            fail(quotePos - 3, "unterminated base64 payload: missing closing '\"' on this line");
        pos_ = end + 1;
        return make(kind, bodyBegin, end, col);
    }
    while (true) {
        if (p >= src_.size() || src_[p] == '\n')
            fail(quotePos, "unterminated string: missing closing '\"' on this line");
        const char c = src_[p];
        if (c == '"')
            break;
        if (c == '\\') {
            const char e = p + 1 < src_.size() ? src_[p + 1] : '\0';
            if (e == '"' || e == '\\' || e == 'n' || e == 't' || e == 'r') {
                p += 2;
                continue;
            }
            if (e == 'x' && p + 3 < src_.size() && isHex(src_[p + 2]) && isHex(src_[p + 3])) {
                p += 4;
                continue;
            }
            fail(p, "unknown escape in string (expected \\\" \\\\ \\n \\t \\r or \\xHH)");
        }
        ++p;
    }
    pos_ = p + 1;
    return make(kind, bodyBegin, p, col);
}

std::string unescape(std::string_view raw)
{
    std::string out;
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\\' || i + 1 >= raw.size()) {
            out += raw[i];
            continue;
        }
        const char e = raw[++i];
        switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'x':
            if (i + 2 < raw.size() && isHex(raw[i + 1]) && isHex(raw[i + 2])) {
                out += static_cast<char>(hexValue(raw[i + 1]) * 16 + hexValue(raw[i + 2]));
                i += 2;
            }
            break;
        default: out += e; break; // \" and \\ .
        }
    }
    return out;
}

void appendQuoted(std::string& out, std::string_view s)
{
    static const char* hex = "0123456789abcdef";
    out += '"';
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                out += "\\x";
                out += hex[static_cast<unsigned char>(c) >> 4];
                out += hex[c & 15];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

void appendBase64(std::string& out, std::span<const uint8_t> in)
{
    const size_t n = in.size();
    const size_t start = out.size();
    out.resize(start + (n + 2) / 3 * 4);
    char* o = out.data() + start;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        const uint32_t v = uint32_t(in[i]) << 16 | uint32_t(in[i + 1]) << 8 | in[i + 2];
        *o++ = kBase64Alphabet[v >> 18];
        *o++ = kBase64Alphabet[(v >> 12) & 63];
        *o++ = kBase64Alphabet[(v >> 6) & 63];
        *o++ = kBase64Alphabet[v & 63];
    }
    if (i < n) {
        const uint32_t v = uint32_t(in[i]) << 16 | (i + 1 < n ? uint32_t(in[i + 1]) << 8 : 0);
        *o++ = kBase64Alphabet[v >> 18];
        *o++ = kBase64Alphabet[(v >> 12) & 63];
        *o++ = i + 1 < n ? kBase64Alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
}

std::optional<size_t> base64DecodedSize(std::string_view b64)
{
    const size_t n = b64.size();
    if (n % 4)
        return std::nullopt;
    return n / 4 * 3 - base64Padding(b64);
}

size_t decodeBase64(std::string_view b64, std::span<uint8_t> out)
{
    const size_t n = b64.size();
    const size_t pad = base64Padding(b64);
    const size_t fullQuads = pad ? n / 4 - 1 : n / 4;
    auto badIndex = [&](size_t i, size_t count) {
        for (size_t k = i; k < i + count; ++k)
            if (kBase64Table[static_cast<uint8_t>(b64[k])] < 0)
                return k;
        return std::string_view::npos;
    };
    const auto* s = reinterpret_cast<const uint8_t*>(b64.data());
    uint8_t* o = out.data();
    for (size_t q = 0; q < fullQuads; ++q, s += 4) {
        const int a = kBase64Table[s[0]], b = kBase64Table[s[1]], c = kBase64Table[s[2]], d = kBase64Table[s[3]];
        if ((a | b | c | d) < 0)
            return badIndex(q * 4, 4);
        const uint32_t v = uint32_t(a) << 18 | uint32_t(b) << 12 | uint32_t(c) << 6 | uint32_t(d);
        *o++ = uint8_t(v >> 16);
        *o++ = uint8_t(v >> 8);
        *o++ = uint8_t(v);
    }
    if (pad) {
        const size_t i = fullQuads * 4;
        const size_t dataChars = 4 - pad;
        if (size_t bad = badIndex(i, dataChars); bad != std::string_view::npos)
            return bad;
        uint32_t v = 0;
        for (size_t k = 0; k < dataChars; ++k)
            v |= uint32_t(kBase64Table[s[k]]) << (18 - 6 * k);
        *o++ = uint8_t(v >> 16);
        if (pad == 1)
            *o++ = uint8_t(v >> 8);
    }
    return std::string_view::npos;
}

} // namespace stc::ir::text

// Lexical rules of the Spike IR text format (docs/spike-ir.md) and the
// tokenizer the parser reads from. Tokens are views into the source text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace stc::ir::text {

// Value and module names: [A-Za-z0-9_.$]+ (dots come from module paths).
bool isNameChar(char c);
bool isValidName(std::string_view s);
// Identifiers (op names, attribute keys, element types): [A-Za-z_][A-Za-z0-9_.]*
bool isIdentStart(char c);
bool isIdentChar(char c);
bool isValidIdent(std::string_view s);

enum class TokKind : uint8_t {
    Eof,
    Ident,         // module, conv2d, f32, T, true, inf, loc, ...
    ValueName,     // %name        (text = name without '%')
    ModuleName,    // @name        (text = name without '@')
    QuotedModName, // @"name"      (text = raw string body, escapes not decoded)
    Int,           // -12
    Float,         // 1.5, -2e-07, -inf
    String,        // "..."        (text = raw body, escapes not decoded)
    Base64,        // b64"..."     (text = body)
    FloatListOpen, // f[
    Punct,         // = , : { } [ ] ( ) <
};

struct Token {
    TokKind kind = TokKind::Eof;
    char punct = 0; // for Punct
    std::string_view text;
    int line = 0;
    int col = 0;
    bool isPunct(char c) const { return kind == TokKind::Punct && punct == c; }
    bool isIdent(std::string_view s) const { return kind == TokKind::Ident && text == s; }
};

// How a token is named in an error message: "':'", "'conv3d'", "%foo", "end of file".
std::string describe(const Token& t);

// Thrown by the lexer and the parser; the parser turns it into a diagnostic.
struct SyntaxError {
    int line;
    int col;
    std::string message;
};

class Lexer {
public:
    explicit Lexer(std::string_view src);

    const Token& peek();
    Token next();

private:
    Token lex();
    void skipSpaceAndComments();
    int colAt(size_t offset) const;
    Token make(TokKind kind, size_t begin, size_t end, int col) const;
    Token lexNumber(size_t begin);
    Token lexQuoted(TokKind kind, size_t quotePos, int col); // quotePos = index of the opening '"'
    [[noreturn]] void fail(size_t offset, std::string message) const;

    std::string_view src_;
    size_t pos_ = 0;
    int line_ = 1;
    size_t lineStart_ = 0;
    std::optional<Token> peeked_;
};

// Decodes a string body validated by the lexer (escapes \" \\ \n \t \r \xHH).
std::string unescape(std::string_view raw);
// Appends `s` as a quoted string literal with escapes.
void appendQuoted(std::string& out, std::string_view s);

// Standard base64 (RFC 4648, with '=' padding).
void appendBase64(std::string& out, std::span<const uint8_t> bytes);
// Decoded byte count of a well-formed payload, or nullopt if the length is
// not a multiple of 4.
std::optional<size_t> base64DecodedSize(std::string_view b64);
// Decodes into `out` (exactly base64DecodedSize bytes). On a bad character
// returns its index in `b64`; npos on success.
size_t decodeBase64(std::string_view b64, std::span<uint8_t> out);

} // namespace stc::ir::text

// Located diagnostics shared by every stage (parser, verifier, importer,
// passes, mapping). A diagnostic says where (file:line:col and/or the op or
// module path), what was found and what was expected.
#pragma once

#include <string>
#include <vector>

namespace stc {

enum class Severity { Note, Warning, Error };

struct SourceLoc {
    std::string file; // empty when the input was not a file
    int line = 0;     // 1-based; 0 = unknown
    int col = 0;      // 1-based; 0 = unknown
    bool known() const { return line > 0; }
};

struct Diagnostic {
    Severity severity = Severity::Error;
    SourceLoc loc;
    std::string op;      // op kind or value name the diagnostic is about, e.g. "%3 = conv2d"
    std::string origin;  // model-level location, e.g. module path "blocks.0.attn.q_lif"
    std::string message; // what was found and what was expected

    std::string format() const; // "file:3:7: error: [conv2d %3] message (at blocks.0.attn)"
};

class Diagnostics {
public:
    void add(Diagnostic d) { items_.push_back(std::move(d)); }
    void error(SourceLoc loc, std::string op, std::string message, std::string origin = {});
    void warning(SourceLoc loc, std::string op, std::string message, std::string origin = {});

    bool hasErrors() const;
    size_t errorCount() const;
    const std::vector<Diagnostic>& items() const { return items_; }
    bool empty() const { return items_.empty(); }
    void append(const Diagnostics& other);
    std::string format() const; // one line per diagnostic

private:
    std::vector<Diagnostic> items_;
};

} // namespace stc

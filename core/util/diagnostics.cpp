#include "util/diagnostics.h"

#include <algorithm>

namespace stc {

std::string Diagnostic::format() const
{
    std::string out;
    if (!loc.file.empty() || loc.known()) {
        out += loc.file.empty() ? "<input>" : loc.file;
        if (loc.known()) {
            out += ':' + std::to_string(loc.line);
            if (loc.col > 0)
                out += ':' + std::to_string(loc.col);
        }
        out += ": ";
    }
    switch (severity) {
    case Severity::Note: out += "note: "; break;
    case Severity::Warning: out += "warning: "; break;
    case Severity::Error: out += "error: "; break;
    }
    if (!op.empty())
        out += '[' + op + "] ";
    out += message;
    if (!origin.empty())
        out += " (at " + origin + ')';
    return out;
}

void Diagnostics::error(SourceLoc loc, std::string op, std::string message, std::string origin)
{
    items_.push_back({Severity::Error, std::move(loc), std::move(op), std::move(origin), std::move(message)});
}

void Diagnostics::warning(SourceLoc loc, std::string op, std::string message, std::string origin)
{
    items_.push_back({Severity::Warning, std::move(loc), std::move(op), std::move(origin), std::move(message)});
}

bool Diagnostics::hasErrors() const { return errorCount() > 0; }

size_t Diagnostics::errorCount() const
{
    return static_cast<size_t>(std::count_if(items_.begin(), items_.end(),
                                             [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

void Diagnostics::append(const Diagnostics& other)
{
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

std::string Diagnostics::format() const
{
    std::string out;
    for (const auto& d : items_)
        out += d.format() + '\n';
    return out;
}

} // namespace stc

#include "passes/options.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace stc::passes {

const char* toString(OptionType t)
{
    switch (t) {
    case OptionType::Int: return "int";
    case OptionType::Float: return "float";
    case OptionType::Bool: return "bool";
    case OptionType::String: return "string";
    case OptionType::Enum: return "enum";
    }
    return "?";
}

OptionSpec OptionSpec::integer(std::string name, int64_t def, std::optional<double> min, std::optional<double> max,
                               std::string doc)
{
    return {std::move(name), OptionType::Int, def, min, max, {}, std::move(doc)};
}

OptionSpec OptionSpec::real(std::string name, double def, std::optional<double> min, std::optional<double> max,
                            std::string doc)
{
    return {std::move(name), OptionType::Float, def, min, max, {}, std::move(doc)};
}

OptionSpec OptionSpec::boolean(std::string name, bool def, std::string doc)
{
    return {std::move(name), OptionType::Bool, def, {}, {}, {}, std::move(doc)};
}

OptionSpec OptionSpec::string(std::string name, std::string def, std::string doc)
{
    return {std::move(name), OptionType::String, std::move(def), {}, {}, {}, std::move(doc)};
}

OptionSpec OptionSpec::enumeration(std::string name, std::string def, std::vector<std::string> choices,
                                   std::string doc)
{
    return {std::move(name), OptionType::Enum, std::move(def), {}, {}, std::move(choices), std::move(doc)};
}

namespace {

bool needsQuotes(const std::string& s)
{
    if (s.empty())
        return true;
    for (char c : s)
        if (c == ' ' || c == '\t' || c == ',' || c == '{' || c == '}' || c == '=' || c == '"' || c == '\\' ||
            c == '\n')
            return true;
    return false;
}

std::string formatDouble(double d)
{
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    std::string s(buf, r.ptr);
    // Keep a float recognisable as one ("1.0", not "1"); both parse back the same.
    if (s.find_first_of(".eEn") == std::string::npos)
        s += ".0";
    return s;
}

std::string formatRange(const OptionSpec& spec)
{
    auto num = [&](double d) {
        return spec.type == OptionType::Int ? std::to_string(static_cast<int64_t>(d)) : formatDouble(d);
    };
    if (spec.min && spec.max)
        return "[" + num(*spec.min) + ", " + num(*spec.max) + "]";
    if (spec.min)
        return ">= " + num(*spec.min);
    return "<= " + num(*spec.max);
}

} // namespace

std::string formatOptionValue(const OptionValue& v)
{
    if (auto i = std::get_if<int64_t>(&v))
        return std::to_string(*i);
    if (auto d = std::get_if<double>(&v))
        return formatDouble(*d);
    if (auto b = std::get_if<bool>(&v))
        return *b ? "true" : "false";
    const std::string& s = std::get<std::string>(v);
    if (!needsQuotes(s))
        return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + '"';
}

std::string checkOptionValue(const OptionSpec& spec, const OptionValue& v)
{
    double num = 0.0;
    switch (spec.type) {
    case OptionType::Int:
        if (!std::holds_alternative<int64_t>(v))
            return "expected an integer";
        num = static_cast<double>(std::get<int64_t>(v));
        break;
    case OptionType::Float:
        if (auto i = std::get_if<int64_t>(&v))
            num = static_cast<double>(*i);
        else if (auto d = std::get_if<double>(&v))
            num = *d;
        else
            return "expected a number";
        if (!std::isfinite(num))
            return "expected a finite number";
        break;
    case OptionType::Bool: return std::holds_alternative<bool>(v) ? "" : "expected true or false";
    case OptionType::String: return std::holds_alternative<std::string>(v) ? "" : "expected a string";
    case OptionType::Enum: {
        const auto* s = std::get_if<std::string>(&v);
        if (s && std::find(spec.choices.begin(), spec.choices.end(), *s) != spec.choices.end())
            return {};
        std::string list;
        for (const auto& c : spec.choices)
            list += (list.empty() ? "" : "|") + c;
        return "expected one of " + list + (s ? ", got '" + *s + "'" : "");
    }
    }
    if ((spec.min && num < *spec.min) || (spec.max && num > *spec.max))
        return "value " + formatOptionValue(v) + " out of range " + formatRange(spec);
    return {};
}

std::optional<OptionValue> parseOptionValue(const OptionSpec& spec, std::string_view text, std::string* error)
{
    auto fail = [&](std::string msg) -> std::optional<OptionValue> {
        if (error)
            *error = std::move(msg);
        return std::nullopt;
    };
    OptionValue v;
    switch (spec.type) {
    case OptionType::Int: {
        int64_t i = 0;
        auto r = std::from_chars(text.data(), text.data() + text.size(), i);
        if (r.ec != std::errc() || r.ptr != text.data() + text.size())
            return fail("expected an integer, got '" + std::string(text) + "'");
        v = i;
        break;
    }
    case OptionType::Float: {
        double d = 0.0;
        auto r = std::from_chars(text.data(), text.data() + text.size(), d);
        if (r.ec != std::errc() || r.ptr != text.data() + text.size())
            return fail("expected a number, got '" + std::string(text) + "'");
        v = d;
        break;
    }
    case OptionType::Bool:
        if (text == "true" || text == "1")
            v = true;
        else if (text == "false" || text == "0")
            v = false;
        else
            return fail("expected true or false, got '" + std::string(text) + "'");
        break;
    case OptionType::String:
    case OptionType::Enum: v = std::string(text); break;
    }
    if (auto msg = checkOptionValue(spec, v); !msg.empty())
        return fail(msg);
    return v;
}

Options::Options(const std::vector<OptionSpec>& specs, const OptionMap& explicitValues)
{
    for (const auto& s : specs)
        values_[s.name] = s.defaultValue;
    for (const auto& [k, v] : explicitValues) {
        values_[k] = v;
        explicit_[k] = true;
    }
}

const OptionValue& Options::get(const std::string& name) const
{
    auto it = values_.find(name);
    if (it == values_.end())
        throw std::logic_error("pass reads undeclared option '" + name + "'");
    return it->second;
}

int64_t Options::getInt(const std::string& name) const
{
    const auto& v = get(name);
    if (auto i = std::get_if<int64_t>(&v))
        return *i;
    throw std::logic_error("option '" + name + "' is not an integer");
}

double Options::getFloat(const std::string& name) const
{
    const auto& v = get(name);
    if (auto d = std::get_if<double>(&v))
        return *d;
    if (auto i = std::get_if<int64_t>(&v))
        return static_cast<double>(*i);
    throw std::logic_error("option '" + name + "' is not a number");
}

bool Options::getBool(const std::string& name) const
{
    const auto& v = get(name);
    if (auto b = std::get_if<bool>(&v))
        return *b;
    throw std::logic_error("option '" + name + "' is not a bool");
}

std::string Options::getString(const std::string& name) const
{
    const auto& v = get(name);
    if (auto s = std::get_if<std::string>(&v))
        return *s;
    throw std::logic_error("option '" + name + "' is not a string");
}

size_t editDistance(std::string_view a, std::string_view b)
{
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates)
{
    std::string best;
    size_t bestDist = std::max<size_t>(2, word.size() / 2) + 1;
    for (const auto& c : candidates) {
        const size_t d = editDistance(word, c);
        if (d < bestDist) {
            bestDist = d;
            best = c;
        }
    }
    return best;
}

} // namespace stc::passes

// Typed pass options: the schema a pass declares (OptionSpec) and the values a
// pipeline entry sets. The IDE's options editor is generated from the specs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace stc::passes {

enum class OptionType : uint8_t { Int, Float, Bool, String, Enum };
const char* toString(OptionType t);

// Enum values are stored as their string.
using OptionValue = std::variant<int64_t, double, bool, std::string>;

struct OptionSpec {
    std::string name;          // e.g. "per-channel"
    OptionType type = OptionType::Int;
    OptionValue defaultValue;  // of the matching alternative
    std::optional<double> min; // Int/Float only, inclusive
    std::optional<double> max;
    std::vector<std::string> choices; // Enum only
    std::string doc;

    static OptionSpec integer(std::string name, int64_t def, std::optional<double> min, std::optional<double> max,
                              std::string doc);
    static OptionSpec real(std::string name, double def, std::optional<double> min, std::optional<double> max,
                           std::string doc);
    static OptionSpec boolean(std::string name, bool def, std::string doc);
    static OptionSpec string(std::string name, std::string def, std::string doc);
    static OptionSpec enumeration(std::string name, std::string def, std::vector<std::string> choices,
                                  std::string doc);
};

// Option values of one pipeline entry: only the options set explicitly.
using OptionMap = std::map<std::string, OptionValue>;

// Text form of a value as it appears in a pipeline: shortest round-trip
// floats, true/false, strings quoted only when they need it.
std::string formatOptionValue(const OptionValue& v);

// Parses `text` as a value of `spec`'s type and checks range/choices. On
// failure returns nullopt and a message saying what was expected.
std::optional<OptionValue> parseOptionValue(const OptionSpec& spec, std::string_view text, std::string* error);
// Range/choice check of an already typed value (empty string = fine).
std::string checkOptionValue(const OptionSpec& spec, const OptionValue& v);

// Effective values for a pass: the entry's explicit values over the defaults.
class Options {
public:
    Options() = default;
    Options(const std::vector<OptionSpec>& specs, const OptionMap& explicitValues);

    int64_t getInt(const std::string& name) const;
    double getFloat(const std::string& name) const; // an Int option reads as double too
    bool getBool(const std::string& name) const;
    std::string getString(const std::string& name) const; // String and Enum options
    bool isExplicit(const std::string& name) const { return explicit_.count(name) != 0; }

private:
    const OptionValue& get(const std::string& name) const;
    std::map<std::string, OptionValue> values_;
    std::map<std::string, bool> explicit_;
};

// Edit distance, for "did you mean" suggestions.
size_t editDistance(std::string_view a, std::string_view b);
// The closest candidate within a plausible distance, or empty.
std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates);

} // namespace stc::passes

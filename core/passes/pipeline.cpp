#include "passes/pipeline.h"

#include "ir/module.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace stc::passes {

Pipeline& Pipeline::add(std::string pass, OptionMap options, bool enabled)
{
    entries.push_back({std::move(pass), std::move(options), enabled, 0});
    return *this;
}

namespace {

std::string printEntry(const PipelineEntry& e, const PassInfo* info)
{
    std::string out = (e.enabled ? "" : "-") + e.pass;
    if (e.options.empty())
        return out;
    std::vector<std::string> order;
    if (info)
        for (const auto& spec : info->options)
            if (e.options.count(spec.name))
                order.push_back(spec.name);
    for (const auto& [k, v] : e.options) // unknown to the spec: after, by name
        if (std::find(order.begin(), order.end(), k) == order.end())
            order.push_back(k);
    out += '{';
    for (size_t i = 0; i < order.size(); ++i)
        out += (i ? " " : "") + order[i] + "=" + formatOptionValue(e.options.at(order[i]));
    return out + '}';
}

std::string printAll(const Pipeline& p, const PassRegistry* registry)
{
    std::string out;
    for (size_t i = 0; i < p.entries.size(); ++i) {
        const PassDef* def = registry ? registry->find(p.entries[i].pass) : nullptr;
        out += (i ? "," : "") + printEntry(p.entries[i], def ? &def->info : nullptr);
    }
    return out;
}

bool isNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; }

class Parser {
public:
    Parser(std::string_view text, const PassRegistry& reg, Diagnostics& diags) : s_(text), reg_(reg), diags_(diags) {}

    std::optional<Pipeline> run()
    {
        Pipeline p;
        skipSpace();
        if (pos_ >= s_.size())
            return p;
        while (true) {
            PipelineEntry e;
            if (!parseEntry(e))
                return std::nullopt;
            p.entries.push_back(std::move(e));
            skipSpace();
            if (pos_ >= s_.size())
                break;
            if (s_[pos_] == '}')
                return syntax("unbalanced '}': no matching '{'");
            if (s_[pos_] != ',')
                return syntax(std::string("expected ',' between passes, got '") + s_[pos_] + "'");
            ++pos_;
            skipSpace();
            if (pos_ >= s_.size())
                return syntax("expected a pass name after ','");
        }
        if (semanticErrors_)
            return std::nullopt;
        return p;
    }

private:
    void skipSpace()
    {
        while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
            ++pos_;
    }
    int col(size_t at) const { return static_cast<int>(at) + 1; }
    void error(size_t at, const std::string& op, std::string msg)
    {
        diags_.add({Severity::Error, {{}, 1, col(at)}, op, {}, std::move(msg)});
    }
    std::nullopt_t syntax(std::string msg)
    {
        error(pos_, {}, std::move(msg));
        return std::nullopt;
    }
    std::string readName()
    {
        const size_t start = pos_;
        while (pos_ < s_.size() && isNameChar(s_[pos_]))
            ++pos_;
        return std::string(s_.substr(start, pos_ - start));
    }

    bool parseEntry(PipelineEntry& e)
    {
        if (s_[pos_] == '-') {
            e.enabled = false;
            ++pos_;
        }
        const size_t nameAt = pos_;
        e.column = col(nameAt);
        e.pass = readName();
        if (e.pass.empty()) {
            if (pos_ < s_.size() && s_[pos_] == '{')
                syntax("expected a pass name before '{'");
            else if (pos_ < s_.size() && s_[pos_] == '}')
                syntax("unbalanced '}': no matching '{'");
            else
                syntax(pos_ < s_.size() ? std::string("expected a pass name, got '") + s_[pos_] + "'"
                                        : "expected a pass name");
            return false;
        }
        const PassDef* def = reg_.find(e.pass);
        if (!def) {
            std::string msg = "unknown pass '" + e.pass + "'";
            if (auto best = closestMatch(e.pass, reg_.passNames()); !best.empty())
                msg += "; did you mean '" + best + "'?";
            error(nameAt, e.pass, msg);
            ++semanticErrors_;
        }
        skipSpace();
        if (pos_ >= s_.size() || s_[pos_] != '{')
            return true;
        const size_t open = pos_++;
        while (true) {
            skipSpace();
            if (pos_ >= s_.size()) {
                error(open, e.pass, "unbalanced '{': missing '}'");
                return false;
            }
            if (s_[pos_] == '}') {
                ++pos_;
                return true;
            }
            if (s_[pos_] == ',') { // options may also be separated by commas
                ++pos_;
                continue;
            }
            if (s_[pos_] == '{') {
                syntax("unexpected '{' inside options");
                return false;
            }
            const size_t optAt = pos_;
            std::string opt = readName();
            if (opt.empty()) {
                syntax(std::string("expected an option name, got '") + s_[pos_] + "'");
                return false;
            }
            skipSpace();
            if (pos_ >= s_.size() || s_[pos_] != '=') {
                syntax("expected '=' after option '" + opt + "'");
                return false;
            }
            ++pos_;
            skipSpace();
            const size_t valueAt = pos_;
            std::string value;
            if (!readValue(value))
                return false;
            if (!def)
                continue;
            const OptionSpec* spec = def->info.option(opt);
            if (!spec) {
                std::vector<std::string> names;
                for (const auto& o : def->info.options)
                    names.push_back(o.name);
                std::string msg = "unknown option '" + opt + "' for pass '" + e.pass + "'";
                if (auto best = closestMatch(opt, names); !best.empty())
                    msg += "; did you mean '" + best + "'?";
                else if (!names.empty()) {
                    std::string list;
                    for (const auto& n : names)
                        list += (list.empty() ? "" : ", ") + n;
                    msg += " (options: " + list + ")";
                } else
                    msg += " (it has no options)";
                error(optAt, e.pass, msg);
                ++semanticErrors_;
                continue;
            }
            if (e.options.count(opt)) {
                error(optAt, e.pass, "option '" + opt + "' given twice");
                ++semanticErrors_;
                continue;
            }
            std::string why;
            auto v = parseOptionValue(*spec, value, &why);
            if (!v) {
                error(valueAt, e.pass, "bad value for option '" + opt + "' of pass '" + e.pass + "': " + why);
                ++semanticErrors_;
                continue;
            }
            e.options[opt] = std::move(*v);
        }
    }

    bool readValue(std::string& out)
    {
        if (pos_ < s_.size() && s_[pos_] == '"') {
            const size_t open = pos_++;
            while (pos_ < s_.size() && s_[pos_] != '"') {
                if (s_[pos_] == '\\' && pos_ + 1 < s_.size())
                    ++pos_;
                out += s_[pos_++];
            }
            if (pos_ >= s_.size()) {
                error(open, {}, "unterminated string");
                return false;
            }
            ++pos_;
            return true;
        }
        const size_t start = pos_;
        while (pos_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[pos_])) && s_[pos_] != ',' &&
               s_[pos_] != '{' && s_[pos_] != '}' && s_[pos_] != '"')
            ++pos_;
        if (pos_ == start) {
            syntax("expected a value");
            return false;
        }
        out = std::string(s_.substr(start, pos_ - start));
        return true;
    }

    std::string_view s_;
    const PassRegistry& reg_;
    Diagnostics& diags_;
    size_t pos_ = 0;
    int semanticErrors_ = 0;
};

std::string joinOr(const std::vector<std::string>& names)
{
    std::string out;
    for (size_t i = 0; i < names.size(); ++i)
        out += (i == 0 ? "" : (i + 1 == names.size() ? " or " : ", ")) + names[i];
    return out;
}

} // namespace

std::string Pipeline::print() const { return printAll(*this, nullptr); }
std::string Pipeline::print(const PassRegistry& registry) const { return printAll(*this, &registry); }

std::optional<Pipeline> parsePipeline(std::string_view text, const PassRegistry& registry, Diagnostics& diags)
{
    return Parser(text, registry, diags).run();
}

bool validateEntries(const Pipeline& p, const PassRegistry& registry, Diagnostics& diags)
{
    bool ok = true;
    for (size_t i = 0; i < p.entries.size(); ++i) {
        const auto& e = p.entries[i];
        const SourceLoc loc{{}, e.column > 0 ? 1 : 0, e.column};
        const PassDef* def = registry.find(e.pass);
        if (!def) {
            std::string msg = "unknown pass '" + e.pass + "'";
            if (auto best = closestMatch(e.pass, registry.passNames()); !best.empty())
                msg += "; did you mean '" + best + "'?";
            diags.add({Severity::Error, loc, e.pass, {}, msg});
            ok = false;
            continue;
        }
        for (const auto& [name, value] : e.options) {
            const OptionSpec* spec = def->info.option(name);
            if (!spec) {
                diags.add({Severity::Error, loc, e.pass, {}, "unknown option '" + name + "' for pass '" + e.pass + "'"});
                ok = false;
            } else if (auto why = checkOptionValue(*spec, value); !why.empty()) {
                diags.add({Severity::Error, loc, e.pass, {},
                           "bad value for option '" + name + "' of pass '" + e.pass + "': " + why});
                ok = false;
            }
        }
    }
    return ok;
}

bool checkOrder(const Pipeline& p, const PassRegistry& registry, const ir::Module* input, Diagnostics& diags,
                const std::vector<std::string>& disabledPasses)
{
    auto active = [&](const PipelineEntry& e) {
        return e.enabled && std::find(disabledPasses.begin(), disabledPasses.end(), e.pass) == disabledPasses.end();
    };
    // property -> who made it available ("" = the input IR); absent = unavailable
    std::map<std::string, std::string> available;
    std::map<std::string, std::string> invalidatedBy;
    if (input)
        for (const auto& prop : registry.properties())
            if (prop.holds && prop.holds(*input))
                available[prop.name] = "";
    bool ok = true;
    for (size_t i = 0; i < p.entries.size(); ++i) {
        const auto& e = p.entries[i];
        const PassDef* def = registry.find(e.pass);
        if (!def || !active(e))
            continue;
        for (const auto& need : def->info.needs) {
            if (available.count(need))
                continue;
            ok = false;
            const std::vector<std::string> providers = registry.providers(need);
            std::string msg;
            if (providers.empty())
                msg = e.pass + " requires property '" + need + "', which no registered pass provides" +
                      (input ? " and the input IR does not have" : "");
            else
                msg = e.pass + " needs " + joinOr(providers) + " before it (requires property '" + need + "')";
            if (auto it = invalidatedBy.find(need); it != invalidatedBy.end())
                msg += "; " + it->second + " invalidates it";
            for (size_t j = 0; j < p.entries.size(); ++j) {
                const auto& other = p.entries[j];
                if (std::find(providers.begin(), providers.end(), other.pass) == providers.end())
                    continue;
                if (!active(other))
                    msg += "; " + other.pass + " (position " + std::to_string(j + 1) + ") is disabled";
                else if (j > i)
                    msg += "; " + other.pass + " comes after it (position " + std::to_string(j + 1) + ")";
            }
            diags.add({Severity::Error, {{}, e.column > 0 ? 1 : 0, e.column}, e.pass + " (position " +
                       std::to_string(i + 1) + ")", {}, msg});
        }
        for (const auto& inv : def->info.invalidates) {
            if (available.erase(inv))
                invalidatedBy[inv] = e.pass + " (position " + std::to_string(i + 1) + ")";
        }
        for (const auto& prov : def->info.provides) {
            available[prov] = e.pass;
            invalidatedBy.erase(prov);
        }
    }
    return ok;
}

} // namespace stc::passes

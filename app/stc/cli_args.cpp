#include "cli_args.h"

#include <charconv>
#include <cstdio>

namespace stc::cli {

std::optional<std::string> takeOption(std::vector<std::string>& args, const std::string& name,
                                      const std::string& shortName)
{
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if ((a == name || (!shortName.empty() && a == shortName)) && i + 1 < args.size()) {
            std::string v = args[i + 1];
            args.erase(args.begin() + long(i), args.begin() + long(i) + 2);
            return v;
        }
        if (a.rfind(name + "=", 0) == 0) {
            std::string v = a.substr(name.size() + 1);
            args.erase(args.begin() + long(i));
            return v;
        }
    }
    return std::nullopt;
}

bool takeFlag(std::vector<std::string>& args, const std::string& name)
{
    for (size_t i = 0; i < args.size(); ++i)
        if (args[i] == name) {
            args.erase(args.begin() + long(i));
            return true;
        }
    return false;
}

std::optional<std::vector<int64_t>> parseIntList(const std::string& text)
{
    std::vector<int64_t> out;
    size_t pos = 0;
    while (pos <= text.size()) {
        const size_t comma = text.find_first_of(",x", pos);
        const std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        int64_t v = 0;
        auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (item.empty() || ec != std::errc() || p != item.data() + item.size())
            return std::nullopt;
        out.push_back(v);
        if (comma == std::string::npos)
            break;
        pos = comma + 1;
    }
    return out;
}

bool reportUnknownOptions(const std::vector<std::string>& args, const char* command)
{
    for (const auto& a : args)
        if (a.size() > 1 && a[0] == '-' && !(a[1] >= '0' && a[1] <= '9')) {
            std::fprintf(stderr, "stc %s: unknown option '%s' (see stc %s --help)\n", command, a.c_str(), command);
            return true;
        }
    return false;
}

std::optional<std::vector<int64_t>> takeInputShape(std::vector<std::string>& args, const char* command, bool& bad)
{
    bad = false;
    const auto text = takeOption(args, "--input-shape");
    if (!text)
        return std::nullopt;
    auto s = parseIntList(*text);
    if (!s || s->empty()) {
        std::fprintf(stderr, "stc %s: bad --input-shape '%s' (expected e.g. 1,1,28,28, batch first)\n", command,
                     text->c_str());
        bad = true;
        return std::nullopt;
    }
    return s;
}

} // namespace stc::cli

#include "passes/context.h"

#include "passes/pass.h"

namespace stc::passes {

void CompileContext::checkCancelled() const
{
    if (cancelled())
        throw PassCancelled();
}

int64_t CompileContext::optionInt(const std::string& name, int64_t def) const
{
    auto it = options.find(name);
    if (it == options.end())
        return def;
    if (auto i = std::get_if<int64_t>(&it->second))
        return *i;
    if (auto d = std::get_if<double>(&it->second))
        return static_cast<int64_t>(*d);
    return def;
}

double CompileContext::optionFloat(const std::string& name, double def) const
{
    auto it = options.find(name);
    if (it == options.end())
        return def;
    if (auto d = std::get_if<double>(&it->second))
        return *d;
    if (auto i = std::get_if<int64_t>(&it->second))
        return static_cast<double>(*i);
    return def;
}

bool CompileContext::optionBool(const std::string& name, bool def) const
{
    auto it = options.find(name);
    if (it == options.end())
        return def;
    if (auto b = std::get_if<bool>(&it->second))
        return *b;
    return def;
}

std::string CompileContext::optionString(const std::string& name, const std::string& def) const
{
    auto it = options.find(name);
    if (it == options.end())
        return def;
    if (auto s = std::get_if<std::string>(&it->second))
        return *s;
    return def;
}

} // namespace stc::passes

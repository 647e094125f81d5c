#include "passes/registry.h"

#include <stdexcept>

namespace stc::passes {

void PassRegistry::registerPass(PassDef def)
{
    if (def.info.name.empty() || !def.run)
        throw std::logic_error("pass registration needs a name and a run function");
    if (find(def.info.name))
        throw std::logic_error("pass '" + def.info.name + "' registered twice");
    passes_.push_back(std::move(def));
}

void PassRegistry::registerProperty(PropertyDef def)
{
    if (findProperty(def.name))
        throw std::logic_error("property '" + def.name + "' registered twice");
    properties_.push_back(std::move(def));
}

const PassDef* PassRegistry::find(const std::string& name) const
{
    for (const auto& p : passes_)
        if (p.info.name == name)
            return &p;
    return nullptr;
}

const PropertyDef* PassRegistry::findProperty(const std::string& name) const
{
    for (const auto& p : properties_)
        if (p.name == name)
            return &p;
    return nullptr;
}

std::vector<std::string> PassRegistry::passNames() const
{
    std::vector<std::string> out;
    for (const auto& p : passes_)
        out.push_back(p.info.name);
    return out;
}

std::vector<std::string> PassRegistry::providers(const std::string& property) const
{
    std::vector<std::string> out;
    for (const auto& p : passes_)
        for (const auto& prov : p.info.provides)
            if (prov == property)
                out.push_back(p.info.name);
    return out;
}

PassRegistry makeBuiltinRegistry()
{
    PassRegistry r;
    registerBuiltinPasses(r);
    return r;
}

} // namespace stc::passes

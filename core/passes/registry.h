// The pass registry: every pass and IR property the pipeline parser, the
// order checker, the CLI (`stc passes`) and the IDE's "add pass" list know.
// Registration is explicit: registerBuiltinPasses(registry); core/target adds
// its mapping passes the same way.
#pragma once

#include "passes/pass.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace stc::passes {

// A named IR property used in order constraints. `holds` decides whether a
// module already has it (e.g. "bn-folded": no batchnorm op left), so a model
// without BN needs no fold-bn. Without a predicate only a pass can provide it.
struct PropertyDef {
    std::string name;
    std::string doc;
    std::function<bool(const ir::Module&)> holds;
};

class PassRegistry {
public:
    // Throws std::logic_error on a duplicate name (a programming error).
    void registerPass(PassDef def);
    void registerProperty(PropertyDef def);

    const PassDef* find(const std::string& name) const;
    const PropertyDef* findProperty(const std::string& name) const;
    std::vector<std::string> passNames() const; // registration order
    const std::vector<PassDef>& passes() const { return passes_; }
    const std::vector<PropertyDef>& properties() const { return properties_; }
    // Passes that list `property` in `provides`.
    std::vector<std::string> providers(const std::string& property) const;

private:
    std::vector<PassDef> passes_;
    std::vector<PropertyDef> properties_;
};

// fold-bn, dce, canonicalize, prune, lower-attention, lower-custom, fuse, quantize,
// schedule-time, layout-buffers and the properties they declare.
void registerBuiltinPasses(PassRegistry& registry);

// A registry with the built-in passes (a fresh object per call, no global).
PassRegistry makeBuiltinRegistry();

} // namespace stc::passes

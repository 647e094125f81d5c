// The std-only backend interface. A backend plugin (plugins/backend-loihi)
// implements it; the CLI and the IDE call it without knowing which plugin
// does the work. The encoding itself lives in core (package.h) so that the
// simulator and tests read packages without Qt.
#pragma once

#include "target/chip_descriptor.h"
#include "target/layer_check.h"
#include "target/mapping.h"
#include "target/network.h"

#include <string>
#include <vector>

namespace stc::target {

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;                // "loihi"
    virtual std::vector<std::string> chips() const = 0;  // chip ids it can package for
    // Writes the deployment package directory `outDir`; `listing` receives the
    // human-readable summary also written into the package.
    virtual bool emitPackage(const Network& net, const Mapping& mapping, const ChipDescriptor& chip,
                             const std::string& pipeline, const std::string& outDir, std::string* listing,
                             std::string* error) = 0;
    // Optional target-specific constraint check, run by `partition` before
    // mapping after the descriptor-driven one (layer_check.h): one issue per
    // op the target cannot run. Default: no extra rules.
    virtual std::vector<LayerIssue> checkLayers(const ir::Module& module, const ChipDescriptor& chip) const
    {
        (void)module;
        (void)chip;
        return {};
    }
};

// The Loihi-family package writer (used by the plugin; callable without Qt).
bool emitLoihiPackage(const Network& net, const Mapping& mapping, const ChipDescriptor& chip,
                      const std::string& pipeline, const std::string& outDir, std::string* listing,
                      std::string* error);

} // namespace stc::target

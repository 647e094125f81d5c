// The std-only backend interface. A backend plugin (plugins/backend-loihi)
// implements it; the CLI and the IDE call it without knowing which plugin
// does the work. The encoding itself lives in core (package.h) so that the
// simulator and tests read packages without Qt.
#pragma once

#include "target/chip_descriptor.h"
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
};

// The Loihi-family package writer (used by the plugin; callable without Qt).
bool emitLoihiPackage(const Network& net, const Mapping& mapping, const ChipDescriptor& chip,
                      const std::string& pipeline, const std::string& outDir, std::string* listing,
                      std::string* error);

} // namespace stc::target

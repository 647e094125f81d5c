#include "target/backend.h"

#include "target/cost_model.h"
#include "target/package.h"

#include <stdexcept>

namespace stc::target {

bool emitLoihiPackage(const Network& net, const Mapping& mapping, const ChipDescriptor& chip,
                      const std::string& pipeline, const std::string& outDir, std::string* listing,
                      std::string* error)
{
    if (!mapping.fits) {
        if (error)
            *error = "the mapping does not fit; nothing to package";
        return false;
    }
    try {
        const Estimate est = estimateCost(net, mapping, chip);
        const Package pkg = buildPackage(net, mapping, chip, pipeline, est);
        std::string text = formatSummary(net, mapping, est, chip);
        text += "\ncores:\n";
        for (const auto& c : mapping.cores) {
            text += "  chip " + std::to_string(c.coord.chip) + " tile (" + std::to_string(c.coord.tileX) + "," +
                    std::to_string(c.coord.tileY) + ") core " + std::to_string(c.coord.core) + ": ";
            for (size_t k = 0; k < c.slices.size(); ++k) {
                const Slice& s = mapping.slices[size_t(c.slices[k])];
                text += (k ? ", " : "") + std::string("%") + net.populations[size_t(s.pop)].name + "[" +
                        std::to_string(s.neurons()) + "]";
            }
            text += "  (" + std::to_string(c.usage.neurons) + " neurons, " + std::to_string(c.usage.fanInAxons) +
                    " axons in, " + std::to_string(c.usage.synapticBytes) + " B synapses, binding " +
                    toString(c.utilization.binding) + " " +
                    std::to_string(int(100 * c.utilization.bindingValue() + 0.5)) + " %)\n";
        }
        if (listing)
            *listing = text;
        return writePackage(pkg, outDir, text, error);
    } catch (const std::exception& e) {
        if (error)
            *error = std::string("package encoding failed: ") + e.what();
        return false;
    }
}

} // namespace stc::target

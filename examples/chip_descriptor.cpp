// Chip descriptors: find, read with provenance, validate, and what a broken
// descriptor reports. docs/api-guide.md, "Chip descriptors".
//   example_chip_descriptor
#include "target/chip_descriptor.h"

#include <cstdio>
#include <string>

using namespace stc;

namespace {

// A number with where it comes from (every descriptor number has a source or a projection).
void show(const target::ChipDescriptor& chip, const char* path, double value, const char* unit)
{
    const auto it = chip.provenance.find(path);
    const bool known = it != chip.provenance.end();
    std::printf("  %-34s %10g %-3s %s%s\n", path, value, unit,
                known && it->second.projected ? "PROJECTED: " : "",
                known ? it->second.text.c_str() : "(no source)");
}

} // namespace

int main()
{
    // Ids found on the search path ($STC_CHIP_PATH, <resources>/chips, plugin directories).
    std::printf("chips:");
    for (const std::string& id : target::availableChipIds())
        std::printf(" %s", id.c_str());
    std::printf("\n");

    // By id or by path to a .json file. Errors come back as located diagnostics.
    for (const char* id : {"loihi2", "loihi3"}) {
        const target::DescriptorLoad load = target::findChip(id);
        if (!load.chip) {
            std::fprintf(stderr, "%s", load.diagnostics.format().c_str());
            return 1;
        }
        const target::ChipDescriptor& c = *load.chip;
        std::printf("%s: %s, %d cores per chip (%dx%d tiles x %d), up to %d chips%s, %d projected numbers\n",
                    c.id.c_str(), c.name.c_str(), c.coresPerChip(), c.tilesX, c.tilesY, c.coresPerTile, c.maxChips(),
                    c.projectedChip ? ", PROJECTED chip" : "", c.projectedCount());
        show(c, "core.limits.neurons", double(c.limits.neurons), "");
        show(c, "core.limits.synaptic_memory_bytes", double(c.limits.synapticMemoryBytes), "B");
        show(c, "energy_pj.synaptic_op", c.energyPj.synapticOp, "pJ");
        show(c, "timing_ns.synaptic_op", c.latencyNs.synapticOp, "ns");
    }

    // A descriptor edited in memory is re-validated with the loader's checks.
    target::ChipDescriptor edited = *target::findChip("loihi2").chip;
    edited.limits.neurons = 0;
    edited.tilesX = 0;
    std::printf("edited loihi2:\n%s", target::validateChip(edited, "edited.json").format().c_str());

    // Broken JSON is located by line and column.
    const target::DescriptorLoad broken = target::parseChipDescriptor("{\n  \"schema\": \"stc.chip/1\",\n  \"id\": }\n",
                                                                      "broken.json");
    std::printf("broken.json:\n%s", broken.diagnostics.format().c_str());
    return broken.chip ? 1 : 0;
}

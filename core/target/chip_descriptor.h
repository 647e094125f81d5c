// Chip descriptors: a generic mesh-of-cores model of a neuromorphic chip and
// board, loaded from resources/chips/*.json (schema "stc.chip/1", documented
// in docs/targets.md). Every number in a descriptor carries its provenance: a
// published source or a stated projection.
#pragma once

#include "util/diagnostics.h"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stc::target {

// Where a number comes from. `projected` numbers are assumptions; `text` says
// which source or which assumption.
struct Provenance {
    std::string text;
    bool projected = false;
    friend bool operator==(const Provenance&, const Provenance&) = default;
};

struct CoreLimits {
    int64_t neurons = 0;             // neurons (compartments) per core
    int64_t fanInAxons = 0;          // distinct input axons per core
    int64_t fanOutAxons = 0;         // output axons (neuron -> destination) per core
    int64_t synapticMemoryBytes = 0;
    int64_t coreMemoryBytes = 0;     // 0 = not modelled (no total-memory check)
    int64_t neuronStateBytes = 0;    // per neuron, counted against coreMemoryBytes
    int64_t weightBits = 0;
    int64_t stateBits = 0;
    int64_t gradedSpikeBits = 1;     // 1 = binary spikes only
    int64_t inputSpikeBits = 0;      // encoded model input events; 0 = gradedSpikeBits
    int64_t inputBits() const { return inputSpikeBits > 0 ? inputSpikeBits : gradedSpikeBits; }
    int64_t maxSynapticDelay = 0;    // time steps
    friend bool operator==(const CoreLimits&, const CoreLimits&) = default;
};

// A synapse table format; exact byte layouts in docs/package-format.md.
//   dense:       per axon row: rowHeaderBytes + per run of consecutive
//                targets (runHeaderBytes + ceil(len * weightBits / 8))
//   sparse:      per axon row: rowHeaderBytes + ceil(n * (weightBits + indexBits) / 8)
//   conv_shared: per axon rowHeaderBytes; kernel weights once per slice
// Rows are padded to rowAlignBytes.
struct SynapseEncoding {
    std::string name; // "dense", "sparse", "conv_shared"
    int64_t rowHeaderBytes = 0;
    int64_t runHeaderBytes = 0;
    int64_t indexBits = 0;
    int64_t rowAlignBytes = 1;
    friend bool operator==(const SynapseEncoding&, const SynapseEncoding&) = default;
};

// Per-event costs; the same fields are used for energy (pJ) and latency (ns).
struct EventCosts {
    double synapticOp = 0;
    double synapticUpdate = 0;
    double neuronUpdateActive = 0;
    double neuronUpdateIdle = 0;
    double spikeWithinTile = 0;
    double hopEw = 0; // one tile hop along x
    double hopNs = 0; // one tile hop along y
    double chipLink = 0;
    friend bool operator==(const EventCosts&, const EventCosts&) = default;
};

enum class BoardTopology : uint8_t { Mesh2D, Mesh3D };

// A core: chip index on the board, tile coordinates on the chip, core in tile.
struct CoreCoord {
    int chip = 0;
    int tileX = 0;
    int tileY = 0;
    int core = 0;
    friend bool operator==(const CoreCoord&, const CoreCoord&) = default;
    friend auto operator<=>(const CoreCoord&, const CoreCoord&) = default;
};

// A broken mesh link between two adjacent tiles of one chip (both directions).
struct DeadLink {
    int chip = 0;
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    friend bool operator==(const DeadLink&, const DeadLink&) = default;
};

struct ChipDescriptor {
    std::string id;   // "loihi2"
    std::string name; // "Intel Loihi 2 (2021)"
    std::string vendor;
    std::string process;
    bool projectedChip = false; // the whole chip is a projection (no public spec)
    std::string projectionNote;
    std::vector<std::string> notes;

    BoardTopology topology = BoardTopology::Mesh2D;
    std::array<int, 3> chipGrid{1, 1, 1}; // chips on the board: x, y, z
    int tilesX = 1, tilesY = 1;           // tile mesh per chip
    int coresPerTile = 1;
    int embeddedCpus = 0;

    CoreLimits limits;
    std::vector<std::string> neuronModels;
    std::vector<SynapseEncoding> encodings; // available ones only
    // Optional capability lists (empty = not restricted), checked per layer
    // before mapping (layer_check.h): Spike IR op kinds the chip executes,
    // weight widths of its layers, and of layers fed by the model input.
    std::vector<std::string> layerOps;
    std::vector<int> weightBitWidths;
    std::vector<int> inputWeightBitWidths;

    EventCosts energyPj;
    EventCosts latencyNs;
    double barrierMinNs = 0, barrierMaxNs = 0;
    double staticPowerMw = 0; // per chip

    std::vector<CoreCoord> deadCores;
    std::vector<DeadLink> deadLinks;

    // JSON path ("core.limits.neurons") -> where the number comes from.
    std::map<std::string, Provenance> provenance;
    std::string sourceFile;
    std::string sourceText; // the descriptor JSON as loaded (copied into packages)

    int coresPerChip() const { return tilesX * tilesY * coresPerTile; }
    int maxChips() const { return chipGrid[0] * chipGrid[1] * chipGrid[2]; }
    bool supportsModel(const std::string& model) const;
    const SynapseEncoding* encoding(const std::string& name) const;
    bool isDead(const CoreCoord& c) const;
    bool isDeadLink(int chip, int x0, int y0, int x1, int y1) const;
    // Number of projected (assumed) numbers, for reports.
    int projectedCount() const;
};

struct DescriptorLoad {
    std::optional<ChipDescriptor> chip; // empty when there are errors
    Diagnostics diagnostics;
};

// Parses and validates descriptor JSON. `fileName` is used in diagnostics.
DescriptorLoad parseChipDescriptor(const std::string& jsonText, const std::string& fileName = {});
DescriptorLoad loadChipDescriptor(const std::string& path);

// Directories searched for `<id>.json`: $STC_CHIP_PATH (colon separated), then
// <resources>/chips, then directories added with addChipSearchDirectory (the
// plugin host adds the descriptor directories backend plugins declare).
std::vector<std::string> chipSearchPath();
// Appends a directory to the search path (thread-safe, duplicates ignored).
void addChipSearchDirectory(const std::string& dir);
// `nameOrPath` is a chip id ("loihi3") or a path to a .json file.
DescriptorLoad findChip(const std::string& nameOrPath);
std::vector<std::string> availableChipIds();

// Re-validates a descriptor built or edited in memory (the IDE edits chips);
// same checks as the loader minus JSON syntax.
Diagnostics validateChip(const ChipDescriptor& chip, const std::string& fileName = {});

} // namespace stc::target

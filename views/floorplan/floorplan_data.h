// What the floorplan draws: a plain value built by the document layer
// (document/stages_target.cpp) from a target::Mapping, its Network and the
// cost model. The widget and models only read it; nothing here calls core.
#pragma once

#include <QString>
#include <QStringList>

#include <array>
#include <cstdint>
#include <map>
#include <vector>

namespace stc::views {

// Resources in target::Resource order.
enum class FloorResource { Neurons, FanIn, FanOut, SynapticMemory, CoreMemory, StepTime };
constexpr int kFloorResourceCount = 6;
QString floorResourceName(int r);

struct FloorCore {
    int chip = 0, tileX = 0, tileY = 0, core = 0; // physical position
    std::vector<int> layers;                       // FloorplanData::layers hosted here (slices)
    int layer = -1;                                // the layer with the most neurons here
    int64_t neurons = 0, fanIn = 0, fanOut = 0, synapticBytes = 0, stateBytes = 0;
    double synOpsPerStep = 0, spikesOutPerStep = 0, timeNs = 0;
    std::array<double, kFloorResourceCount> utilization{}; // used / capacity
    int binding = 0;                                       // highest static resource
    double energyPj = 0;                                   // estimated, per inference (dynamic)
    double bindingUtilization() const { return utilization[size_t(binding)]; }
};

struct FloorLayer {
    QString name;   // population (IR value) name
    QString origin; // model location (blocks.0.attn)
    QString kind;   // lif, input, relay, product, readout
    int opIndex = -1; // op of the document module (graph node), -1 if none
    int64_t neurons = 0;
    std::vector<int> cores; // indices into FloorplanData::cores
    double energyPj = 0;
};

struct FloorRoute {
    int from = -1, to = -1; // indices into FloorplanData::cores
    double spikesPerStep = 0;
    int hops = 0, chipLinks = 0;
    std::vector<std::array<int, 3>> path; // global tile coordinates (x, y, board z)
};

struct FloorplanData {
    QString chipId, chipName;
    bool projectedChip = false;
    QString projectionNote;
    int projectedNumbers = 0;
    bool ratesMeasured = false;
    QString objective;

    int chips = 1;
    std::vector<std::array<int, 3>> chipPos; // board position of each chip
    int tilesX = 1, tilesY = 1, coresPerTile = 1;
    std::vector<std::array<int, 4>> deadCores; // chip, tileX, tileY, core
    std::array<double, kFloorResourceCount> capacity{}; // per-core limits (StepTime: critical path ns)

    std::vector<FloorCore> cores;
    std::vector<FloorLayer> layers;
    std::vector<FloorRoute> routes;

    double stepTimeNs = 0, latencyNs = 0, dynamicPj = 0, staticPj = 0;
    // Opened from a package directory (not mapped in the IDE): per-core
    // energies and rates are not in a package, only its total estimate.
    QString packageDir;
    bool perCoreEstimate = true;
    double meanBindingUtilization = 0;
    QString summary; // target::formatSummary

    // Physical cell index <-> mapped core. Call index() after filling.
    int cellsPerChip() const { return tilesX * tilesY * coresPerTile; }
    int cellCount() const { return chips * cellsPerChip(); }
    int cellOf(int chip, int tileX, int tileY, int core) const
    {
        return ((chip * tilesY + tileY) * tilesX + tileX) * coresPerTile + core;
    }
    static constexpr int kUnused = -1, kDead = -2;
    std::vector<int> coreOfCell; // mapped core index, kUnused or kDead
    void index();
};

// Per core (FloorplanData::cores order = the package's cores) what core/sim
// measured in one chip-simulator run: dynamic energy per inference (the
// ledger's per-core lines) and spikes sent per model step.
struct FloorMeasurement {
    QString label; // "chip simulator, Fashion-MNIST test image #3"
    std::vector<double> energyPj, spikesPerStep; // per core
    std::map<QString, double> layerEnergyPj;     // dynamic energy per population name (the ledger's layer lines)
};

} // namespace stc::views

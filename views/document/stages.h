// The one place where the views call compiler stages (core/ and plugins):
// load/parse/print/verify, mapping onto a chip and the chip simulator.
// Everything here is thread-safe and meant to run inside a JobRunner job.
#pragma once

#include "sim/ledger.h"

#include "charts/energy_data.h"
#include "floorplan/floorplan_data.h"
#include "frontend/importer.h"
#include "ir/module.h"
#include "sim/sim_trace.h"
#include "util/diagnostics.h"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stc::sim {
struct SimProgram;
}

namespace stc::views {

using ModulePtr = std::shared_ptr<const ir::Module>;

struct LoadOutcome {
    ModulePtr module; // null on failure
    Diagnostics diagnostics;
    std::string sourceText; // .sir: the file text
    std::string engine;     // "torchscript plugin", "Spike IR parser"
    double seconds = 0.0;
    std::vector<int64_t> inputShape; // the shape used for a .pt import
    // A .nir graph without stc_timesteps (stc_dt) was opened without a T
    // (dt): ask the user and open again with them (no module, no error then).
    bool needsTimesteps = false;
    bool needsDt = false;
    // .nir: the T and dt the graph was imported with and where they came
    // from, e.g. "T = 12 (given when opening), dt = 0.000244140625 s (given
    // when opening)"; also a note in the diagnostics.
    std::string nirSettings;
};

// The answers for a .nir graph lacking stc_timesteps / stc_dt (the CLI's
// --timesteps / --dt); unset: the file's own value.
struct NirOpenAnswers {
    std::optional<int64_t> timesteps;
    std::optional<double> dt; // seconds
};

// The shortest text that reads back as exactly `dt` seconds, in fixed
// notation between 1e-7 and 1e7 ("0.000244140625", "0.0001", "1").
QString formatNirDt(double dt);

// Reads the sidecar `<model>.ref.json` "input_shape" if there is one.
std::vector<int64_t> sidecarInputShape(const std::string& modelPath);

// .pt through the TorchScript plugin (loaded on first use), .sir through the
// parser, .nir through core/interop (`nir` = the CLI's --timesteps and
// --dt; a graph lacking stc_timesteps or stc_dt without the answer sets
// needsTimesteps / needsDt and is not imported). `cancel` and `progress`
// come from the job.
LoadOutcome loadModelFile(const std::string& path, const std::vector<int64_t>& inputShape,
                          const std::atomic<bool>* cancel, std::function<void(double, const std::string&)> progress,
                          const NirOpenAnswers& nir = {});

struct ParseOutcome {
    ModulePtr module;
    Diagnostics diagnostics;
};
ParseOutcome parseIrText(const std::string& text, const std::string& filename);

// Spike IR text (constants above the printer's limit elided when asked).
std::string printIr(const ir::Module& m, bool elideConstants);

// Verifier diagnostics (empty when clean).
Diagnostics verifyIr(const ir::Module& m);

// ---- Mapping onto a chip (core/target; document/stages_target.cpp) ----

struct MapRequest {
    std::string chip = "loihi3"; // descriptor id or path
    int chips = 1;
    std::string objective = "balanced"; // min-cores | balanced | latency
    uint64_t seed = 1;
    std::string pipeline; // the pass pipeline that produced the module (recorded in the package)
};

// A deployment package decoded for core/sim, with what the views need to
// label it. Immutable once built; shared by the panels and simulation jobs.
struct ChipPackage {
    std::shared_ptr<const ::stc::sim::SimProgram> program;
    QString chipId, chipName;
    bool projectedChip = false;
    int cores = 0;
    double buildSeconds = 0; // package encoding + decoding for the simulator
    std::vector<double> coreUtilization; // of the mapping the package was built from
};

struct MapOutcome {
    std::shared_ptr<const FloorplanData> floorplan; // null on failure
    std::shared_ptr<const EnergyChartData> energy;  // the cost model's estimate
    std::shared_ptr<const ChipPackage> package;     // null when the package could not be built (see diagnostics)
    Diagnostics diagnostics;
    std::string error; // empty on success
    double seconds = 0;
    bool ok() const { return error.empty() && floorplan; }
};

// Chip descriptor ids found on the search path (loihi1, loihi2, loihi3, ...).
std::vector<std::string> availableChips();

// Extracts the network of `compiled` (the pass pipeline's result), partitions,
// places and routes it on `request.chip` and estimates energy/latency with the
// cost model. Layers are linked to ops of `document` (the graph's module) by
// value name. Checks `cancel` between steps. Then builds the deployment
// package in memory and decodes it for the chip simulator.
MapOutcome mapModule(const ir::Module& compiled, const ir::Module* document, const MapRequest& request,
                     const std::atomic<bool>* cancel, std::function<void(double, const std::string&)> progress);

// ---- Deployment packages on disk (core/target readPackage; document/stages_package.cpp) ----

// The package directory `path` names: a directory holding manifest.json, a
// manifest.json, or a missing/empty *.stcpkg path (so that opening it reports
// the package error); "" otherwise.
std::string packageDirectoryOf(const std::string& path);

struct PackageOutcome {
    std::string directory;
    std::shared_ptr<const FloorplanData> floorplan; // the placement the package records
    std::shared_ptr<const ChipPackage> package;     // decoded for core/sim; null on failure
    QString model, pipeline, description;           // module name, pipeline text, one line for the status
    // The source model the package records (provenance.json of `stc project
    // export`: path + SHA-256), loaded when the file is still there and
    // unchanged; sourceNote says what happened either way.
    LoadOutcome source;
    QString sourcePath, sourceNote;
    Diagnostics diagnostics; // errors located at manifest.json (line, column) or the core blob
    double seconds = 0;
    bool ok() const { return package != nullptr; }
};

// Reads, decodes and lays out a package (runs in a job).
PackageOutcome loadPackageDirectory(const std::string& path, const std::atomic<bool>* cancel,
                                    std::function<void(double, const std::string&)> progress);

// ---- Chip simulator (core/sim; document/stages_sim.cpp) ----

struct ChipRunOutcome {
    sim::SimTrace trace;                           // LIF populations, model steps (hardware step - phase)
    std::shared_ptr<const EnergyChartData> energy; // core/sim's measured ledger of this inference
    std::string ledgerText;                        // sim::formatLedger
    std::shared_ptr<const FloorMeasurement> cores; // per-core measured energy and spikes (floorplan colours)
    std::shared_ptr<const std::vector<::stc::sim::Bottleneck>> bottlenecks; // ranked (core/sim findBottlenecks)
};

// Runs one sample (an image, the package's input size) through the
// bit-accurate simulator on one host thread, tracing LIF spikes through the
// sim's TraceSink API; the ledger becomes measured chart data. Layers link to
// ops of `document` by value name. `sample` names the input in the labels
// ("Fashion-MNIST test image #3"). `cancel` is linked to the run's RunControl.
ChipRunOutcome runChipSimulation(const ChipPackage& package, const ir::Module* document, const std::vector<float>& image,
                                 const QString& sample, const std::atomic<bool>* cancel,
                                 std::function<void(double, const std::string&)> progress);

} // namespace stc::views

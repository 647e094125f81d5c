// The one place where the views call compiler stages (core/ and plugins).
// Stages that have not landed yet report themselves as unavailable, so the
// panels that need them show "not yet" instead of pretending. Everything
// here is thread-safe and meant to run inside a JobRunner job.
#pragma once

#include "charts/energy_data.h"
#include "floorplan/floorplan_data.h"
#include "frontend/importer.h"
#include "ir/module.h"
#include "util/diagnostics.h"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stc::views {

using ModulePtr = std::shared_ptr<const ir::Module>;

struct StageAvailability {
    bool textFormat = false;  // core/ir printer + parser
    bool verifier = false;    // core/ir verifier
    bool interpreter = false; // core/interp reference interpreter
    bool dataset = false;     // core/data Fashion-MNIST reader
    bool passes = false;      // core/passes pipeline
    bool target = false;      // core/target mapping (floorplan)
    bool simulator = false;   // core/sim chip simulator + energy ledger
};
const StageAvailability& stages();

struct LoadOutcome {
    ModulePtr module; // null on failure
    Diagnostics diagnostics;
    std::string sourceText; // .sir: the file text
    std::string engine;     // "torchscript plugin", "Spike IR parser"
    double seconds = 0.0;
    std::vector<int64_t> inputShape; // the shape used for a .pt import
};

// Reads the sidecar `<model>.ref.json` "input_shape" if there is one.
std::vector<int64_t> sidecarInputShape(const std::string& modelPath);

// .pt through the TorchScript plugin (loaded on first use), .sir through the
// parser. `cancel` and `progress` come from the job.
LoadOutcome loadModelFile(const std::string& path, const std::vector<int64_t>& inputShape,
                          const std::atomic<bool>* cancel, std::function<void(double, const std::string&)> progress);

struct ParseOutcome {
    ModulePtr module;
    Diagnostics diagnostics;
};
ParseOutcome parseIrText(const std::string& text, const std::string& filename);

// Printed text; empty when the printer is not available.
std::string printIr(const ir::Module& m, bool elideConstants);

// Verifier diagnostics (empty when clean or when the verifier is unavailable).
Diagnostics verifyIr(const ir::Module& m);

// ---- Mapping onto a chip (core/target; document/stages_target.cpp) ----

struct MapRequest {
    std::string chip = "loihi3"; // descriptor id or path
    int chips = 1;
    std::string objective = "balanced"; // min-cores | balanced | latency
    uint64_t seed = 1;
};

struct MapOutcome {
    std::shared_ptr<const FloorplanData> floorplan; // null on failure
    std::shared_ptr<const EnergyChartData> energy;  // the cost model's estimate
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
// value name. Checks `cancel` between steps.
MapOutcome mapModule(const ir::Module& compiled, const ir::Module* document, const MapRequest& request,
                     const std::atomic<bool>* cancel, std::function<void(double, const std::string&)> progress);

} // namespace stc::views

// The std-only frontend interface. A frontend plugin (e.g. the TorchScript
// importer, the only code that links LibTorch) implements it; the CLI, the IDE
// and tests call it without knowing which library does the work.
#pragma once

#include "ir/module.h"
#include "util/diagnostics.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stc::frontend {

struct ImportOptions {
    // Model input shape including the batch dimension, e.g. {1, 1, 28, 28}.
    // Empty: the importer guesses from the model and says so in a note.
    std::vector<int64_t> inputShape;
    // Expected number of time steps; 0 = take it from the model. A mismatch
    // with what the model does is reported.
    int64_t timesteps = 0;
    // Example input values (flattened, inputShape order) used to execute the
    // model while importing; empty = a deterministic pseudo-random input in [0, 1).
    std::vector<float> exampleInput;
    // Cooperative cancellation and progress (0..1) for the IDE.
    const std::atomic<bool>* cancel = nullptr;
    std::function<void(double, const std::string&)> progress;
    // The caller runs the import in a process whose crash it reports (stc's
    // CLI forks before importing), so the importer need not guard its own
    // file reading (the TorchScript importer then skips its probe load).
    bool callerIsolatesCrashes = false;
};

// What LibTorch computed on the example input while importing: the ground
// truth the imported IR is validated against.
struct ReferenceRun {
    std::vector<int64_t> inputShape;
    std::vector<float> input;
    std::vector<std::vector<int64_t>> outputShapes;
    std::vector<std::vector<float>> outputs;
    // Spiking-neuron module path -> total spikes (over batch, time, neurons).
    std::map<std::string, int64_t> spikeCounts;
};

struct ImportResult {
    std::optional<ir::Module> module; // empty when the import failed
    Diagnostics diagnostics;          // errors (all unsupported constructs), warnings, notes
    ReferenceRun reference;
    double seconds = 0.0;
};

// A dense CPU forward of the original model, timed inside the framework
// (benchmarks compare the simulator against it on the same inputs).
struct TimedForward {
    std::vector<float> outputs;  // first returned tensor of the first run, flattened
    int64_t batch = 0;           // samples per forward call (inputShape[0])
    int runs = 0;                // timed calls (after one untimed warm-up call)
    int threads = 0;             // intra-op threads the framework used
    double wallSeconds = 0;      // all timed calls
    double cpuSeconds = 0;       // process CPU time of the timed calls (all threads)
    std::string error;           // empty on success
};

class Importer {
public:
    virtual ~Importer() = default;
    virtual std::string name() const = 0;                      // e.g. "torchscript"
    virtual std::vector<std::string> fileExtensions() const = 0; // e.g. {".pt", ".pth"}
    virtual ImportResult importFile(const std::string& path, const ImportOptions& options) = 0;
    // Run the original model (LibTorch) on inputs of the given shape; used to
    // validate compiled results against the source framework.
    virtual ReferenceRun runReference(const std::string& path, const std::vector<int64_t>& inputShape,
                                      const std::vector<float>& input, Diagnostics& diags) = 0;
    // Times `runs` forward calls of the original model on `input` (shape
    // `inputShape`, batch first) with `threads` intra-op threads (< 1: the
    // framework default), without gradients, on one fresh copy of the module.
    virtual TimedForward timeForward(const std::string& path, const std::vector<int64_t>& inputShape,
                                     const std::vector<float>& input, int runs, int threads) = 0;
};

} // namespace stc::frontend

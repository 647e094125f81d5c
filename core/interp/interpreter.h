// The reference interpreter: runs a Spike IR module in float32 on the CPU.
// It is the ground truth every later stage (quantization, mapping, chip
// simulation) is checked against, so it follows the PyTorch CPU arithmetic of
// each op wherever the rounding is specified (see docs of the ops in
// core/ir/ops.cpp and the comments in the kernels).
//
// Semantics
// - Shapes in the IR are per sample; run() adds a leading batch dimension.
// - Values are per step (computed for t = 0..T-1, T = module.timesteps) or
//   time-invariant. Invariant ops that do not depend on a mean over time run
//   once before the time loop; per-step ops run each step in op order; a
//   `mean{over_time=true}` accumulates during the loop and is finalised after
//   it; ops depending on it run after the loop.
// - Every inference starts from fresh neuron state: SpikingJelly neurons
//   (lif/if) start at v_reset for hard reset and at 0 otherwise (this is what
//   SpikingJelly does; it equals 0 for the default v_reset 0); snnTorch leaky
//   starts at mem = 0.
// - A lif op with output = "membrane" returns the charged membrane (before the
//   reset) instead of its spikes; it still fires and resets internally, and its
//   spikes are counted in LifStats.
// - Output values are returned as [batch, ...shape] for invariant values and
//   [batch, T, ...shape] for per-step values.
// - Rate encoding is deterministic, see interp/rate_encoding.h.
// - A module is first checked with ir::verify(); the interpreter then adds its
//   own requirements (e.g. conv/linear weights and batchnorm statistics must not
//   depend on the model input; nothing per-step may follow a mean over time).
//   Problems come back in RunResult::error, naming the op.
// - run() is reentrant and thread-safe for distinct calls; it keeps a few
//   scratch buffers per calling thread between calls (bounded by the model's
//   largest layer, not by the batch).
#pragma once

#include "ir/module.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace stc::interp {

// One per module input (in the order of Module::inputs()): `batch` samples,
// row-major [batch, ...input shape].
struct InputBatch {
    int64_t batch = 0;
    std::vector<float> data;
};

struct RunOptions {
    // Threads for the batch and inside GEMMs (the caller's thread counts as one);
    // < 1 = all hardware threads. Results are identical for any thread count.
    int threads = 1;
    // Also count spikes per neuron (summed over time and batch) into LifStats::perNeuron.
    bool perNeuronCounts = false;
    // Checked between ops; when it becomes true run() returns with cancelled = true.
    const std::atomic<bool>* cancel = nullptr;
    // Called on the calling thread after each value is computed (also for
    // inputs, reshape-like views and direct encodings; not for constants):
    // t is the time step, or -1 for a time-invariant value; data holds
    // batch * elements floats, [batch, ...shape] row-major. The span is only
    // valid during the call.
    std::function<void(int t, ir::ValueId v, std::span<const float> data)> observe;
};

struct LifStats {
    ir::ValueId value = ir::kNoValue; // the lif op's result
    std::string name;                 // value name
    std::string origin;               // the op's model-level location
    int64_t neuronsPerSample = 0;
    std::vector<int64_t> spikesPerStep; // T entries, summed over batch and neurons
    int64_t total = 0;
    std::vector<int32_t> perNeuron; // neuronsPerSample entries when RunOptions::perNeuronCounts, else empty
};

struct RunResult {
    std::vector<std::vector<float>> outputs; // one per module output
    std::vector<ir::Shape> outputShapes;     // [batch, ...] or [batch, T, ...] (per-step outputs)
    std::vector<LifStats> lif;               // one per lif op, in op order
    bool cancelled = false;
    std::string error; // non-empty: the module or the inputs were rejected (nothing else is valid)
    bool ok() const { return error.empty() && !cancelled; }
};

RunResult run(const ir::Module& module, const std::vector<InputBatch>& inputs, const RunOptions& options = {});

} // namespace stc::interp

// The fixed-point reference executor: runs a quantized module (see qmodel.h)
// in integer arithmetic with the semantics of arith.h. Its spikes and outputs
// are what a bit-accurate chip simulator must reproduce exactly.
//
// Time semantics as in the f32 interpreter (interp/interpreter.h): per-step ops
// run for t = 0..T-1 in op order with no synaptic delay between layers (a
// pipelined schedule shifts whole layers in time but not their spike trains),
// every inference starts from zero neuron state, a mean over time accumulates
// during the loop and is finalised after it.
#pragma once

#include "interp/interpreter.h"
#include "ir/module.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace stc::fixedpoint {

struct RunOptions {
    int threads = 1; // samples run in parallel; results do not depend on it
    const std::atomic<bool>* cancel = nullptr;
    // Called on the calling thread for sample 0 only, after each value is
    // computed: t = step or -1, the integers and the value's real scale.
    std::function<void(int t, ir::ValueId v, std::span<const int32_t> data, double scale)> observe;
};

struct LifCount {
    ir::ValueId value = ir::kNoValue;
    std::string name;
    int64_t neuronsPerSample = 0;
    int64_t total = 0; // spikes over batch, time and neurons
};

struct RunResult {
    // Dequantized outputs (integer * scale), [batch, ...] or [batch, T, ...].
    std::vector<std::vector<float>> outputs;
    std::vector<ir::Shape> outputShapes;
    std::vector<LifCount> lif;
    bool cancelled = false;
    std::string error;
    bool ok() const { return error.empty() && !cancelled; }
};

RunResult run(const ir::Module& module, const std::vector<interp::InputBatch>& inputs, const RunOptions& options = {});

} // namespace stc::fixedpoint

// Internal: a quantized module compiled for the fixed-point executor.
#pragma once

#include "fixedpoint/arith.h"
#include "fixedpoint/qmodel.h"
#include "ir/module.h"

#include <cstdint>
#include <string>
#include <vector>

namespace stc::fixedpoint::detail {

enum class Phase : uint8_t { None, Pre, Loop, Post };

struct ConvGeom {
    int64_t C = 0, H = 1, W = 0, O = 0, OH = 1, OW = 0, KH = 1, KW = 0;
    int64_t sy = 1, sx = 1, py = 0, px = 0, dy = 1, dx = 1, groups = 1;
};

struct Step {
    int32_t op = -1;
    ir::OpKind kind = ir::OpKind::Const;
    Phase phase = Phase::None;
    std::vector<ir::ValueId> in;
    ir::ValueId out = ir::kNoValue;
    // layers
    std::vector<int32_t> wT; // conv: [(cg*KH + ky)*KW + kx][O]; linear: [I][O]
    std::vector<int32_t> bias, shift;
    ConvGeom g;
    int64_t rows = 0, inFeatures = 0; // linear
    // gathers: permute (out -> in), add/mul operands (out -> in), reduce (in -> out)
    std::vector<int32_t> map0, map1;
    int32_t shift0 = 0, shift1 = 0; // add: left shifts aligning the operands' scales
    // matmul
    int64_t n = 0, k = 0, mcols = 0;
    std::vector<int64_t> batchA, batchB; // element offsets per output batch
    // neurons
    NeuronParams neuron;
    bool membraneOut = false; // lif output = "membrane": writes the charged membrane (graded), not spikes
    int32_t lifIndex = -1;
    // mean over time
    int32_t accIndex = -1;
    // delay: ring index and steps
    int32_t delayIndex = -1;
    int64_t delaySteps = 0;
    // encode
    double inputScale = 1.0;
    int64_t inputLo = 0, inputHi = 0;
};

struct Program {
    std::vector<Step> steps;
    std::vector<ValueQ> q;
    std::vector<int64_t> elements; // per value
    std::vector<bool> perStep;
    std::vector<ir::ValueId> inputs, outputs;
    std::vector<int32_t> lifOps; // op index per lif
    int32_t accCount = 0;
    std::vector<size_t> delaySteps; // indices into steps of the delay ops (their rings take the operand after each step)
    int64_t timesteps = 1;
};

// Compiles the module; returns an error message or "".
std::string compile(const ir::Module& m, Program& p);

// Runs one op for one sample. `vals` are the per-sample value buffers,
// `u`/`v` the neuron state of this step's lif (if any).
void execStep(const Step& s, std::vector<std::vector<int32_t>>& vals, std::vector<int32_t>* u, std::vector<int32_t>* v,
              int64_t* spikeCount);

} // namespace stc::fixedpoint::detail

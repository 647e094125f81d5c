// How a quantized module is annotated (written by the quantize pass, read by
// the fixed-point executor and later by the backends) and the static analysis
// both share: for every value its real scale (real value = integer * scale)
// and a bound on the integer's magnitude.
//
// Annotations (attribute names with a '.' are free-form in the Spike IR):
//   module   quantized = true, quant.weight_bits, quant.per_channel
//   encode   q.input_scale (float), q.input_bits (int), q.input_signed (bool)
//   conv1d/conv2d/linear
//            weight operand: i8 (bits <= 8) or i16 mantissas [O, ...]
//            bias operand (optional): i32, in units of the layer output scale
//            q.weight_scale (float): real value of a mantissa step at shift 0
//            q.shift (int list, one per output channel, >= 0): weight exponent
//            output scale = input scale * q.weight_scale
//   lif      q.theta_mant, q.theta_exp (threshold = mant << exp), q.du, q.dv,
//            q.act_shift (see arith.h for the update), q.v_scale (float): real
//            value of one membrane state unit. Output "spikes": scale 1, bound
//            1; output "membrane": the charged membrane, scale q.v_scale,
//            bound membraneBound() (a graded value, like any other here)
// Everything else (views, pooling, add, mul, scale, matmul, sum, mean) is exact
// integer arithmetic with the scale tracked here; `scale` ops only change the
// scale, so the attention scale ends up in the receiving neuron's threshold.
#pragma once

#include "fixedpoint/arith.h"
#include "ir/module.h"

#include <cstdint>
#include <string>
#include <vector>

namespace stc::fixedpoint {

inline constexpr int64_t kBoundLimit = (int64_t{1} << 31) - 1; // values are stored as int32

struct ValueQ {
    bool known = false; // false for constants and float inputs
    double scale = 1.0;
    int64_t bound = 0;  // |integer| <= bound for every allowed input
    bool nonNegative = false; // integer >= 0 for every allowed input (spikes, unsigned pixels)
};

// Propagates scale and bound through op `opIndex` given the infos of earlier
// values (quantized layers and neurons read their annotations). Returns an
// error message (empty if fine).
std::string propagateOp(const ir::Module& m, int32_t opIndex, std::vector<ValueQ>& infos);

struct Analysis {
    std::vector<ValueQ> values;
    std::string error; // names the op that is not supported or overflows
    bool ok() const { return error.empty(); }
};
// After every op: a delay on a back edge assumed 0/1 spikes of scale 1; "" or
// the located error when its operand is not.
std::string checkBackEdges(const ir::Module& m, const std::vector<ValueQ>& infos);

Analysis analyzeQuantized(const ir::Module& m);

// The model input a value is a reshape/flatten chain of, or kNoValue.
ir::ValueId floatInputOf(const ir::Module& m, ir::ValueId v);

// Neuron parameters of a quantized lif op (from its annotations).
NeuronParams neuronParams(const ir::Op& lif);

// Bound on |v| (so on the charged membrane) of a neuron over `timesteps`
// steps from rest when every synaptic input |a| <= inBound: u sums at most
// G(du) inputs << actShift and v at most G(dv) currents, G(d) = sum over
// j < timesteps of (1 - d/4096)^j (decay rounds toward zero, resets only
// lower |v|); capped at kStateMax (v saturates).
int64_t membraneBound(const NeuronParams& p, int64_t inBound, int64_t timesteps);
// The same bound in v units, not capped (what v would reach without saturation).
double membraneReach(const NeuronParams& p, int64_t inBound, int64_t timesteps);

// Label for messages: "%name = kind".
std::string describe(const ir::Module& m, int32_t opIndex);

int64_t saturatingAdd(int64_t a, int64_t b);
int64_t saturatingMul(int64_t a, int64_t b);

} // namespace stc::fixedpoint

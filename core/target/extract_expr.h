// Internal to network extraction: symbolic linear expressions over
// population outputs, as the tracer walks the IR from a neuron's input back
// to the populations feeding it.
#pragma once

#include "target/network.h"

#include <memory>
#include <string>
#include <vector>

namespace stc::target::detail {

// A weight op in op coordinates (see Projection), before it is attached to
// populations.
struct OpGeom {
    int32_t op = -1;
    std::string name, origin;
    Coupling coupling = Coupling::Full; // Full or Diag
    int featureAxis = 0;
    ir::Shape inShape, outShape; // same rank
    int64_t groups = 1;
    std::vector<StencilAxis> axes;
    std::vector<float> weights;

    int64_t inFeatures() const { return inShape[size_t(featureAxis)]; }
    int64_t outFeatures() const { return outShape[size_t(featureAxis)]; }
    int64_t taps() const;
};

// One population's contribution to a value.
struct Term {
    int32_t pop = -1;
    // Element of the current tensor -> src neuron (no geom) or op output element (geom).
    std::vector<int32_t> index;
    std::vector<float> mult; // per current element; empty = all 1
    double scalar = 1.0;
    std::shared_ptr<const OpGeom> geom; // at most one weight op per term
    std::vector<int32_t> opIn;           // geom: op input element -> src neuron
    // Delay ops on the way (y[t] = x[t - delay]): the source's spikes of model
    // step t are integrated at model step t + delay. A back edge (a delay
    // reading a value defined after it) names that value in `backEdge` with
    // pop = -1 until the value's population exists; `delayOp` is the last
    // delay op (for located errors).
    int delay = 0;
    ir::ValueId backEdge = ir::kNoValue;
    int32_t delayOp = -1;

    bool uniform() const { return mult.empty(); }
};

struct Expr {
    ir::Shape shape;
    std::vector<Term> terms;
    std::vector<double> bias; // per element; empty = 0
    bool timeAverage = false;
    // Integer (quantized) mode, time-averaged value: `bias` is added once per
    // inference (the executor's integer total), not every step.
    bool biasPerInference = false;
    int64_t size() const { return ir::numElements(shape); }
    bool constantOnly() const { return terms.empty(); }
};

// Row-major strides.
std::vector<int64_t> stridesOf(const ir::Shape& s);
// Element mapping of numpy broadcasting: for each element of `to`, the flat
// index in `from` (shapes must broadcast).
std::vector<int32_t> broadcastIndex(const ir::Shape& from, const ir::Shape& to);
// Element mapping of a permute: result element -> operand element.
std::vector<int32_t> permuteIndex(const ir::Shape& operand, const std::vector<int64_t>& perm);
// Applies an element mapping (result element -> operand element) to an expression.
Expr remap(const Expr& e, const ir::Shape& resultShape, const std::vector<int32_t>& map);
// Evaluates a weight op densely (for biases pushed through ops).
std::vector<double> applyGeom(const OpGeom& g, const std::vector<double>& in);

// Folds a sum/mean over whole axes (Diag, reduce-only) followed by a full
// weight op with identity stencils into one full op (mean over tokens, then
// linear). Returns false when the ops do not have that form.
bool composeReduceThenFull(const Term& t, const OpGeom& g, Term& out);

// Splits a flat index into (coordinate on axis fa, flat index over the other axes).
struct AxisSplit {
    int64_t inner = 1, size = 1;
    AxisSplit(const ir::Shape& shape, int fa);
    int64_t feature(int64_t flat) const { return (flat / inner) % size; }
    int64_t position(int64_t flat) const { return (flat / (inner * size)) * inner + flat % inner; }
    int64_t join(int64_t f, int64_t p) const { return (p / inner) * (inner * size) + f * inner + p % inner; }
};

} // namespace stc::target::detail

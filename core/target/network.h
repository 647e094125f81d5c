// The network a chip runs: populations of neurons and the projections
// (synaptic connections) between them, extracted from an ir::Module
// (network_extract.cpp). Projections keep their geometry (convolution
// stencils, per-position dense layers, pooling, reductions, gathers for
// products) so that resource counts per core slice are computed analytically
// instead of by enumerating hundreds of millions of synapses.
#pragma once

#include "fixedpoint/arith.h"
#include "ir/module.h"
#include "util/diagnostics.h"

#include <cstdint>
#include <string>
#include <vector>

namespace stc::target {

enum class PopulationKind : uint8_t {
    Input,   // encoder neurons injecting the model input (graded for direct encoding)
    Lif,     // a spiking neuron op of the IR
    Relay,   // materialized intermediate: OR (maxpool of spikes) or graded sum
    Product, // coincidence/multiplier neurons of a tensor-tensor product (attention)
    Readout, // non-spiking accumulators read by the host at the end (model outputs)
};
const char* toString(PopulationKind k);

// Float reference parameters; the package stores their fixed-point form.
struct NeuronParams {
    std::string model = "lif"; // lif, if, leaky, relay, and, gate, mul, accumulate
    double tau = 2.0;
    double beta = 1.0;
    bool decayInput = true;
    double vThreshold = 1.0;
    double vReset = 0.0;
    std::string reset = "hard"; // hard, subtract, subtract-delayed, none
    std::string fire = "ge";    // ge, gt
    friend bool operator==(const NeuronParams&, const NeuronParams&) = default;
};

// The integer definition of a population when the module was quantized by the
// `quantize` pass (Network::quantized): exactly the pass's annotations, so the
// package and core/sim reproduce the fixed-point reference executor.
struct FixedPointSpec {
    fixedpoint::NeuronParams neuron; // lif/if/leaky (arith.h semantics)
    double valueScale = 1.0;         // real value of one integer step of the output
    double inputUnit = 1.0;          // real value of one integer step of the synaptic input
    // Input populations: the host encodes x = clamp(round(p / inputScale), inputLo, inputHi).
    double inputScale = 1.0;
    int64_t inputLo = 0, inputHi = 0;
};

struct Population {
    std::string name;   // IR value name (or a derived name for relays/products)
    std::string origin; // model-level location
    int32_t op = -1;    // defining IR op (-1 for synthetic populations)
    PopulationKind kind = PopulationKind::Lif;
    ir::Shape shape;    // per-step shape
    int featureAxis = 0;
    int spikeBits = 1;  // 1 = binary spikes, more = graded payload
    NeuronParams neuron;
    std::vector<double> bias; // per neuron (flat); empty = 0 (integers when Network::quantized)
    bool biasPerInference = false; // readouts of a quantized time average: bias added once, not every step
    double rate = 0.0;       // spikes (events) per neuron per step
    bool rateMeasured = false;
    std::vector<float> neuronRates; // optional per-neuron rates (flat order)
    int phase = 0;                  // pipelined schedule: step offset of its first valid output
    double outputScale = 1.0;       // readouts: host multiplies the accumulator by this
    bool perStepOutput = false;     // readouts: the model output is per step (not summed over time)
    FixedPointSpec fx;              // valid when Network::quantized

    int64_t size() const { return ir::numElements(shape); }
    int64_t features() const { return shape.empty() ? 1 : shape[size_t(featureAxis)]; }
    int64_t positions() const { return features() == 0 ? 0 : size() / features(); }
    // Shape of the position axes (all axes but the feature axis), in order.
    ir::Shape positionShape() const;
    // Flat neuron index of (feature, flat position index), and back.
    int64_t neuronIndex(int64_t feature, int64_t position) const
    {
        if (shape.empty())
            return 0;
        const int64_t inner = innerStride();
        return (position / inner) * (inner * shape[size_t(featureAxis)]) + feature * inner + position % inner;
    }
    void split(int64_t neuron, int64_t& feature, int64_t& position) const
    {
        if (shape.empty()) {
            feature = position = 0;
            return;
        }
        const int64_t inner = innerStride(), f = shape[size_t(featureAxis)];
        feature = (neuron / inner) % f;
        position = (neuron / (inner * f)) * inner + neuron % inner;
    }
    int64_t innerStride() const // product of the dims after featureAxis
    {
        int64_t inner = 1;
        for (size_t a = size_t(featureAxis) + 1; a < shape.size(); ++a)
            inner *= shape[a];
        return inner;
    }
    double rateOf(int64_t neuron) const
    {
        return neuronRates.empty() ? rate : neuronRates[size_t(neuron)];
    }
};

// One axis of a separable stencil: output coordinate o reads input
// coordinates o*stride - pad + k*dilation for k in [0, kernel) that fall
// inside [0, inSize). Identity is {1,1,0,1}; a reduction over the axis has
// outSize 1 and kernel = inSize; a broadcast has inSize 1 and stride 0.
struct StencilAxis {
    int64_t inSize = 1;
    int64_t outSize = 1;
    int64_t kernel = 1;
    int64_t stride = 1;
    int64_t pad = 0;
    int64_t dilation = 1;
    bool isIdentity() const { return kernel == 1 && stride == 1 && pad == 0 && inSize == outSize; }
    friend bool operator==(const StencilAxis&, const StencilAxis&) = default;
};

enum class Coupling : uint8_t {
    Full,     // output feature o reads the input features of its group: weights[o][i][tap]
    Diag,     // output feature o reads input feature o only: weights[o][tap]
    Explicit, // synapse lists per dst neuron (gathers into products, irregular views)
};
const char* toString(Coupling c);

// A projection: synapses from `src` to `dst`.
// Full: geometry in op coordinates. The op input tensor holds the src
//   neurons rearranged by a view that keeps features and positions apart:
//   op input (feature i, position p) = src neuron (inFeatureToSrc[i], inPositionToSrc[p]),
//   op output (feature o, position q) = dst neuron (outFeatureToDst[o], outPositionToDst[q]).
// Diag: same stencil geometry, element-level maps (views may mix axes).
// Explicit: CSR rows per dst neuron.
struct Projection {
    std::string name; // for reports: "conv2d %patch_embed.proj_conv"
    std::string origin;
    int32_t op = -1; // the IR op behind it (or -1)
    int32_t src = -1, dst = -1;
    Coupling coupling = Coupling::Full;
    int featureAxis = 0; // op tensors' feature axis (Full, Diag)
    ir::Shape inShape, outShape; // op tensors (same rank; reduced axes have size 1)
    int64_t inFeatures = 1, outFeatures = 1, groups = 1;
    std::vector<StencilAxis> axes; // the non-feature axes of the op, in order
    // Full: [outFeatures][inFeatures/groups][taps]; Diag: [outFeatures][taps];
    // Explicit: one per synapse (or one for all: sharedWeight). Effective float weights (batch norm and
    // scale factors folded in); for a quantized module the exact integer
    // weights (mantissa << per-channel shift), which floats hold exactly.
    std::vector<float> weights;
    int64_t zeroWeights = 0; // exact zeros among `weights` (Explicit: among its synapses' weights)
    // Full maps.
    std::vector<int32_t> inFeatureToSrc, inPositionToSrc, outFeatureToDst, outPositionToDst;
    std::vector<int32_t> dstFeatureToOut, dstPositionToOut;
    // Diag maps (op flat element <-> population flat neuron).
    std::vector<int32_t> inElementToSrc, outElementToDst, dstToOutElement;
    // Explicit synapse lists: the synapses of dst neuron n are
    // [rowBegin(n), rowEnd(n)) of srcNeuron (and of weights). Two forms:
    // CSR (rowStart, dst neurons + 1 entries) or, when every row holds the
    // same number L >= 1 of synapses, compact (rowLength = L, rowStart empty,
    // row n at n * L). Independently, `sharedWeight` keeps one weight for all
    // synapses when they are equal. compactExplicit() chooses the forms;
    // readers go through rowBegin/rowEnd/synapseWeight (or forEachSynapseOf).
    std::vector<int64_t> rowStart;
    std::vector<int32_t> srcNeuron;
    int64_t rowLength = 0;     // > 0: the compact form
    bool sharedWeight = false; // weights holds one weight, every synapse's
    int delay = 0; // extra synaptic delay in steps (schedule alignment)
    // Model steps between a spike and its integration (IR delay ops: y[t] =
    // x[t - k]); included in `delay`. A projection whose src is not before its
    // dst in the population list is a recurrent back edge (docs/targets.md).
    int modelDelay = 0;
    int32_t delayOp = -1; // the IR delay op behind modelDelay (or -1)
    bool recurrent() const { return src >= dst; }

    int64_t taps() const
    {
        int64_t t = 1;
        for (const auto& a : axes)
            t *= a.kernel;
        return t;
    }
    int64_t inPositions() const;
    int64_t outPositions() const;
    int64_t inPerGroup() const { return inFeatures / groups; }
    int64_t outPerGroup() const { return outFeatures / groups; }
    float weight(int64_t o, int64_t iInGroup, int64_t tap) const
    {
        return coupling == Coupling::Full ? weights[size_t((o * inPerGroup() + iInGroup) * taps() + tap)]
                                          : weights[size_t(o * taps() + tap)];
    }
    int64_t synapseCount() const; // structural synapses (zeros included)
    // Explicit rows (either form) and synapse weights.
    int64_t rowBegin(int64_t n) const { return rowLength > 0 ? n * rowLength : rowStart[size_t(n)]; }
    int64_t rowEnd(int64_t n) const { return rowLength > 0 ? (n + 1) * rowLength : rowStart[size_t(n) + 1]; }
    float synapseWeight(int64_t s) const { return weights[sharedWeight ? 0 : size_t(s)]; }
};

// The length L of every row of an Explicit projection with dstNeurons rows
// (row n at n * L), or -1 when its rows are not all that long (either form;
// CSR rows of no synapses: 0).
int64_t uniformRowLength(const Projection& pr, int64_t dstNeurons);
// Puts an Explicit projection (CSR rows, one weight per synapse) into its
// compact form where it applies: uniform rows without rowStart, one shared
// weight when every weight has the same bits. The synapses, their order and
// weights are unchanged. Rows are made compact only when rowStart has
// dstNeurons + 1 entries. Other couplings: no-op.
void compactExplicit(Projection& pr, int64_t dstNeurons);
// The inverse: CSR rows and one weight per synapse (for code that edits
// synapse lists, and tests comparing both forms). `dstNeurons` sizes rowStart.
void expandExplicit(Projection& pr, int64_t dstNeurons);

struct Network {
    std::string model;
    int64_t timesteps = 1;
    std::vector<Population> populations; // topological order
    std::vector<Projection> projections;
    int depth = 0; // largest population phase + 1: extra steps of pipeline latency
    bool ratesMeasured = false;
    bool quantized = false; // the module was quantized: integer weights, biases and FixedPointSpec
    std::string scheduleMode = "latency"; // schedule-time's mode (throughput | latency)

    std::vector<int32_t> incoming(int32_t pop) const;
    std::vector<int32_t> outgoing(int32_t pop) const;
    int64_t neuronCount() const;
    int64_t synapseCount() const;
    // Structural synaptic events per step at the current rates.
    double synapticOpsPerStep() const;
};

// Enumerates the incoming synapses of one dst neuron (flat index):
// f(srcNeuron, weight), in a fixed order (taps row-major, then input
// features). Used by the package encoder and tests; the mapper counts
// analytically where it can.
template <typename F>
void forEachSynapseOf(const Projection& pr, const Population& srcPop, const Population& dstPop, int64_t dstNeuron,
                      F&& f);

// Decomposes a flat position index into per-axis coordinates of `sizes`.
void unflatten(int64_t flat, const std::vector<int64_t>& sizes, std::vector<int64_t>& out);

} // namespace stc::target

#include "target/network_inl.h"

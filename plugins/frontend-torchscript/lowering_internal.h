// Shared by lowering.cpp (driver, values, neurons) and lowering_ops.cpp (one
// handler per ATen op).
#pragma once

#include "lowering.h"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>

namespace stc::torchscript {

// What a recorded tensor is in IR terms. `Step` is one time step of a
// per-step IR value: the unrolled (traced) or looped (scripted) per-step code
// of all steps lowers to the same IR ops, deduplicated by value numbering.
struct AbsValue {
    enum class Kind : uint8_t { Missing, Error, Inv, Seq, Step, TimeSum };
    Kind kind = Kind::Missing;
    ir::ValueId ir = ir::kNoValue;
    int32_t step = -1;        // Step: which step
    std::vector<bool> summed; // TimeSum: the steps added up so far
    Layout layout;

    bool ok() const { return kind == Kind::Inv || kind == Kind::Seq || kind == Kind::Step; }
    static AbsValue error() { return {Kind::Error, ir::kNoValue, -1, {}, {}}; }
};

class Lowerer {
public:
    Lowerer(const RecordedGraph& g, const NeuronAnalysis& na, int64_t expectedT, Diagnostics& diags);
    LoweringResult run();

    // ---- for op handlers ----
    const RecordedGraph& g;
    const NeuronAnalysis& na;
    ir::Module m;
    int64_t T = 0; // module time steps, 0 = not known yet
    int64_t B = 1;
    const RecNode* node = nullptr; // the node being lowered

    AbsValue value(ValueRef v);
    AbsValue arg(size_t i); // abstract value of the node's i-th input (Missing if static)
    AbsValue operand(size_t i) { return materialize(arg(i)); }
    const std::vector<int64_t>& shapeOf(ValueRef v) const { return g.values[size_t(v)].shape; }
    const std::vector<int64_t>& argShape(size_t i) const { return shapeOf(node->inputs[i].dyn); }
    const std::vector<int64_t>& outShape(size_t i = 0) const;
    bool argIsDyn(size_t i) const { return i < node->inputs.size() && node->inputs[i].isDyn(); }
    std::optional<double> argScalar(size_t i) const;
    std::optional<std::vector<int64_t>> argInts(size_t i) const;
    StaticTensorPtr argTensor(size_t i) const;

    void setOut(size_t i, AbsValue v); // validates the IR shape against the recorded one
    void setOutList(size_t i, std::vector<AbsValue> items);
    // Result template for an op over `operands`: kind/step joined; reports
    // mixing of time steps. Error if any operand is not usable.
    AbsValue join(const std::vector<AbsValue>& operands);
    AbsValue make(const AbsValue& like, ir::ValueId ir, Layout layout) const;
    // A TimeSum covering all steps becomes mean-over-time times T.
    AbsValue materialize(const AbsValue& v);

    ir::ValueId emit(ir::OpKind kind, std::vector<ir::ValueId> operands, ir::Attributes attrs,
                     const std::string& hint);
    ir::ValueId constant(const StaticTensorPtr& t);
    ir::ValueId constant(ir::Tensor t, const std::string& hint);
    // A static operand of an elementwise op, aligned to the result's feature
    // axes (static batch/time axes must be constant along them).
    std::optional<ir::ValueId> alignedConstant(const StaticTensor& t, const Layout& outLayout,
                                               const std::vector<int64_t>& outShape);
    // Reshapes `v` (IR shape) to `shape` if they differ.
    ir::ValueId reshapeTo(ir::ValueId v, const std::vector<int64_t>& shape);
    bool requireTimesteps(int64_t t, const std::string& why);

    const std::vector<int32_t>& users(ValueRef v); // nodes consuming v
    bool needed(int32_t n) const { return n >= 0 && size_t(n) < needed_.size() && needed_[size_t(n)]; }
    void unsupported(const std::string& message); // error at the current node, op kind = node kind
    void note(Severity s, const std::string& message);

private:
    // Step `step` of neuron k's spikes (or, for a readout, its membrane).
    AbsValue neuronOutput(int32_t k, int32_t step, ValueRef v, bool membrane);
    void markNeeded(std::vector<char>& needed);
    void lowerNode(int32_t n);
    std::string uniqueName(const std::string& base);
    std::string origin() const;

    Diagnostics& diags_;
    int64_t expectedT_;
    std::vector<AbsValue> abs_;
    std::vector<std::vector<int32_t>> users_; // computed on first use
    std::vector<char> needed_;                // nodes whose results the outputs depend on
    std::map<std::tuple<int, std::vector<ir::ValueId>, std::string>, ir::ValueId> cse_;
    std::map<const StaticTensor*, ir::ValueId> staticConsts_;
    std::map<std::string, ir::ValueId> smallConsts_;
    std::set<std::string> names_;
    std::set<std::string> reported_;
    struct NeuronState {
        ir::ValueId source = ir::kNoValue; // the driving value (before encode)
        bool invariantSource = false;
        ir::ValueId drive = ir::kNoValue;  // the lif operand (encoded if invariant)
        ir::ValueId lif = ir::kNoValue;      // spikes
        ir::ValueId membrane = ir::kNoValue; // output = "membrane" twin
        bool spikesUsed = false, membraneUsed = false;
    };
    std::vector<NeuronState> neuronState_;
};

using OpHandler = std::function<void(Lowerer&)>;
const std::unordered_map<std::string, OpHandler>& opHandlers();

} // namespace stc::torchscript

// The recording of one concrete execution of a TorchScript model: every op
// that depended on the model input, in execution order, with its static
// arguments, the module it ran in and its source range. Std-only, so neuron
// recognition and lowering compile and test without LibTorch.
#pragma once

#include "ir/tensor.h"
#include "util/diagnostics.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace stc::torchscript {

using ValueRef = int32_t; // index into RecordedGraph::values
constexpr ValueRef kNoRef = -1;

enum class DType : uint8_t { Float32, Float64, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt8, Bool, Other };
const char* toString(DType t);

// A static tensor argument (weights, statistics, constants), converted to f32.
struct StaticTensor {
    DType dtype = DType::Float32;
    std::vector<int64_t> shape;
    ir::TensorPtr data; // f32 copy of the values
    bool uniform() const;   // all elements equal (and at least one)
    double first() const;   // element 0 (0 if empty)
    int64_t numel() const;
};
using StaticTensorPtr = std::shared_ptr<const StaticTensor>;

// A node input or output: a static value, or a reference to dynamic values.
struct RecArg {
    enum class Kind : uint8_t { None, Bool, Int, Double, String, IntList, DoubleList, Tensor, Dyn, List, Other };
    Kind kind = Kind::None;
    bool b = false;
    int64_t i = 0;
    double d = 0.0;
    std::string s;                 // String; type name for Other
    std::vector<int64_t> ints;     // IntList (also BoolList as 0/1)
    std::vector<double> doubles;   // DoubleList
    StaticTensorPtr tensor;        // Tensor
    ValueRef dyn = kNoRef;         // Dyn
    std::vector<RecArg> items;     // List / tuple (may mix static and dynamic entries)

    bool isDyn() const { return kind == Kind::Dyn; }
    bool isScalar() const { return kind == Kind::Int || kind == Kind::Double || kind == Kind::Bool; }
    double scalar() const { return kind == Kind::Double ? d : kind == Kind::Int ? double(i) : b ? 1.0 : 0.0; }
    bool hasDyn() const; // Dyn itself or a list containing one
    void collectDyn(std::vector<ValueRef>& out) const;
    std::string describe() const; // short text for dumps
};

struct RecValue {
    int32_t node = -1; // producing node; -1 = the model input
    std::vector<int64_t> shape;
    DType dtype = DType::Float32;
    bool scalar = false; // a number (not a tensor) computed from the input, e.g. by item()
    int64_t numel() const;
};

struct RecNode {
    std::string kind;        // "aten::add"
    std::string schema;      // operator overload name ("Tensor", "Scalar", ...)
    std::vector<RecArg> inputs;
    std::vector<RecArg> outputs;
    std::string modulePath;  // "blocks.0.attn.q_lif"; "" = the root module
    std::string moduleType;  // class of that module (mangling removed), a hint only
    std::string source;      // "model.py:12:8: v = v + (x - v) / self.tau" when known
    SourceLoc loc;           // file and line of the TorchScript/Python source when known

    bool mutates = false;    // schema writes into an argument (copy_, add_, ...)
    std::vector<ValueRef> dynInputs() const;  // in argument order, lists flattened
    std::vector<ValueRef> dynOutputs() const;
    std::string where() const; // "blocks.0.attn (model.py:12)" for diagnostics
};

struct RecordedGraph {
    std::vector<RecNode> nodes;
    std::vector<RecValue> values;
    ValueRef input = kNoRef;           // the model input
    std::vector<int64_t> inputShape;   // with batch
    RecArg output;                     // what forward returned (Dyn, List of Dyn, or static)
    std::string modelFile;
    // Module attributes (paths like "lif1.v") that forward overwrote with
    // values computed from the input: state kept across calls.
    std::vector<std::string> stateWrites;

    int64_t batch() const { return inputShape.empty() ? 1 : inputShape[0]; }
    const RecValue& value(ValueRef v) const { return values[size_t(v)]; }
    // users[v] = nodes consuming value v (each node once)
    std::vector<std::vector<int32_t>> users() const;
    std::string dump() const; // human-readable listing, for debugging
};

// Re-executes recorded nodes with LibTorch on other data (implemented by the
// torch side). Used to identify neurons by probing their computation.
struct Feed {
    int32_t node = -1;    // the consuming node
    int32_t ordinal = 0;  // which of its dynamic inputs (dynInputs() order)
    std::vector<float> data; // same shape as the recorded value
};

class Replayer {
public:
    virtual ~Replayer() = default;
    // Replays `nodes` (recorded order). Dynamic inputs fed by `feeds` take that
    // data, values produced by replayed nodes take the replayed data, all other
    // inputs their recorded data. Fills `out` with the data of `want` (every
    // `stride`-th element of each, flattened).
    virtual bool replay(const std::vector<int32_t>& nodes, const std::vector<Feed>& feeds,
                        const std::vector<ValueRef>& want, std::vector<std::vector<float>>& out,
                        std::string* error, size_t stride = 1) = 0;
    // The concrete data a value had in the recording (f32); with stride > 1
    // only elements 0, stride, 2*stride, ... of the flattened value.
    virtual std::vector<float> recorded(ValueRef v, size_t stride = 1) const = 0;
    // The recorded data of several values at once (one replay when they
    // have to be recomputed), every `stride`-th element; with `nonzero`, also
    // how many elements of each whole value are nonzero (NaN counts).
    virtual bool recorded(const std::vector<ValueRef>& vs, size_t stride, std::vector<std::vector<float>>& out,
                          std::vector<int64_t>* nonzero, std::string* error) const = 0;
};

} // namespace stc::torchscript

// Shared by the recorder (graph_recorder.cpp) and the replay and helper code
// (recording_support.cpp). Includes LibTorch: only for those two files.
#pragma once

#include "torch_internal.h"

#include <torch/csrc/jit/ir/ir.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace stc::torchscript::detail {

DType dtypeOf(c10::ScalarType t);
// Every `stride`-th element of `t` (flattened), as f32.
std::vector<float> toFloats(const at::Tensor& t, size_t stride = 1);
std::string firstLine(std::string s);
// Traced graphs carry "file.py(12): forward" instead of code; show the code
// line from the original file when it is still there.
std::string lineFromDisk(const std::string& file, size_t line);
// Fills rn.loc / rn.source from the node's source range.
void sourceOf(const torch::jit::Node* n, RecNode& rn);
// Lists, tuples, dicts, strings: executed, never recorded.
const std::unordered_set<std::string>& containerOps();
// Ops whose result depends on the shape/type of a tensor but not its values.
const std::unordered_set<std::string>& shapeOnlyOps();
// Argument `i` of an op of kind `kind` is a tensor used only for its dtype,
// device or shape (`x.to(other)`, `type_as`, `expand_as`, `view_as`, ...):
// not a data dependence.
bool metadataOnlyArg(const std::string& kind, size_t i);
// Runs a convolution that LibTorch computes sample by sample (its slow
// kernel) as two half-batch calls on two threads; same bytes as one call.
// false (stack untouched) when that does not apply: run it as usual.
bool runSplitConvolution(const std::string& kind, torch::jit::Operation& op, std::vector<c10::IValue>& stack);

// The data of a recording. Values computed by elementwise ops (a neuron's
// charge, fire and reset arithmetic: most of a spiking model's tensors) are
// not kept: they are recomputed on demand by replaying the elementwise ops
// that produced them, from kept values. Kept are the model input and the
// outputs of every other op (convolutions, norms, reshapes, stacks, ...),
// i.e. everything an elementwise op can be replayed from. Keeping every
// intermediate tensor would make each op write into fresh memory (a page
// fault per 4 KiB) and holds hundreds of MB for a Spikformer.
class RecordingImpl final : public Recording {
public:
    torch::jit::Module module;               // keeps the graphs (Node*) alive
    // per ValueRef: the data when kept; undefined for scalars and for values
    // recomputed on demand
    std::vector<at::Tensor> tensors;
    mutable std::vector<torch::jit::Operation> ops; // per recorded node (calling one is non-const)
    // per recorded node: its inputs as executed, except that dynamic tensors
    // are empty placeholders of their dtype (their data is the recorded value
    // they refer to) and tensors used for their dtype/shape only carry no data
    std::vector<std::vector<c10::IValue>> stacks;

    bool replay(const std::vector<int32_t>& nodes, const std::vector<Feed>& feeds, const std::vector<ValueRef>& want,
                std::vector<std::vector<float>>& out, std::string* error, size_t stride = 1) override;
    std::vector<float> recorded(ValueRef v, size_t stride = 1) const override;
    bool recorded(const std::vector<ValueRef>& vs, size_t stride, std::vector<std::vector<float>>& out,
                  std::vector<int64_t>* nonzero, std::string* error) const override;

private:
    using FeedMap = std::map<std::pair<int32_t, int32_t>, const Feed*>;
    // Replays `nodes` and, first, the producers of every input that is
    // neither fed, nor produced by a replayed node, nor kept. Throws when a
    // value cannot be obtained.
    void run(const std::vector<int32_t>& nodes, const FeedMap& feeds,
             std::unordered_map<ValueRef, at::Tensor>& values) const;
    // Kept or recomputed data of `vs`.
    std::vector<at::Tensor> materialize(const std::vector<ValueRef>& vs) const;
};

// ---- the recorder (graph_recorder.cpp; in-place writes in recorder_views.cpp) ----

using c10::IValue;
using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;

struct Abort {}; // stops execution after a fatal diagnostic

struct RtValue {
    IValue iv;
    std::string path;        // module objects: path from the root module
    bool dynScalar = false;  // a number computed from input data
    ValueRef scalarRef = kNoRef;
};

struct Frame {
    std::string path;
    std::string typeName;
    int depth = 0;
};

class Recorder {
public:
    Recorder(RecordingImpl& rec, const std::atomic<bool>* cancel, Diagnostics& diags)
        : rec_(rec), g_(rec.graph), cancel_(cancel), diags_(diags)
    {
    }

    void run(const torch::jit::Module& module, const at::Tensor& input);

private:
    using Env = std::unordered_map<const Value*, RtValue>;

    std::vector<RtValue> callGraph(torch::jit::Graph& graph, std::vector<RtValue> args, const Frame& frame);
    void runBlock(const Block* block, Env& env, const Frame& frame);
    void execNode(const Node* node, Env& env, const Frame& frame);
    void execGeneric(const Node* node, Env& env, const Frame& frame);
    void execCall(const Node* node, Env& env, const Frame& frame);
    void execLoop(const Node* node, Env& env, const Frame& frame);
    bool execStructural(const Node* node, Env& env);
    void preserveBeforeWrite(const Node* node, const std::vector<IValue>& stack);
    void preserveTensor(const at::Tensor& t);

    // `view` = base.select(dim, start) or base.slice(dim, start, end, step).
    struct ViewLink {
        at::Tensor view, base; // both held, so their TensorImpl addresses stay unique
        bool select = false;
        int64_t dim = 0, start = 0, end = 0, step = 1;
    };
    // A tensor about to change through a write into one of its views.
    struct PendingScatter {
        ViewLink link;
        at::Tensor beforeData;       // its contents before the write
        ValueRef before = kNoRef;    // its recorded value before the write, or
        StaticTensorPtr beforeStatic; // its static contents
    };
    void noteView(const std::string& kind, const at::Tensor& base, const std::vector<const RtValue*>& ins,
                  const std::vector<IValue>& outs);
    std::vector<PendingScatter> viewWritesOf(const Node* node, const std::vector<IValue>& stack);
    void recordScatter(PendingScatter& p, const std::string& path, const std::string& type, int32_t writer);

    bool isDynamic(const IValue& v) const;
    RecArg toArg(const IValue& v, const RtValue* rt);
    RecArg outputArg(const IValue& v, int32_t node, bool keep);
    IValue storedInput(const IValue& v, const RecArg& arg, bool mutates, bool& original);
    StaticTensorPtr staticTensor(const at::Tensor& t);
    [[noreturn]] void fail(const Node* node, const Frame& frame, const std::string& message);
    void located(const Node* node, const Frame& frame, Diagnostic d);

    RecordingImpl& rec_;
    RecordedGraph& g_;
    const std::atomic<bool>* cancel_;
    Diagnostics& diags_;
    std::unordered_map<const c10::TensorImpl*, ValueRef> dyn_;
    std::unordered_map<const c10::TensorImpl*, std::pair<at::Tensor, StaticTensorPtr>> statics_;
    std::unordered_map<const c10::TensorImpl*, std::string> stateTensors_; // module buffers -> "path.name"
    std::unordered_map<const c10::TensorImpl*, ViewLink> views_;
    std::unordered_map<const Node*, torch::jit::Operation> opCache_;
    // Tensors held by recorded input stacks: (node, slot), for copy-on-write.
    std::unordered_map<const c10::TensorImpl*, std::vector<std::pair<int32_t, size_t>>> storedRefs_;
    std::set<std::string> warned_;
    size_t executed_ = 0;
    // Every recorded tensor's TensorImpl object stays allocated (not its
    // data) while recording, so no later tensor gets the address of one
    // whose data was dropped: dyn_ identifies tensors by address.
    std::vector<c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>> addresses_;
};

} // namespace stc::torchscript::detail

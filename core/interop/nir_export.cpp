#include "interop/nir_export.h"

#include "interop/export_diag.h"
#include "interop/nir_import.h"
#include "interop/nir_neuron.h"
#include "ir/printer.h"

#include <map>
#include <set>

namespace stc::interop {

namespace {

using ir::OpKind;

const std::string kLowerFirst = lowerFirstHint("stc export-nir");

// Where a Spike IR value lives in the NIR graph: the nodes whose outputs, summed,
// are the value (one node; several for an `add`, since NIR sums the edges into a
// node), and the shape NIR sees. Reshapes are free in NIR (values are flat arrays
// in row-major order), so the NIR shape may differ from the IR shape until an op
// needs it.
struct NirValue {
    std::vector<std::string> sources{}; // empty: the placeholder of an op already reported
    ir::Shape shape;
    bool meanOverTime = false; // a `mean over_time` readout to be applied at the output
    const ir::Op* synapse = nullptr; // a CubaLIF's current stage, emitted with the neuron it feeds
    std::string sumName{}; // for a sum: its IR value name (names a node made for it)
};

// The run of dims [start, end] of `from` whose merging gives `to` (a NIR Flatten).
std::optional<std::pair<int64_t, int64_t>> flattenRun(const ir::Shape& from, const ir::Shape& to)
{
    const int64_t rank = static_cast<int64_t>(from.size());
    for (int64_t start = 0; start < rank; ++start)
        for (int64_t end = start + 1; end < rank; ++end) {
            ir::Shape merged(from.begin(), from.begin() + start);
            merged.push_back(ir::numElements(ir::Shape(from.begin() + start, from.begin() + end + 1)));
            merged.insert(merged.end(), from.begin() + end + 1, from.end());
            if (merged == to)
                return std::make_pair(start, end);
        }
    return std::nullopt;
}

class Exporter {
public:
    Exporter(const ir::Module& m, const NirExportOptions& o) : m_(m), opt_(o), users_(m.computeUsers()) {}

    NirExportResult run()
    {
        // Keep going after an op NIR lacks, so that every such op is listed.
        visitEveryOp(m_, d_, [this](const ir::Op& op) { visit(op); }, [this](const ir::Op& op) {
            if (op.result != ir::kNoValue && !values_.count(op.result))
                define(op, {{}, m_.typeOf(op.result).shape});
        });
        closeRecurrentEdges();
        checkRecurrentEdges();
        NirExportResult r;
        r.diagnostics = std::move(d_);
        if (!r.diagnostics.hasErrors()) {
            g_.metadata.arrays["stc_timesteps"] = NirArray::scalar(static_cast<double>(m_.timesteps), NirArray::DType::Int64);
            g_.metadata.arrays["stc_dt"] = NirArray::scalar(opt_.dt);
            g_.metadata.setString("stc_module", m_.name);
            r.graph = std::move(g_);
        }
        return r;
    }

private:
    const ir::Module& m_;
    NirExportOptions opt_;
    std::vector<std::vector<int32_t>> users_; // per value: the ops using it
    NirGraph g_;
    Diagnostics d_;
    std::map<ir::ValueId, NirValue> values_;
    std::set<std::string> names_;
    std::map<std::pair<std::vector<std::string>, ir::Shape>, std::string> flattens_;

    void error(const ir::Op& op, const std::string& msg) { opError(d_, m_, op, msg); }

    std::string uniqueName(const std::string& base)
    {
        std::string name = nirNodeName(base);
        for (int i = 1; names_.count(name); ++i)
            name = nirNodeName(base) + "_" + std::to_string(i);
        names_.insert(name);
        return name;
    }

    // A node with an edge from each of `from` (NIR sums them).
    NirNode& addNode(const std::string& base, const std::string& type, const std::vector<std::string>& from)
    {
        NirNode n;
        n.name = uniqueName(base);
        n.type = type;
        for (const auto& f : from)
            g_.edges.emplace_back(f, n.name);
        g_.nodes.push_back(std::move(n));
        return g_.nodes.back();
    }

    const NirValue* operand(const ir::Op& op, size_t i)
    {
        auto it = values_.find(op.operands[i]);
        return it == values_.end() ? nullptr : &it->second;
    }

    // The NIR nodes holding `v` in exactly `shape`: its own, or a Flatten merging
    // one run of its dims (with an edge from each of a sum's nodes). Unsqueezing
    // has no NIR node: that is an error. A placeholder passes as it is.
    std::optional<std::vector<std::string>> materialize(const ir::Op& op, const NirValue& v, const ir::Shape& shape)
    {
        if (v.shape == shape || v.sources.empty())
            return v.sources;
        const auto run = flattenRun(v.shape, shape);
        if (!run) {
            error(op, "its operand has shape [" + ir::shapeToString(v.shape) + "] in NIR and needs [" +
                          ir::shapeToString(shape) + "]: NIR's Flatten cannot make that reshape");
            return std::nullopt;
        }
        auto& cached = flattens_[{v.sources, shape}];
        if (cached.empty()) {
            NirNode& f = addNode((v.sources.size() == 1 ? v.sources[0] : v.sumName) + ".flatten", "Flatten", v.sources);
            f.fields.arrays["start_dim"] = NirArray::scalar(static_cast<double>(run->first), NirArray::DType::Int64);
            f.fields.arrays["end_dim"] = NirArray::scalar(static_cast<double>(run->second), NirArray::DType::Int64);
            f.fields.arrays["input_type"] = NirArray::ints(v.shape);
            cached = f.name;
        }
        return std::vector<std::string>{cached};
    }

    const ir::Tensor* constant(const ir::Op& op, size_t i, const char* what)
    {
        const ir::Op& def = m_.definingOp(op.operands[i]);
        if (def.kind == OpKind::Const && def.constant)
            return def.constant.get();
        error(op, std::string("its ") + what + " is computed, not a constant: NIR weights are fixed arrays");
        return nullptr;
    }

    static NirArray floats(const ir::Tensor& t)
    {
        NirArray a{NirArray::DType::Float32, t.shape(), {}};
        for (float f : t.toFloats())
            a.values.push_back(f);
        return a;
    }

    void define(const ir::Op& op, NirValue v) { values_[op.result] = std::move(v); }

    // Back-edge delays: the placeholder source their users' edges name, and the value it stands for.
    std::map<std::string, ir::ValueId> recurrent_;
    std::map<std::string, const ir::Op*> recurrentOp_; // placeholder -> its delay op
    // Per back-edge delay op: (NIR source node, the nodes its edges go to), as written.
    std::map<const ir::Op*, std::set<std::pair<std::string, std::set<std::string>>>> recurrentEdges_;

    void visit(const ir::Op& op);
    void visitDelay(const ir::Op& op);
    void closeRecurrentEdges();
    void checkRecurrentEdges();
    void visitConv(const ir::Op& op, const NirValue& in);
    void visitNeuron(const ir::Op& op, const NirValue& in);
    void visitAdd(const ir::Op& op);
    void visitOutput(const ir::Op& op);
};

void Exporter::visit(const ir::Op& op)
{
    if (op.kind == OpKind::Const)
        return;
    if (op.kind == OpKind::Input) {
        NirNode& n = addNode(m_.value(op.result).name, "Input", {});
        n.fields.arrays["shape"] = NirArray::ints(m_.typeOf(op.result).shape);
        define(op, {{n.name}, m_.typeOf(op.result).shape});
        return;
    }
    if (op.kind == OpKind::Output)
        return visitOutput(op);
    if (op.kind == OpKind::Add)
        return visitAdd(op);
    if (op.kind == OpKind::Delay)
        return visitDelay(op);
    const NirValue* in = op.operands.empty() ? nullptr : operand(op, 0);
    if (!in)
        return; // an earlier op was already reported
    const ir::Shape& outShape = m_.typeOf(op.result).shape;
    switch (op.kind) {
    case OpKind::Encode:
        if (op.attrs.getString("mode") != "direct")
            return error(op, "NIR has no stochastic (rate) encoding; the NIR input is presented at every step as is");
        return define(op, *in);
    case OpKind::Reshape:
    case OpKind::Flatten:
        return define(op, {in->sources, in->shape, in->meanOverTime, nullptr, in->sumName});
    case OpKind::Conv1d:
    case OpKind::Conv2d:
        return visitConv(op, *in);
    case OpKind::Linear: {
        const ir::Shape& xs = m_.typeOf(op.operands[0]).shape;
        if (xs.size() != 1)
            return error(op, "a linear over a [" + ir::shapeToString(xs) +
                                 "] tensor: NIR Affine/Linear map a vector (only rank-1 inputs are exported)");
        auto src = materialize(op, *in, xs);
        const ir::Tensor* w = constant(op, 1, "weight");
        const ir::Tensor* b = op.operands.size() > 2 ? constant(op, 2, "bias") : nullptr;
        if (!src || !w || (op.operands.size() > 2 && !b))
            return;
        NirNode& n = addNode(m_.value(op.result).name, b ? "Affine" : "Linear", *src);
        n.fields.arrays["weight"] = floats(*w);
        if (b)
            n.fields.arrays["bias"] = floats(*b);
        return define(op, {{n.name}, outShape});
    }
    case OpKind::Lif:
        return visitNeuron(op, *in);
    case OpKind::Scale: {
        NirNode& n = addNode(m_.value(op.result).name, "Scale", in->sources);
        n.fields.arrays["scale"] = NirArray::filled(in->shape, op.attrs.getFloat("factor"), NirArray::DType::Float32);
        return define(op, {{n.name}, in->shape});
    }
    case OpKind::AvgPool2d: {
        const ir::IntList pad = op.attrs.getInts("padding", {0, 0});
        if (op.attrs.getBool("ceil_mode") || op.attrs.getInt("divisor_override") != 0 || pad != ir::IntList{0, 0})
            return error(op, "NIR AvgPool2d has no ceil_mode, divisor_override or padded average "
                             "(only floor mode without padding is exported)");
        auto src = materialize(op, *in, m_.typeOf(op.operands[0]).shape);
        if (!src)
            return;
        const ir::IntList kernel = op.attrs.getInts("kernel");
        NirNode& n = addNode(m_.value(op.result).name, "AvgPool2d", *src);
        n.fields.arrays["kernel_size"] = NirArray::ints(kernel);
        n.fields.arrays["stride"] = NirArray::ints(op.attrs.getInts("stride", kernel));
        n.fields.arrays["padding"] = NirArray::ints(pad);
        return define(op, {{n.name}, outShape});
    }
    case OpKind::Mean:
        if (op.attrs.getBool("over_time") && op.attrs.getInts("axes").empty()) {
            // Only as the model's readout: NIR graphs stream per-step outputs.
            const auto& users = users_[static_cast<size_t>(op.result)];
            bool onlyOutput = !users.empty();
            for (int32_t u : users)
                onlyOutput = onlyOutput && m_.ops()[static_cast<size_t>(u)].kind == OpKind::Output;
            if (onlyOutput)
                return define(op, {in->sources, in->shape, true, nullptr, in->sumName});
            return error(op, "a mean over time inside the network: NIR streams values step by step and has no "
                             "time average (only a final readout `output(mean over_time)` is exported)");
        }
        return error(op, "NIR has no mean over tensor axes" + kLowerFirst);
    case OpKind::MaxPool2d:
        return error(op, "NIR has no max pooling (only SumPool2d and AvgPool2d)" + kLowerFirst);
    case OpKind::BatchNorm:
        return error(op, "NIR has no batch norm: fold it into the preceding conv/linear (pass fold-bn)" +
                             std::string(kLowerFirst));
    case OpKind::MatMul:
    case OpKind::Mul:
        return error(op, "NIR has no product of two computed tensors (spike x spike attention)" +
                             std::string(kLowerFirst));
    default:
        return error(op, "NIR has no " + std::string(ir::opName(op)) + " op" + kLowerFirst);
    }
}

void Exporter::visitConv(const ir::Op& op, const NirValue& in)
{
    const bool is2d = op.kind == OpKind::Conv2d;
    const ir::Shape& xs = m_.typeOf(op.operands[0]).shape;
    auto src = materialize(op, in, xs);
    const ir::Tensor* w = constant(op, 1, "weight");
    const ir::Tensor* b = op.operands.size() > 2 ? constant(op, 2, "bias") : nullptr;
    if (!src || !w || (op.operands.size() > 2 && !b))
        return;
    NirNode& n = addNode(m_.value(op.result).name, is2d ? "Conv2d" : "Conv1d", *src);
    n.fields.arrays["weight"] = floats(*w);
    const int64_t outChannels = w->shape()[0];
    n.fields.arrays["bias"] = b ? floats(*b) : NirArray::filled({outChannels}, 0.0, NirArray::DType::Float32);
    const size_t dims = is2d ? 2 : 1;
    auto param = [&](const char* key, int64_t def) {
        const ir::IntList v = op.attrs.getInts(key, ir::IntList(dims, def));
        // NIR Conv1d stores scalars, Conv2d pairs.
        n.fields.arrays[key] = is2d ? NirArray::ints(v) : NirArray::scalar(static_cast<double>(v[0]), NirArray::DType::Int64);
    };
    param("stride", 1);
    param("padding", 0);
    param("dilation", 1);
    n.fields.arrays["groups"] = NirArray::scalar(static_cast<double>(op.attrs.getInt("groups", 1)), NirArray::DType::Int64);
    const ir::Shape spatial(xs.begin() + 1, xs.end());
    n.fields.arrays["input_shape"] = is2d ? NirArray::ints(spatial)
                                          : NirArray::scalar(static_cast<double>(spatial[0]), NirArray::DType::Int64);
    define(op, {{n.name}, m_.typeOf(op.result).shape});
}

void Exporter::visitNeuron(const ir::Op& op, const NirValue& in)
{
    // A synaptic-current stage whose only user is a neuron: the two are one CubaLIF/CubaLI.
    const auto& users = users_[static_cast<size_t>(op.result)];
    if (users.size() == 1) {
        const ir::Op& next = m_.ops()[static_cast<size_t>(users[0])];
        if (next.kind == OpKind::Lif && isCubaPair(op.attrs, next.attrs))
            return define(op, {in.sources, in.shape, false, &op});
    }
    NeuronExport ne = in.synapse ? exportCubaNeuron(in.synapse->attrs, op.attrs, in.shape, opt_.dt)
                                 : exportNeuron(op.attrs, in.shape, opt_.dt);
    if (!ne.error.empty())
        return error(op, ne.error);
    for (const auto& loss : ne.losses)
        opWarning(d_, m_, op, loss);
    NirNode& n = addNode(m_.value(op.result).name, ne.node.type, in.sources);
    n.fields = std::move(ne.node.fields);
    n.metadata = std::move(ne.node.metadata);
    define(op, {{n.name}, in.shape});
}

// An elementwise `add` has no node of its own: NIR sums the edges into a node,
// so each op using the sum gets an edge from each term (recursively for a sum of
// sums). Terms are listed so that a reader adding them left to right, as stc's
// importer does, rounds as the IR does whenever one operand of each add is a
// single term.
void Exporter::visitAdd(const ir::Op& op)
{
    const ir::Type& out = m_.typeOf(op.result);
    for (size_t i = 0; i < 2; ++i) {
        if (m_.definingOp(op.operands[i]).kind == OpKind::Const)
            return error(op, "adds a constant tensor: NIR has no node adding a constant (fold it into the bias of "
                             "the conv or linear before it)");
        if (m_.typeOf(op.operands[i]).numElements() != out.numElements())
            return error(op, "a broadcasting add ([" + ir::shapeToString(m_.typeOf(op.operands[0]).shape) + "] + [" +
                                 ir::shapeToString(m_.typeOf(op.operands[1]).shape) +
                                 "]): NIR sums edges element by element, so only adds of two equally sized values "
                                 "are exported");
    }
    const NirValue* a = operand(op, 0);
    const NirValue* b = operand(op, 1);
    if (!a || !b)
        return; // an earlier op was already reported
    if (a->sources.empty() || b->sources.empty())
        return define(op, {{}, out.shape}); // a placeholder: likewise
    // One NIR shape for both terms: one operand's (the other flattened to it), else flat.
    std::optional<std::vector<std::string>> ta, tb;
    ir::Shape shape;
    for (const ir::Shape& s : {a->shape, b->shape, ir::Shape{out.numElements()}}) {
        if ((s == a->shape || flattenRun(a->shape, s)) && (s == b->shape || flattenRun(b->shape, s))) {
            ta = materialize(op, *a, s);
            tb = materialize(op, *b, s);
            shape = s;
            break;
        }
    }
    if (!ta || !tb)
        return error(op, "its operands have shapes [" + ir::shapeToString(a->shape) + "] and [" +
                             ir::shapeToString(b->shape) + "] in NIR, which no Flatten brings to one shape");
    if (tb->size() > 1 && ta->size() == 1)
        std::swap(ta, tb); // (b1 + b2) + a == a + (b1 + b2) exactly
    else if (ta->size() > 1 && tb->size() > 1 && out.elem == ir::ElemType::F32)
        opWarning(d_, m_, op, "a sum of two sums of real values: NIR has one sum per node, and a reader adds its " +
                                  std::to_string(ta->size() + tb->size()) +
                                  " edges in its own order, so the float rounding may differ from this model's");
    std::vector<std::string> terms = *ta;
    terms.insert(terms.end(), tb->begin(), tb->end());
    for (size_t i = 0; i < terms.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (terms[i] == terms[j])
                return error(op, "it adds the output of NIR node \"" + terms[i] +
                                     "\" twice (as x + x does): NIR sums the edges into a node, and an edge counted "
                                     "twice has no agreed meaning (nirtorch keeps them as a set); write 2x as a "
                                     "`scale` by 2");
    define(op, {std::move(terms), shape, false, nullptr, m_.value(op.result).name});
}

// A delay of a value defined earlier is a NIR Delay node (steps x dt seconds per
// element). A one-step delay of a value defined later (a back edge) is a
// recurrent edge: NIR edges carry no delay, the importer puts one on the cycle.
void Exporter::visitDelay(const ir::Op& op)
{
    const int64_t steps = op.attrs.getInt("steps");
    const ir::Value& x = m_.value(op.operands[0]);
    const bool back = x.def >= static_cast<int32_t>(&op - m_.ops().data());
    if (!back) {
        const NirValue* in = operand(op, 0);
        if (!in)
            return;
        NirNode& n = addNode(m_.value(op.result).name, "Delay", in->sources);
        n.fields.arrays["delay"] = NirArray::filled(in->shape, double(steps) * opt_.dt);
        return define(op, {{n.name}, in->shape});
    }
    if (steps != 1)
        return error(op, "a recurrent delay of " + std::to_string(steps) +
                             " steps: NIR's recurrent edge delays by one step (not yet: a longer delay on a cycle)");
    opWarning(d_, m_, op,
              "exported as a recurrent edge from %" + x.name +
                  ": NIR edges carry no delay, so the reader puts the one-step delay on the cycle itself (stc: after "
                  "the last neuron before the edge, as snnTorch's RSynaptic; nirtorch: on the edge that closes the "
                  "cycle in its execution order); they differ at step 0 when a bias lies between");
    const std::string placeholder = "stc.recurrent." + m_.value(op.result).name;
    recurrent_[placeholder] = op.operands[0];
    recurrentOp_[placeholder] = &op;
    define(op, {{placeholder}, m_.typeOf(op.result).shape, false, nullptr, m_.value(op.result).name});
}

// Edges from a back-edge placeholder come from the nodes holding its value (each node of a sum).
void Exporter::closeRecurrentEdges()
{
    if (recurrent_.empty() || d_.hasErrors())
        return;
    std::vector<std::pair<std::string, std::string>> edges;
    std::map<std::string, std::set<std::string>> targets; // placeholder -> nodes
    for (const auto& [from, to] : g_.edges) {
        auto it = recurrent_.find(from);
        if (it == recurrent_.end()) {
            edges.emplace_back(from, to);
            continue;
        }
        const auto v = values_.find(it->second);
        if (v == values_.end() || v->second.sources.empty())
            continue; // that op was reported
        if (v->second.meanOverTime)
            error(m_.definingOp(it->second), "a recurrent edge from a mean over time: NIR has no time average");
        for (const auto& s : v->second.sources)
            edges.emplace_back(s, to);
        targets[from].insert(to);
    }
    g_.edges = std::move(edges);
    for (const auto& [placeholder, value] : recurrent_) {
        auto& pairs = recurrentEdges_[recurrentOp_.at(placeholder)];
        if (auto v = values_.find(value); v != values_.end())
            for (const auto& s : v->second.sources)
                pairs.insert({s, targets[placeholder]});
    }
}

// A recurrent edge means what the delay means only if a reader puts the delay on the
// same edges. Checked with our own reader (its rule: docs/nir.md); a delay it would
// move, or not put at all (a back edge in op order that closes no cycle), is an error.
void Exporter::checkRecurrentEdges()
{
    if (recurrentEdges_.empty() || d_.hasErrors())
        return;
    NirImportOptions o;
    o.timesteps = m_.timesteps;
    o.dt = opt_.dt;
    const NirImportResult back = importFromNir(g_, o, "");
    std::set<std::pair<std::string, std::set<std::string>>> placed;
    if (back.module) {
        const ir::Module& b = *back.module;
        const auto users = b.computeUsers();
        for (int32_t i = 0; i < int32_t(b.ops().size()); ++i) {
            const ir::Op& op = b.ops()[size_t(i)];
            if (op.kind != OpKind::Delay || b.value(op.operands[0]).def < i)
                continue;
            std::set<std::string> to;
            for (int32_t u : users[size_t(op.result)])
                to.insert(b.ops()[size_t(u)].origin);
            placed.insert({op.origin, to});
        }
    }
    for (const auto& [op, pairs] : recurrentEdges_)
        for (const auto& [source, targets] : pairs)
            if (!placed.count({source, targets})) {
                std::string list;
                for (const auto& t : targets)
                    list += (list.empty() ? "" : ", ") + t;
                error(*op, "as a recurrent edge " + source + " -> " + list +
                               " it would not be read back as this delay: a NIR reader places the one-step delay of "
                               "a cycle itself (stc: on the back edge of a depth-first search from the inputs, moved "
                               "back to the nearest neuron; docs/nir.md), and a back edge in op order that closes no "
                               "cycle has none");
            }
}

void Exporter::visitOutput(const ir::Op& op)
{
    for (size_t i = 0; i < op.operands.size(); ++i) {
        const NirValue* v = operand(op, i);
        if (!v)
            continue;
        const ir::Type& t = m_.typeOf(op.operands[i]);
        // NIR's Output takes the shape NIR has; the IR shape (e.g. a leading 1) goes to metadata.
        auto squeezed = [](ir::Shape s) { std::erase(s, 1); return s; };
        std::optional<std::vector<std::string>> src = v->sources;
        if (squeezed(v->shape) != squeezed(t.shape))
            src = materialize(op, *v, t.shape);
        if (!src)
            continue;
        const ir::Shape nirShape = *src == v->sources ? v->shape : t.shape;
        if (src->size() > 1) {
            // A sum as the output: nirtorch passes each edge into an Output on as an output
            // of its own (nir_interpreter.py sums only into other nodes), so the edges are
            // summed into a Scale of 1 first (exact: x * 1 = x).
            NirNode& sum = addNode(v->sumName, "Scale", *src);
            sum.fields.arrays["scale"] = NirArray::filled(nirShape, 1.0, NirArray::DType::Float32);
            src = std::vector<std::string>{sum.name};
        }
        NirNode& n = addNode(op.operands.size() == 1 ? "output" : "output_" + std::to_string(i), "Output", *src);
        n.fields.arrays["shape"] = NirArray::ints(nirShape);
        if (nirShape != t.shape)
            n.metadata.arrays["stc_shape"] = NirArray::ints(t.shape);
        if (v->meanOverTime)
            n.metadata.setString("stc_readout", "mean-over-time");
    }
}

} // namespace

NirExportResult exportToNir(const ir::Module& m, const NirExportOptions& options)
{
    return Exporter(m, options).run();
}

} // namespace stc::interop

#include "lowering_internal.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace stc::torchscript {

namespace {

std::string attrsKey(const ir::Attributes& a)
{
    std::ostringstream os;
    os.precision(17);
    for (const auto& [k, v] : a.map()) {
        os << k << '=';
        std::visit(
            [&](const auto& x) {
                using X = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<X, ir::IntList> || std::is_same_v<X, ir::FloatList>) {
                    for (auto e : x)
                        os << e << ',';
                } else {
                    os << x;
                }
            },
            v);
        os << ';';
    }
    return os.str();
}

std::vector<int64_t> featureShape(const Layout& l, const std::vector<int64_t>& shape)
{
    std::vector<int64_t> out;
    for (size_t i = 0; i < l.size() && i < shape.size(); ++i)
        if (l[i].role == Role::Feature)
            out.push_back(shape[i]);
    return out;
}

} // namespace

Lowerer::Lowerer(const RecordedGraph& graph, const NeuronAnalysis& neurons, int64_t expectedT, Diagnostics& diags)
    : g(graph), na(neurons), B(graph.batch()), diags_(diags), expectedT_(expectedT)
{
    abs_.resize(g.values.size());
    neuronState_.resize(na.neurons.size());
    for (const auto& n : na.neurons)
        names_.insert(n.path); // neuron values are named exactly by their module path
}

const std::vector<int64_t>& Lowerer::outShape(size_t i) const
{
    static const std::vector<int64_t> none;
    const auto outs = node->dynOutputs();
    return i < outs.size() ? shapeOf(outs[i]) : none;
}

std::optional<double> Lowerer::argScalar(size_t i) const
{
    if (i >= node->inputs.size())
        return std::nullopt;
    const RecArg& a = node->inputs[i];
    if (a.isScalar())
        return a.scalar();
    if (a.kind == RecArg::Kind::Tensor && a.tensor->numel() == 1)
        return a.tensor->first();
    return std::nullopt;
}

std::optional<std::vector<int64_t>> Lowerer::argInts(size_t i) const
{
    if (i >= node->inputs.size())
        return std::nullopt;
    const RecArg& a = node->inputs[i];
    if (a.kind == RecArg::Kind::IntList)
        return a.ints;
    if (a.kind == RecArg::Kind::Int)
        return std::vector<int64_t>{a.i};
    return std::nullopt;
}

StaticTensorPtr Lowerer::argTensor(size_t i) const
{
    if (i >= node->inputs.size() || node->inputs[i].kind != RecArg::Kind::Tensor)
        return nullptr;
    return node->inputs[i].tensor;
}

AbsValue Lowerer::arg(size_t i)
{
    if (!argIsDyn(i))
        return {};
    return value(node->inputs[i].dyn);
}

std::string Lowerer::origin() const
{
    if (!node)
        return {};
    std::string o = node->modulePath;
    if (node->loc.known()) {
        std::string file = node->loc.file;
        if (auto slash = file.rfind('/'); slash != std::string::npos)
            file = file.substr(slash + 1);
        o += (o.empty() ? "" : " @ ") + file + ":" + std::to_string(node->loc.line);
    }
    return o;
}

const std::vector<int32_t>& Lowerer::users(ValueRef v)
{
    if (users_.empty())
        users_ = g.users();
    return users_[size_t(v)];
}

void Lowerer::unsupported(const std::string& message)
{
    const std::string key = node->kind + "|" + node->modulePath + "|" + message;
    if (!reported_.insert(key).second)
        return; // the same op in every unrolled time step: report once
    diags_.add({Severity::Error, node->loc.known() ? node->loc : SourceLoc{g.modelFile, 0, 0}, node->kind,
                node->modulePath.empty() ? "<root>" : node->modulePath,
                message + (node->source.empty() ? "" : " [" + node->source + "]")});
}

void Lowerer::note(Severity s, const std::string& message)
{
    const std::string key = "note|" + node->modulePath + "|" + message;
    if (!reported_.insert(key).second)
        return;
    diags_.add({s, node->loc.known() ? node->loc : SourceLoc{g.modelFile, 0, 0}, node->kind,
                node->modulePath.empty() ? "<root>" : node->modulePath, message});
}

std::string Lowerer::uniqueName(const std::string& base)
{
    std::string name = base.empty() ? "v" : base;
    if (names_.insert(name).second)
        return name;
    for (int k = 1;; ++k) {
        std::string c = name + "." + std::to_string(k);
        if (names_.insert(c).second)
            return c;
    }
}

ir::ValueId Lowerer::emit(ir::OpKind kind, std::vector<ir::ValueId> operands, ir::Attributes attrs,
                          const std::string& hint)
{
    auto key = std::make_tuple(int(kind), operands, attrsKey(attrs));
    if (kind != ir::OpKind::Lif) {
        if (auto it = cse_.find(key); it != cse_.end())
            return it->second;
    }
    std::string base = hint;
    if (node && kind != ir::OpKind::Lif) {
        const std::string& path = node->modulePath;
        base = path.empty() ? hint : (names_.count(path) ? path + "." + hint : path);
    }
    std::string error;
    const ir::ValueId v = m.build(kind, std::move(operands), std::move(attrs), origin(), uniqueName(base), &error);
    if (v == ir::kNoValue) {
        unsupported("internal: could not build Spike IR op " + std::string(ir::opName(kind)) + ": " + error);
        return v;
    }
    cse_[key] = v;
    return v;
}

ir::ValueId Lowerer::constant(const StaticTensorPtr& t)
{
    if (auto it = staticConsts_.find(t.get()); it != staticConsts_.end())
        return it->second;
    const ir::ValueId v = constant(*t->data, node && !node->modulePath.empty() ? node->modulePath + ".const" : "c");
    staticConsts_[t.get()] = v;
    return v;
}

ir::ValueId Lowerer::constant(ir::Tensor t, const std::string& hint)
{
    std::string key;
    if (t.numElements() <= 4096) {
        key = ir::shapeToString(t.shape()) + "|";
        key.append(reinterpret_cast<const char*>(t.bytes().data()), t.bytes().size());
        if (auto it = smallConsts_.find(key); it != smallConsts_.end())
            return it->second;
    }
    const ir::ValueId v = m.addConst(std::move(t), uniqueName(hint), origin());
    if (!key.empty())
        smallConsts_[key] = v;
    return v;
}

std::optional<ir::ValueId> Lowerer::alignedConstant(const StaticTensor& t, const Layout& outLayout,
                                                    const std::vector<int64_t>& outShape)
{
    const size_t rank = outShape.size();
    if (t.shape.size() > rank)
        return std::nullopt;
    const size_t off = rank - t.shape.size();
    // Strides of the static tensor (row-major).
    std::vector<int64_t> stride(t.shape.size(), 1);
    for (size_t i = t.shape.size(); i-- > 1;)
        stride[i - 1] = stride[i] * t.shape[i];
    std::vector<int64_t> keepShape;
    std::vector<size_t> keepAxes;
    for (size_t i = 0; i < t.shape.size(); ++i) {
        if (outLayout[off + i].role == Role::Feature) {
            keepAxes.push_back(i);
            keepShape.push_back(t.shape[i]);
        }
    }
    std::vector<int64_t> aligned;
    for (size_t o = 0; o < rank; ++o)
        if (outLayout[o].role == Role::Feature) {
            const bool own = o >= off;
            aligned.push_back(own ? t.shape[o - off] : 1);
        }
    const auto src = t.data->as<float>();
    const int64_t total = t.numel();
    std::vector<float> out(size_t(ir::numElements(keepShape)), 0.0f);
    std::vector<bool> written(out.size(), false);
    for (int64_t flat = 0; flat < total; ++flat) {
        int64_t rem = flat, dst = 0;
        std::vector<int64_t> idx(t.shape.size());
        for (size_t i = t.shape.size(); i-- > 0;) {
            idx[i] = rem % t.shape[i];
            rem /= t.shape[i];
        }
        for (size_t k = 0; k < keepAxes.size(); ++k)
            dst = dst * keepShape[k] + idx[keepAxes[k]];
        if (!written[size_t(dst)]) {
            out[size_t(dst)] = src[size_t(flat)];
            written[size_t(dst)] = true;
        } else if (out[size_t(dst)] != src[size_t(flat)]) {
            return std::nullopt; // varies along the batch or time axis
        }
    }
    return constant(ir::Tensor::fromFloats(aligned, std::move(out)), "const");
}

ir::ValueId Lowerer::reshapeTo(ir::ValueId v, const std::vector<int64_t>& shape)
{
    if (v == ir::kNoValue || m.typeOf(v).shape == shape)
        return v;
    ir::Attributes a;
    a.set("shape", ir::IntList(shape.begin(), shape.end()));
    return emit(ir::OpKind::Reshape, {v}, a, "reshape");
}

bool Lowerer::requireTimesteps(int64_t t, const std::string& why)
{
    if (T == 0) {
        T = t;
        if (expectedT_ > 0 && T != expectedT_)
            unsupported("the model runs " + std::to_string(T) + " time steps (" + why + "), but " +
                        std::to_string(expectedT_) + " were requested; traced models have T baked in (re-export, "
                        "or script the model with T as an attribute)");
        return true;
    }
    if (t == T)
        return true;
    unsupported(why + " has " + std::to_string(t) + " time steps, the rest of the model " + std::to_string(T));
    return false;
}

AbsValue Lowerer::make(const AbsValue& like, ir::ValueId ir, Layout layout) const
{
    if (ir == ir::kNoValue)
        return AbsValue::error();
    AbsValue v;
    v.kind = like.kind;
    v.step = like.step;
    v.ir = ir;
    v.layout = std::move(layout);
    return v;
}

AbsValue Lowerer::materialize(const AbsValue& v)
{
    if (v.kind != AbsValue::Kind::TimeSum)
        return v;
    if (T == 0 || int64_t(std::count(v.summed.begin(), v.summed.end(), true)) != T) {
        unsupported("adds up only some of the time steps; Spike IR sums over all of them");
        return AbsValue::error();
    }
    ir::Attributes mean;
    mean.set("over_time", true);
    const ir::ValueId avg = emit(ir::OpKind::Mean, {v.ir}, mean, "time_mean");
    ir::Attributes scale;
    scale.set("factor", double(T));
    AbsValue out;
    out.kind = AbsValue::Kind::Inv;
    out.ir = emit(ir::OpKind::Scale, {avg}, scale, "time_sum");
    out.layout = v.layout;
    note(Severity::Note, "a sum over time steps is imported as mean over time times T (may differ in the last bit)");
    return out.ir == ir::kNoValue ? AbsValue::error() : out;
}

AbsValue Lowerer::join(const std::vector<AbsValue>& ops)
{
    AbsValue r;
    r.kind = AbsValue::Kind::Inv;
    for (const AbsValue& a : ops) {
        if (a.kind == AbsValue::Kind::Missing)
            continue;
        if (!a.ok())
            return AbsValue::error();
        if (a.kind == AbsValue::Kind::Inv)
            continue;
        if (r.kind == AbsValue::Kind::Inv) {
            r.kind = a.kind;
            r.step = a.step;
        } else if (r.kind != a.kind) {
            unsupported("combines a whole time sequence with a single time step");
            return AbsValue::error();
        } else if (a.kind == AbsValue::Kind::Step && a.step != r.step) {
            unsupported("combines values of different time steps (" + std::to_string(r.step) + " and " +
                        std::to_string(a.step) + "); Spike IR ops act within one step");
            return AbsValue::error();
        }
    }
    return r;
}

void Lowerer::setOut(size_t i, AbsValue v)
{
    const auto outs = node->dynOutputs();
    if (i >= outs.size())
        return;
    const ValueRef ref = outs[i];
    if (v.ok() || v.kind == AbsValue::Kind::TimeSum) {
        const ir::Type& t = m.typeOf(v.ir);
        const auto want = featureShape(v.layout, shapeOf(ref));
        const bool timeOk = (v.kind == AbsValue::Kind::Inv) == !t.perStep();
        if (v.layout.size() != shapeOf(ref).size() || t.shape != want || !timeOk) {
            unsupported("internal: lowered to " + ir::toString(t) + " with layout " + toString(v.layout) +
                        " but the recorded tensor is [" + ir::shapeToString(shapeOf(ref)) + "]");
            v = AbsValue::error();
        }
    }
    abs_[size_t(ref)] = std::move(v);
}

void Lowerer::setOutList(size_t i, std::vector<AbsValue> items)
{
    // Outputs are flattened in dynOutputs() order; list entries follow it.
    for (size_t k = 0; k < items.size(); ++k)
        setOut(i + k, std::move(items[k]));
}

AbsValue Lowerer::value(ValueRef v)
{
    if (abs_[size_t(v)].kind != AbsValue::Kind::Missing)
        return abs_[size_t(v)];
    const int32_t p = g.values[size_t(v)].node;
    if (p >= 0 && na.nodeOwner[size_t(p)] >= 0) {
        if (auto it = na.spikeOf.find(v); it != na.spikeOf.end())
            return abs_[size_t(v)] = neuronOutput(it->second.first, it->second.second, v, false);
        if (auto it = na.membraneOf.find(v); it != na.membraneOf.end())
            return abs_[size_t(v)] = neuronOutput(it->second.first, it->second.second, v, true);
        const auto& n = na.neurons[size_t(na.nodeOwner[size_t(p)])];
        if (n.ok && node)
            unsupported("uses internal state of the spiking neuron " + n.path +
                        " (e.g. the membrane after reset); Spike IR neurons expose their spikes or the charged "
                        "membrane");
        return abs_[size_t(v)] = AbsValue::error();
    }
    return AbsValue::error(); // produced by an op that could not be lowered
}

AbsValue Lowerer::neuronOutput(int32_t k, int32_t t, ValueRef v, bool membrane)
{
    const NeuronInstance& n = na.neurons[size_t(k)];
    if (!n.ok)
        return AbsValue::error();
    NeuronState& st = neuronState_[size_t(k)];
    const AbsValue x = value(n.stepInput[size_t(t)]);
    if (!x.ok())
        return AbsValue::error();
    if (shapeOf(v) != shapeOf(n.stepInput[size_t(t)])) {
        unsupported("the outputs of neuron " + n.path + " have another shape than its input");
        return AbsValue::error();
    }
    const bool inv = x.kind == AbsValue::Kind::Inv;
    if (!inv && !(x.kind == AbsValue::Kind::Step && x.step == t)) {
        unsupported("neuron " + n.path + " is driven at step " + std::to_string(t) +
                    " by a value that is not that time step");
        return AbsValue::error();
    }
    if (st.source == ir::kNoValue) {
        if (!requireTimesteps(n.T, "spiking neuron " + n.path))
            return AbsValue::error();
        ir::ValueId in = x.ir;
        if (inv) {
            ir::Attributes enc;
            enc.set("mode", std::string("direct"));
            in = emit(ir::OpKind::Encode, {x.ir}, enc, "encode");
        }
        st.source = x.ir;
        st.invariantSource = inv;
        st.drive = in;
    } else if (st.source != x.ir || st.invariantSource != inv) {
        unsupported("neuron " + n.path + " is driven by differently computed values at different time steps");
        return AbsValue::error();
    }
    ir::ValueId& out = membrane ? st.membrane : st.lif;
    if (out == ir::kNoValue) {
        ir::Attributes attrs = n.params.toAttributes();
        // The neuron keeps its module path as name; a readout twin of a neuron
        // whose spikes are used too is named path.membrane.
        std::string name = n.path;
        if (membrane) {
            attrs.set("output", std::string("membrane"));
            if (st.spikesUsed)
                name = uniqueName(n.path + ".membrane");
        }
        std::string file = n.loc.file.substr(n.loc.file.rfind('/') + 1);
        const std::string org = n.path + (n.loc.known() ? " @ " + file + ":" + std::to_string(n.loc.line) : "");
        std::string error;
        out = m.build(ir::OpKind::Lif, {st.drive}, attrs, org, name, &error);
        if (out == ir::kNoValue) {
            unsupported("internal: could not build lif for " + n.path + ": " + error);
            return AbsValue::error();
        }
    }
    AbsValue s;
    s.kind = AbsValue::Kind::Step;
    s.step = t;
    s.ir = out;
    s.layout = x.layout;
    return s;
}

void Lowerer::markNeeded(std::vector<char>& needed)
{
    std::vector<ValueRef> work;
    g.output.collectDyn(work);
    std::vector<char> seen(g.values.size(), 0);
    while (!work.empty()) {
        const ValueRef v = work.back();
        work.pop_back();
        if (seen[size_t(v)])
            continue;
        seen[size_t(v)] = 1;
        const int32_t p = g.values[size_t(v)].node;
        if (p < 0)
            continue;
        if (const int32_t owner = na.nodeOwner[size_t(p)]; owner >= 0) {
            const bool spike = na.spikeOf.count(v) != 0, mem = na.membraneOf.count(v) != 0;
            neuronState_[size_t(owner)].spikesUsed |= spike;
            neuronState_[size_t(owner)].membraneUsed |= mem;
            if (spike || mem)
                for (ValueRef x : na.neurons[size_t(owner)].stepInput)
                    work.push_back(x);
            continue;
        }
        needed[size_t(p)] = 1;
        for (ValueRef in : g.nodes[size_t(p)].dynInputs())
            work.push_back(in);
    }
}

void Lowerer::lowerNode(int32_t n)
{
    node = &g.nodes[size_t(n)];
    for (ValueRef o : node->dynOutputs()) {
        if (g.values[size_t(o)].scalar) {
            unsupported("computes a number from input data (e.g. item()); Spike IR has no data-dependent scalars");
            for (ValueRef x : node->dynOutputs())
                abs_[size_t(x)] = AbsValue::error();
            return;
        }
    }
    const auto& handlers = opHandlers();
    auto it = handlers.find(node->kind);
    if (it == handlers.end()) {
        bool anyError = false;
        for (ValueRef in : node->dynInputs())
            anyError = anyError || value(in).kind == AbsValue::Kind::Error;
        std::string what = node->kind + " has no Spike IR equivalent";
        if (node->kind == "aten::ge" || node->kind == "aten::gt" || node->kind == "aten::heaviside")
            what = "a threshold comparison that is not part of a recognized spiking neuron";
        unsupported(what);
    } else {
        it->second(*this);
    }
    for (ValueRef o : node->dynOutputs())
        if (abs_[size_t(o)].kind == AbsValue::Kind::Missing)
            abs_[size_t(o)] = AbsValue::error();
}

LoweringResult Lowerer::run()
{
    LoweringResult result;
    const size_t errorsBefore = diags_.errorCount();
    // The model input: per-sample shape without the batch dimension.
    ir::Shape inShape(g.inputShape.begin() + (g.inputShape.empty() ? 0 : 1), g.inputShape.end());
    const ir::ValueId input = m.addInput({ir::ElemType::F32, inShape, ir::TimeKind::Invariant}, uniqueName("input"));
    abs_[size_t(g.input)] = {AbsValue::Kind::Inv, input, -1, {}, batchMajor(g.inputShape.size())};

    needed_.assign(g.nodes.size(), 0);
    markNeeded(needed_);
    for (size_t n = 0; n < g.nodes.size(); ++n)
        if (needed_[n])
            lowerNode(int32_t(n));
    node = nullptr;

    // Every time step of every neuron must be driven consistently.
    for (size_t k = 0; k < na.neurons.size(); ++k) {
        const NeuronState& st = neuronState_[k];
        if (st.source == ir::kNoValue)
            continue;
        for (size_t t = 0; t < na.neurons[k].stepInput.size(); ++t) {
            const ValueRef x = na.neurons[k].stepInput[t];
            const int32_t p = g.values[size_t(x)].node;
            node = p >= 0 ? &g.nodes[size_t(p)] : nullptr;
            if (node)
                neuronOutput(int32_t(k), int32_t(t), na.neurons[k].stepMembrane[t], st.lif == ir::kNoValue);
        }
        result.neuronValues[na.neurons[k].path] = st.lif != ir::kNoValue ? st.lif : st.membrane;
    }
    node = nullptr;

    std::vector<ValueRef> outs;
    g.output.collectDyn(outs);
    std::vector<ir::ValueId> irOuts;
    for (ValueRef v : outs) {
        const int32_t p = g.values[size_t(v)].node;
        node = p >= 0 ? &g.nodes[size_t(p)] : nullptr;
        AbsValue a = value(v);
        if (a.kind == AbsValue::Kind::TimeSum && node)
            a = materialize(a);
        if (a.kind == AbsValue::Kind::Step && T == 1)
            a.kind = AbsValue::Kind::Seq; // one step is the whole sequence
        if (a.kind == AbsValue::Kind::Step && node) {
            unsupported("the model returns a single time step; Spike IR outputs are whole sequences or invariant");
            continue;
        }
        if (!a.ok())
            continue;
        irOuts.push_back(a.ir);
        result.outputs.push_back({a.ir, a.layout, shapeOf(v)});
    }
    node = nullptr;
    if (outs.empty())
        diags_.add({Severity::Error, {g.modelFile, 0, 0}, "", "",
                    "forward returns nothing that depends on the input"});
    if (diags_.errorCount() != errorsBefore || irOuts.empty())
        return result;
    m.addOutput(irOuts);
    m.timesteps = T == 0 ? 1 : T;
    m.name = "main";
    result.timesteps = m.timesteps;
    result.module = std::move(m);
    return result;
}

LoweringResult lowerRecording(const RecordedGraph& g, const NeuronAnalysis& neurons, int64_t expectedT,
                              Diagnostics& diags)
{
    return Lowerer(g, neurons, expectedT, diags).run();
}

} // namespace stc::torchscript

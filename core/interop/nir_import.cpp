#include "interop/nir_import.h"

#include "interop/nir_neuron.h"
#include "ir/verifier.h"

#include <cctype>
#include <cstdio>
#include <cmath>
#include <map>
#include <set>

namespace stc::interop {

namespace {

using ir::OpKind;

class Importer {
public:
    Importer(const NirGraph& g, const NirImportOptions& o, std::string file) : in_(g), opt_(o), file_(std::move(file)) {}

    NirImportResult run();

private:
    const NirGraph& in_; // as read: possibly with nested graphs
    NirGraph g_;         // flattened
    NirImportOptions opt_;
    std::string file_;
    ir::Module m_;
    Diagnostics d_;
    double dt_ = 1e-4;
    std::map<std::string, ir::ValueId> values_; // node name -> its result
    std::vector<ir::ValueId> outputs_;
    const NirNode* node_ = nullptr; // the node being imported, for diagnostics
    // A node's inputs: (source node, whether the edge is a recurrent back edge, imported as delay{steps = 1}).
    using Preds = std::map<std::string, std::vector<std::pair<std::string, bool>>>;
    std::map<std::string, ir::Type> recurrentTypes_; // back-edge source -> its type (from a first pass)
    std::map<std::string, ir::ValueId> delays_;      // back-edge source -> the delay op reading it

    void error(const std::string& msg) { d_.error({file_, 0, 0}, where(), msg); }
    std::string where() const
    {
        if (!node_)
            return "/node";
        const std::string type = node_->type == kNirPassThrough ? "a nested graph's Input/Output" : node_->type;
        return (node_->path.empty() ? "/node/nodes/" + node_->name : node_->path) + " (" + type + ")";
    }

    std::optional<std::vector<const NirNode*>> order(Preds& preds);
    std::set<size_t> backEdges(const std::map<std::string, size_t>& index);
    void importNodes(const std::vector<const NirNode*>& nodes, Preds& preds, bool skipBackEdges);
    void outputsFromSinks();
    ir::ValueId delayOf(const std::string& source);
    ir::ValueId delayNode(ir::ValueId in);
    bool readSettings(int64_t& timesteps);
    ir::ValueId importNode(const NirNode& n, ir::ValueId in);
    ir::ValueId build(OpKind kind, std::vector<ir::ValueId> operands, ir::Attributes attrs, const std::string& suffix = {});
    ir::ValueId addConst(const NirArray& a, const std::string& suffix);

    const NirArray* array(const char* key, int rank);
    std::optional<int64_t> toInt(double v, const char* what);
    std::optional<ir::IntList> intPair(const char* key, size_t dims, int64_t def);
    ir::ValueId conv(const NirNode& n, ir::ValueId in);
    ir::ValueId sumPool(ir::ValueId in);
    ir::ValueId neuron(const NirNode& n, ir::ValueId in);
    ir::ValueId neuronStage(const NeuronImport& ni, ir::ValueId in, const std::string& suffix);
};

std::string valueName(const std::string& nodeName)
{
    std::string s;
    for (char c : nodeName)
        s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.') ? c : '_';
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
        s = "n" + s;
    return s;
}

NirImportResult Importer::run()
{
    NirImportResult r;
    NirFlattenResult flat = flattenNirGraph(in_);
    for (const auto& [path, msg] : flat.errors)
        d_.error({file_, 0, 0}, path, msg);
    if (d_.hasErrors()) {
        r.diagnostics = std::move(d_);
        return r;
    }
    g_ = std::move(flat.graph);
    int64_t timesteps = 0;
    Preds preds;
    auto nodes = order(preds);
    if (!readSettings(timesteps) || !nodes) {
        r.diagnostics = std::move(d_);
        return r;
    }
    bool recurrent = false;
    for (const auto& [to, list] : preds)
        for (const auto& [from, back] : list)
            recurrent = recurrent || back;
    if (recurrent) {
        // A back edge's delay is typed before its source is imported: a first pass
        // without the back edges gives the sources' types (its diagnostics are dropped).
        Diagnostics kept = std::move(d_);
        d_ = Diagnostics{};
        importNodes(*nodes, preds, true);
        for (const auto& [to, list] : preds)
            for (const auto& [from, back] : list)
                if (auto it = values_.find(from); back && it != values_.end())
                    recurrentTypes_[from] = m_.typeOf(it->second);
        d_ = std::move(kept);
        m_ = ir::Module{};
        values_.clear();
        outputs_.clear();
    }
    m_.timesteps = timesteps;
    m_.attrs.set("frontend", std::string("nir"));
    m_.attrs.set("source", file_);
    importNodes(*nodes, preds, false);
    for (const auto& [source, delay] : delays_) { // close the loops
        auto it = values_.find(source);
        if (it != values_.end())
            m_.mutableOps()[size_t(m_.value(delay).def)].operands[0] = it->second;
    }
    node_ = nullptr;
    if (outputs_.empty() && !d_.hasErrors())
        outputsFromSinks();
    if (!d_.hasErrors()) {
        m_.addOutput(outputs_);
        d_.append(ir::verify(m_, {file_, 0, 0}));
    }
    if (!d_.hasErrors())
        r.module = std::move(m_);
    r.diagnostics = std::move(d_);
    return r;
}

// A graph without Output nodes (NIR 0.1 writers such as Lava-DL's nir_lava.py
// left them out; NIR says an Output node marks a graph output): the nodes
// without out-edges are its outputs, in file order, with a warning naming them.
void Importer::outputsFromSinks()
{
    std::set<std::string> sources;
    for (const auto& [from, to] : g_.edges)
        sources.insert(from);
    std::string names;
    for (const auto& n : g_.nodes)
        if (auto it = values_.find(n.name); !sources.count(n.name) && it != values_.end() && n.type != "Input") {
            outputs_.push_back(it->second);
            names += (names.empty() ? "\"" : ", \"") + n.name + "\" (" + n.type + ")";
        }
    if (outputs_.empty())
        return error("the graph has no Output node, and no node without out-edges to take as its output");
    d_.warning({file_, 0, 0}, "/node",
               "the graph has no Output node: the output of " + names +
                   ", the node(s) without out-edges, is the graph's output (as NIR 0.1 writers such as Lava-DL's "
                   "nir_lava.py meant it)");
}

void Importer::importNodes(const std::vector<const NirNode*>& nodes, Preds& preds, bool skipBackEdges)
{
    for (const NirNode* n : nodes) {
        node_ = n;
        ir::ValueId in = ir::kNoValue;
        bool anyInput = false;
        for (const auto& [p, back] : preds[n->name]) { // several in-edges: their values are summed
            if (back && skipBackEdges)
                continue;
            anyInput = true;
            ir::ValueId v = ir::kNoValue;
            if (back)
                v = delayOf(p);
            else if (auto it = values_.find(p); it != values_.end())
                v = it->second;
            if (v == ir::kNoValue)
                continue; // that node failed; already reported
            in = in == ir::kNoValue ? v : build(OpKind::Add, {in, v}, {}, ".sum");
        }
        if (n->type != "Input" && in == ir::kNoValue) { // (a nested graph's Input is a pass-through)
            if (!anyInput && !skipBackEdges)
                error(n->type == kNirPassThrough ? "no edge leads into this node of a nested graph"
                                                 : "no edge leads into this node and it is not an Input");
            continue;
        }
        const ir::ValueId v = importNode(*n, in);
        if (v != ir::kNoValue)
            values_[n->name] = v;
    }
    node_ = nullptr;
}

// The value of a recurrent edge from `source`: a delay{steps = 1} of its output,
// which is defined later (the operand is set once the source is imported).
ir::ValueId Importer::delayOf(const std::string& source)
{
    if (auto it = delays_.find(source); it != delays_.end())
        return it->second;
    auto type = recurrentTypes_.find(source);
    if (type == recurrentTypes_.end()) {
        error("the recurrent edge from \"" + source + "\" has no known shape: \"" + source +
              "\" cannot be imported without that edge (every input to a cycle is recurrent)");
        return ir::kNoValue;
    }
    ir::Op op;
    op.kind = OpKind::Delay;
    op.operands = {ir::kNoValue};
    op.attrs.set("steps", int64_t{1});
    op.origin = source;
    const ir::ValueId v = m_.append(std::move(op), type->second, m_.freshName(valueName(source) + ".prev"));
    delays_[source] = v;
    return v;
}

// Back edges: those closing a cycle in a depth-first search from the Input
// nodes (then any node not reached), nodes and out-edges in file order. A back
// edge u -> v whose source u is a stateless node with one in-edge and one
// out-edge moves to that in-edge, up to the nearest neuron (or branch): the
// cycle then carries the neuron's previous output, as snnTorch's RLeaky and
// RSynaptic do (V(spk[t-1]), V's bias included at step 0).
std::set<size_t> Importer::backEdges(const std::map<std::string, size_t>& index)
{
    const size_t n = g_.nodes.size();
    std::vector<std::vector<size_t>> out(n), in(n); // edge indices
    for (size_t e = 0; e < g_.edges.size(); ++e) {
        out[index.at(g_.edges[e].first)].push_back(e);
        in[index.at(g_.edges[e].second)].push_back(e);
    }
    std::vector<int> color(n, 0); // 0 new, 1 on the stack, 2 done
    std::set<size_t> back;
    auto dfs = [&](size_t root) {
        std::vector<std::pair<size_t, size_t>> stack{{root, 0}}; // node, next out-edge
        color[root] = 1;
        while (!stack.empty()) {
            auto& [u, next] = stack.back();
            if (next == out[u].size()) {
                color[u] = 2;
                stack.pop_back();
                continue;
            }
            const size_t e = out[u][next++];
            const size_t v = index.at(g_.edges[e].second);
            if (color[v] == 1)
                back.insert(e);
            else if (color[v] == 0) {
                color[v] = 1;
                stack.push_back({v, 0});
            }
        }
    };
    for (size_t i = 0; i < n; ++i)
        if (g_.nodes[i].type == "Input" && !color[i])
            dfs(i);
    for (size_t i = 0; i < n; ++i)
        if (!color[i])
            dfs(i);
    static const std::set<std::string> stateless = {"Affine", "Linear", "Scale",     "Conv1d",   "Conv2d",
                                                    "Flatten", "SumPool2d", "AvgPool2d", kNirPassThrough};
    std::set<size_t> moved;
    for (size_t e : back) {
        for (size_t steps = 0; steps < n; ++steps) {
            const size_t u = index.at(g_.edges[e].first), target = index.at(g_.edges[e].second);
            if (u == target || !stateless.count(g_.nodes[u].type) || in[u].size() != 1 || out[u].size() != 1 ||
                back.count(in[u][0]) || moved.count(in[u][0]))
                break;
            e = in[u][0];
        }
        moved.insert(e);
    }
    return moved;
}

// Nodes in dependency order of the forward edges (Kahn, ties in file order).
std::optional<std::vector<const NirNode*>> Importer::order(Preds& preds)
{
    std::map<std::string, int> inDegree;
    for (const auto& n : g_.nodes)
        inDegree[n.name] = 0;
    bool ok = true;
    for (size_t i = 0; i < g_.edges.size(); ++i) {
        const auto& [from, to] = g_.edges[i];
        for (const std::string* end : {&from, &to})
            if (!inDegree.count(*end)) {
                error("edge " + std::to_string(i) + " (" + from + " -> " + to + ") names no node \"" + *end + "\"");
                ok = false;
            }
    }
    if (!ok)
        return std::nullopt;
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < g_.nodes.size(); ++i)
        index[g_.nodes[i].name] = i;
    const std::set<size_t> back = backEdges(index);
    for (size_t i = 0; i < g_.edges.size(); ++i) {
        const auto& [from, to] = g_.edges[i];
        preds[to].push_back({from, back.count(i) > 0});
        inDegree[to] += back.count(i) ? 0 : 1;
    }
    std::vector<const NirNode*> out;
    std::set<std::string> done;
    for (bool progress = true; progress;) {
        progress = false;
        for (const auto& n : g_.nodes) {
            if (done.count(n.name) || inDegree[n.name] != 0)
                continue;
            done.insert(n.name);
            out.push_back(&n);
            progress = true;
            for (size_t e = 0; e < g_.edges.size(); ++e)
                if (g_.edges[e].first == n.name && !back.count(e))
                    --inDegree[g_.edges[e].second];
        }
    }
    if (out.size() != g_.nodes.size()) {
        std::string cyc;
        for (const auto& n : g_.nodes)
            if (!done.count(n.name))
                cyc += (cyc.empty() ? "" : ", ") + n.name;
        error("internal error: " + cyc + " are on or behind a cycle the back edges did not break");
        return std::nullopt;
    }
    return out;
}

bool Importer::readSettings(int64_t& timesteps)
{
    if (!g_.version.empty() && g_.version.rfind("1.", 0) != 0)
        d_.warning({file_, 0, 0}, "/version", "NIR version " + g_.version + "; stc follows " + kNirVersion);
    const NirArray* t = g_.metadata.array("stc_timesteps");
    if (opt_.timesteps)
        timesteps = *opt_.timesteps;
    else if (nirHasTimesteps(g_))
        timesteps = toInt(t->values[0], "stc_timesteps").value_or(0);
    else {
        error("a NIR graph has no number of time steps: give one (--timesteps N)");
        return false;
    }
    const NirArray* dt = g_.metadata.array("stc_dt");
    dt_ = opt_.dt ? *opt_.dt : (dt && dt->values.size() == 1 ? dt->values[0] : 1e-4);
    if (timesteps < 1 || timesteps > 1000000)
        error("time steps must be in 1..1000000, got " + std::to_string(timesteps));
    if (!(dt_ > 0.0 && std::isfinite(dt_)))
        error("dt must be a positive number of seconds, got " + std::to_string(dt_));
    return !d_.hasErrors();
}

ir::ValueId Importer::build(OpKind kind, std::vector<ir::ValueId> operands, ir::Attributes attrs, const std::string& suffix)
{
    std::string err;
    const ir::ValueId v = m_.build(kind, std::move(operands), std::move(attrs), node_ ? node_->name : "",
                                   m_.freshName(valueName(node_ ? node_->name : "v") + suffix), &err);
    if (v == ir::kNoValue)
        error(std::string(ir::opName(kind)) + ": " + err);
    return v;
}

ir::ValueId Importer::addConst(const NirArray& a, const std::string& suffix)
{
    std::vector<float> f(a.values.begin(), a.values.end());
    return m_.addConst(ir::Tensor::fromFloats(a.shape, std::move(f)), m_.freshName(valueName(node_->name) + suffix),
                       node_->name);
}

const NirArray* Importer::array(const char* key, int rank)
{
    const NirArray* a = node_->fields.array(key);
    if (!a)
        error(std::string("missing dataset \"") + key + "\"");
    else if (rank >= 0 && static_cast<int>(a->shape.size()) != rank)
        error(std::string("\"") + key + "\" must be " + std::to_string(rank) + "-D, got [" + ir::shapeToString(a->shape) + "]");
    else if (!ir::checkTypeLimits({ir::ElemType::F32, a->shape, ir::TimeKind::Invariant}).empty())
        error(std::string("\"") + key + "\" is too large");
    else
        return a;
    return nullptr;
}

std::optional<int64_t> Importer::toInt(double v, const char* what)
{
    if (std::isfinite(v) && v == std::floor(v) && std::abs(v) <= static_cast<double>(ir::kMaxDimension))
        return static_cast<int64_t>(v);
    error(std::string(what) + " must be an integer of magnitude at most 2^31 - 1, got " + std::to_string(v));
    return std::nullopt;
}

// An int or a list of `dims` ints (NIR writes both forms), or `def` if absent.
std::optional<ir::IntList> Importer::intPair(const char* key, size_t dims, int64_t def)
{
    const NirArray* a = node_->fields.array(key);
    if (!a)
        return ir::IntList(dims, def);
    if (a->values.size() != 1 && a->values.size() != dims) {
        error(std::string("\"") + key + "\" must hold 1 or " + std::to_string(dims) + " integers, got " +
              std::to_string(a->values.size()));
        return std::nullopt;
    }
    ir::IntList out;
    for (size_t i = 0; i < dims; ++i) {
        auto v = toInt(a->values[a->values.size() == 1 ? 0 : i], key);
        if (!v)
            return std::nullopt;
        out.push_back(*v);
    }
    return out;
}

ir::ValueId Importer::importNode(const NirNode& n, ir::ValueId in)
{
    const std::string& t = n.type;
    if (t == "Input") {
        const NirArray* s = array("shape", 1);
        if (!s)
            return ir::kNoValue;
        ir::Shape shape;
        for (double d : s->values) {
            auto v = toInt(d, "shape");
            if (!v)
                return ir::kNoValue;
            if (*v < 1)
                return error("shape dims must be positive, got " + std::to_string(*v)), ir::kNoValue;
            shape.push_back(*v);
        }
        if (auto e = ir::checkTypeLimits({ir::ElemType::F32, shape, ir::TimeKind::Invariant}); !e.empty())
            return error("shape: " + e), ir::kNoValue;
        const ir::ValueId x = m_.addInput({ir::ElemType::F32, shape, ir::TimeKind::Invariant}, m_.freshName(valueName(n.name)));
        ir::Attributes a;
        a.set("mode", std::string("direct")); // the input is presented at every step
        return build(OpKind::Encode, {x}, a, ".encode");
    }
    if (t == "Output") {
        ir::ValueId v = in;
        if (const std::string* r = n.metadata.string("stc_readout"); r && *r == "mean-over-time") {
            ir::Attributes a;
            a.set("over_time", true);
            v = build(OpKind::Mean, {v}, a, ".mean");
        }
        // The exporter keeps the IR's shape of an output (e.g. [1,10]) where NIR squeezed it.
        const NirArray* shape = n.metadata.array("stc_shape");
        if (v != ir::kNoValue && shape && shape->shape.size() == 1) {
            ir::IntList dims;
            for (double d : shape->values)
                dims.push_back(toInt(d, "stc_shape").value_or(-2));
            if (ir::IntList(m_.typeOf(v).shape) != dims) {
                ir::Attributes a;
                a.set("shape", dims);
                v = build(OpKind::Reshape, {v}, a, ".reshape");
            }
        }
        if (v != ir::kNoValue)
            outputs_.push_back(v);
        return v;
    }
    if (t == "Affine" || t == "Linear") {
        const NirArray* w = array("weight", 2);
        const NirArray* b = t == "Affine" ? array("bias", 1) : nullptr;
        if (!w || (t == "Affine" && !b))
            return ir::kNoValue;
        std::vector<ir::ValueId> ops = {in, addConst(*w, ".weight")};
        if (b)
            ops.push_back(addConst(*b, ".bias"));
        return build(OpKind::Linear, ops, {});
    }
    if (t == kNirPassThrough) { // a nested graph's Input or Output: the value as it is
        const NirArray* s = n.fields.array("shape");
        if (s && s->size() > 0) {
            double count = 1;
            std::string dims;
            for (double d : s->values) {
                count *= d;
                char buf[32];
                std::snprintf(buf, sizeof buf, "%s%g", dims.empty() ? "" : ",", d);
                dims += buf;
            }
            if (!(count == double(m_.typeOf(in).numElements())))
                return error("shape [" + dims + "] does not match the incoming [" + ir::shapeToString(m_.typeOf(in).shape) + "]"),
                       ir::kNoValue;
        }
        return in;
    }
    if (t == "Conv1d" || t == "Conv2d")
        return conv(n, in);
    if (t == "SumPool2d")
        return sumPool(in);
    if (t == "AvgPool2d") {
        auto k = intPair("kernel_size", 2, 1), s = intPair("stride", 2, 1), p = intPair("padding", 2, 0);
        if (!n.fields.array("kernel_size"))
            return error("missing dataset \"kernel_size\""), ir::kNoValue;
        if (!k || !s || !p)
            return ir::kNoValue;
        ir::Attributes a;
        a.set("kernel", *k);
        a.set("stride", *s);
        a.set("padding", *p);
        return build(OpKind::AvgPool2d, {in}, a);
    }
    if (t == "Flatten") {
        const NirArray* s = array("start_dim", 0);
        const NirArray* e = array("end_dim", 0);
        auto start = s ? toInt(s->values[0], "start_dim") : std::nullopt;
        auto end = e ? toInt(e->values[0], "end_dim") : std::nullopt;
        if (!start || !end)
            return ir::kNoValue;
        if (const NirArray* it = n.fields.array("input_type")) {
            const ir::Shape& actual = m_.typeOf(in).shape;
            if (it->values != std::vector<double>(actual.begin(), actual.end()))
                return error("input_type does not match the incoming shape [" + ir::shapeToString(actual) + "]"),
                       ir::kNoValue;
        }
        ir::Attributes a;
        a.set("start", *start);
        a.set("end", *end);
        return build(OpKind::Flatten, {in}, a);
    }
    if (t == "Scale") {
        const NirArray* s = array("scale", -1);
        if (!s)
            return ir::kNoValue;
        if (auto u = uniformValue(*s)) {
            ir::Attributes a;
            a.set("factor", *u);
            return build(OpKind::Scale, {in}, a);
        }
        return build(OpKind::Mul, {in, addConst(*s, ".scale")}, {});
    }
    if (isNirNeuronType(t))
        return neuron(n, in);
    if (t == "NIRGraph")
        error("a nested NIRGraph node without its nodes"); // a graph built in memory; files always have them
    else if (t == "Delay")
        return delayNode(in);
    else
        error("unknown NIR node type \"" + t + "\"");
    return ir::kNoValue;
}

// Delay{delay} (seconds, one per element): delay{steps = delay / dt}, one
// whole number of steps for all elements. A delay of 0 passes the value on.
ir::ValueId Importer::delayNode(ir::ValueId in)
{
    const NirArray* d = array("delay", -1);
    if (!d)
        return ir::kNoValue;
    if (d->values.empty())
        return error("\"delay\" is empty"), ir::kNoValue;
    if (d->size() > 1 && ir::numElements(d->shape) != m_.typeOf(in).numElements())
        return error("\"delay\" has shape [" + ir::shapeToString(d->shape) + "] but the input has [" +
                     ir::shapeToString(m_.typeOf(in).shape) + "]"),
               ir::kNoValue;
    auto u = uniformValue(*d);
    if (!u)
        return error("\"delay\" differs between elements: Spike IR's delay has one number of steps for the whole "
                     "value (not yet: per-element delays)"),
               ir::kNoValue;
    const double steps = *u / dt_;
    const double rounded = std::round(steps);
    if (!(std::abs(steps - rounded) <= 1e-6 * std::max(1.0, std::abs(steps))) || rounded < 0 ||
        rounded > double(ir::kMaxDimension)) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%g s is %.9g time steps of dt = %g s", *u, steps, dt_);
        return error(std::string("\"delay\" ") + buf + ": not a whole number of steps (give the file's dt with --dt)"),
               ir::kNoValue;
    }
    if (rounded == 0)
        return in;
    ir::Attributes a;
    a.set("steps", static_cast<int64_t>(rounded));
    return build(OpKind::Delay, {in}, a);
}

ir::ValueId Importer::conv(const NirNode& n, ir::ValueId in)
{
    const bool is2d = n.type == "Conv2d";
    const size_t dims = is2d ? 2 : 1;
    const NirArray* w = array("weight", is2d ? 4 : 3);
    if (!w)
        return ir::kNoValue;
    auto stride = intPair("stride", dims, 1), dilation = intPair("dilation", dims, 1);
    const NirArray* g = n.fields.array("groups");
    auto groups = g && g->values.size() == 1 ? toInt(g->values[0], "groups") : std::optional<int64_t>(1);
    std::optional<ir::IntList> padding;
    if (const std::string* p = n.fields.string("padding")) {
        if (*p == "valid") {
            padding = ir::IntList(dims, 0);
        } else if (*p == "same" && stride && dilation && *stride == ir::IntList(dims, 1)) {
            padding = ir::IntList();
            for (size_t i = 0; i < dims; ++i) {
                const int64_t span = (*dilation)[i] * (static_cast<int64_t>(w->shape[2 + i]) - 1);
                if (span % 2)
                    return error("padding \"same\" with an even kernel is asymmetric: not supported"), ir::kNoValue;
                padding->push_back(span / 2);
            }
        } else {
            return error("padding \"" + *p + "\" (with this stride) is not supported; use integers"), ir::kNoValue;
        }
    } else {
        padding = intPair("padding", dims, 0);
    }
    if (!stride || !dilation || !groups || !padding)
        return ir::kNoValue;
    if (const NirArray* is = n.fields.array("input_shape")) {
        const ir::Shape& actual = m_.typeOf(in).shape;
        if (actual.size() != dims + 1 || is->values != std::vector<double>(actual.begin() + 1, actual.end()))
            return error("input_shape does not match the incoming shape [" + ir::shapeToString(actual) + "]"), ir::kNoValue;
    }
    std::vector<ir::ValueId> ops = {in, addConst(*w, ".weight")};
    if (const NirArray* b = n.fields.array("bias")) {
        bool zero = true; // NIR requires a bias; an all-+0.0 one is the conv without bias
        for (double v : b->values)
            zero = zero && v == 0.0 && !std::signbit(v);
        if (!zero)
            ops.push_back(addConst(*b, ".bias"));
    }
    ir::Attributes a;
    a.set("stride", *stride);
    a.set("padding", *padding);
    a.set("dilation", *dilation);
    a.set("groups", *groups);
    return build(is2d ? OpKind::Conv2d : OpKind::Conv1d, ops, a);
}

// Sum pooling is a depthwise convolution with all-ones kernels (exact sums).
ir::ValueId Importer::sumPool(ir::ValueId in)
{
    auto k = intPair("kernel_size", 2, 1), s = intPair("stride", 2, 1), p = intPair("padding", 2, 0);
    if (!node_->fields.array("kernel_size"))
        return error("missing dataset \"kernel_size\""), ir::kNoValue;
    const ir::Shape x = m_.typeOf(in).shape; // a copy: addConst below grows the module's values
    if (!k || !s || !p)
        return ir::kNoValue;
    if (x.size() != 3 || (*k)[0] < 1 || (*k)[1] < 1 || (*k)[0] * (*k)[1] > 1 << 20)
        return error("SumPool2d needs a [C,H,W] input and a positive kernel, got [" + ir::shapeToString(x) + "]"),
               ir::kNoValue;
    const ir::Shape ws = {x[0], 1, (*k)[0], (*k)[1]};
    const ir::ValueId w = m_.addConst(ir::Tensor::fromFloats(ws, std::vector<float>(size_t(ir::numElements(ws)), 1.0f)),
                                      m_.freshName(valueName(node_->name) + ".ones"), node_->name);
    ir::Attributes a;
    a.set("stride", *s);
    a.set("padding", *p);
    a.set("dilation", ir::IntList{1, 1});
    a.set("groups", x[0]);
    return build(OpKind::Conv2d, {in, w}, a);
}

ir::ValueId Importer::neuron(const NirNode& n, ir::ValueId in)
{
    for (const auto& [key, a] : n.fields.arrays)
        if (!a.shape.empty() && ir::numElements(a.shape) != m_.typeOf(in).numElements())
            return error("\"" + key + "\" has shape [" + ir::shapeToString(a.shape) + "] but the input has [" +
                         ir::shapeToString(m_.typeOf(in).shape) + "]"), ir::kNoValue;
    if (n.type == "CubaLIF" || n.type == "CubaLI") {
        CubaImport c = importCubaNeuron(n, dt_);
        if (!c.error.empty())
            return error(c.error), ir::kNoValue;
        in = neuronStage(c.syn, in, ".syn");
        return in == ir::kNoValue ? in : neuronStage(c.mem, in, "");
    }
    NeuronImport ni = importNeuron(n, dt_);
    if (!ni.error.empty())
        return error(ni.error), ir::kNoValue;
    return neuronStage(ni, in, "");
}

ir::ValueId Importer::neuronStage(const NeuronImport& ni, ir::ValueId in, const std::string& suffix)
{
    if (!ni.note.empty())
        d_.warning({file_, 0, 0}, where(), ni.note);
    if (!ni.inputGains.empty()) {
        const NirArray gains{NirArray::DType::Float32, m_.typeOf(in).shape, ni.inputGains};
        in = build(OpKind::Mul, {in, addConst(gains, suffix + ".gains")}, {}, suffix + ".input_gain");
    } else if (ni.inputGain != 1.0) {
        ir::Attributes s;
        s.set("factor", ni.inputGain);
        in = build(OpKind::Scale, {in}, s, suffix + ".input_gain");
    }
    if (in == ir::kNoValue)
        return in;
    return build(OpKind::Lif, {in}, ni.attrs, suffix);
}

} // namespace

bool nirHasTimesteps(const NirGraph& g)
{
    const NirArray* t = g.metadata.array("stc_timesteps");
    return t && t->values.size() == 1;
}

NirImportResult importFromNir(const NirGraph& g, const NirImportOptions& options, const std::string& fileName)
{
    return Importer(g, options, fileName).run();
}

} // namespace stc::interop

// Spike IR -> lava-dl netx layers. The file layout is in netx_layout.cpp; the
// mapping, with the upstream line of every field, in docs/netx.md. Upstream
// references are to github.com/lava-nc/lava-dl at d825ac5 (2026-05-13):
//   H  = src/lava/lib/dl/netx/hdf5.py        (the reader, Network._create)
//   SB = src/lava/lib/dl/slayer/block/base.py (slayer's export_hdf5)
//   SC = src/lava/lib/dl/slayer/neuron/cuba.py (the CUBA neuron)
#include "interop/netx_export.h"

#include "interop/export_diag.h"
#include "interop/netx_connect.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

namespace stc::interop {

namespace {

using ir::OpKind;

const std::string kLowerFirst = lowerFirstHint("stc export-netx");

// Largest synapse weight after scaling: netx expects "standard 8 bit signed"
// weights (netx/utils.py:80-100 optimize_weight_bits) and re-encodes them as
// mantissa + exponent itself.
constexpr double kMaxWeight = 127.0;
// The threshold netx gives a dense layer without neuron, i.e. one that never
// fires (H:352-357, `1 << 18 - 1`, which Python reads as 1 << 17). We use it
// for readout layers; a spiking layer's threshold must stay below it.
constexpr int64_t kNeverFires = int64_t{1} << 17;
constexpr int64_t kUnity = 4096; // decays are 12-bit fractions (SC:26-49 p_scale = 1 << 12)

// Our `lif` attributes as a CUBA neuron with iDecay = 4096 (u[t] = x[t]):
// v[t] = (1 - vDecay/4096) v[t-1] + gain * (W s + b).
struct NeuronMap {
    NetxNeuron neuron;
    double gain = 1.0;      // folded into the synapse's weights and bias
    double threshold = 0.0; // our v_threshold (spiking neurons)
    std::vector<std::string> approximations;
    std::string error;
};

std::string num(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

NeuronMap mapNeuron(const ir::Attributes& a)
{
    NeuronMap r;
    const std::string neuron = a.getString("neuron", "lif");
    const std::string reset = a.getString("reset", "hard");
    const bool membrane = a.getString("output", "spikes") == "membrane";
    double leak = 0.0; // fraction of v lost per step
    std::string leakName;
    if (neuron == "lif") { // SpikingJelly: v += (x - (v - v_reset)) / tau, or v += x - (v - v_reset) / tau
        const double tau = a.getFloat("tau");
        if (!(tau >= 1.0)) {
            r.error = "tau = " + num(tau) + " < 1: no CUBA voltage decay in [0, 4096] gives that leak";
            return r;
        }
        leak = 1.0 / tau;
        leakName = "4096 / tau = 4096 / " + num(tau);
        if (a.getBool("decay_input", true))
            r.gain = 1.0 / tau;
        if (reset == "hard" && a.getFloat("v_reset", 0.0) != 0.0) {
            r.error = "v_reset = " + num(a.getFloat("v_reset", 0.0)) +
                      ": Loihi's CUBA neuron leaks towards 0 and resets to 0 (SC:55-60), so only v_reset = 0 is exported";
            return r;
        }
    } else if (neuron == "leaky") { // snnTorch: v = beta v + x
        const double beta = a.getFloat("beta");
        if (!(beta >= 0.0 && beta <= 1.0)) {
            r.error = "beta = " + num(beta) + " is outside [0, 1]: no CUBA voltage decay gives that";
            return r;
        }
        leak = 1.0 - beta;
        leakName = "4096 * (1 - beta) = 4096 * (1 - " + num(beta) + ")";
    } else if (neuron != "if") {
        r.error = "neuron \"" + neuron + "\" has no netx equivalent";
        return r;
    }
    NetxNeuron& n = r.neuron;
    const double exact = kUnity * leak;
    n.vDecay = std::llround(exact);
    if (std::abs(exact - static_cast<double>(n.vDecay)) > 1e-6)
        r.approximations.push_back("vDecay = " + std::to_string(n.vDecay) + " approximates " + leakName + " = " +
                                   num(exact) + " (a 12-bit integer): netx keeps " +
                                   num(1.0 - static_cast<double>(n.vDecay) / kUnity) + " of v per step instead of " +
                                   num(1.0 - leak));
    if (membrane) {
        n.role = "membrane";
        if (reset != "none")
            r.approximations.push_back("this membrane readout resets (\"" + reset +
                                       "\") when it reaches v_threshold; the netx readout layer never fires "
                                       "(vThMant = 131072), so its v is the membrane without that reset");
        return r;
    }
    r.threshold = a.getFloat("v_threshold");
    if (!(r.threshold > 0.0)) {
        r.error = "v_threshold = " + num(r.threshold) + ": netx thresholds (vThMant) are positive";
        return r;
    }
    if (reset == "none") {
        r.error = "a spiking neuron without reset: Loihi's CUBA neuron always resets v to 0 after a spike";
        return r;
    }
    if (reset != "hard")
        r.approximations.push_back("reset by subtraction (\"" + reset +
                                   "\") becomes a reset to 0: Loihi's CUBA neuron sets v = 0 after a spike "
                                   "(slayer neuron/dynamics/leaky_integrator.py:224-225)");
    if (a.getString("fire", "ge") == "ge")
        r.approximations.push_back("netx fires on v > vThMant (Loihi; slayer adds threshold_eps for it, SC:130-134), "
                                   "this neuron on v >= v_threshold: they differ only when v equals the threshold");
    return r;
}

// What a Spike IR value is in the netx chain.
struct Val {
    enum class Kind { Failed, Input, Synapse, Layer } kind = Kind::Failed;
    ir::Shape shape;        // the IR's per-sample shape here
    int layer = -1;         // Input: 0; Layer: the layer producing it; Synapse: its source layer
    const ir::Op* synapse = nullptr; // Synapse: the linear/conv2d
    double gain = 1.0;      // Synapse: `scale` ops folded into it
    ir::IntList pool;       // Layer: an average pool [kh, kw] (stride = kernel) to fold into the next synapse
    ir::Shape unpooled;     // Layer with pool: the shape before pooling
    ir::Shape pooled;       // Layer with pool: the shape right after it (reshapes may follow)
    bool membrane = false;  // Layer: the membrane readout, not spikes
    bool timeMean = false;  // a final `mean over_time`
    std::string names;      // the values it comes from, for NetxLayer::source
};

class Exporter {
public:
    explicit Exporter(const ir::Module& m) : m_(m) {}

    NetxExportResult run()
    {
        visitEveryOp(m_, d_, [this](const ir::Op& op) { visit(op); }, [this](const ir::Op& op) {
            if (op.result != ir::kNoValue)
                vals_[op.result] = Val{};
        });
        NetxExportResult r;
        if (!d_.hasErrors() && !sawOutput_)
            d_.error({}, {}, "the module has no output");
        r.diagnostics = std::move(d_);
        if (!r.diagnostics.hasErrors()) {
            net_.timesteps = m_.timesteps;
            net_.module = m_.name;
            r.network = std::move(net_);
        }
        return r;
    }

private:
    const ir::Module& m_;
    Diagnostics d_;
    NetxNetwork net_;
    std::map<ir::ValueId, Val> vals_;
    bool sawOutput_ = false;

    void error(const ir::Op& op, const std::string& msg) { opError(d_, m_, op, msg); }
    const ir::Shape& shapeOf(ir::ValueId v) const { return m_.typeOf(v).shape; }
    std::string name(ir::ValueId v) const { return "%" + m_.value(v).name; }

    // nullptr (silently) when the operand is already reported.
    const Val* operand(const ir::Op& op, size_t i = 0)
    {
        auto it = vals_.find(op.operands.at(i));
        return it == vals_.end() || it->second.kind == Val::Kind::Failed ? nullptr : &it->second;
    }

    void define(const ir::Op& op, Val v) { vals_[op.result] = std::move(v); }

    const ir::Tensor* constant(const ir::Op& op, size_t i, const char* what)
    {
        const ir::Op& def = m_.definingOp(op.operands[i]);
        if (def.kind == OpKind::Const && def.constant)
            return def.constant.get();
        error(op, std::string("its ") + what + " is computed, not a constant: netx weights are fixed arrays");
        return nullptr;
    }

    void visit(const ir::Op& op);
    bool refuseByKind(const ir::Op& op);
    void visitSynapse(const ir::Op& op, const Val& in);
    void visitAvgPool(const ir::Op& op, const Val& in);
    void visitOutput(const ir::Op& op);
    bool makeLayer(const ir::Op& at, const Val& syn, const NeuronMap& nm, const std::string& names);
    bool connect(const ir::Op& at, const Val& syn, NetxLayer& layer, std::vector<double>& w);
};

// Ops netx cannot express whatever their operands are: reported even after an
// earlier error, so that all of them are listed at once.
bool Exporter::refuseByKind(const ir::Op& op)
{
    switch (op.kind) {
    case OpKind::MaxPool2d:
        error(op, "netx has no max pooling: hdf5.Network raises NotImplementedError for 'pool' layers "
                  "(H:625-626), and a max of spikes is not a weighted sum" + kLowerFirst);
        return true;
    case OpKind::BatchNorm:
        error(op, "netx has no batch norm: fold it into the preceding conv/linear (pass fold-bn)" + kLowerFirst);
        return true;
    case OpKind::MatMul:
    case OpKind::Mul:
        error(op, "netx layers are fixed-weight synapses; a product of two computed tensors (spike x spike "
                  "attention) has none" + kLowerFirst);
        return true;
    case OpKind::Add:
        error(op, "a sum of two computed values (a residual): netx networks are a chain of layers, each feeding "
                  "the next (H:566-689), with no merge (its 'concat' raises NotImplementedError, H:682-683)");
        return true;
    case OpKind::Conv1d:
        error(op, "netx convolutions are 2-D (H:464-544 reads [C, H, W] shapes and 4-D weights)" + kLowerFirst);
        return true;
    case OpKind::Delay:
        error(op, "not yet: a delay (a recurrent back edge or a delayed value) in netx, whose networks are a "
                  "chain of layers each feeding the next (H:566-689)");
        return true;
    case OpKind::Permute:
    case OpKind::Sum:
        error(op, "netx has no " + std::string(ir::opName(op)) + " layer" + kLowerFirst);
        return true;
    case OpKind::Mean:
        if (op.attrs.getBool("over_time") && op.attrs.getInts("axes").empty())
            return false;
        error(op, "netx has no mean over tensor axes (its 'average' layer raises NotImplementedError, H:679-680)" +
                      kLowerFirst);
        return true;
    default:
        return false;
    }
}

void Exporter::visit(const ir::Op& op)
{
    if (op.kind == OpKind::Const || refuseByKind(op))
        return;
    if (op.kind == OpKind::Input) {
        if (!net_.layers.empty())
            return error(op, "a second input: a netx network has one input port (H:95)");
        NetxLayer in;
        in.type = "input";
        in.shape = shapeOf(op.result);
        in.source = name(op.result);
        net_.layers.push_back(std::move(in));
        return define(op, {Val::Kind::Input, shapeOf(op.result), 0, nullptr, 1.0, {}, {}, {}, false, false, name(op.result)});
    }
    if (op.kind == OpKind::Output)
        return visitOutput(op);
    const Val* inp = op.operands.empty() ? nullptr : operand(op);
    if (!inp)
        return; // an earlier op was already reported
    Val in = *inp;
    const ir::Shape& outShape = shapeOf(op.result);
    switch (op.kind) {
    case OpKind::Encode:
        if (op.attrs.getString("mode") != "direct")
            return error(op, "netx networks take the spikes given to their input port; stc's stochastic (rate) "
                             "encoder is not part of the file (export the model with direct encoding)");
        if (in.kind == Val::Kind::Layer)
            return error(op, "an encoder after a spiking layer has no netx equivalent");
        in.shape = outShape;
        return define(op, in);
    case OpKind::Reshape:
    case OpKind::Flatten:
        in.shape = outShape;
        return define(op, in);
    case OpKind::Scale:
        if (in.kind != Val::Kind::Synapse)
            return error(op, "a scale that does not follow a linear/conv2d: netx has no scale layer (stc folds a "
                             "scale into the weights of the linear/conv2d before it)");
        in.gain *= op.attrs.getFloat("factor");
        in.names += " * " + num(op.attrs.getFloat("factor"));
        return define(op, in);
    case OpKind::Linear:
    case OpKind::Conv2d:
        return visitSynapse(op, in);
    case OpKind::AvgPool2d:
        return visitAvgPool(op, in);
    case OpKind::Lif: {
        if (in.kind != Val::Kind::Synapse)
            return error(op, "a neuron that does not follow a linear/conv2d: every netx layer is a dense or conv "
                             "synapse followed by its neuron (H:638-663, 599-623)");
        const NeuronMap nm = mapNeuron(op.attrs);
        if (!nm.error.empty())
            return error(op, nm.error);
        for (const auto& a : nm.approximations)
            opWarning(d_, m_, op, "approximated: " + a);
        if (!makeLayer(op, in, nm, in.names + " -> " + name(op.result)))
            return;
        Val out{Val::Kind::Layer, outShape, static_cast<int>(net_.layers.size()) - 1, nullptr, 1.0, {}, {}, {},
                nm.neuron.role == "membrane", false, name(op.result)};
        return define(op, out);
    }
    case OpKind::Mean: { // over time, without axes (refuseByKind): only as the model's readout
        const auto users = m_.computeUsers()[static_cast<size_t>(op.result)];
        bool onlyOutput = !users.empty();
        for (int32_t u : users)
            onlyOutput = onlyOutput && m_.ops()[static_cast<size_t>(u)].kind == OpKind::Output;
        if (!onlyOutput)
            return error(op, "a mean over time inside the network: netx layers run step by step (only a final "
                             "readout `output(mean over_time)` is exported; average the probed last layer yourself)");
        in.timeMean = true;
        in.shape = outShape;
        return define(op, in);
    }
    default:
        return error(op, "netx has no " + std::string(ir::opName(op)) + " layer" + kLowerFirst);
    }
}

void Exporter::visitSynapse(const ir::Op& op, const Val& in)
{
    if (in.kind == Val::Kind::Synapse)
        return error(op, "two weight layers without a neuron between them: every netx layer is one synapse followed "
                         "by its neuron (fold them into one linear/conv2d first)");
    if (in.membrane || in.timeMean)
        return error(op, "its input is a membrane readout or a time average: netx layers pass spikes to the next");
    const ir::Shape& xs = shapeOf(op.operands[0]);
    if (op.kind == OpKind::Linear && xs.size() != 1)
        return error(op, "a linear over a [" + ir::shapeToString(xs) +
                             "] tensor: netx dense layers map a vector (only rank-1 inputs are exported)");
    if (op.kind == OpKind::Conv2d && xs.size() != 3)
        return error(op, "a conv2d over a [" + ir::shapeToString(xs) + "] tensor: netx convs read [C, H, W]");
    if (!constant(op, 1, "weight") || (op.operands.size() > 2 && !constant(op, 2, "bias")))
        return;
    Val s = in;
    s.kind = Val::Kind::Synapse;
    s.synapse = &op;
    s.gain = 1.0;
    s.shape = shapeOf(op.result);
    s.names = (in.kind == Val::Kind::Input ? in.names + " -> " : std::string()) + name(op.result);
    define(op, s);
}

void Exporter::visitAvgPool(const ir::Op& op, const Val& in)
{
    const ir::IntList kernel = op.attrs.getInts("kernel");
    const ir::Shape& xs = shapeOf(op.operands[0]);
    const bool plain = op.attrs.getInts("stride", kernel) == kernel &&
                       op.attrs.getInts("padding", {0, 0}) == ir::IntList{0, 0} && !op.attrs.getBool("ceil_mode") &&
                       op.attrs.getInt("divisor_override") == 0;
    if (in.kind != Val::Kind::Layer || in.membrane || !in.pool.empty() || !plain || xs.size() != 3 ||
        kernel.size() != 2 || xs[1] % kernel[0] != 0 || xs[2] % kernel[1] != 0)
        return error(op, "netx has no pooling layer ('pool' and 'average' raise NotImplementedError, H:625-626, "
                         "679-680); stc folds an average pool into the conv2d/linear after it only when it pools "
                         "spikes of a layer with stride = kernel, no padding, floor mode and sizes divisible by the "
                         "kernel" + kLowerFirst);
    Val v = in;
    v.pool = kernel;
    v.unpooled = xs;
    v.shape = v.pooled = shapeOf(op.result);
    v.names = in.names + " -> " + name(op.result);
    define(op, v);
}

bool Exporter::connect(const ir::Op& at, const Val& syn, NetxLayer& layer, std::vector<double>& w)
{
    return netxConnect(m_, d_, at, *syn.synapse, syn.layer, {syn.pool, syn.unpooled, syn.pooled}, net_, layer, w);
}

bool Exporter::makeLayer(const ir::Op& at, const Val& syn, const NeuronMap& nm, const std::string& names)
{
    const ir::Op& s = *syn.synapse;
    if (syn.layer != static_cast<int>(net_.layers.size()) - 1) {
        error(at, "its synapse " + name(s.result) + " reads layer " + std::to_string(syn.layer) +
                      ", but netx connects every layer to the one just before it (H:622-663) and layer " +
                      std::to_string(net_.layers.size() - 1) + " is in between");
        return false;
    }
    NetxLayer layer;
    std::vector<double> w;
    if (!connect(at, syn, layer, w))
        return false;
    const double gain = nm.gain * syn.gain;
    double maxAbs = 0.0;
    for (double& x : w) {
        x *= gain;
        maxAbs = std::max(maxAbs, std::abs(x));
    }
    // One positive scale per layer keeps its spikes: v, weights, bias and threshold all scale by it.
    const double scale = maxAbs > 0.0 ? kMaxWeight / maxAbs : 1.0;
    // Layers reading the input port get graded spikes round(x * 2^inputExp) (docs/netx.md, "Input").
    const double inScale = syn.layer == 0 ? std::ldexp(1.0, static_cast<int>(net_.inputExp)) : 1.0;
    layer.scale = scale;
    layer.vScale = scale * inScale;
    for (double x : w) {
        const double q = std::round(x * scale);
        layer.weightRoundingError = std::max(layer.weightRoundingError, std::abs(q - x * scale));
        layer.weight.push_back(q);
    }
    if (s.operands.size() > 2)
        for (float b : m_.definingOp(s.operands[2]).constant->toFloats())
            layer.bias.push_back(std::round(static_cast<double>(b) * gain * scale * inScale));
    NetxNeuron n = nm.neuron;
    if (n.role == "spikes") {
        const double th = nm.threshold * scale * inScale;
        n.vThMant = std::llround(th);
        if (n.vThMant < 1 || n.vThMant >= kNeverFires) {
            error(at, "its threshold becomes vThMant = " + num(th) + " at this layer's weight scale " + num(scale) +
                          ", outside netx's [1, 131071]");
            return false;
        }
        if (std::abs(th - static_cast<double>(n.vThMant)) > 1e-6)
            opWarning(d_, m_, at, "approximated: vThMant = " + std::to_string(n.vThMant) + " rounds v_threshold " +
                                      num(nm.threshold) + " times the layer's scale " + num(scale * inScale) +
                                      " = " + num(th));
    } else {
        n.vThMant = kNeverFires;
    }
    layer.neuron = n;
    layer.source = names;
    net_.layers.push_back(std::move(layer));
    return true;
}

void Exporter::visitOutput(const ir::Op& op)
{
    sawOutput_ = true;
    if (op.operands.size() != 1)
        return error(op, "netx networks have one output port, the last layer's (H:93-99)");
    const Val* v = operand(op);
    if (!v)
        return;
    Val out = *v;
    if (out.kind == Val::Kind::Synapse) { // a weight layer read out directly: a neuron that passes v = W s + b
        NeuronMap identity;
        identity.neuron.vDecay = kUnity;
        identity.neuron.role = "identity";
        if (!makeLayer(op, out, identity, out.names))
            return;
        out.kind = Val::Kind::Layer;
        out.layer = static_cast<int>(net_.layers.size()) - 1;
        out.pool.clear(); // that pool was the synapse's input, now folded into it
    }
    if (out.kind != Val::Kind::Layer || !out.pool.empty())
        return error(op, "the output must be the last netx layer (a neuron, or a linear/conv2d read out directly)");
    if (out.layer != static_cast<int>(net_.layers.size()) - 1)
        return error(op, "the output is layer " + std::to_string(out.layer) + " but netx's output is the last layer");
    const NetxLayer& last = net_.layers.back();
    if (last.neuron->role == "spikes")
        net_.readout = "the spikes of the last layer (Network.out)";
    else
        net_.readout = "the voltage v of the last layer's neuron (probe it; that layer never fires), which is " +
                       num(last.vScale) + " times the model's value";
    net_.readout += out.timeMean ? ", averaged over the T steps" : ", per step";
}

} // namespace

NetxExportResult exportToNetx(const ir::Module& m) { return Exporter(m).run(); }

} // namespace stc::interop

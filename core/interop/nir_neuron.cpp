#include "interop/nir_neuron.h"

#include "ir/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace stc::interop {

namespace {

constexpr const char* kMetaPrefix = "stc_";
constexpr const char* kSynPrefix = "stc_syn_"; // a CubaLIF's synaptic-current stage

// Equal up to float32 precision: most NIR writers store float32 parameters.
bool close(double a, double b)
{
    if (a == b)
        return true;
    return std::abs(a - b) <= 1e-6 * std::max(std::abs(a), std::abs(b));
}

// Our attributes, verbatim, so that stc restores the exact neuron NIR cannot express.
NirFields attrsToMetadata(const ir::Attributes& a, const std::string& prefix = kMetaPrefix)
{
    NirFields meta;
    for (const auto& [key, value] : a.map()) {
        const std::string k = prefix + key;
        if (auto s = std::get_if<std::string>(&value))
            meta.setString(k, *s);
        else if (auto d = std::get_if<double>(&value))
            meta.arrays[k] = NirArray::scalar(*d);
        else if (auto b = std::get_if<bool>(&value))
            meta.arrays[k] = NirArray::scalar(*b ? 1 : 0, NirArray::DType::Int64);
        else if (auto i = std::get_if<int64_t>(&value))
            meta.arrays[k] = NirArray::scalar(static_cast<double>(*i), NirArray::DType::Int64);
    }
    return meta;
}

// The inverse, using the lif op's attribute schema for the kinds; false when
// there is no stc metadata or it does not fit the schema.
bool metadataToAttrs(const NirFields& meta, ir::Attributes& out)
{
    bool any = false;
    for (const auto& spec : ir::opDef(ir::OpKind::Lif).attrs) {
        const std::string k = kMetaPrefix + spec.name;
        if (const std::string* s = meta.string(k)) {
            if (spec.kind != ir::AttrKind::String)
                return false;
            out.set(spec.name, *s);
            any = true;
        } else if (const NirArray* arr = meta.array(k)) {
            if (arr->values.size() != 1)
                return false;
            const double v = arr->values[0];
            if (spec.kind == ir::AttrKind::Float)
                out.set(spec.name, v);
            else if (spec.kind == ir::AttrKind::Bool)
                out.set(spec.name, v != 0.0);
            else if (spec.kind == ir::AttrKind::Int)
                out.set(spec.name, static_cast<int64_t>(v));
            else
                return false;
            any = true;
        }
    }
    return any && ir::checkAttributes(ir::OpKind::Lif, out).empty();
}

std::optional<double> uniformField(const NirNode& n, const std::string& key, std::string& error)
{
    const NirArray* a = n.fields.array(key);
    if (!a) {
        error = "missing dataset \"" + key + "\"";
        return std::nullopt;
    }
    auto v = uniformValue(*a);
    if (!v)
        error = "\"" + key + "\" differs between neurons: a Spike IR lif holds one " + key +
                " for all its neurons (only r, an input gain, may differ per neuron)";
    return v;
}

ir::Shape parameterShape(const NirNode& n)
{
    for (const auto& [key, a] : n.fields.arrays)
        return a.shape;
    return {};
}

} // namespace

bool isNirNeuronType(const std::string& t)
{
    return t == "LIF" || t == "IF" || t == "LI" || t == "I" || t == "Threshold" || t == "CubaLIF" || t == "CubaLI";
}

NeuronExport exportNeuron(const ir::Attributes& a, const ir::Shape& shape, double dt)
{
    NeuronExport out;
    const std::string neuron = a.getString("neuron", "lif");
    const std::string reset = a.getString("reset", "hard");
    const bool membraneOut = a.getString("output", "spikes") == "membrane";
    const double vth = a.getFloat("v_threshold");
    const double vr = reset == "hard" ? a.getFloat("v_reset", 0.0) : 0.0;

    // Euler step of the NIR ODE: v += dt/tau * (v_leak - v) + dt/tau * r * x.
    bool leaks = true;
    double tau = 0, r = 0, vLeak = vr;
    if (neuron == "lif") { // SpikingJelly: v += (x - (v - v_reset)) / tau  [decay_input]
        tau = a.getFloat("tau") * dt;
        r = a.getBool("decay_input", true) ? 1.0 : a.getFloat("tau");
    } else if (neuron == "leaky") { // snnTorch: v = beta * v + x
        const double beta = a.getFloat("beta");
        if (!(beta >= 0.0 && beta <= 1.0)) {
            out.error = "beta = " + std::to_string(beta) + " is outside [0, 1]: no NIR time constant gives that decay";
            return out;
        }
        if (beta == 1.0) {
            leaks = false;
        } else {
            tau = dt / (1.0 - beta);
            r = 1.0 / (1.0 - beta);
            vLeak = 0.0;
        }
    } else { // "if": v += x
        leaks = false;
    }
    if (!leaks)
        r = 1.0 / dt;

    NirNode& n = out.node;
    auto param = [&](const char* key, double v) { n.fields.arrays[key] = NirArray::filled(shape, v); };
    if (membraneOut) {
        n.type = leaks ? "LI" : "I";
        if (leaks) {
            param("tau", tau);
            param("v_leak", vLeak);
        }
        param("r", r);
        if (reset != "none")
            out.losses.push_back("NIR " + n.type + " has no reset; the \"" + reset +
                                 "\" reset of this membrane readout is kept only in stc metadata");
        if (leaks && vLeak != 0.0)
            out.losses.push_back("v_reset = " + std::to_string(vr) + " is the leak target; stc reads LI only with v_leak = 0");
    } else {
        n.type = leaks ? "LIF" : "IF";
        if (leaks) {
            param("tau", tau);
            param("v_leak", vLeak);
        }
        param("r", r);
        param("v_threshold", vth);
        param("v_reset", vr);
        if (reset == "none")
            out.losses.push_back("NIR " + n.type + " always resets to v_reset; this neuron never resets "
                                 "(kept only in stc metadata)");
        else if (reset != "hard")
            out.losses.push_back("NIR " + n.type + " resets to v_reset; reset by subtraction (\"" + reset +
                                 "\") is kept only in stc metadata");
        if (a.getString("fire", "ge") == "ge")
            out.losses.push_back("NIR fires on v > v_threshold, this neuron on v >= v_threshold "
                                 "(they differ only when v equals the threshold exactly; kept in stc metadata)");
    }
    n.metadata = attrsToMetadata(a);
    return out;
}

namespace {

// NIR's firing rule: a spiking node fires on v > v_threshold and resets hard
// to v_reset; a non-spiking one (LI, I) outputs its membrane and never resets.
void setNirFiring(ir::Attributes& a, bool spikes, double vth, double vr)
{
    a.set("v_threshold", vth);
    a.set("reset", std::string(spikes ? "hard" : "none"));
    if (spikes)
        a.set("v_reset", vr);
    a.set("fire", std::string("gt"));
    if (!spikes)
        a.set("output", std::string("membrane"));
}

} // namespace

NeuronImport importNeuron(const NirNode& n, double dt)
{
    NeuronImport out;
    ir::Attributes& a = out.attrs;
    std::string err;
    // A per-neuron r is an input gain per neuron (a `mul` by a constant); other
    // parameters are attributes of the lif op, one value for all its neurons.
    std::vector<double> perNeuronR;
    auto get = [&](const char* key, std::optional<double> def = std::nullopt) -> double {
        if (!err.empty())
            return 0;
        if (def && !n.fields.array(key))
            return *def;
        if (const NirArray* r = n.fields.array(key); r && std::string(key) == "r" && r->size() > 1 && !uniformValue(*r)) {
            perNeuronR = r->values;
            return std::numeric_limits<double>::quiet_NaN(); // not undecayed; replaced by the gains below
        }
        auto v = uniformField(n, key, err);
        return v.value_or(0);
    };
    // A NIR LI/I never spikes: its threshold is the largest finite float, which
    // no membrane reaches (the IR requires finite thresholds; f32 keeps it finite).
    const double neverReached = double(std::numeric_limits<float>::max());
    if (n.type == "LIF" || n.type == "LI") {
        const double tau = get("tau"), r = get("r"), vLeak = get("v_leak");
        const bool spikes = n.type == "LIF";
        const double vth = spikes ? get("v_threshold") : neverReached;
        const double vr = spikes ? get("v_reset", 0.0) : 0.0;
        if (err.empty() && !(tau > 0.0 && std::isfinite(tau)))
            err = "tau = " + std::to_string(tau) + " must be positive and finite";
        if (err.empty() && spikes && vLeak != vr)
            err = "v_leak != v_reset is not yet supported (stc neurons leak towards their reset potential)";
        if (err.empty() && !spikes && vLeak != 0.0)
            err = "LI with v_leak != 0 is not yet supported";
        if (err.empty()) {
            const double tauSteps = tau / dt;
            a.set("neuron", std::string("lif"));
            a.set("tau", tauSteps);
            // r = 1: SpikingJelly's decay_input form; r = tau/dt: the input is added undecayed.
            const bool undecayed = r != 1.0 && close(r, tauSteps);
            a.set("decay_input", !undecayed);
            out.inputGain = undecayed ? 1.0 : r;
            setNirFiring(a, spikes, vth, vr);
        }
    } else if (n.type == "IF" || n.type == "I") {
        const bool spikes = n.type == "IF";
        const double r = get("r");
        const double vth = spikes ? get("v_threshold") : neverReached;
        const double vr = spikes ? get("v_reset", 0.0) : 0.0;
        a.set("neuron", std::string("if"));
        setNirFiring(a, spikes, vth, vr);
        out.inputGain = r * dt;
    } else if (n.type == "Threshold") {
        // Stateless Heaviside: a leaky neuron that forgets everything each step.
        a.set("neuron", std::string("leaky"));
        a.set("beta", 0.0);
        a.set("v_threshold", get("threshold"));
        a.set("reset", std::string("none"));
        a.set("fire", std::string("gt"));
    } else {
        err = "NIR " + n.type + " is not a single-state neuron"; // CubaLIF/CubaLI: importCubaNeuron
    }
    if (!err.empty()) {
        out.error = err;
        return out;
    }
    if (!perNeuronR.empty()) {
        const double unit = n.type == "IF" || n.type == "I" ? dt : 1.0;
        for (double r : perNeuronR) {
            if (!std::isfinite(r))
                return out.error = "\"r\" holds " + std::to_string(r) + ": gains must be finite", out;
            out.inputGains.push_back(r * unit);
        }
        out.inputGain = 1.0;
    }
    if (close(out.inputGain, 1.0)) // r * dt = 1 up to the file's rounding: no scale op
        out.inputGain = 1.0;

    ir::Attributes restored;
    if (metadataToAttrs(n.metadata, restored)) {
        // Use our exact attributes only if they describe the same NIR neuron.
        const NeuronExport check = exportNeuron(restored, parameterShape(n), dt);
        bool same = check.error.empty() && check.node.type == n.type;
        for (const auto& [key, arr] : check.node.fields.arrays) {
            const NirArray* mine = n.fields.array(key);
            same = same && mine && mine->values.size() == arr.values.size();
            for (size_t i = 0; same && i < arr.values.size(); ++i)
                same = close(mine->values[i], arr.values[i]);
        }
        if (same) {
            out.attrs = restored;
            out.inputGain = 1.0;
            out.inputGains.clear();
            out.fromMetadata = true;
        } else {
            out.note = "stc metadata on this neuron disagrees with its NIR parameters (at dt = " + std::to_string(dt) +
                       "); ignored";
        }
    }
    return out;
}

namespace {

bool leaksToZero(const ir::Attributes& a)
{
    const std::string neuron = a.getString("neuron", "lif");
    if (neuron == "leaky")
        return a.getFloat("beta") >= 0.0 && a.getFloat("beta") < 1.0;
    return neuron == "lif";
}

// importNeuron's messages name LIF/LI fields; say which CubaLIF field it was.
std::string renameFields(std::string msg, const std::map<std::string, std::string>& names)
{
    for (const auto& [from, to] : names)
        for (size_t at = msg.find(from); at != std::string::npos; at = msg.find(from, at + to.size()))
            msg.replace(at, from.size(), to);
    return msg;
}

} // namespace

bool isCubaPair(const ir::Attributes& syn, const ir::Attributes& mem)
{
    return syn.getString("output", "spikes") == "membrane" && syn.getString("reset", "hard") == "none" &&
           leaksToZero(syn) && leaksToZero(mem);
}

NeuronExport exportCubaNeuron(const ir::Attributes& syn, const ir::Attributes& mem, const ir::Shape& shape, double dt)
{
    NeuronExport s = exportNeuron(syn, shape, dt);
    NeuronExport out = exportNeuron(mem, shape, dt);
    if (!s.error.empty() || !out.error.empty() || s.node.type != "LI" || (out.node.type != "LIF" && out.node.type != "LI")) {
        out.error = !s.error.empty() ? s.error : !out.error.empty() ? out.error : "not a CubaLIF: both stages must leak";
        return out;
    }
    NirNode& n = out.node;
    n.type = n.type == "LIF" ? "CubaLIF" : "CubaLI";
    auto& f = n.fields.arrays;
    f["tau_mem"] = f["tau"];
    f.erase("tau");
    f["tau_syn"] = s.node.fields.arrays["tau"];
    f["w_in"] = s.node.fields.arrays["r"];
    for (auto& [key, value] : attrsToMetadata(syn, kSynPrefix).arrays)
        n.metadata.arrays[key] = value;
    for (auto& [key, value] : attrsToMetadata(syn, kSynPrefix).strings)
        n.metadata.strings[key] = value;
    out.losses.push_back("the membrane integrates this step's synaptic current (snnTorch's Synaptic); Norse and "
                         "NIR's reference implementation use the previous step's, one step later (docs/nir.md)");
    return out;
}

CubaImport importCubaNeuron(const NirNode& n, double dt)
{
    CubaImport out;
    const bool spikes = n.type == "CubaLIF";
    NirNode syn, mem;
    syn.name = mem.name = n.name;
    syn.type = "LI";
    mem.type = spikes ? "LIF" : "LI";
    const NirArray* vLeak = n.fields.array("v_leak");
    const NirArray* tauSyn = n.fields.array("tau_syn");
    for (const char* key : {"tau_syn", "tau_mem", "r", "v_leak"})
        if (!n.fields.array(key)) {
            out.error = std::string("missing dataset \"") + key + "\"";
            return out;
        }
    // NIR's w_in defaults to 1 (nir/ir/neuron.py).
    const NirArray* wIn = n.fields.array("w_in");
    syn.fields.arrays["tau"] = *tauSyn;
    syn.fields.arrays["r"] = wIn ? *wIn : NirArray::filled(tauSyn->shape, 1.0);
    syn.fields.arrays["v_leak"] = NirArray::filled(tauSyn->shape, 0.0);
    mem.fields.arrays["tau"] = *n.fields.array("tau_mem");
    mem.fields.arrays["r"] = *n.fields.array("r");
    mem.fields.arrays["v_leak"] = *vLeak;
    for (const char* key : {"v_threshold", "v_reset"})
        if (const NirArray* a = n.fields.array(key))
            mem.fields.arrays[key] = *a;
    const std::string synPrefix = kSynPrefix;
    for (const auto& [key, value] : n.metadata.arrays)
        (key.rfind(synPrefix, 0) == 0 ? syn.metadata.arrays[kMetaPrefix + key.substr(synPrefix.size())]
                                      : mem.metadata.arrays[key]) = value;
    for (const auto& [key, value] : n.metadata.strings)
        (key.rfind(synPrefix, 0) == 0 ? syn.metadata.strings[kMetaPrefix + key.substr(synPrefix.size())]
                                      : mem.metadata.strings[key]) = value;
    out.syn = importNeuron(syn, dt);
    out.mem = importNeuron(mem, dt);
    if (!out.syn.error.empty())
        out.error = "synaptic current: " + renameFields(out.syn.error, {{"\"tau\"", "\"tau_syn\""}, {"\"r\"", "\"w_in\""},
                                                                         {"tau = ", "tau_syn = "}});
    else if (!out.mem.error.empty())
        out.error = renameFields(out.mem.error, {{"\"tau\"", "\"tau_mem\""}, {"tau = ", "tau_mem = "}});
    return out;
}

} // namespace stc::interop

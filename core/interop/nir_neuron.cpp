#include "interop/nir_neuron.h"

#include "ir/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace stc::interop {

namespace {

constexpr const char* kMetaPrefix = "stc_";

// Equal up to float32 precision: most NIR writers store float32 parameters.
bool close(double a, double b)
{
    if (a == b)
        return true;
    return std::abs(a - b) <= 1e-6 * std::max(std::abs(a), std::abs(b));
}

// Our attributes, verbatim, so that stc restores the exact neuron NIR cannot express.
NirFields attrsToMetadata(const ir::Attributes& a)
{
    NirFields meta;
    for (const auto& [key, value] : a.map()) {
        const std::string k = kMetaPrefix + key;
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
        error = "\"" + key + "\" differs between neurons; per-neuron parameters are not yet supported";
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
    auto get = [&](const char* key, std::optional<double> def = std::nullopt) -> double {
        if (!err.empty())
            return 0;
        if (def && !n.fields.array(key))
            return *def;
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
        err = "NIR " + n.type + " is not yet supported (synaptic current state)";
    }
    if (!err.empty()) {
        out.error = err;
        return out;
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
            same = same && mine && mine->values.size() == arr.values.size() &&
                   close(mine->values.empty() ? 0 : mine->values[0], arr.values.empty() ? 0 : arr.values[0]);
        }
        if (same) {
            out.attrs = restored;
            out.inputGain = 1.0;
            out.fromMetadata = true;
        } else {
            out.note = "stc metadata on this neuron disagrees with its NIR parameters (at dt = " + std::to_string(dt) +
                       "); ignored";
        }
    }
    return out;
}

} // namespace stc::interop

#include "neuron_recognizer.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <unordered_set>

namespace stc::torchscript {

bool isElementwiseKind(const std::string& kind)
{
    static const std::unordered_set<std::string> s = {
        "aten::add", "aten::sub", "aten::mul", "aten::div", "aten::rsub", "aten::neg", "aten::ge", "aten::gt",
        "aten::le", "aten::lt", "aten::eq", "aten::ne", "aten::heaviside", "aten::where", "aten::to",
        "aten::type_as", "aten::detach", "aten::clone", "aten::copy_", "aten::clamp", "aten::clamp_min",
        "aten::clamp_max", "aten::abs", "aten::sign", "aten::add_", "aten::sub_", "aten::mul_", "aten::div_",
        "aten::logical_not", "aten::logical_and", "aten::logical_or", "aten::float", "aten::_cast_Float",
        "aten::masked_fill", "aten::fill_", "aten::zero_", "aten::relu", "aten::detach_", "aten::sigmoid",
        "aten::__and__", "aten::__or__", "aten::bitwise_not", "aten::maximum", "aten::minimum"};
    return s.count(kind) != 0;
}

namespace {

struct Fire {
    int32_t node = -1;
    ValueRef membrane = kNoRef;
    double threshold = 0.0;
    bool ge = true;
    std::vector<int32_t> chain;  // shift, compare and conversion nodes
    std::vector<ValueRef> spikes; // float 0/1 results
};

std::optional<double> scalarOf(const RecArg& a)
{
    if (a.isScalar())
        return a.scalar();
    if (a.kind == RecArg::Kind::Tensor && a.tensor->numel() == 1)
        return a.tensor->first();
    return std::nullopt;
}

bool isConversion(const RecNode& n, ValueRef from)
{
    if (n.inputs.empty() || !n.inputs[0].isDyn() || n.inputs[0].dyn != from)
        return false;
    return n.kind == "aten::to" || n.kind == "aten::type_as" || n.kind == "aten::float" ||
           n.kind == "aten::_cast_Float";
}

// Uses `u` only as the dtype reference of a conversion (`(x >= 0).to(x)`).
bool usesOnlyAsDtype(const RecNode& n, ValueRef u)
{
    if (!(n.kind == "aten::to" || n.kind == "aten::type_as"))
        return false;
    for (size_t i = 0; i < n.inputs.size(); ++i)
        if (n.inputs[i].isDyn() && n.inputs[i].dyn == u && i == 0)
            return false;
    return true;
}

class Recognizer {
public:
    Recognizer(const RecordedGraph& g, Replayer& r, Diagnostics& d)
        : g_(g), replayer_(r), diags_(d), users_(g.users())
    {
    }
    NeuronAnalysis run();

private:
    int32_t producer(ValueRef v) const { return g_.values[size_t(v)].node; }
    bool elementwise(int32_t n) const { return n >= 0 && ew_[size_t(n)]; }
    std::optional<Fire> parseFire(int32_t n) const;
    void analyzeComponent(const std::vector<int32_t>& comp, NeuronAnalysis& out);
    void analyzeChain(const std::vector<ValueRef>& chain, const std::vector<int32_t>& comp,
                      const std::vector<Fire>& fires, NeuronAnalysis& out);
    bool fitAndVerify(NeuronInstance& inst, const std::vector<int32_t>& nodes,
                      const std::vector<std::tuple<int32_t, int32_t, int32_t>>& uses,
                      const std::vector<ValueRef>& membranes, const std::vector<ValueRef>& spikeRefs,
                      const std::vector<double>& constants, double threshold, bool ge, std::string& why);
    void error(const RecNode& at, const std::string& path, const std::string& message);

    const RecordedGraph& g_;
    Replayer& replayer_;
    Diagnostics& diags_;
    std::vector<std::vector<int32_t>> users_;
    std::vector<char> ew_;
    std::set<std::string> usedPaths_;
};

void Recognizer::error(const RecNode& at, const std::string& path, const std::string& message)
{
    diags_.add({Severity::Error, at.loc.known() ? at.loc : SourceLoc{g_.modelFile, 0, 0}, "neuron", path,
                message + (at.source.empty() ? "" : " [" + at.source + "]")});
}

std::optional<Fire> Recognizer::parseFire(int32_t n) const
{
    const RecNode& node = g_.nodes[size_t(n)];
    Fire f;
    f.node = n;
    ValueRef u = kNoRef;
    if (node.kind == "aten::ge" || node.kind == "aten::gt" || node.kind == "aten::le" || node.kind == "aten::lt") {
        if (node.inputs.size() < 2)
            return std::nullopt;
        const bool greater = node.kind == "aten::ge" || node.kind == "aten::gt";
        const bool orEqual = node.kind == "aten::ge" || node.kind == "aten::le";
        if (node.inputs[0].isDyn() && scalarOf(node.inputs[1]) && greater) {
            u = node.inputs[0].dyn;
            f.threshold = *scalarOf(node.inputs[1]);
        } else if (node.inputs[1].isDyn() && scalarOf(node.inputs[0]) && !greater) {
            u = node.inputs[1].dyn; // c <= u  <=>  u >= c
            f.threshold = *scalarOf(node.inputs[0]);
        } else {
            return std::nullopt;
        }
        f.ge = orEqual;
    } else if (node.kind == "aten::heaviside") {
        auto values = node.inputs.size() > 1 ? scalarOf(node.inputs[1]) : std::nullopt;
        if (!node.inputs[0].isDyn() || !values || (*values != 0.0 && *values != 1.0))
            return std::nullopt;
        u = node.inputs[0].dyn;
        f.ge = *values == 1.0;
    } else {
        return std::nullopt;
    }
    f.chain.push_back(n);
    // Strip `v - v_th` (used only by the comparison) to find the membrane.
    for (;;) {
        const int32_t p = producer(u);
        if (!elementwise(p))
            break;
        const RecNode& pn = g_.nodes[size_t(p)];
        if (!(pn.kind == "aten::sub" || pn.kind == "aten::add") || pn.inputs.size() < 2 || !pn.inputs[0].isDyn())
            break;
        auto s = scalarOf(pn.inputs[1]);
        const double alpha = pn.inputs.size() > 2 && pn.inputs[2].isScalar() ? pn.inputs[2].scalar() : 1.0;
        if (!s)
            break;
        bool onlyFire = true;
        for (int32_t user : users_[size_t(u)])
            onlyFire = onlyFire && (user == n || usesOnlyAsDtype(g_.nodes[size_t(user)], u));
        if (!onlyFire)
            break;
        f.threshold += (pn.kind == "aten::sub" ? 1.0 : -1.0) * alpha * *s;
        f.chain.push_back(p);
        u = pn.inputs[0].dyn;
    }
    f.membrane = u;
    // The comparison yields bool; the spike is its float conversion.
    for (ValueRef o : node.dynOutputs()) {
        if (g_.values[size_t(o)].dtype != DType::Bool) {
            f.spikes.push_back(o);
            continue;
        }
        for (int32_t user : users_[size_t(o)]) {
            const RecNode& un = g_.nodes[size_t(user)];
            if (isConversion(un, o)) {
                f.chain.push_back(user);
                for (ValueRef s : un.dynOutputs())
                    f.spikes.push_back(s);
            }
        }
        if (f.spikes.empty())
            f.spikes.push_back(o);
    }
    return f;
}

NeuronAnalysis Recognizer::run()
{
    NeuronAnalysis out;
    const size_t N = g_.nodes.size();
    out.nodeOwner.assign(N, -1);
    ew_.assign(N, 0);
    for (size_t n = 0; n < N; ++n) {
        const auto dyn = g_.nodes[n].dynOutputs();
        ew_[n] = isElementwiseKind(g_.nodes[n].kind) && !dyn.empty() && !g_.values[size_t(dyn[0])].scalar;
    }
    // Connected components of elementwise nodes.
    std::vector<int32_t> parent(N);
    std::iota(parent.begin(), parent.end(), 0);
    std::function<int32_t(int32_t)> find = [&](int32_t x) {
        while (parent[size_t(x)] != x)
            x = parent[size_t(x)] = parent[size_t(parent[size_t(x)])];
        return x;
    };
    for (size_t n = 0; n < N; ++n) {
        if (!ew_[n])
            continue;
        for (ValueRef v : g_.nodes[n].dynInputs()) {
            const int32_t p = producer(v);
            if (elementwise(p))
                parent[size_t(find(int32_t(n)))] = find(p);
        }
    }
    std::map<int32_t, std::vector<int32_t>> comps;
    for (size_t n = 0; n < N; ++n)
        if (ew_[n])
            comps[find(int32_t(n))].push_back(int32_t(n));
    for (auto& [root, nodes] : comps)
        analyzeComponent(nodes, out);
    for (size_t i = 0; i < out.neurons.size(); ++i) {
        for (int32_t n : out.neurons[i].nodes)
            out.nodeOwner[size_t(n)] = int32_t(i);
        for (size_t t = 0; t < out.neurons[i].stepSpikes.size(); ++t)
            for (ValueRef s : out.neurons[i].stepSpikes[t])
                out.spikeOf[s] = {int32_t(i), int32_t(t)};
        for (size_t t = 0; t < out.neurons[i].stepMembrane.size(); ++t)
            out.membraneOf[out.neurons[i].stepMembrane[t]] = {int32_t(i), int32_t(t)};
    }
    return out;
}

void Recognizer::analyzeComponent(const std::vector<int32_t>& comp, NeuronAnalysis& out)
{
    std::vector<Fire> fires;
    for (int32_t n : comp)
        if (auto f = parseFire(n))
            fires.push_back(std::move(*f));
    if (fires.empty())
        return;
    std::set<int32_t> inComp(comp.begin(), comp.end());
    std::set<int32_t> fireNodes;
    std::map<ValueRef, int32_t> membraneDef; // membrane value -> producing node
    for (const Fire& f : fires) {
        fireNodes.insert(f.node);
        membraneDef[f.membrane] = producer(f.membrane);
    }
    std::map<int32_t, ValueRef> defToMembrane;
    for (auto& [m, def] : membraneDef)
        if (def >= 0)
            defToMembrane[def] = m;
    // State edges: m' -> m when m is computed from m' without going through a
    // comparison (the spike path is how neurons talk to each other).
    std::map<ValueRef, std::set<ValueRef>> succ, pred;
    for (auto& [m, def] : membraneDef) {
        std::deque<ValueRef> work{m};
        std::set<int32_t> seen;
        while (!work.empty()) {
            const ValueRef v = work.front();
            work.pop_front();
            for (int32_t user : users_[size_t(v)]) {
                if (!inComp.count(user) || fireNodes.count(user) || !seen.insert(user).second)
                    continue;
                if (auto it = defToMembrane.find(user); it != defToMembrane.end()) {
                    if (it->second != m) {
                        succ[m].insert(it->second);
                        pred[it->second].insert(m);
                    }
                    continue;
                }
                for (ValueRef o : g_.nodes[size_t(user)].dynOutputs())
                    work.push_back(o);
            }
        }
    }
    for (auto& [m, def] : membraneDef) {
        if (pred[m].size() > 1 || succ[m].size() > 1) {
            const RecNode& at = g_.nodes[size_t(fires[0].node)];
            error(at, at.modulePath,
                  "comparisons with a threshold found, but the membrane state does not form one chain over time "
                  "(a state value feeds " + std::to_string(succ[m].size()) + " later states); not a recognizable "
                  "spiking neuron");
            return;
        }
    }
    for (auto& [m, def] : membraneDef) {
        if (!pred[m].empty())
            continue;
        std::vector<ValueRef> chain{m};
        while (!succ[chain.back()].empty())
            chain.push_back(*succ[chain.back()].begin());
        analyzeChain(chain, comp, fires, out);
    }
}

void Recognizer::analyzeChain(const std::vector<ValueRef>& chain, const std::vector<int32_t>& comp,
                              const std::vector<Fire>& allFires, NeuronAnalysis& out)
{
    const std::set<int32_t> inComp(comp.begin(), comp.end());
    std::map<ValueRef, int32_t> stepOfMembrane;
    for (size_t t = 0; t < chain.size(); ++t)
        stepOfMembrane[chain[t]] = int32_t(t);
    std::vector<const Fire*> fires;
    for (const Fire& f : allFires)
        if (stepOfMembrane.count(f.membrane))
            fires.push_back(&f);

    // Step of a node: the first membrane it is an ancestor of.
    std::map<int32_t, int32_t> step;
    for (size_t t = 0; t < chain.size(); ++t) {
        std::deque<int32_t> work{producer(chain[t])};
        while (!work.empty()) {
            const int32_t n = work.front();
            work.pop_front();
            if (n < 0 || !inComp.count(n) || step.count(n))
                continue;
            step[n] = int32_t(t);
            for (ValueRef v : g_.nodes[size_t(n)].dynInputs())
                work.push_back(producer(v));
        }
    }
    // Nodes fed by the state (membranes, spikes, the initial state).
    std::set<int32_t> fromState;
    std::deque<int32_t> work;
    std::set<int32_t> fireChain;
    std::map<int32_t, int32_t> fireStep;
    for (const Fire* f : fires)
        for (int32_t n : f->chain) {
            fireChain.insert(n);
            fireStep[n] = stepOfMembrane[f->membrane];
            work.push_back(n);
        }
    for (ValueRef m : chain)
        for (int32_t u : users_[size_t(m)])
            work.push_back(u);
    for (int32_t n : comp) {
        const RecNode& node = g_.nodes[size_t(n)];
        const auto outs = node.dynOutputs();
        for (const RecArg& a : node.inputs)
            if (a.kind == RecArg::Kind::Tensor && a.tensor->uniform() && !outs.empty() &&
                a.tensor->shape == g_.values[size_t(outs[0])].shape)
                work.push_back(n); // full-shape constant: the initial membrane
    }
    while (!work.empty()) {
        const int32_t n = work.front();
        work.pop_front();
        if (!inComp.count(n) || !fromState.insert(n).second)
            continue;
        for (ValueRef o : g_.nodes[size_t(n)].dynOutputs())
            for (int32_t u : users_[size_t(o)])
                work.push_back(u);
    }
    std::map<int32_t, int32_t> region; // node -> step
    for (auto& [n, t] : step)
        if (fromState.count(n))
            region[n] = t;
    for (auto& [n, t] : fireStep)
        region.emplace(n, t);

    // Inputs: dynamic values from outside the region, per step.
    using Use = std::tuple<int32_t, int32_t, int32_t>; // node, ordinal, step
    auto collectUses = [&](std::vector<Use>& uses, std::vector<std::set<ValueRef>>& perStep) {
        uses.clear();
        perStep.assign(chain.size(), {});
        for (auto& [n, t] : region) {
            const auto ins = g_.nodes[size_t(n)].dynInputs();
            for (size_t k = 0; k < ins.size(); ++k) {
                const int32_t p = producer(ins[k]);
                if (g_.values[size_t(ins[k])].scalar || (p >= 0 && region.count(p)))
                    continue;
                uses.emplace_back(n, int32_t(k), t);
                perStep[size_t(t)].insert(ins[k]);
            }
        }
    };
    std::vector<Use> uses;
    std::vector<std::set<ValueRef>> perStep;
    collectUses(uses, perStep);
    for (size_t t = 0; t < chain.size(); ++t) {
        if (!perStep[t].empty())
            continue;
        // No initial-state constant marked where step t begins: absorb its charge.
        for (auto& [n, s] : step)
            if (s == int32_t(t))
                region.emplace(n, s);
        collectUses(uses, perStep);
    }

    NeuronInstance inst;
    inst.T = int64_t(chain.size());
    inst.stepMembrane = chain;
    std::vector<int32_t> stateNodes;
    for (auto& [n, t] : region) {
        inst.nodes.push_back(n);
        if (!fireChain.count(n))
            stateNodes.push_back(n);
    }
    // Name: the module holding the state update (the comparison may sit in a
    // shared surrogate module elsewhere).
    const auto& naming = stateNodes.empty() ? inst.nodes : stateNodes;
    std::string path = g_.nodes[size_t(naming[0])].modulePath;
    for (int32_t n : naming) {
        const std::string& p = g_.nodes[size_t(n)].modulePath;
        size_t k = 0;
        while (k < path.size() && k < p.size() && path[k] == p[k])
            ++k;
        if (k < path.size()) {
            path = path.substr(0, k);
            if (auto dot = path.rfind('.'); dot != std::string::npos && !(k == p.size() || p[k] == '.'))
                path = path.substr(0, dot);
            else if (!(k == p.size() || p[k] == '.'))
                path.clear();
        }
    }
    while (!path.empty() && path.back() == '.')
        path.pop_back();
    for (int32_t n : naming)
        if (g_.nodes[size_t(n)].modulePath == path) {
            inst.className = g_.nodes[size_t(n)].moduleType;
            break;
        }
    std::string unique = path;
    for (int k = 2; usedPaths_.count(unique); ++k)
        unique = path + "#" + std::to_string(k);
    usedPaths_.insert(unique);
    inst.path = unique;
    const RecNode& anchor = g_.nodes[size_t(fires[0]->node)];
    const RecNode& stateAnchor = g_.nodes[size_t(naming[0])];
    inst.loc = stateAnchor.loc.known() ? stateAnchor.loc : anchor.loc;
    inst.source = stateAnchor.source;

    // Spikes per step (prefer the comparison whose result leaves the neuron).
    inst.stepSpikes.assign(chain.size(), {});
    std::vector<ValueRef> spikeRef(chain.size(), kNoRef);
    for (const Fire* f : fires) {
        const int32_t t = stepOfMembrane[f->membrane];
        for (ValueRef s : f->spikes) {
            bool escapes = false;
            for (int32_t u : users_[size_t(s)])
                escapes = escapes || !region.count(u);
            std::vector<ValueRef> outs;
            g_.output.collectDyn(outs);
            escapes = escapes || std::count(outs.begin(), outs.end(), s);
            inst.stepSpikes[size_t(t)].push_back(s);
            if (spikeRef[size_t(t)] == kNoRef || escapes)
                spikeRef[size_t(t)] = s;
        }
    }
    const size_t index = out.neurons.size();
    out.neurons.push_back(inst);
    NeuronInstance& me = out.neurons.back();

    // Threshold and comparison must agree across the neuron's comparisons.
    const double th = fires[0]->threshold;
    const bool ge = fires[0]->ge;
    for (const Fire* f : fires)
        if (std::abs(f->threshold - th) > 1e-12 * std::max(1.0, std::abs(th)) || f->ge != ge) {
            error(anchor, me.path, "the neuron compares its membrane with different thresholds or comparisons");
            return;
        }
    std::string bad;
    for (size_t t = 0; t < chain.size() && bad.empty(); ++t) {
        if (perStep[t].size() != 1)
            bad = "time step " + std::to_string(t) + " of the neuron takes " + std::to_string(perStep[t].size()) +
                  " input values (expected exactly one)";
        else
            me.stepInput.push_back(*perStep[t].begin());
    }
    for (size_t t = 1; t < me.stepInput.size() && bad.empty(); ++t)
        if (g_.values[size_t(me.stepInput[t])].shape != g_.values[size_t(me.stepInput[0])].shape)
            bad = "the neuron's input changes shape between time steps";
    if (!bad.empty()) {
        error(anchor, me.path, "not a recognizable spiking neuron: " + bad);
        return;
    }
    std::vector<double> constants{0.0, 1.0};
    for (int32_t n : me.nodes)
        for (const RecArg& a : g_.nodes[size_t(n)].inputs)
            if (auto s = scalarOf(a))
                constants.push_back(*s);
    std::string why;
    me.ok = fitAndVerify(me, me.nodes, uses, chain, spikeRef, constants, th, ge, why);
    if (!me.ok)
        error(stateAnchor, me.path,
              "found a spiking neuron (" + std::to_string(chain.size()) + " time steps, threshold " +
                  std::to_string(th) + ") but could not match it to a Spike IR neuron model: " + why);
    (void)index;
}

bool Recognizer::fitAndVerify(NeuronInstance& inst, const std::vector<int32_t>& nodes,
                              const std::vector<std::tuple<int32_t, int32_t, int32_t>>& uses,
                              const std::vector<ValueRef>& membranes, const std::vector<ValueRef>& spikeRefs,
                              const std::vector<double>& constants, double threshold, bool ge, std::string& why)
{
    const size_t T = membranes.size();
    // Large layers: fit and verify on every stride-th element (the
    // self-validation later compares every spike count of the example input
    // anyway). Only those elements are copied out of LibTorch, and only they
    // get probe values.
    constexpr size_t kMaxElements = 16384;
    const auto n = size_t(std::max<int64_t>(g_.values[size_t(inst.stepInput[0])].numel(), 0));
    const size_t stride = n > kMaxElements ? (n + kMaxElements - 1) / kMaxElements : 1;
    // Recorded data (one replay when it is recomputed) and spike counts.
    std::vector<ValueRef> recordedRefs(inst.stepInput.begin(), inst.stepInput.end());
    recordedRefs.insert(recordedRefs.end(), membranes.begin(), membranes.end());
    recordedRefs.insert(recordedRefs.end(), spikeRefs.begin(), spikeRefs.end());
    std::vector<std::vector<float>> recordedData;
    std::vector<int64_t> nonzero;
    std::string err;
    if (!replayer_.recorded(recordedRefs, stride, recordedData, &nonzero, &err) || recordedData.size() != 3 * T) {
        why = "internal: the recorded data of the neuron is not available: " + err;
        return false;
    }
    inst.spikesPerStep.assign(T, 0);
    for (size_t t = 0; t < T; ++t) {
        inst.spikesPerStep[t] = nonzero[2 * T + t];
        inst.spikeTotal += inst.spikesPerStep[t];
    }
    std::vector<NeuronData> data(2);
    NeuronData& rec = data[0];
    rec.inputs.assign(recordedData.begin(), recordedData.begin() + long(T));
    rec.membranes.assign(recordedData.begin() + long(T), recordedData.begin() + long(2 * T));
    rec.spikes.assign(recordedData.begin() + long(2 * T), recordedData.end());
    // Probe inputs on a dyadic grid around the threshold: exact ties happen.
    const double scale = std::max(std::abs(threshold), 1e-3);
    const double grid = std::exp2(std::round(std::log2(scale))) / 16.0;
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> pick(-32, 64);
    std::vector<std::vector<float>> probes(T, std::vector<float>(n, 0.0f));
    NeuronData& probe = data[1];
    for (auto& p : probes) {
        std::vector<float> sampled;
        sampled.reserve(n / stride + 1);
        for (size_t i = 0; i < n; i += stride)
            sampled.push_back(p[i] = float(pick(rng) * grid));
        probe.inputs.push_back(std::move(sampled));
    }
    std::vector<Feed> feeds;
    for (const auto& [node, ordinal, step] : uses)
        feeds.push_back({node, ordinal, probes[size_t(step)]});
    std::vector<ValueRef> want(membranes.begin(), membranes.end());
    want.insert(want.end(), spikeRefs.begin(), spikeRefs.end());
    std::vector<std::vector<float>> got;
    if (!replayer_.replay(nodes, feeds, want, got, &err, stride)) {
        why = "replaying the neuron's ops with LibTorch failed: " + err;
        return false;
    }
    probe.membranes.assign(got.begin(), got.begin() + long(T));
    probe.spikes.assign(got.begin() + long(T), got.end());
    auto params = fitNeuron(data, constants, threshold, ge, why);
    if (!params)
        return false;
    inst.params = *params;
    return true;
}

} // namespace

NeuronAnalysis recognizeNeurons(const RecordedGraph& g, Replayer& replayer, Diagnostics& diags)
{
    return Recognizer(g, replayer, diags).run();
}

} // namespace stc::torchscript


// Firing rates (measured with the reference interpreter or estimated), the
// pipelined schedule (phases and alignment delays) and chip checks of an
// extracted network.
#include "target/extract_build.h"
#include "target/network_extract.h"

#include "fixedpoint/executor.h"
#include "interp/interpreter.h"

#include <algorithm>
#include <cmath>

namespace stc::target {

namespace detail {

namespace {

double meanIncomingRate(const Network& net, int32_t pop, double* fanIn)
{
    double events = 0, synapses = 0;
    for (int32_t pi : net.incoming(pop)) {
        const Projection& pr = net.projections[size_t(pi)];
        const double s = double(pr.synapseCount());
        events += s * net.populations[size_t(pr.src)].rate;
        synapses += s;
    }
    const double n = double(net.populations[size_t(pop)].size());
    *fanIn = n > 0 ? synapses / n : 0;
    return synapses > 0 ? events / synapses : 0;
}

void estimateRate(Network& net, int32_t index, const ExtractOptions& opt)
{
    Population& p = net.populations[size_t(index)];
    switch (p.kind) {
    case PopulationKind::Input: p.rate = opt.defaultInputRate; break;
    case PopulationKind::Lif: p.rate = opt.defaultLifRate; break;
    case PopulationKind::Readout: p.rate = 0.0; break;
    case PopulationKind::Relay: {
        // Fires when any input fires (OR, graded sum), inputs independent.
        double fanIn = 0;
        const double r = meanIncomingRate(net, index, &fanIn);
        p.rate = 1.0 - std::pow(1.0 - std::clamp(r, 0.0, 1.0), std::max(1.0, fanIn));
        break;
    }
    case PopulationKind::Product: {
        // Both operands active, assumed independent.
        double rate = 1.0;
        for (int32_t pi : net.incoming(index))
            rate *= net.populations[size_t(net.projections[size_t(pi)].src)].rate;
        p.rate = rate;
        break;
    }
    }
}

// An identity projection (one synapse of weight 1 per neuron, in the diagonal
// analytic form) from population `src` to `dst` of the same shape.
Projection identityProjection(const Network& net, int32_t src, int32_t dst, int delay)
{
    const Population& s = net.populations[size_t(src)];
    Projection pr;
    pr.name = "delay relay %" + s.name + " -> %" + net.populations[size_t(dst)].name;
    pr.origin = s.origin;
    pr.src = src;
    pr.dst = dst;
    pr.coupling = Coupling::Diag;
    pr.featureAxis = s.featureAxis;
    pr.inShape = pr.outShape = s.shape.empty() ? ir::Shape{1} : s.shape;
    pr.inFeatures = pr.outFeatures = pr.groups = s.features();
    for (size_t a = 0; a < pr.inShape.size(); ++a)
        if (int(a) != pr.featureAxis)
            pr.axes.push_back({pr.inShape[a], pr.inShape[a], 1, 1, 0, 1});
    pr.weights.assign(size_t(pr.outFeatures), 1.0f);
    pr.inElementToSrc.resize(size_t(s.size()));
    for (int32_t e = 0; e < int32_t(s.size()); ++e)
        pr.inElementToSrc[size_t(e)] = e;
    pr.outElementToDst = pr.dstToOutElement = pr.inElementToSrc;
    pr.delay = delay;
    return pr;
}

// The pipelined schedule delays a short path by synaptic delays; a chip's
// delays are at most `maxDelay` steps (Loihi: 6 bits). A longer alignment
// (deep residual streams: the embedding feeds every later block) goes through
// a chain of relays that copy the source one hop later each: relay k runs at
// phase src + k * (maxDelay + 1), a projection needing delay d reads relay
// ceil((d - maxDelay) / (maxDelay + 1)) instead of the source. Relays are
// exact copies (binary: OR of one spike; graded: the payload times 1), so the
// computed values do not change; they cost neurons, messages and energy, which
// the mapping and the ledger count like any population's.
struct InsertedRelays {
    int populations = 0;
    int64_t neurons = 0;
};

InsertedRelays insertDelayRelays(Network& net, int maxDelay)
{
    const int hop = maxDelay + 1;
    const size_t n = net.populations.size();
    std::vector<int> chain(n, 0); // relays needed after each population
    for (const Projection& pr : net.projections)
        if (pr.delay > maxDelay && pr.modelDelay == 0)
            chain[size_t(pr.src)] = std::max(chain[size_t(pr.src)], (pr.delay - maxDelay + hop - 1) / hop);
    if (std::all_of(chain.begin(), chain.end(), [](int k) { return k == 0; }))
        return {};
    // Relays follow their source in the population list (topological order).
    InsertedRelays added;
    for (size_t i = 0; i < n; ++i) {
        added.populations += chain[i];
        added.neurons += chain[i] * net.populations[i].size();
    }
    std::vector<Population> pops;
    pops.reserve(n + size_t(added.populations)); // `s` below stays valid while relays are appended
    std::vector<int32_t> newIndex(n);
    for (size_t i = 0; i < n; ++i) {
        newIndex[i] = int32_t(pops.size());
        pops.push_back(std::move(net.populations[i]));
        const Population& s = pops.back();
        for (int k = 1; k <= chain[i]; ++k) {
            Population r;
            r.name = s.name + "~delay" + std::to_string(k);
            r.origin = s.origin;
            r.kind = PopulationKind::Relay;
            r.shape = s.shape;
            r.featureAxis = s.featureAxis;
            r.spikeBits = s.spikeBits;
            r.neuron.model = "relay";
            r.neuron.vThreshold = s.spikeBits == 1 ? 1.0 : 0.0;
            r.rate = s.rate;
            r.rateMeasured = s.rateMeasured;
            r.neuronRates = s.neuronRates;
            r.phase = s.phase + k * hop;
            r.fx.valueScale = r.fx.inputUnit = s.fx.valueScale;
            pops.push_back(std::move(r));
        }
    }
    net.populations = std::move(pops);
    for (Projection& pr : net.projections) {
        const size_t oldSrc = size_t(pr.src);
        pr.src = newIndex[oldSrc];
        pr.dst = newIndex[size_t(pr.dst)];
        if (pr.delay > maxDelay && pr.modelDelay == 0) {
            const int k = (pr.delay - maxDelay + hop - 1) / hop;
            pr.src += k;
            pr.delay -= k * hop;
        }
    }
    for (size_t i = 0; i < n; ++i)
        for (int k = 1; k <= chain[i]; ++k)
            net.projections.push_back(identityProjection(net, newIndex[i] + k - 1, newIndex[i] + k, maxDelay));
    return added;
}

// A product neuron's rate from per-neuron operand rates (independence).
void productRates(Network& net, int32_t index)
{
    Population& p = net.populations[size_t(index)];
    const auto in = net.incoming(index);
    if (in.size() != 2)
        return;
    const Projection& a = net.projections[size_t(in[0])];
    const Projection& b = net.projections[size_t(in[1])];
    const Population& pa = net.populations[size_t(a.src)];
    const Population& pb = net.populations[size_t(b.src)];
    if (pa.neuronRates.empty() && pb.neuronRates.empty())
        return;
    std::vector<float> rates(static_cast<size_t>(p.size()), 0.0f);
    double sum = 0;
    for (int64_t n = 0; n < p.size(); ++n) {
        const int64_t ra = a.rowBegin(n) < a.rowEnd(n) ? a.srcNeuron[size_t(a.rowBegin(n))] : -1;
        const int64_t rb = b.rowBegin(n) < b.rowEnd(n) ? b.srcNeuron[size_t(b.rowBegin(n))] : -1;
        const double r = (ra < 0 ? 0 : pa.rateOf(ra)) * (rb < 0 ? 0 : pb.rateOf(rb));
        rates[size_t(n)] = float(r);
        sum += r;
    }
    p.rate = p.size() ? sum / double(p.size()) : 0;
    p.neuronRates = std::move(rates);
    p.rateMeasured = true;
}

} // namespace

void finishNetwork(Network& net, const ir::Module& m, const ChipDescriptor* chip, const ExtractOptions& opt,
                   Diagnostics& diags)
{
    const RateProfile* prof = opt.rates && !opt.rates->empty() ? opt.rates : nullptr;
    net.ratesMeasured = prof != nullptr;
    for (int32_t i = 0; i < int32_t(net.populations.size()); ++i) {
        Population& p = net.populations[size_t(i)];
        if (prof && p.kind != PopulationKind::Readout && p.kind != PopulationKind::Product) {
            if (auto it = prof->mean.find(p.name); it != prof->mean.end()) {
                p.rate = it->second;
                p.rateMeasured = true;
                if (auto pe = prof->perElement.find(p.name);
                    pe != prof->perElement.end() && int64_t(pe->second.size()) == p.size())
                    p.neuronRates = pe->second;
                continue;
            }
        }
        estimateRate(net, i, opt);
        if (p.kind == PopulationKind::Product && prof)
            productRates(net, i);
    }
    // Pipelined schedule: a spike sent in step s is integrated in step s + 1,
    // so each population runs one step after its latest source; shorter paths
    // get synaptic delays so that all inputs of a step line up. A delay op
    // adds its k model steps to the synaptic delay; a recurrent back edge
    // (src not before dst) does not move dst's phase: its spikes of model step
    // t must reach dst at model step t + k, a synaptic delay of
    // phase(dst) + k - 1 - phase(src), which the loop must leave >= 0.
    int depth = 0;
    for (int32_t i = 0; i < int32_t(net.populations.size()); ++i) {
        int phase = 0;
        for (int32_t pi : net.incoming(i))
            if (!net.projections[size_t(pi)].recurrent())
                phase = std::max(phase, net.populations[size_t(net.projections[size_t(pi)].src)].phase + 1);
        net.populations[size_t(i)].phase = phase;
        depth = std::max(depth, phase);
    }
    net.depth = depth;
    for (Projection& pr : net.projections)
        pr.delay = net.populations[size_t(pr.dst)].phase - 1 - net.populations[size_t(pr.src)].phase + pr.modelDelay;
    int longest = 0;
    for (const Projection& pr : net.projections)
        if (pr.modelDelay == 0)
            longest = std::max(longest, pr.delay);
    bool delayErrors = false;
    for (const Projection& pr : net.projections) {
        if (pr.modelDelay == 0)
            continue;
        const Population &s = net.populations[size_t(pr.src)], &d = net.populations[size_t(pr.dst)];
        const ir::Op* dop = pr.delayOp >= 0 ? &m.ops()[size_t(pr.delayOp)] : nullptr;
        const std::string label = dop ? "%" + m.value(dop->result).name + " = delay" : pr.name;
        const std::string origin = dop ? dop->origin : pr.origin;
        const SourceLoc loc = dop ? dop->textLoc : SourceLoc{};
        if (pr.delay < 0) {
            diags.error(loc, label,
                        "not yet: the recurrent loop from %" + s.name + " (pipeline phase " + std::to_string(s.phase) +
                            ") back to %" + d.name + " (phase " + std::to_string(d.phase) + ") passes " +
                            std::to_string(s.phase - d.phase + 1) + " neuron layers, so its spikes arrive " +
                            std::to_string(s.phase - d.phase + 1) + " steps later at the earliest, but the delay is " +
                            std::to_string(pr.modelDelay) +
                            " step(s); the chip maps loops through one neuron layer per delay step (a CubaLIF on the "
                            "loop counts as one layer only when it fuses into one CUBA compartment)",
                        origin);
            delayErrors = true;
        } else if (chip && pr.delay > chip->limits.maxSynapticDelay) {
            diags.error(loc, label,
                        "needs a synaptic delay of " + std::to_string(pr.delay) + " steps from %" + s.name + " to %" +
                            d.name + "; " + chip->id + " supports at most " +
                            std::to_string(chip->limits.maxSynapticDelay) +
                            " (delay relays carry only the alignment of feed-forward paths)",
                        origin);
            delayErrors = true;
        }
    }
    if (delayErrors)
        return;
    if (chip) {
        if (const InsertedRelays r = insertDelayRelays(net, int(chip->limits.maxSynapticDelay)); r.populations > 0)
            diags.warning({}, "schedule",
                          "alignment delays of up to " + std::to_string(longest) + " steps exceed " + chip->id +
                              "'s " + std::to_string(chip->limits.maxSynapticDelay) + "; " +
                              std::to_string(r.populations) + " delay relay populations (" +
                              std::to_string(r.neurons) + " neurons) carry them (docs/targets.md)");
    }
    for (const Projection& pr : net.projections) {
        if (chip && pr.delay > chip->limits.maxSynapticDelay)
            diags.error({}, pr.name,
                        "needs a synaptic delay of " + std::to_string(pr.delay) + " steps to align with the other "
                            "inputs of %" + net.populations[size_t(pr.dst)].name + "; " + chip->id +
                            " supports at most " + std::to_string(chip->limits.maxSynapticDelay),
                        pr.origin);
    }
    if (!chip)
        return;
    for (size_t pi = 0; pi < net.populations.size(); ++pi) {
        const Population& p = net.populations[pi];
        if (!chip->supportsModel(p.neuron.model))
            diags.error({}, "%" + p.name,
                        std::string(toString(p.kind)) + " population needs neuron model \"" + p.neuron.model +
                            "\", which " + chip->id + " does not support",
                        p.origin);
        const bool input = p.kind == PopulationKind::Input;
        // A membrane read only by readouts is read by the host (a probe of v),
        // not sent as a spike: no graded-spike width is needed for it.
        if (p.kind == PopulationKind::Lif && p.spikeBits > 1) {
            bool hostOnly = true;
            for (int32_t o : net.outgoing(int32_t(pi)))
                hostOnly = hostOnly && net.populations[size_t(net.projections[size_t(o)].dst)].kind ==
                                           PopulationKind::Readout;
            if (hostOnly)
                continue;
        }
        const int64_t limit = input ? chip->limits.inputBits() : chip->limits.gradedSpikeBits;
        if (p.spikeBits > limit)
            diags.error({}, "%" + p.name,
                        "emits " + std::to_string(p.spikeBits) + "-bit graded spikes; " + chip->id + " supports " +
                            std::to_string(limit) + "-bit " + (input ? "input events" : "spikes"),
                        p.origin);
    }
}

} // namespace detail

RateProfile measureRates(const ir::Module& module, const std::vector<std::vector<float>>& samples, std::string* error)
{
    RateProfile prof;
    if (samples.empty())
        return prof;
    std::vector<std::vector<double>> counts(module.values().size());
    auto count = [&](int t, ir::ValueId v, auto data) {
        if (t < 0)
            return;
        const int64_t n = module.typeOf(v).numElements();
        auto& c = counts[size_t(v)];
        if (c.empty())
            c.assign(size_t(n), 0.0);
        for (size_t i = 0; i < data.size(); ++i)
            if (data[i] != 0)
                c[i % size_t(n)] += 1.0;
    };
    std::string err;
    if (module.attrs.getBool("quantized")) {
        // The integer model is what the chip runs: count its events (the
        // executor observes one sample per call).
        fixedpoint::RunOptions ro;
        ro.observe = [&](int t, ir::ValueId v, std::span<const int32_t> data, double) { count(t, v, data); };
        for (const auto& s : samples) {
            fixedpoint::RunResult r = fixedpoint::run(module, {interp::InputBatch{1, s}}, ro);
            if (!r.ok()) {
                err = r.error.empty() ? "cancelled" : r.error;
                break;
            }
        }
    } else {
        interp::InputBatch batch;
        batch.batch = int64_t(samples.size());
        for (const auto& s : samples)
            batch.data.insert(batch.data.end(), s.begin(), s.end());
        interp::RunOptions ro;
        ro.observe = [&](int t, ir::ValueId v, std::span<const float> data) { count(t, v, data); };
        interp::RunResult r = interp::run(module, {batch}, ro);
        if (!r.ok())
            err = r.error.empty() ? "cancelled" : r.error;
    }
    if (!err.empty()) {
        if (error)
            *error = err;
        return prof;
    }
    const double denom = double(samples.size()) * double(std::max<int64_t>(1, module.timesteps));
    for (size_t v = 0; v < counts.size(); ++v) {
        if (counts[v].empty())
            continue;
        std::vector<float> per(counts[v].size());
        double sum = 0;
        for (size_t i = 0; i < per.size(); ++i) {
            per[i] = float(counts[v][i] / denom);
            sum += counts[v][i];
        }
        const std::string& name = module.values()[v].name;
        prof.mean[name] = sum / denom / double(per.size());
        prof.perElement[name] = std::move(per);
    }
    prof.samples = int64_t(samples.size());
    return prof;
}

} // namespace stc::target

// Internal to core/sim: the state of one simulated chip run and the Worker
// that advances it hardware step by hardware step (simulator.cpp runs it one
// sample at a time or over cores; batch.cpp runs several samples in
// lock-step through the same synapse rows; core_major.cpp runs it slice by
// slice, each for all steps of its samples). Layout of the state of one core:
// dendritic accumulators [compartment][neuron] (int32, exact: the
// quantize pass bounds every partial sum inside int32), neuron state u/v,
// readout accumulators, and double-buffered spike lists (events of step h
// are delivered in step h + 1). Include only from .cpp files compiled with
// the O3 pragma (the accumulation loops must vectorize).
#pragma once

#include "sim/simulator.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace stc::sim::detail {
// A prefetch GCC cannot drop: a helper that only reads memory and calls
// __builtin_prefetch is found "pure" by interprocedural analysis and its
// calls, having no result, are deleted (GCC 12, -O2).
inline void prefetch(const void* p)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p);
#endif
}

// Branch-free LIF update of n neurons (neuron_scan.cpp): the same results as
// fixedpoint::neuronStep per neuron, for parameters lifScanFits accepts.
// Clears a0; out[i] = the charged membrane (membraneOut) or 1 for a spike,
// else 0. Returns the neurons with input or non-zero state.
bool lifScanFits(const fixedpoint::NeuronParams& p);
int64_t lifScan(const fixedpoint::NeuronParams& p, bool membraneOut, int32_t* a0, const int32_t* bias, int32_t* u,
                int32_t* v, int32_t* out, int64_t n);
struct Event {
    uint32_t local; // core-local neuron
    int32_t value;
};

// The emitting part of a slice update (neuron_emit.cpp): each writes the
// events {first + i, value} of the emitting neurons i in order at dst (room
// for n events) and returns how many.
//  relay:   in = a0 + bias (a0 cleared); busy if in != 0; RelayGraded emits
//           in, RelayOr 1 when in >= theta.
//  product: busy if a0 or a1 is non-zero (both cleared); emits the low 32
//           bits of a0 * a1 when both are non-zero.
//  compact: emits out[i] != 0 (after lifScan).
struct ScanResult {
    int64_t active = 0, emitted = 0;
};
struct NeuronScans {
    ScanResult (*relay)(int32_t* a0, const int32_t* bias, int64_t n, bool graded, int64_t theta, uint32_t first,
                        Event* dst);
    ScanResult (*product)(int32_t* a0, int32_t* a1, int64_t n, uint32_t first, Event* dst);
    int64_t (*compact)(const int32_t* out, int64_t n, uint32_t first, Event* dst);
};
enum class ScanIsa { Portable, Avx2, Avx512 };
bool scanIsaAvailable(ScanIsa isa);
const NeuronScans& neuronScans(ScanIsa isa); // Portable where isa is not available
const NeuronScans& neuronScans();            // the best the CPU runs

// A product slice's update computed elsewhere (core-major's operand form,
// product_form_state.h): the events of the emitting neurons at dst (room for
// the slice; one per neuron, in any order: their messages are summed, and
// the trace takes records as they come, as core-major's slice-by-slice
// records already do), and the busy count.
struct ProductSource {
    virtual ScanResult emit(Event* dst) = 0;

protected:
    ~ProductSource() = default;
};

// Events of one slice in one step: they share a sample and a step index.
struct Segment {
    uint32_t begin, end;
    int32_t slice;
    int32_t stepIndex;
};

struct CoreState {
    int comps = 1;
    std::vector<int32_t> acc; // [compartment][neuron]: input of the current step
    std::vector<int32_t> u, v;
    std::vector<int64_t> readout;
    std::vector<Event> events[2];
    std::vector<Segment> segments[2];
    int32_t* dendrite(int comp, int64_t neurons) { return acc.data() + size_t(comp) * size_t(neurons); }
};

// Everything one schedule run needs besides the program.
struct RunContext {
    const SimProgram& prog;
    const SimOptions& opt;
    int64_t samples = 0;
    int64_t interval = 1;  // hardware steps between sample starts
    int64_t timesteps = 1;
    int steps = 1;         // T + depth: step slots of an inference
    SimResult& result;
    std::vector<int32_t> readoutIndex; // population -> index in readoutPops (-1)
    std::vector<int64_t> inputOffset;  // population -> offset in a sample vector
    std::mutex traceMu;
};

class Worker {
public:
    Worker(RunContext& run, std::vector<CoreState>& state, std::vector<int8_t>* owner, int id)
        : run_(run), prog_(run.prog), st_(&state), owner_(owner), id_(id)
    {
        counters.reset(int(prog_.cores.size()), run.steps, prog_.populations.size());
        int maxDelay = 0;
        for (const CoreProgram& c : prog_.cores)
            maxDelay = std::max(maxDelay, c.maxDelay);
        delayed_.resize(size_t(maxDelay) + 1);
    }

    // Drops messages still waiting for their delay (a new sample on a clean chip).
    void clearDelayed()
    {
        for (auto& d : delayed_)
            d.clear();
        for (auto& d : delayedFans_)
            d.clear();
        for (auto& d : delayedFanMsgs_)
            d.clear();
    }

    Counters counters;
    std::vector<SpikeRecord> traceBuf;
    int64_t samplesDone = 0;

    // One hardware step: deliver the spikes of step h - 1, then update the
    // neurons of the owned cores. `input` is the raw sample of the input
    // populations' current model step (sample inputSample).
    void step(int64_t h, const std::vector<float>& input, int64_t inputSample)
    {
        if (h > 0)
            deliverAll(h);
        for (size_t c = 0; c < prog_.cores.size(); ++c)
            if (owns(int32_t(c)))
                updateCore(int32_t(c), h, int(h & 1), input, inputSample);
    }

    // Batched execution (batch.cpp): `states` holds one chip state per
    // sample of the batch; step hl of the inference window of samples
    // first .. first + n - 1, all at the same step (lock-step).
    void setBatch(std::vector<std::vector<CoreState>>* states);
    void stepBatch(int64_t hl, const std::vector<std::vector<float>>& inputs, int64_t first, int n);

    void flushTrace()
    {
        if (!run_.opt.trace || traceBuf.empty())
            return;
        std::lock_guard lock(run_.traceMu);
        run_.opt.trace->onChunk(traceBuf);
        traceBuf.clear();
    }

private:
    friend class CoreMajor; // core_major.cpp
    friend struct ConvTiles; // conv_tiles.h
    friend struct UnitRows; // unit_rows.h
    friend class FoldStates; // fold_state.h

    bool owns(int32_t core) const { return !owner_ || (*owner_)[size_t(core)] == id_; }

    // Messages and hops are charged to the sender by the thread that owns the
    // sending core (summed in registers per segment); the synaptic work to
    // the receiver by the thread that owns the receiving core.
    //
    // The event loop is bound by memory latency (route -> synapse record ->
    // accumulators, docs/performance.md), so a message's synapse record is
    // prefetched when it is sent and the message is delivered kAhead
    // messages later (through a ring, over all segments and cores of the
    // step), in the same order as sent: the integer sums are unchanged.
    //
    // A message with a synaptic delay d waits in delayed_ and is delivered
    // d steps later, at the step whose neuron update integrates it, so each
    // core needs one dendritic accumulator per compartment instead of a ring
    // of d + 1 of them (the ring rotated through 22x the memory on the
    // bundled model, and every accumulator line it touched was a miss). Its
    // synaptic ops are still counted at the step the message was sent to.
    void deliverAll(int64_t h)
    {
        deliverArrivals(h);
        const int prev = int((h - 1) & 1);
        for (size_t c = 0; c < prog_.cores.size(); ++c) {
            const CoreProgram& src = prog_.cores[c];
            const CoreState& ss = (*st_)[c];
            const bool sender = owns(int32_t(c));
            const uint32_t* routeStart = src.routeStart.data();
            const RouteHop* routes = src.routes.data();
            const Event* events = ss.events[prev].data();
            for (const Segment& seg : ss.segments[prev]) {
                EventCounts sent; // messages and hops of the segment
                const int stepIndex = seg.stepIndex + 1;
                for (uint32_t e = seg.begin; e < seg.end; ++e) {
                    if (e + kRouteAhead < seg.end)
                        prefetch(routes + routeStart[events[e + kRouteAhead].local]);
                    const Event& ev = events[e];
                    const uint32_t r0 = routeStart[ev.local], r1 = routeStart[ev.local + 1];
                    sent.messages += r1 - r0;
                    for (uint32_t r = r0; r < r1; ++r) {
                        const RouteHop& rt = routes[r];
                        countRoute(sent, rt);
                        if (!owns(rt.destCore))
                            continue;
                        const SynapseBlock& blk = blockOf(rt);
                        if (stepIndex > blk.lastSend)
                            continue; // past the destination's last model step (a recurrent loop)
                        const int delay = blk.delay;
                        if (delay > 0) {
                            delayed_[size_t((h + delay) % int64_t(delayed_.size()))].push_back(
                                {&rt, ev.value, stepIndex});
                            continue;
                        }
                        if (ringSize_ == kAhead)
                            deliverOldest();
                        prefetchRecord(rt);
                        ring_[(ringHead_ + ringSize_) % kAhead] = {&rt, ev.value, stepIndex};
                        ++ringSize_;
                    }
                }
                if (sender && sent.messages > 0)
                    countSent(int(c), seg.stepIndex, src.slices[size_t(seg.slice)].pop, sent);
            }
        }
        while (ringSize_ > 0)
            deliverOldest();
    }

    static constexpr uint32_t kAhead = 16, kRouteAhead = 8;
    struct Pending {
        const RouteHop* rt;
        int32_t x;
        int32_t stepIndex;
    };
    Pending ring_[kAhead];
    uint32_t ringHead_ = 0, ringSize_ = 0;

    std::vector<std::vector<Pending>> delayed_; // [arrival step % (max delay + 1)]

    // A message's hops and links, summed per segment of sent spikes.
    static void countRoute(EventCounts& sent, const RouteHop& rt)
    {
        sent.hopsEw += rt.hopsEw;
        sent.hopsNs += rt.hopsNs;
        sent.chipLinks += rt.chipLinks;
        sent.chipMessages += rt.chipLinks > 0;
        sent.maxMessageNs = std::max(sent.maxMessageNs, double(rt.latencyNs));
    }

    // Messages and hops are charged to the sending core and population.
    void countSent(int core, int step, int32_t pop, const EventCounts& sent)
    {
        counters.at(core, step) += sent;
        counters.perPopulation[size_t(pop)] += sent;
    }

    // Calls f(m) for the messages of `list` in order, prefetching the synapse
    // record of the message kAhead later.
    template <typename T, typename F>
    void eachPrefetched(const std::vector<T>& list, F&& f) const
    {
        const size_t m = list.size();
        for (size_t i = 0; i < m && i < kAhead; ++i)
            prefetchRecord(*list[i].rt);
        for (size_t i = 0; i < m; ++i) {
            if (i + kAhead < m)
                prefetchRecord(*list[i + kAhead].rt);
            f(list[i]);
        }
    }

    const SynapseBlock& blockOf(const RouteHop& rt) const
    {
        return prog_.cores[size_t(rt.destCore)].inputs[size_t(rt.destInput)];
    }

    void deliverArrivals(int64_t h)
    {
        std::vector<Pending>& due = delayed_[size_t(h % int64_t(delayed_.size()))];
        eachPrefetched(due, [&](const Pending& m) { deliver(*m.rt, m.x, m.stepIndex); });
        due.clear();
    }

    void deliverOldest()
    {
        const Pending& old = ring_[ringHead_];
        deliver(*old.rt, old.x, old.stepIndex);
        ringHead_ = (ringHead_ + 1) % kAhead;
        --ringSize_;
    }

    // Starts loading the synapse record a message will walk.
    void prefetchRecord(const RouteHop& rt) const
    {
        const SynapseBlock& b = prog_.cores[size_t(rt.destCore)].inputs[size_t(rt.destInput)];
        if (b.conv) {
            prefetch(b.plan.axons.data() + rt.entry);
        } else {
            const int32_t* r = b.rows.data() + rt.entry;
            prefetch(r);
            prefetch(r + 16);
        }
    }

    // Adds x * w[0 .. n) to d[0 .. n) (d and w never overlap).
    static void accumulate(int32_t* __restrict d, const int32_t* __restrict w, uint32_t n, int32_t x)
    {
        if (x == 1)
            for (uint32_t j = 0; j < n; ++j)
                d[j] += w[j];
        else
            for (uint32_t j = 0; j < n; ++j)
                d[j] += x * w[j];
    }

    // Walks the synapse record (or the conv taps) a message of axon record
    // `entry` reaches: add(first, w, n) for every run of n consecutive
    // core-local accumulators from `first` with weights w. Returns the
    // message's synaptic ops and synapse-table bytes.
    template <typename Add>
    static std::pair<int64_t, int64_t> walkRecord(const SynapseBlock& b, uint32_t entry, Add&& add)
    {
        if (b.conv) {
            const ConvPlan& p = b.plan;
            const ConvPlan::Axon ax = p.axons[entry];
            const ConvPlan::Group& g = p.groups[size_t(ax.group)];
            const int64_t n = int64_t(g.features.size());
            const uint32_t first = g.features.empty() ? 0 : g.features[0];
            for (int32_t k = ax.tapBegin; k < ax.tapEnd; ++k) {
                const int32_t* w = g.kernel.data() + (ax.kernelRow + p.tapTap[size_t(k)]) * n;
                const uint32_t base = p.tapBase[size_t(k)];
                if (g.contiguous)
                    add(base + first, w, uint32_t(n));
                else
                    for (int64_t j = 0; j < n; ++j)
                        add(base + g.features[size_t(j)], w + j, 1u);
            }
            return {(ax.tapEnd - ax.tapBegin) * n, 4 + (ax.tapEnd - ax.tapBegin) * p.bytesPerTap};
        }
        const int32_t* r = b.rows.data() + entry;
        const int32_t runs = r[0];
        const std::pair<int64_t, int64_t> cost{r[1], r[2]};
        r += SynapseBlock::kRowHeader;
        for (int32_t k = 0; k < runs; ++k) {
            const uint32_t len = uint32_t(r[1]);
            add(uint32_t(r[0]), r + SynapseBlock::kRunHeader, len);
            r += SynapseBlock::kRunHeader + len;
        }
        return cost;
    }

    // Synaptic work is charged to the receiving core at the step the message was sent to.
    void countDelivery(int32_t destCore, const SynapseBlock& b, int stepIndex, int64_t ops, int64_t bytes)
    {
        EventCounts& ec = counters.at(destCore, stepIndex);
        EventCounts& pc = counters.perPopulation[size_t(b.dstPop)];
        ec.synapticOps += ops;
        ec.memReadBytes += bytes;
        pc.synapticOps += ops;
        pc.memReadBytes += bytes;
        if (b.fromInput)
            counters.inputSynapticOps += ops;
    }

    void deliver(const RouteHop& rt, int32_t x, int stepIndex)
    {
        const CoreProgram& dc = prog_.cores[size_t(rt.destCore)];
        const SynapseBlock& b = dc.inputs[size_t(rt.destInput)];
        int32_t* acc = (*st_)[size_t(rt.destCore)].dendrite(b.compartment, dc.neurons);
        const auto [ops, bytes] = walkRecord(b, rt.entry, [&](uint32_t first, const int32_t* w, uint32_t n) {
            accumulate(acc + first, w, n, x);
        });
        countDelivery(rt.destCore, b, stepIndex, ops, bytes);
    }

    // Room for the events of a slice of n neurons: a scratch buffer of the
    // worker, appended to the core's event buffer after the update (room in
    // the core's own buffer grew every core's buffer to its largest slice:
    // +77 MB peak resident in a step-major run of the 4-384).
    Event* eventRoom(int64_t n)
    {
        if (emitBuf_.size() < size_t(n))
            emitBuf_.resize(size_t(n));
        return emitBuf_.data();
    }

    // `parity` selects the event buffer written (h & 1 in the sample's own
    // step count).
    void updateCore(int32_t c, int64_t h, int parity, const std::vector<float>& input, int64_t inputSample)
    {
        beginStep(c, parity);
        for (size_t k = 0; k < prog_.cores[size_t(c)].slices.size(); ++k)
            updateSlice(c, k, h, input, inputSample);
    }

    // Empties core c's event buffer `parity` before its slices update.
    void beginStep(int32_t c, int parity)
    {
        CoreState& cs = (*st_)[size_t(c)];
        cur_ = parity;
        cs.events[cur_].clear();
        cs.segments[cur_].clear();
    }

    // Slice k of core c in step h: appends its spikes to the buffer of beginStep.
    // fed == false: no message reached the slice's accumulators since its
    // last update (core-major knows it), so a product slice's operands are
    // all zero and its scan is skipped: every neuron idle, nothing emitted.
    // operands: a product slice's update comes from there instead.
    void updateSlice(int32_t c, size_t k, int64_t h, const std::vector<float>& input, int64_t inputSample,
                     bool fed = true, ProductSource* operands = nullptr)
    {
        const CoreProgram& cp = prog_.cores[size_t(c)];
        CoreState& cs = (*st_)[size_t(c)];
        const int64_t T = run_.timesteps;
        const SliceInfo& si = cp.slices[k];
        const PopulationInfo& pop = prog_.populations[size_t(si.pop)];
        const int64_t local = h - pop.phase;
        if (local < 0)
            return;
        // local / interval: consecutive updates are mostly in one sample's
        // window, so the last quotient is tried first (the division was a
        // quarter of this function's time).
        if (local - windowStart_ >= run_.interval || local < windowStart_)
            windowSample_ = local / run_.interval, windowStart_ = windowSample_ * run_.interval;
        const int64_t s = windowSample_, t = local - windowStart_;
        if (t >= T || s >= run_.samples)
            return;
        const int stepIndex = int(t + pop.phase);
        const bool traced = run_.opt.trace &&
                            (run_.opt.tracePopulations.empty() || run_.opt.tracePopulations[size_t(si.pop)]);
        std::vector<Event>& events = cs.events[cur_];
        const uint32_t begin = uint32_t(events.size());
        EventCounts& ec = counters.at(c, stepIndex);
        EventCounts& pc = counters.perPopulation[size_t(si.pop)];
        int64_t active = 0, emitted = 0;
        const int32_t* bias = cp.bias.data() + si.first;
        int32_t* a0 = cs.dendrite(0, cp.neurons) + si.first;
        const uint32_t first = uint32_t(si.first);
        switch (pop.kind) {
        case NeuronKind::Input: {
            if (s != inputSample)
                break; // cannot happen: inputs have phase 0
            const float* x = input.data() + run_.inputOffset[size_t(si.pop)];
            Event* d = eventRoom(si.count);
            for (int64_t i = 0; i < si.count; ++i) {
                const int32_t q = fixedpoint::encodeInput(x[si.popNeuron[size_t(i)]], pop.inputScale,
                                                          pop.inputLo, pop.inputHi);
                if (q != 0)
                    d[emitted++] = {first + uint32_t(i), q};
            }
            break;
        }
        case NeuronKind::Lif: {
            int32_t* u = cs.u.data() + si.first;
            int32_t* v = cs.v.data() + si.first;
            if (t == 0)
                std::fill(u, u + si.count, 0), std::fill(v, v + si.count, 0);
            if (lifScanFits(pop.neuron)) {
                // Vectorized update (neuron_scan.cpp), then the spikes in order.
                if (scan_.size() < size_t(si.count))
                    scan_.resize(size_t(si.count));
                int32_t* out = scan_.data();
                active = lifScan(pop.neuron, pop.membraneOut, a0, bias, u, v, out, si.count);
                emitted = scans_.compact(out, si.count, first, eventRoom(si.count));
                break;
            }
            // A resting neuron (no input, u = v = 0) stays at rest and
            // silent unless the threshold is reachable from 0.
            const bool restSilent = pop.neuron.fireOnEqual ? pop.neuron.theta > 0 : pop.neuron.theta >= 0;
            Event* d = eventRoom(si.count);
            for (int64_t i = 0; i < si.count; ++i) {
                const int64_t in = int64_t(a0[i]) + bias[i];
                const bool busy = (in != 0) | (u[i] != 0) | (v[i] != 0);
                active += busy;
                a0[i] = 0;
                if (!busy && restSilent)
                    continue;
                int32_t charged;
                const bool spike = fixedpoint::neuronStep(pop.neuron, u[i], v[i], in, charged);
                if (pop.membraneOut ? charged != 0 : spike)
                    d[emitted++] = {first + uint32_t(i), pop.membraneOut ? charged : 1};
            }
            break;
        }
        case NeuronKind::RelayOr:
        case NeuronKind::RelayGraded: {
            const ScanResult r = scans_.relay(a0, bias, si.count, pop.kind == NeuronKind::RelayGraded,
                                              pop.neuron.theta, first, eventRoom(si.count));
            active = r.active, emitted = r.emitted;
            break;
        }
        case NeuronKind::Product: {
            // 2 % of the bundled Spikformer's product updates emit: the scan
            // clears and counts 16 neurons per branch and writes the few products.
            if (operands) {
                const ScanResult r = operands->emit(eventRoom(si.count));
                active = r.active, emitted = r.emitted;
                break;
            }
            if (!fed)
                break;
            int32_t* a1 = cs.dendrite(1, cp.neurons) + si.first;
            const ScanResult r = scans_.product(a0, a1, si.count, first, eventRoom(si.count));
            active = r.active, emitted = r.emitted;
            break;
        }
        case NeuronKind::Readout: {
            int64_t* acc = cs.readout.data() + si.first;
            if (t == 0)
                std::fill(acc, acc + si.count, 0);
            const int32_t ri = run_.readoutIndex[size_t(si.pop)];
            std::vector<float>& out = run_.result.outputs[size_t(ri)];
            const double scale = pop.valueScale * pop.outputScale;
            const bool withBias = !pop.biasOnce || t == 0;
            for (int64_t i = 0; i < si.count; ++i) {
                const int64_t in = int64_t(a0[i]) + (withBias ? bias[i] : 0);
                a0[i] = 0;
                active += in != 0;
                acc[i] += in;
                const int64_t n = si.popNeuron[size_t(i)];
                if (pop.perStepOutput)
                    out[size_t((s * T + t) * pop.size + n)] = float(double(in) * scale);
                else if (t == T - 1)
                    out[size_t(s * pop.size + n)] = float(double(acc[i]) * scale);
            }
            if (t == T - 1 && &si == &readoutHome())
                ++samplesDone;
            break;
        }
        }
        events.insert(events.end(), emitBuf_.data(), emitBuf_.data() + emitted);
        if (traced)
            for (int64_t e = 0; e < emitted; ++e)
                traceBuf.push_back({uint32_t(s), uint16_t(stepIndex), 0,
                                    uint32_t(pop.firstId + si.popNeuron[size_t(emitBuf_[size_t(e)].local - first)]),
                                    emitBuf_[size_t(e)].value});
        if (pop.kind != NeuronKind::Input) {
            ec.neuronActive += active;
            ec.neuronIdle += si.count - active;
            pc.neuronActive += active;
            pc.neuronIdle += si.count - active;
        }
        ec.spikes += emitted;
        pc.spikes += emitted;
        if (emitted > 0)
            cs.segments[cur_].push_back({begin, begin + uint32_t(emitted), int32_t(k), stepIndex});
    }

    // The slice whose completion marks a finished sample: the first slice of
    // the first readout population.
    const SliceInfo& readoutHome()
    {
        if (!home_) {
            const int32_t r = prog_.readoutPops.empty() ? -1 : prog_.readoutPops[0];
            for (const auto& c : prog_.cores)
                for (const auto& s : c.slices)
                    if (s.pop == r && !home_)
                        home_ = &s;
        }
        return *home_;
    }

    // Batched delivery (batch.cpp): messages of one source neuron in several
    // samples walk its synapse record once.
    struct Fan {
        int32_t sample, x;
    };
    struct Link {
        int32_t sample, x, next;
    };
    struct PendingFan {
        const RouteHop* rt;
        uint32_t start, count; // fan_[start, start + count)
        int32_t stepIndex;
    };
    void deliverBatch(int64_t hl, int n);
    void gatherSlice(int64_t hl, int32_t c, int32_t slice, int prev, int n);
    void deliverFan(const PendingFan& m, const Fan* fans);
    std::vector<std::vector<CoreState>>* batch_ = nullptr;
    int batchSize_ = 0;
    std::vector<int32_t*> accBase_;     // [core * batchSize_ + sample]: accumulators of a sample's core
    std::vector<int32_t> head_;         // per core-local neuron: first link of its messages this step (-1)
    std::vector<Link> links_;
    std::vector<uint32_t> touched_;     // neurons of the gathered slice that fired in some sample
    std::vector<Fan> fan_;              // per fired neuron: (sample, value) of its spikes, contiguous
    std::vector<uint32_t> segCursor_;   // per sample: next segment of the source core
    std::vector<std::vector<PendingFan>> pend_; // per destination core: messages of the step
    std::vector<std::vector<Fan>> delayedFans_; // [arrival step % (max delay + 1)]: fans of delayed messages
    std::vector<std::vector<PendingFan>> delayedFanMsgs_;
    std::vector<int32_t> pendCores_;            // cores with messages, in first-message order

    std::vector<int32_t> scan_; // per neuron of a slice: what it emits (0: nothing), see lifScan
    std::vector<Event> emitBuf_; // the events of the slice being updated, see eventRoom
    const NeuronScans& scans_ = neuronScans();

    RunContext& run_;
    const SimProgram& prog_;
    std::vector<CoreState>* st_;
    std::vector<int8_t>* owner_;
    int id_;
    int cur_ = 0;
    int64_t windowSample_ = 0, windowStart_ = 0; // the last local / interval of updateSlice and its multiple
    const SliceInfo* home_ = nullptr;
};

std::vector<CoreState> makeState(const SimProgram& prog);
// Whether st has the sizes makeState(prog) gives (a state kept from an earlier run).
bool stateFits(const SimProgram& prog, const std::vector<CoreState>& st);
void resetTransient(std::vector<CoreState>& state);
// Parallel::Samples: passes of up to `chunk` samples on `threads` host
// threads. Each thread makes one runner (its own chip state and Worker) and
// hands it the passes; pass() returns false when the run control cancelled it.
struct PassRunner {
    virtual ~PassRunner() = default;
    virtual Worker& worker() = 0;
    virtual bool pass(const std::vector<std::vector<float>>& inputs, int64_t first, int n) = 0;
};
void runPasses(RunContext& run, const SampleSource& source, int threads, int chunk,
               const std::function<std::unique_ptr<PassRunner>()>& make);
// Order::CoreMajor over whole samples, `chunk` samples per pass (core_major.cpp).
void runCoreMajor(RunContext& run, const SampleSource& source, int threads, int chunk);
// Whether core-major can run the program (its messages keep block and step in 16 bits).
bool coreMajorFits(const SimProgram& prog, int steps);


} // namespace stc::sim::detail

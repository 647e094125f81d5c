#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") // the synaptic accumulation loops must vectorize
#endif
// Batched execution of Parallel::Samples: a host thread runs `batch` samples
// in lock-step through the hardware steps of their inference windows, each
// with its own chip state. In every step the spikes of one source slice are
// gathered over the samples by neuron, so a neuron that fired in k samples
// has its routes read once and its synapse record (or conv taps) read once
// and added to the accumulators of the k samples, instead of k times from
// memory. The chip itself still runs one sample at a time: every sample sees
// the same integer additions as alone (in another order, and integer sums do
// not depend on it), and the counters are the same sums, so outputs, spike
// trains, counters and ledger equal the unbatched run's bit for bit
// (tests/core/test_sim_batch.cpp).
#include "sim/worker.h"


namespace stc::sim::detail {

void Worker::setBatch(std::vector<std::vector<CoreState>>* states)
{
    batch_ = states;
    batchSize_ = int(states->size());
    st_ = &(*states)[0];
    const size_t cores = prog_.cores.size(), B = size_t(batchSize_);
    accBase_.resize(cores * B);
    int64_t maxNeurons = 0;
    for (size_t c = 0; c < cores; ++c) {
        for (size_t b = 0; b < B; ++b)
            accBase_[c * B + b] = (*states)[b][c].acc.data();
        maxNeurons = std::max(maxNeurons, prog_.cores[c].neurons);
    }
    head_.assign(size_t(maxNeurons), -1);
    pend_.assign(cores, {});
    delayedFans_.assign(delayed_.size(), {});
    delayedFanMsgs_.assign(delayed_.size(), {});
    segCursor_.assign(B, 0);
}

void Worker::stepBatch(int64_t hl, const std::vector<std::vector<float>>& inputs, int64_t first, int n)
{
    std::vector<std::vector<CoreState>>& states = *batch_;
    if (hl > 0)
        deliverBatch(hl, n);
    for (size_t c = 0; c < prog_.cores.size(); ++c)
        for (int b = 0; b < n; ++b) {
            st_ = &states[size_t(b)];
            updateCore(int32_t(c), (first + b) * run_.interval + hl, int(hl & 1), inputs[size_t(b)], first + b);
        }
    st_ = &states[0];
}

void Worker::deliverBatch(int64_t hl, int n)
{
    const int prev = int((hl - 1) & 1);
    std::vector<std::vector<CoreState>>& states = *batch_;
    const size_t due = size_t(hl % int64_t(delayedFans_.size()));
    eachPrefetched(delayedFanMsgs_[due], [&](const PendingFan& m) { deliverFan(m, delayedFans_[due].data()); });
    delayedFanMsgs_[due].clear();
    delayedFans_[due].clear();
    for (size_t c = 0; c < prog_.cores.size(); ++c) {
        bool any = false;
        for (int b = 0; b < n; ++b) {
            segCursor_[size_t(b)] = 0;
            any = any || !states[size_t(b)][c].segments[prev].empty();
        }
        if (!any)
            continue;
        for (size_t k = 0; k < prog_.cores[c].slices.size(); ++k)
            gatherSlice(hl, int32_t(c), int32_t(k), prev, n);
    }
    // Destination-major: all messages into one core (over all samples) in a
    // row, so its accumulators stay in cache; records prefetched ahead.
    for (int32_t d : pendCores_) {
        std::vector<PendingFan>& list = pend_[size_t(d)];
        eachPrefetched(list, [&](const PendingFan& m) { deliverFan(m, fan_.data()); });
        list.clear();
    }
    pendCores_.clear();
    fan_.clear();
}

// Spikes of slice `slice` of core c in the previous step, over the samples:
// per fired neuron its (sample, value) list, then its routes (sender
// counters multiplied by the number of samples) and the messages to their
// destination core's list (or, delayed, to the step they arrive in).
void Worker::gatherSlice(int64_t hl, int32_t c, int32_t slice, int prev, int n)
{
    std::vector<std::vector<CoreState>>& states = *batch_;
    touched_.clear();
    links_.clear();
    int32_t stepIndex = 0;
    for (int b = 0; b < n; ++b) {
        const CoreState& ss = states[size_t(b)][size_t(c)];
        const std::vector<Segment>& segs = ss.segments[prev];
        uint32_t& cur = segCursor_[size_t(b)];
        if (cur >= segs.size() || segs[cur].slice != slice)
            continue;
        const Segment& seg = segs[cur++];
        stepIndex = seg.stepIndex; // the same in every sample: they run in lock-step
        const Event* ev = ss.events[prev].data();
        for (uint32_t e = seg.begin; e < seg.end; ++e) {
            int32_t& h = head_[ev[e].local];
            if (h < 0)
                touched_.push_back(ev[e].local);
            links_.push_back({b, ev[e].value, h});
            h = int32_t(links_.size() - 1);
        }
    }
    if (touched_.empty())
        return;
    const CoreProgram& src = prog_.cores[size_t(c)];
    const uint32_t* routeStart = src.routeStart.data();
    const RouteHop* routes = src.routes.data();
    EventCounts sent; // messages and hops of the slice, over the samples
    const size_t fired = touched_.size();
    for (size_t i = 0; i < fired; ++i) {
        if (i + kRouteAhead < fired)
            prefetch(routes + routeStart[touched_[i + kRouteAhead]]);
        const uint32_t local = touched_[i];
        const uint32_t start = uint32_t(fan_.size());
        for (int32_t l = head_[local]; l >= 0; l = links_[size_t(l)].next)
            fan_.push_back({links_[size_t(l)].sample, links_[size_t(l)].x});
        head_[local] = -1;
        const uint32_t count = uint32_t(fan_.size()) - start;
        const uint32_t r0 = routeStart[local], r1 = routeStart[local + 1];
        sent.messages += int64_t(count) * (r1 - r0);
        for (uint32_t r = r0; r < r1; ++r) {
            const RouteHop& rt = routes[r];
            sent.hopsEw += int64_t(count) * rt.hopsEw;
            sent.hopsNs += int64_t(count) * rt.hopsNs;
            sent.chipLinks += int64_t(count) * rt.chipLinks;
            sent.chipMessages += rt.chipLinks > 0 ? count : 0;
            sent.maxMessageNs = std::max(sent.maxMessageNs, double(rt.latencyNs));
            const SynapseBlock& blk = blockOf(rt);
            if (stepIndex + 1 > blk.lastSend)
                continue; // see deliverAll
            if (const int delay = blk.delay; delay > 0) { // see deliverAll
                const size_t at = size_t((hl + delay) % int64_t(delayedFans_.size()));
                std::vector<Fan>& store = delayedFans_[at];
                delayedFanMsgs_[at].push_back({&rt, uint32_t(store.size()), count, stepIndex + 1});
                store.insert(store.end(), fan_.begin() + start, fan_.begin() + start + count);
                continue;
            }
            std::vector<PendingFan>& list = pend_[size_t(rt.destCore)];
            if (list.empty())
                pendCores_.push_back(rt.destCore);
            list.push_back({&rt, start, count, stepIndex + 1});
        }
    }
    if (sent.messages > 0)
        countSent(c, stepIndex, src.slices[size_t(slice)].pop, sent);
}

// One message in m.count samples: the record is walked once, each run (or
// kernel row) is added to every sample's accumulators while it is in L1.
void Worker::deliverFan(const PendingFan& m, const Fan* fans)
{
    const RouteHop& rt = *m.rt;
    const CoreProgram& dc = prog_.cores[size_t(rt.destCore)];
    const SynapseBlock& b = dc.inputs[size_t(rt.destInput)];
    const size_t off = size_t(b.compartment) * size_t(dc.neurons);
    int32_t* const* base = accBase_.data() + size_t(rt.destCore) * size_t(batchSize_);
    const Fan* f = fans + m.start;
    const uint32_t count = m.count;
    const auto [ops, bytes] = walkRecord(b, rt.entry, [&](uint32_t first, const int32_t* w, uint32_t n) {
        for (uint32_t i = 0; i < count; ++i)
            accumulate(base[f[i].sample] + off + first, w, n, f[i].x);
    });
    countDelivery(rt.destCore, b, m.stepIndex, ops * count, bytes * count);
}

} // namespace stc::sim::detail

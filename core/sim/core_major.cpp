#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") // the synaptic accumulation loops must vectorize
#endif
// Core-major execution of Parallel::Samples (Order::CoreMajor).
//
// A spike sent in hardware step h reaches its destination in step
// h + 1 + delay, never in h: so a slice's run over the whole inference window
// depends only on the spike trains of the slices that send to it. The
// execution graph (slice of a core -> the slices its routes reach; cores
// alone are no use: a core hosting slices of several layers puts the bundled
// models' cores into one cycle) is split into strongly connected components
// (Tarjan), taken in topological order; each component runs all steps of the
// window of each sample of a chunk before the next component starts, its
// slices step by step among themselves (a component of one slice without a
// route to itself is that slice alone; slices in a cycle are the step-major
// fall-back, limited to the cycle). So a slice's synapse records and
// accumulators stay in cache for all steps of the chunk's samples instead of
// being evicted by every other core's work in every step.
//
// Messages to later components are pulled (sim/pull_plan.h): the sender
// appends each event once to its slice's outbox, grouped by class; when a
// destination block's component runs, its subscriptions read those events
// step by step and turn them into records of axon entries (deliverPulls).
// Routes that the plan does not pull (inside a component, or out of a slice
// with too many classes) are pushed: messages to later components wait in
// per-(destination synapse block, sample, binary or graded) inboxes,
// delivered step by step as they are (each sender appended its messages step
// by step, so an inbox is a few runs in arrival order); messages inside a
// component wait in a ring by arrival step, as step-major's delayed messages
// do. Inboxes and ring hold records of one block and step
// (CoreMajor::Stream): a header, then 4 bytes per binary message or 8 per
// graded one, the form pulled messages are delivered in too.
//
// Exactness: a message is delivered at the same step, into the same
// accumulators, with the same weights as in step-major; only the order of
// additions into an accumulator within one step changes. Those are int32
// additions that never saturate (the quantize pass bounds every partial sum
// inside int32, worker.h), so their sum does not depend on the order.
// Counters are the same sums charged to the same (core, step) slots,
// maxMessageNs the same maximum. Spike records reach the trace sink in
// another order (per slice rather than per step). Product slices run from
// their operands (product_forms.h), with the accumulator path's results. Tests: core_test_sim_order,
// core_test_sim_pull_plan.
#include "sim/block_index.h"
#include "sim/chip_spares.h"
#include "sim/conv_tiles.h"
#include "sim/fold_state.h"
#include "sim/product_form_state.h"
#include "sim/pull_outbox.h"
#include "sim/pull_plan.h"
#include "sim/tile_gather.h"
#include "sim/unit_rows.h"
#include "sim/worker.h"

#include <atomic>

namespace stc::sim::detail {

class CoreMajor {
public:
    // dirty: the flags a kept chip state came with (empty: a new, zeroed chip).
    CoreMajor(Worker& w, const CoreMajorPlan& plan, int chunk, std::atomic<bool>& stale,
              const std::vector<char>& dirty, std::vector<pulled::Arena>& arenas)
        : w_(w), prog_(w.prog_), run_(w.run_), graph_(plan.graph), pull_(plan.pull), blocks_(w.prog_), chunk_(chunk),
          stale_(stale), arena_(arenas), folds_(plan.folds, w.prog_, chunk, run_.timesteps, run_.steps)
    {
        // Per synapse block: what send needs, in one load; per node: its blocks.
        dest_.resize(blocks_.slice.size());
        std::vector<int32_t> blockNode(dest_.size());
        nodeBlockStart_.assign(graph_.nodes.size() + 1, 0);
        for (size_t c = 0; c < prog_.cores.size(); ++c)
            for (size_t i = 0; i < prog_.cores[c].inputs.size(); ++i) {
                const size_t g = blocks_.base[c] + i;
                blockNode[g] = graph_.sliceBase[c] + (graph_.bySlice ? blocks_.slice[g] : 0);
                dest_[g] = {blocks_.lastSend[g], blocks_.delay[g], graph_.componentOf[size_t(blockNode[g])]};
                ++nodeBlockStart_[size_t(blockNode[g]) + 1];
            }
        for (size_t v = 0; v < graph_.nodes.size(); ++v)
            nodeBlockStart_[v + 1] += nodeBlockStart_[v];
        nodeBlocks_.resize(dest_.size());
        std::vector<uint32_t> fill(nodeBlockStart_.begin(), nodeBlockStart_.end() - 1);
        for (size_t g = 0; g < dest_.size(); ++g)
            nodeBlocks_[fill[size_t(blockNode[g])]++] = uint32_t(g);
        inbox_.resize(dest_.size() * size_t(chunk) * 2);
        blockCore_.resize(dest_.size());
        for (size_t c = 0; c < prog_.cores.size(); ++c)
            std::fill(blockCore_.begin() + blocks_.base[c], blockCore_.begin() + blocks_.base[c] + prog_.cores[c].inputs.size(),
                      int32_t(c));
        outbox_.resize(graph_.nodes.size() * size_t(chunk));
        arena_.resize(size_t(chunk));
        int64_t largest = 1; // slice: a segment's items fit one arena block
        for (const CoreProgram& cp : prog_.cores)
            for (const SliceInfo& si : cp.slices)
                largest = std::max(largest, si.count);
        int shift = 16;
        while ((int64_t(1) << shift) < largest)
            ++shift;
        for (Arena& a : arena_)
            if (a.shift != shift) // blocks kept from a run of another size
                a.blocks.clear(), a.shift = shift;
        due_.resize(size_t(run_.steps));
        int maxDelay = 0;
        for (const CoreProgram& c : prog_.cores)
            maxDelay = std::max(maxDelay, c.maxDelay);
        ring_.resize(size_t(maxDelay) + 2);
        // A slice's updates clear its compartments (0, and 1 for products):
        // a block into another compartment would leave it dirty.
        dirty_ = dirty.empty() ? std::vector<char>(graph_.nodes.size(), 0) : dirty;
        fed_.assign(graph_.nodes.size(), 1);
        forms_.bind(plan.products, graph_);
        if (graph_.bySlice)
            for (size_t c = 0; c < prog_.cores.size(); ++c)
                for (const SynapseBlock& blk : prog_.cores[c].inputs) {
                    const int32_t pop = prog_.cores[c].slices[size_t(blk.slice)].pop;
                    if (blk.compartment >= (prog_.populations[size_t(pop)].kind == NeuronKind::Product ? 2 : 1))
                        dirty_[size_t(graph_.sliceBase[c] + blk.slice)] = kAlwaysDirty;
                }
    }

    const std::vector<char>& dirtyFlags() const { return dirty_; }

    // Samples first .. first + n - 1 (n <= chunk), each from a clean chip.
    // Returns false when the run control cancelled it.
    bool run(const std::vector<std::vector<float>>& inputs, int64_t first, int n)
    {
        std::fill(outbox_.begin(), outbox_.end(), Outbox());
        for (Arena& a : arena_)
            a.clear();
        for (const std::vector<int32_t>& comp : graph_.components)
            for (int b = 0; b < n; ++b) {
                if (run_.opt.control && !run_.opt.control->checkpoint())
                    return false;
                runComponent(comp, inputs[size_t(b)], first, b);
                if (stale_)
                    return false;
                if (w_.traceBuf.size() >= run_.opt.traceChunk)
                    w_.flushTrace();
            }
        return true;
    }

private:
    // Messages waiting for delivery, as records (one synapse block, one
    // step): an inbox holds the binary (x == 1) or the graded messages into
    // one synapse block (and sample), and only one sender slice runs at a
    // time, so they come in stretches of one step. A record is a header of kHead
    // words {destination core, input | stepIndex << 16, arrival step
    // (stepIndex + the block's delay), count | graded << 31}, then `count`
    // record entries (RouteHop::entry; binary: x == 1) or `count` (entry, x)
    // pairs (graded). A record's count is written when the next record opens
    // or the stream is closed (close()); a record would need 8 GiB to
    // overflow it.
    static constexpr ptrdiff_t kHead = 4;
    static constexpr uint64_t kNoKey = ~uint64_t(0);
    struct Stream {
        uint32_t *at = nullptr, *end = nullptr; // next free word, end of the words
        uint32_t* head = nullptr;               // the open record's header
        uint64_t key = kNoKey;                  // the open record's (global block, step, graded)
        std::vector<uint32_t> w;
        const uint32_t* begin() const { return w.data(); }
    };
    // What send needs of a destination block (global block index).
    struct Dest {
        int32_t lastSend, delay, component;
    };
    // Appends a message of route rt into global block g (sent with step
    // index stepIndex, payload x).
    void put(Stream& s, size_t g, const RouteHop& rt, uint32_t stepIndex, int32_t x)
    {
        const uint32_t graded = x != 1;
        const uint64_t key = uint64_t(g) << 17 | stepIndex << 1 | graded;
        if (s.end - s.at < kHead + 2)
            grow(s);
        uint32_t* w = s.at;
        if (key != s.key) {
            close(s);
            s.key = key;
            s.head = w;
            w[0] = uint32_t(rt.destCore), w[1] = uint32_t(rt.destInput) | stepIndex << 16;
            w[2] = stepIndex + uint32_t(dest_[g].delay), w[3] = graded << 31;
            w += kHead;
        }
        w[0] = rt.entry;
        w[1] = uint32_t(x); // a binary record's next word (overwritten)
        s.at = w + 1 + graded;
    }
    void grow(Stream& s)
    {
        const size_t used = size_t(s.at - s.w.data()), head = s.head ? size_t(s.head - s.w.data()) : 0;
        if (s.w.empty() && !spare_.empty()) {
            s.w = std::move(spare_.back());
            spare_.pop_back();
        } else {
            s.w.resize(std::max<size_t>(256, 2 * s.w.size()));
        }
        s.at = s.w.data() + used, s.end = s.w.data() + s.w.size();
        if (s.head)
            s.head = s.w.data() + head;
    }
    // Writes the open record's count: the stream can be read.
    static void close(Stream& s)
    {
        if (!s.head)
            return;
        const uint32_t graded = uint32_t(s.key & 1);
        s.head[3] = graded << 31 | uint32_t((s.at - s.head - kHead) >> graded);
        s.head = nullptr;
        s.key = kNoKey;
    }
    static void clear(Stream& s)
    {
        s.at = s.w.data(), s.head = nullptr, s.key = kNoKey;
    }
    static uint32_t arrivalOf(const uint32_t* record) { return record[2]; }
    static const uint32_t* nextRecord(const uint32_t* r)
    {
        return r + kHead + (size_t(r[3] & 0x7fffffffu) << (r[3] >> 31));
    }

    // All steps of sample b's window for the slices of one component.
    void runComponent(const std::vector<int32_t>& comp, const std::vector<float>& input, int64_t first, int b)
    {
        const int64_t steps = run_.steps;
        std::vector<CoreState>& st = *w_.st_;
        // A clean chip: empty dendrites. A slice's accumulators are zero
        // already when its last sample ended with an update after the last
        // message delivered to it (its updates clear what they read; and
        // SynapseBlock::lastSend drops the messages that would arrive later).
        int64_t lastUpdate = steps; // the earliest last update among the component's slices
        // The steps [updateBegin, updateEnd) hold every update of the
        // component's slices (a slice updates in steps phase .. phase + T - 1
        // of its sample's window, run.interval == steps); other steps only
        // deliver, when anything arrives.
        int64_t updateBegin = steps, updateEnd = 0;
        for (int32_t v : comp) {
            const auto [c, k] = graph_.nodes[size_t(v)];
            const CoreProgram& cp = prog_.cores[size_t(c)];
            CoreState& cs = st[size_t(c)];
            if (k >= 0) {
                const int64_t phase = prog_.populations[size_t(cp.slices[size_t(k)].pop)].phase;
                const int64_t end = std::min(steps, phase + run_.timesteps);
                lastUpdate = std::min(lastUpdate, phase < steps ? end - 1 : -1);
                updateBegin = std::min(updateBegin, phase), updateEnd = std::max(updateEnd, end);
            } else {
                lastUpdate = -1;
                updateBegin = 0, updateEnd = steps; // a whole core updates every step
            }
            if (k >= 0 && dirty_[size_t(v)] == 0)
                continue;
            if (dirty_[size_t(v)] != kAlwaysDirty)
                dirty_[size_t(v)] = 1; // until the component ends normally
            for (int comp = 0; comp < cs.comps; ++comp) {
                int32_t* d = cs.dendrite(comp, cp.neurons);
                if (k < 0)
                    std::fill(d, d + cp.neurons, 0);
                else
                    std::fill(d + cp.slices[size_t(k)].first,
                              d + cp.slices[size_t(k)].first + cp.slices[size_t(k)].count, 0);
            }
        }
        for (int32_t v : comp) {
            fed_[size_t(v)] = dirty_[size_t(v)] == kAlwaysDirty; // zero (clean or cleared above); else kept marked
            if (ProductFormState* f = forms_.ofNode(v))
                f->clear();
        }
        for (Stream& r : ring_)
            clear(r);
        findRuns(comp, b);
        schedulePulls(comp, b);
        const int32_t kc = graph_.componentOf[size_t(comp[0])];
        const int64_t base = (first + b) * run_.interval; // the sample's window in the step count
        bool late = false; // a message delivered after some slice's last update
        for (int64_t hl = 0; hl < steps; ++hl) {
            Stream& due = ring_[size_t(hl % int64_t(ring_.size()))];
            if ((hl < updateBegin || hl >= updateEnd) && due_[size_t(hl)].empty() && due.at == due.begin() &&
                !runsArrive(hl) && !folds_.arrive(comp, hl, b))
                continue; // nothing to deliver, no update (updateSlice would return at once), nothing to send
            close(due);
            bool folded = false;
            for (int32_t v : comp)
                if (folds_.deliver(st, prog_, v, hl, b))
                    fed_[size_t(v)] = 1, folded = true;
            late |= (deliverRuns(hl) | deliverPulls(hl, b) || due.at != due.begin() || folded) && hl > lastUpdate;
            for (const uint32_t* r = due.begin(); r < due.at;)
                r = deliverRecord(r);
            clear(due);
            for (int32_t v : comp) {
                const auto [c, k] = graph_.nodes[size_t(v)];
                if (k < 0) {
                    w_.updateCore(c, base + hl, 0, input, first + b);
                } else {
                    w_.beginStep(c, 0);
                    w_.updateSlice(c, size_t(k), base + hl, input, first + b, fed_[size_t(v)] != 0, forms_.ofNode(v));
                    fed_[size_t(v)] = 0;
                }
                if (hl + 1 < steps) // step-major never sends the last step's spikes
                    send(c, hl, kc, b);
            }
        }
        for (int32_t v : comp) { // arrivals past the window stay undelivered, as step-major drops them
            for (uint32_t i = nodeBlockStart_[size_t(v)]; i < nodeBlockStart_[size_t(v) + 1]; ++i)
                for (int graded = 0; graded < 2; ++graded)
                    recycle(inbox(nodeBlocks_[i], b, graded));
            if (dirty_[size_t(v)] != kAlwaysDirty)
                dirty_[size_t(v)] = late;
        }
    }

    // The inboxes of the component's nodes for sample b, as runs of records
    // in arrival-step order: every sender appended its messages step by step
    // (and a sender's messages into one slice mostly go through blocks of
    // one delay), so an inbox is a few such runs as it is; a new run starts
    // wherever the arrival step decreases.
    void findRuns(const std::vector<int32_t>& comp, int b)
    {
        runs_.clear();
        for (int32_t v : comp)
            for (uint32_t i = 2 * nodeBlockStart_[size_t(v)]; i < 2 * nodeBlockStart_[size_t(v) + 1]; ++i) {
                Stream& in = inbox(nodeBlocks_[i / 2], b, int(i & 1));
                close(in);
                const uint32_t *r = in.begin(), *begin = r;
                uint32_t last = 0;
                for (; r < in.at; r = nextRecord(r)) {
                    if (arrivalOf(r) < last) {
                        runs_.push_back({begin, r});
                        begin = r;
                    }
                    last = arrivalOf(r);
                }
                if (begin < in.at)
                    runs_.push_back({begin, in.at});
            }
    }

    // The node of block b of core `core` (the core's node when the graph is by core).
    size_t nodeOf(int32_t core, const SynapseBlock& b) const
    {
        return size_t(graph_.sliceBase[size_t(core)] + (graph_.bySlice ? b.slice : 0));
    }

    bool runsArrive(int64_t hl) const
    {
        for (const Run& r : runs_)
            if (r.next < r.end && arrivalOf(r.next) == hl)
                return true;
        return false;
    }

    // Delivers the records of every run that arrive in step hl (those
    // before it were delivered at earlier steps); returns whether any.
    bool deliverRuns(int64_t hl)
    {
        bool any = false;
        for (Run& r : runs_)
            for (; r.next < r.end && arrivalOf(r.next) == hl; any = true)
                r.next = deliverRecord(r.next);
        return any;
    }

    using Item = pulled::Item;
    using Rec = pulled::Rec;
    using Arena = pulled::Arena;
    static constexpr uint32_t kNone = pulled::kNone;
    struct Outbox {
        uint32_t first = kNone, last = kNone; // its Recs
    };
    Outbox& outbox(int32_t node, int b) { return outbox_[size_t(node) * size_t(chunk_) + size_t(b)]; }
    // A subscription's items that arrive at one step.
    struct Due {
        uint32_t block, sub, begin, end;
    };

    // Appends the events of segment seg (of core c, sample b) whose neurons
    // have a class to the slice's outbox, by class, and counts their pulled
    // routes as sent.
    void sendPulled(int32_t c, const Segment& seg, const Event* events, int b, EventCounts& sent)
    {
        const int32_t v = graph_.sliceBase[size_t(c)] + seg.slice;
        const PullPlan::NodeMap& nm = pull_.nodes[size_t(v)];
        if (nm.classes == 0 || seg.begin == seg.end)
            return;
        const uint32_t first = uint32_t(prog_.cores[size_t(c)].slices[size_t(seg.slice)].first);
        const PullPlan::ClassSlot* table = pull_.classTable.data() + nm.map.table;
        classFill_.assign(nm.classes, 0);
        classSlot_.resize(seg.end - seg.begin);
        uint32_t* fill = classFill_.data(); // GCC reloads members after every store
        PullPlan::ClassSlot* classSlot = classSlot_.data(); // per event e - seg.begin
        const Periodic map = nm.map;
        const int32_t classStep = nm.classStep;
        const uint32_t slotStep = uint32_t(nm.slotStep);
        uint32_t total = 0;
        for (uint32_t e = seg.begin; e < seg.end; ++e) {
            const auto [q, r] = map.split(events[e].local - first);
            PullPlan::ClassSlot cs = table[r];
            if (cs.cls >= 0) {
                cs.cls += int32_t(q) * classStep, cs.slot += q * slotStep;
                ++fill[size_t(cs.cls)], ++total;
            }
            classSlot[e - seg.begin] = cs;
        }
        if (total == 0)
            return;
        Arena& a = arena_[size_t(b)];
        Outbox& ob = outbox(v, b);
        const uint32_t rec = uint32_t(a.recs.size());
        a.recs.push_back({seg.stepIndex, uint32_t(a.off.size()), kNone});
        (ob.last == kNone ? ob.first : a.recs[ob.last].next) = rec;
        ob.last = rec;
        const uint32_t at0 = a.take(total);
        uint32_t at = at0;
        for (uint32_t k = 0; k < nm.classes; ++k) {
            const uint32_t n = fill[k];
            if (n > 0) {
                const PullPlan::ClassCounts& cc = pull_.classCounts[nm.classBase + k];
                sent.messages += int64_t(n) * cc.messages;
                sent.hopsEw += int64_t(n) * cc.hopsEw;
                sent.hopsNs += int64_t(n) * cc.hopsNs;
                sent.chipLinks += int64_t(n) * cc.chipLinks;
                sent.chipMessages += int64_t(n) * cc.chipMessages;
                sent.maxMessageNs = std::max(sent.maxMessageNs, double(cc.maxNs));
            }
            a.off.push_back(at);
            fill[k] = at - at0;
            at += n;
        }
        a.off.push_back(at);
        Item* items = a.at(at0);
        for (uint32_t e = seg.begin; e < seg.end; ++e) {
            const PullPlan::ClassSlot cs = classSlot[e - seg.begin];
            if (cs.cls >= 0)
                items[fill[size_t(cs.cls)]++] = {cs.slot, events[e].value};
        }
    }

    // The subscriptions of the component's blocks, by arrival step, for sample b.
    void schedulePulls(const std::vector<int32_t>& comp, int b)
    {
        for (std::vector<Due>& d : due_)
            d.clear();
        const Arena& a = arena_[size_t(b)];
        for (int32_t v : comp)
            for (uint32_t i = nodeBlockStart_[size_t(v)]; i < nodeBlockStart_[size_t(v) + 1]; ++i) {
                const uint32_t g = nodeBlocks_[i];
                const Dest d = dest_[g];
                for (uint32_t s = pull_.blockSubStart[g]; s < pull_.blockSubStart[g + 1]; ++s) {
                    const PullPlan::Sub& sub = pull_.subs[s];
                    for (uint32_t r = outbox(sub.node, b).first; r != kNone; r = a.recs[r].next) {
                        const Rec& rec = a.recs[r];
                        const int64_t stepIndex = rec.stepIndex + 1, arrival = stepIndex + d.delay;
                        if (stepIndex > d.lastSend || arrival >= run_.steps)
                            continue; // dropped as the pushed messages are (send, runComponent)
                        const uint32_t begin = a.off[rec.off + sub.cls], end = a.off[rec.off + sub.cls + 1];
                        if (begin < end)
                            due_[size_t(arrival)].push_back({g, s, begin, end});
                    }
                }
            }
    }

    // Items are cold (written by another component): their loads start
    // kItemsAhead subscriptions ahead.
    static constexpr size_t kItemsAhead = 8;
    // f(axon entry, payload) for the messages of subscriptions due[i .. end).
    template <typename F>
    void forEachPulled(const std::vector<Due>& due, size_t i, size_t end, const Arena& arena, F&& f) const
    {
        for (; i < end; ++i) {
            if (i + kItemsAhead < due.size())
                prefetch(arena.at(due[i + kItemsAhead].begin));
            const PullPlan::Sub& sub = pull_.subs[due[i].sub];
            const uint32_t* table = pull_.entries.data() + sub.entry.table;
            const Item* items = arena.at(due[i].begin);
            const uint32_t n = due[i].end - due[i].begin;
            if (sub.entry.period == 1) { // affine: no division
                for (uint32_t k = 0; k < n; ++k)
                    f(table[0] + items[k].slot * sub.step, items[k].value);
            } else {
                for (uint32_t k = 0; k < n; ++k) {
                    const auto [q, r] = sub.entry.split(items[k].slot);
                    f(table[r] + q * sub.step, items[k].value);
                }
            }
        }
    }

    // Delivers the pulled messages arriving at step hl (sample b): one
    // binary and one graded record per block, from all its subscriptions.
    bool deliverPulls(int64_t hl, int b)
    {
        std::vector<Due>& due = due_[size_t(hl)];
        const Arena& arena = arena_[size_t(b)];
        for (size_t i = 0; i < kItemsAhead && i < due.size(); ++i)
            prefetch(arena.at(due[i].begin));
        for (size_t i = 0; i < due.size();) {
            const uint32_t g = due[i].block;
            const int32_t core = blockCore_[g];
            const uint32_t input = g - blocks_.base[size_t(core)];
            const uint32_t stepIndex = uint32_t(hl - dest_[g].delay);
            size_t end = i;
            uint32_t most = 0; // messages into g: room for all of them in either record
            for (; end < due.size() && due[end].block == g; ++end)
                most += due[end].end - due[end].begin;
            const CoreProgram& dc = prog_.cores[size_t(core)];
            const SynapseBlock& blk = dc.inputs[input];
            if (forms_.takes(g) || (!blk.conv && blk.unitRunsValid())) {
                // Operand forms' messages and one-synapse runs (the attention
                // products' sums): taken here, without a record (UnitRows::add).
                fed_[nodeOf(core, blk)] = 1;
                int32_t* acc = (*w_.st_)[size_t(core)].dendrite(blk.compartment, dc.neurons);
                const int32_t* rows = blk.rows.data();
                int64_t ops = 0, bytes = 0;
                auto each = [&](auto&& f) { forEachPulled(due, i, end, arena, f); };
                if (forms_.takes(g))
                    forms_.putPulled(g, blk, each, ops, bytes);
                else if (!UnitRows::scatterPulled(pull_, due, i, end, arena, acc, ops, bytes, kItemsAhead))
                    each([&](uint32_t entry, int32_t x) { UnitRows::add(rows + entry, x, acc, ops, bytes); });
                w_.countDelivery(core, blk, int(stepIndex), ops, bytes);
                i = end;
                continue;
            }
            if (blk.conv && !forms_.takes(g) && gather_.gather(pull_, due, i, end, arena, most, kItemsAhead)) {
                fed_[nodeOf(core, blk)] = 1;
                int32_t* acc = (*w_.st_)[size_t(core)].dendrite(blk.compartment, dc.neurons);
                int64_t ops = 0, bytes = 0;
                ConvTiles::deliverGathered(blk, gather_.tiles.data(), gather_.tiles.size(), gather_.rows[0].data(),
                                           gather_.rows[1].data(), gather_.xs.data(), acc, ops, bytes);
                w_.countDelivery(core, blk, int(stepIndex), ops, bytes);
                i = end;
                continue;
            }
            for (int graded = 0; graded < 2; ++graded)
                if (pulled_[graded].size() < kHead + (size_t(most) << graded))
                    pulled_[graded].resize(kHead + (size_t(most) << graded));
            uint32_t* bin = pulled_[0].data() + kHead;
            uint32_t* gr = pulled_[1].data() + kHead;
            // Both records are written, the one of the message's kind advances.
            forEachPulled(due, i, end, arena, [&](uint32_t entry, int32_t x) {
                const bool one = x == 1;
                *bin = entry, gr[0] = entry, gr[1] = uint32_t(x);
                bin += one, gr += one ? 0 : 2;
            });
            i = end;
            const uint32_t counts[2] = {uint32_t(bin - (pulled_[0].data() + kHead)),
                                        uint32_t(gr - (pulled_[1].data() + kHead)) / 2};
            for (uint32_t graded = 0; graded < 2; ++graded) {
                if (counts[graded] == 0)
                    continue;
                uint32_t* r = pulled_[graded].data();
                r[0] = uint32_t(core), r[1] = input | stepIndex << 16;
                r[2] = uint32_t(hl), r[3] = graded << 31 | counts[graded];
                deliverRecord(r);
            }
        }
        const bool any = !due.empty();
        due.clear();
        return any;
    }

    void recycle(Stream& in)
    {
        if (!in.w.empty())
            spare_.push_back(std::move(in.w));
        in = Stream();
    }
    Stream& inbox(uint32_t block, int b, int graded)
    {
        return inbox_[(size_t(block) * size_t(chunk_) + size_t(b)) * 2 + size_t(graded)];
    }

    // Delivers one record (one synapse block, one step); returns the record
    // after it. Its clones call ConvTiles::deliver's clone of the same ISA
    // directly (GCC redirects calls between clones): a clone missing here is
    // never run.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
    __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
    const uint32_t* deliverRecord(const uint32_t* r)
    {
        const int32_t core = int32_t(r[0]);
        const int stepIndex = int(r[1] >> 16);
        const uint32_t count = r[3] & 0x7fffffffu;
        const bool graded = r[3] >> 31;
        const CoreProgram& dc = prog_.cores[size_t(core)];
        const SynapseBlock& b = dc.inputs[r[1] & 0xffffu];
        fed_[nodeOf(core, b)] = 1;
        int32_t* acc = (*w_.st_)[size_t(core)].dendrite(b.compartment, dc.neurons);
        const uint32_t* e = r + kHead;
        int64_t ops = 0, bytes = 0;
        const size_t g = blocks_.base[size_t(core)] + (r[1] & 0xffffu);
        if (forms_.takes(g)) {
            forms_.putRecord(g, b, e, count, graded, ops, bytes);
        } else if (b.conv) {
            ConvTiles::deliver(b, e, count, graded, acc, ops, bytes);
        } else if (b.unitRunsValid()) {
            if (graded)
                UnitRows::deliver<2>(b, e, count, acc, ops, bytes);
            else
                UnitRows::deliver<1>(b, e, count, acc, ops, bytes);
        } else {
            const uint32_t stride = 1 + graded;
            const uint32_t m = count * stride;
            uint32_t ahead = 0; // words whose record was prefetched
            for (; ahead < m && ahead < Worker::kAhead * stride; ahead += stride)
                UnitRows::prefetchRow(b.rows.data(), e[ahead]);
            for (uint32_t i = 0; i < m; i += stride) {
                if (ahead < m)
                    UnitRows::prefetchRow(b.rows.data(), e[ahead]), ahead += stride;
                const int32_t x = graded ? int32_t(e[i + 1]) : 1;
                const auto [o, by] = Worker::walkRecord(b, e[i], [&](uint32_t first, const int32_t* w, uint32_t n) {
                    Worker::accumulate(acc + first, w, n, x);
                });
                ops += o, bytes += by;
            }
        }
        w_.countDelivery(core, b, stepIndex, ops, bytes);
        return e + (size_t(count) << graded);
    }

    // The spikes core c emitted in step hl (sample b) since beginStep:
    // sender counters as step-major's deliverAll counts them, messages to
    // the inboxes of later components or to this component's ring.
    void send(int32_t c, int64_t hl, int32_t kc, int b)
    {
        const CoreProgram& src = prog_.cores[size_t(c)];
        const CoreState& ss = (*w_.st_)[size_t(c)];
        const uint32_t* routeStart = pull_.pushStart(src, size_t(c));
        const RouteHop* routes = pull_.pushRoutes(src, size_t(c));
        const bool pushesNothing = !pull_.push[size_t(c)].own && pull_.push[size_t(c)].routes.empty();
        const Event* events = ss.events[0].data();
        for (const Segment& seg : ss.segments[0]) {
            EventCounts sent;
            const int stepIndex = seg.stepIndex + 1;
            const int32_t v = graph_.sliceBase[size_t(c)] + seg.slice;
            const bool folded = graph_.bySlice && folds_.folds(v); // all its messages are summed here
            if (folded)
                folds_.send(w_, prog_, v, seg, events, uint32_t(src.slices[size_t(seg.slice)].first), b, sent);
            else
                sendPulled(c, seg, events, b, sent);
            if (pushesNothing || folded) {
                if (sent.messages > 0)
                    w_.countSent(c, seg.stepIndex, src.slices[size_t(seg.slice)].pop, sent);
                continue;
            }
            for (uint32_t e = seg.begin; e < seg.end; ++e) {
                if (e + Worker::kRouteAhead < seg.end)
                    prefetch(routes + routeStart[events[e + Worker::kRouteAhead].local]);
                const Event& ev = events[e];
                const uint32_t r0 = routeStart[ev.local], r1 = routeStart[ev.local + 1];
                sent.messages += r1 - r0;
                for (uint32_t r = r0; r < r1; ++r) {
                    const RouteHop& rt = routes[r];
                    Worker::countRoute(sent, rt);
                    const size_t g = blocks_.at(rt);
                    const Dest d = dest_[g];
                    if (stepIndex > d.lastSend)
                        continue; // past the destination's last model step (worker.h deliverAll)
                    if (d.component < kc) { // the graph is stale: that slice already ran
                        stale_ = true;
                        continue;
                    }
                    if (d.component != kc) {
                        put(inbox(uint32_t(g), b, ev.value != 1), g, rt, uint32_t(stepIndex), ev.value);
                        continue;
                    }
                    const int64_t a = hl + 1 + d.delay;
                    if (a < run_.steps)
                        put(ring_[size_t(a % int64_t(ring_.size()))], g, rt, uint32_t(stepIndex), ev.value);
                }
            }
            if (sent.messages > 0)
                w_.countSent(c, seg.stepIndex, src.slices[size_t(seg.slice)].pop, sent);
        }
    }

    Worker& w_;
    const SimProgram& prog_;
    RunContext& run_;
    const CoreGraph& graph_;
    const PullPlan& pull_;
    const BlockIndex blocks_;
    int chunk_;
    std::atomic<bool>& stale_; // a message went to an earlier component (the graph does not match the routes)
    std::vector<Dest> dest_;                 // per global block
    std::vector<uint32_t> nodeBlockStart_, nodeBlocks_; // per node: its global blocks (CSR)
    // [(global block * chunk + sample) * 2 + graded]: messages from earlier
    // components, binary and graded ones apart (senders mixing x == 1 and
    // other values would alternate records in one stream).
    std::vector<Stream> inbox_;
    std::vector<std::vector<uint32_t>> spare_; // emptied inboxes' words, reused (their capacity)
    std::vector<Stream> ring_;  // [arrival step % size]: messages inside the component
    struct Run {
        const uint32_t *next, *end; // next undelivered record, end of the run
    };
    std::vector<Run> runs_;
    std::vector<int32_t> blockCore_;  // per global block: its core
    std::vector<Outbox> outbox_;      // [node * chunk + sample]
    std::vector<Arena>& arena_;       // [sample]: what the outboxes hold (kept with the chip state)
    std::vector<std::vector<Due>> due_; // [arrival step]: the component's subscriptions (schedulePulls)
    std::vector<uint32_t> classFill_; // sendPulled's per-class counts, then positions
    std::vector<PullPlan::ClassSlot> classSlot_; // sendPulled's class and slot per event
    std::vector<uint32_t> pulled_[2]; // deliverPulls' binary and graded record
    TileGather gather_; // deliverPulls' tiles of conv blocks
    // Per node: 1 when its accumulators may hold something (a message
    // after its last update, or a component that did not finish);
    // kAlwaysDirty: a block into a compartment its updates do not clear.
    static constexpr char kAlwaysDirty = 2;
    std::vector<char> dirty_;
    // Per node: a message reached its accumulators since its last update
    // (or they may hold something); a product slice without one skips its scan.
    std::vector<char> fed_;
    ProductFormStates forms_; // product slices run from their operands
    FoldStates folds_;        // messages of folded slices, summed
};

bool coreMajorFits(const SimProgram& prog, int steps)
{
    for (const CoreProgram& cp : prog.cores)
        if (cp.inputs.size() > 65535)
            return false;
    return steps <= 65535;
}

namespace {
class CoreMajorPasses : public PassRunner {
public:
    CoreMajorPasses(RunContext& run, const CoreMajorPlan& plan, int chunk, std::atomic<bool>& stale)
        : plan_(plan), spare_(takeSpare(plan, run.prog)), w_(run, spare_->state, nullptr, 0),
          cm_(w_, plan, chunk, stale, spare_->dirty, spare_->arenas)
    {
    }
    ~CoreMajorPasses() override
    {
        spare_->dirty = cm_.dirtyFlags();
        std::lock_guard lock(plan_.spareMu);
        if (plan_.spares.size() < kSpares)
            plan_.spares.push_back(spare_);
    }
    Worker& worker() override { return w_; }
    bool pass(const std::vector<std::vector<float>>& inputs, int64_t first, int n) override
    {
        return cm_.run(inputs, first, n);
    }

private:
    const CoreMajorPlan& plan_;
    std::shared_ptr<SpareState> spare_; // one chip: the slices of a pass run one sample at a time
    Worker w_;
    CoreMajor cm_;
};
} // namespace

void runCoreMajor(RunContext& run, const SampleSource& source, int threads, int chunk)
{
    std::shared_ptr<const CoreMajorPlan> plan = run.prog.sliceGraph.get(run.prog);
    std::atomic<bool> stale{false};
    auto runAll = [&]() {
        runPasses(run, source, threads, chunk,
                  [&]() { return std::make_unique<CoreMajorPasses>(run, *plan, chunk, stale); });
    };
    runAll();
    if (!stale)
        return;
    const char* why = "core-major execution: a message reached a slice that already ran (a route table was changed "
                      "without VersionedArray::edit)";
    if (run.opt.trace) { // its records are already out: it cannot start over
        run.result.error = why;
        return;
    }
    // A pushed message reached a slice that already ran: the plan does not
    // match the routes (one was changed without edit(); such a change of a
    // pulled route goes unseen). Start over with a plan of the routes as
    // they are.
    plan = run.prog.sliceGraph.rebuild(run.prog);
    stale = false;
    for (std::vector<float>& out : run.result.outputs)
        std::fill(out.begin(), out.end(), 0.0f);
    run.result.counters = Counters{};
    run.result.samples = 0;
    run.result.cancelled = false;
    run.result.error.clear();
    runAll();
    if (stale)
        run.result.error = why;
}

} // namespace stc::sim::detail

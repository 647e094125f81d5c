// Internal to core/sim (core_major.cpp): the sums of folded slices' messages
// (fold_plan.h) between their sender's and their receiver's run. Include only
// from .cpp files compiled with the O3 pragma, as worker.h.
#pragma once

#include "sim/fold_plan.h"
#include "sim/worker.h"

#include <algorithm>

namespace stc::sim::detail {

class FoldStates {
public:
    FoldStates(const FoldPlan& plan, const SimProgram& prog, int chunk, int64_t timesteps, int64_t steps)
        : plan_(plan), chunk_(chunk), T_(timesteps), steps_(steps), sums_(plan.receivers.size() * size_t(chunk)),
          pending_(plan.receivers.size() * size_t(chunk) * size_t(timesteps), 0), kindCount_(256, 0), kindSum_(256)
    {
        for (const FoldPlan::Receiver& rc : plan.receivers) {
            const SynapseBlock& b = prog.cores[size_t(rc.core)].inputs[size_t(rc.input)];
            block_.push_back({b.compartment, b.delay, b.lastSend});
        }
    }
    bool folds(int32_t v) const { return plan_.nodeFold[size_t(v)] >= 0; }

    // Sends segment seg of folded node v (slice neurons from `first`, sample
    // b): every message counted at the sender into `sent`, every delivered
    // one at its receiver, its x * weight added to the receiver's sum of
    // the step. Per kind (a destination block): its messages, and where its
    // sums of this step are (set at its first message; nullptr: dropped).
    void send(Worker& w, const SimProgram& prog, int32_t v, const Segment& seg, const Event* events, uint32_t first,
              int b, EventCounts& sent)
    {
        const FoldPlan::Node& nd = plan_.folds[size_t(plan_.nodeFold[size_t(v)])];
        const uint32_t* code = nd.code->data();
        const int32_t* weight = nd.weight->data();
        const int stepIndex = seg.stepIndex + 1;
        used_.clear();
        for (uint32_t e = seg.begin; e < seg.end; ++e) {
            const uint32_t i = events[e].local - first, cd = code[i];
            if (cd == FoldPlan::kNoRoute)
                continue;
            const uint32_t k = cd >> 24;
            if (kindCount_[k]++ == 0)
                kindSum_[k] = open(nd.kinds[k], seg, b), used_.push_back(k);
            if (int32_t* sum = kindSum_[k])
                sum[cd & 0xffffffu] =
                    int32_t(uint32_t(sum[cd & 0xffffffu]) + uint32_t(events[e].value) * uint32_t(weight[i]));
        }
        for (uint32_t k : used_) {
            const FoldPlan::Kind& kd = nd.kinds[k];
            const int64_t n = kindCount_[k];
            sent.messages += n;
            sent.hopsEw += n * kd.route.hopsEw;
            sent.hopsNs += n * kd.route.hopsNs;
            sent.chipLinks += n * kd.route.chipLinks;
            sent.chipMessages += kd.route.chipLinks > 0 ? n : 0;
            sent.maxMessageNs = std::max(sent.maxMessageNs, double(kd.route.latencyNs));
            const FoldPlan::Receiver& rc = plan_.receivers[kd.receiver];
            if (kindSum_[k])
                w.countDelivery(rc.core, prog.cores[size_t(rc.core)].inputs[size_t(rc.input)], stepIndex,
                                n * kd.ops, n * kd.bytes);
            kindCount_[k] = 0;
        }
    }

    // Whether a sum of sample b arrives at a node of `nodes` in step hl.
    bool arrive(const std::vector<int32_t>& nodes, int64_t hl, int b) const
    {
        for (int32_t v : nodes)
            for (uint32_t j = plan_.nodeStart[size_t(v)]; j < plan_.nodeStart[size_t(v) + 1]; ++j) {
                const uint32_t r = plan_.nodeReceivers[j];
                if (const int64_t t = sentFor(r, hl); t >= 0 && pending_[at(r, b, t)])
                    return true;
            }
        return false;
    }
    // Adds the sums of sample b arriving at node v in step hl into its
    // accumulators (and empties them); whether any did.
    bool deliver(std::vector<CoreState>& st, const SimProgram& prog, int32_t v, int64_t hl, int b)
    {
        bool any = false;
        for (uint32_t j = plan_.nodeStart[size_t(v)]; j < plan_.nodeStart[size_t(v) + 1]; ++j) {
            const uint32_t r = plan_.nodeReceivers[j];
            const int64_t t = sentFor(r, hl);
            if (t < 0 || !pending_[at(r, b, t)])
                continue;
            const FoldPlan::Receiver& rc = plan_.receivers[r];
            const int64_t neurons = prog.cores[size_t(rc.core)].neurons;
            int32_t* acc = st[size_t(rc.core)].dendrite(block_[r].compartment, neurons) + rc.first;
            int32_t* sum = sums(r, b, rc.count) + size_t(t) * rc.count;
            for (uint32_t i = 0; i < rc.count; ++i)
                acc[i] = int32_t(uint32_t(acc[i]) + uint32_t(sum[i])), sum[i] = 0;
            pending_[at(r, b, t)] = 0, any = true;
        }
        return any;
    }

private:
    // Where kind kd's messages of segment seg (sample b) add up, marked
    // pending; nullptr when they are dropped (past the block's lastSend or
    // the window), as the pull path drops them.
    int32_t* open(const FoldPlan::Kind& kd, const Segment& seg, int b)
    {
        const FoldPlan::Receiver& rc = plan_.receivers[kd.receiver];
        const Block& bl = block_[kd.receiver];
        if (seg.stepIndex + 1 > bl.lastSend || seg.stepIndex + 1 + bl.delay >= steps_)
            return nullptr;
        const int64_t t = seg.stepIndex - rc.phase;
        pending_[at(kd.receiver, b, t)] = 1;
        return sums(kd.receiver, b, rc.count) + size_t(t) * rc.count;
    }
    // The sender step (0 .. T - 1) of receiver r's sum arriving in step hl, or -1.
    int64_t sentFor(uint32_t r, int64_t hl) const
    {
        const int64_t t = hl - plan_.receivers[r].phase - 1 - block_[r].delay;
        return t >= 0 && t < T_ ? t : -1;
    }
    // Index of receiver r's sum of sample b and sender step t in pending_.
    size_t at(uint32_t r, int b, int64_t t) const
    {
        return (size_t(r) * size_t(chunk_) + size_t(b)) * size_t(T_) + size_t(t);
    }
    int32_t* sums(uint32_t r, int b, uint32_t count)
    {
        std::vector<int32_t>& s = sums_[size_t(r) * size_t(chunk_) + size_t(b)];
        if (s.empty())
            s.assign(size_t(T_) * count, 0);
        return s.data();
    }

    const FoldPlan& plan_;
    struct Block {
        int compartment, delay;
        int32_t lastSend;
    };
    std::vector<Block> block_; // per receiver: its block's fields, as this run finds them
    int chunk_;
    int64_t T_, steps_;
    std::vector<std::vector<int32_t>> sums_; // [receiver * chunk + sample]: [T][receiver's count]
    std::vector<char> pending_;              // [(receiver * chunk + sample) * T + t]
    std::vector<int64_t> kindCount_;         // per kind of the segment being sent: its messages
    std::vector<int32_t*> kindSum_;          // per kind of the segment being sent: open()
    std::vector<uint32_t> used_;             // the kinds with messages in the segment
};

} // namespace stc::sim::detail

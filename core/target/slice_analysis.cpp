#include "target/slice_analysis.h"

#include <algorithm>
#include <map>

namespace stc::target {

namespace {

int64_t bitsToBytes(int64_t bits) { return (bits + 7) / 8; }

// Calls f(flat position in the population's position grid) for every
// position of the slice's box, row-major.
template <typename F>
void forEachPosition(const Population& p, const Slice& s, F&& f)
{
    forEachSlicePosition(p.positionShape(), s, f);
}

// Calls f(flat neuron index) for every neuron of the slice: positions
// row-major, features inner (the order of the analyses' sums).
template <typename F>
void forEachNeuron(const Population& p, const Slice& s, F&& f)
{
    if (p.shape.empty()) {
        for (int64_t k = s.f0; k < s.f1; ++k)
            f(int64_t(0));
        return;
    }
    const int64_t inner = p.innerStride(), outer = inner * p.features();
    forEachPosition(p, s, [&](int64_t pd) {
        const int64_t base = (pd / inner) * outer + pd % inner;
        for (int64_t n = base + s.f0 * inner, end = base + s.f1 * inner; n < end; n += inner)
            f(n);
    });
}

} // namespace

SliceAnalyzer::SliceAnalyzer(const Network& net, const ChipDescriptor& chip)
    : net_(net), chip_(chip), dense_(chip.encoding("dense")), sparse_(chip.encoding("sparse")),
      conv_(chip.encoding("conv_shared"))
{
    incoming_.resize(net.populations.size());
    outCount_ = std::make_shared<std::vector<Counts>>(net.populations.size());
    for (size_t i = 0; i < net.projections.size(); ++i)
        incoming_[size_t(net.projections[i].dst)].push_back(int32_t(i));
    size_t maxPop = 0, maxIn = 0;
    for (const auto& p : net.populations)
        maxPop = std::max(maxPop, size_t(p.size()));
    for (const auto& pr : net.projections)
        if (pr.coupling == Coupling::Full)
            maxIn = std::max(maxIn, size_t(pr.inPositions()));
    hits_.assign(maxIn, 0);
    mark_.assign(maxPop, 0);
    tables_ = std::make_shared<Tables>(net.projections.size());
}

double SliceAnalyzer::timeNs(double synOps, int64_t neurons, double rate) const
{
    const EventCosts& l = chip_.latencyNs;
    return synOps * l.synapticOp + double(neurons) * (l.neuronUpdateIdle + rate * (l.neuronUpdateActive - l.neuronUpdateIdle));
}

void SliceAnalyzer::finishBytes(SliceInput& in, int64_t dense, int64_t sparse, int64_t convShared)
{
    in.bytes = -1;
    auto consider = [&](int64_t b, Encoding e) {
        if (b >= 0 && (in.bytes < 0 || b < in.bytes)) {
            in.bytes = b;
            in.encoding = e;
        }
    };
    if (dense_)
        consider(dense, Encoding::Dense);
    if (sparse_)
        consider(sparse, Encoding::Sparse);
    if (conv_)
        consider(convShared, Encoding::ConvShared);
    if (in.bytes < 0)
        in.bytes = 0;
}

SliceInput SliceAnalyzer::analyzeFull(const Slice& s, int32_t pi, std::vector<int32_t>* axonList)
{
    const Projection& pr = net_.projections[size_t(pi)];
    const Population& dp = net_.populations[size_t(s.pop)];
    const Population& sp = net_.populations[size_t(pr.src)];
    const int64_t wb = chip_.limits.weightBits;
    const int64_t inPer = pr.inPerGroup(), outPer = pr.outPerGroup(), taps = pr.taps();
    SliceInput in;
    in.projection = pi;
    // Output features of the slice per group, and their runs in dst feature order.
    std::vector<std::vector<int64_t>> groupF(static_cast<size_t>(pr.groups));
    std::vector<int64_t> groupOps; // op features in the slice (for kernels)
    for (int64_t f = s.f0; f < s.f1; ++f) {
        const int64_t o = pr.dstFeatureToOut[size_t(f)];
        groupF[size_t(o / outPer)].push_back(f);
        groupOps.push_back(o);
    }
    std::vector<int64_t> count(static_cast<size_t>(pr.groups)), runBytes(size_t(pr.groups), 0);
    int64_t sumCount = 0;
    for (size_t g = 0; g < groupF.size(); ++g) {
        auto& fs = groupF[g];
        std::sort(fs.begin(), fs.end());
        count[g] = int64_t(fs.size());
        sumCount += count[g] * inPer;
        for (size_t k = 0; k < fs.size();) {
            size_t e = k + 1;
            while (e < fs.size() && fs[e] == fs[e - 1] + 1)
                ++e;
            runBytes[g] += (dense_ ? dense_->runHeaderBytes : 0) + bitsToBytes(int64_t(e - k) * wb);
            k = e;
        }
    }
    const bool zeros = pr.zeroWeights > 0;
    std::vector<std::pair<int32_t, int32_t>> pairs; // (input position, tap), when weights have zeros
    touched_.clear();
    forEachPosition(dp, s, [&](int64_t pd) {
        const int64_t q = pr.dstPositionToOut[size_t(pd)];
        forEachTap(pr.axes, q, [&](int64_t tap, int64_t p) {
            if (hits_[size_t(p)]++ == 0)
                touched_.push_back(int32_t(p));
            if (zeros)
                pairs.emplace_back(int32_t(p), int32_t(tap));
        });
    });
    int64_t activeInputs = 0;
    for (size_t g = 0; g < count.size(); ++g)
        activeInputs += count[g] > 0 ? inPer : 0;
    in.axons = activeInputs * int64_t(touched_.size());
    if (axonList) { // collectAxons' order: group, input feature, position in order of first touch
        axonList->reserve(size_t(in.axons));
        for (size_t g = 0; g < count.size(); ++g)
            if (count[g] > 0)
                for (int64_t ii = 0; ii < inPer; ++ii)
                    for (int32_t p : touched_)
                        axonList->push_back(int32_t(sp.neuronIndex(pr.inFeatureToSrc[size_t(int64_t(g) * inPer + ii)],
                                                                   pr.inPositionToSrc[size_t(p)])));
    }
    std::map<int64_t, int64_t> hist;
    int64_t hitSum = 0;
    for (int32_t p : touched_) {
        hist[hits_[size_t(p)]]++;
        hitSum += hits_[size_t(p)];
    }
    in.synapses = hitSum * sumCount;

    int64_t dense = -1, sparse = -1, convShared = -1;
    if (dense_) {
        dense = 0;
        for (const auto& [h, n] : hist)
            for (size_t g = 0; g < count.size(); ++g)
                if (count[g] > 0)
                    dense += n * inPer * alignUp(dense_->rowHeaderBytes + h * runBytes[g], dense_->rowAlignBytes);
    }
    if (conv_)
        convShared = alignUp(bitsToBytes(int64_t(groupOps.size()) * inPer * taps * wb), conv_->rowAlignBytes) +
                     in.axons * conv_->rowHeaderBytes;
    const double uniformRate = sp.rate;
    const bool perNeuron = !sp.neuronRates.empty();
    auto rateOf = [&](int64_t i, int64_t p) {
        return sp.rateOf(sp.neuronIndex(pr.inFeatureToSrc[size_t(i)], pr.inPositionToSrc[size_t(p)]));
    };
    double eventsAll = 0, eventsNonzero = 0;
    if (!zeros) {
        in.nonzero = in.synapses;
        if (sparse_) {
            sparse = 0;
            const int64_t sb = wb + sparse_->indexBits;
            for (const auto& [h, n] : hist)
                for (size_t g = 0; g < count.size(); ++g)
                    if (count[g] > 0)
                        sparse += n * inPer *
                                  alignUp(sparse_->rowHeaderBytes + bitsToBytes(h * count[g] * sb), sparse_->rowAlignBytes);
        }
        if (!perNeuron) {
            eventsAll = uniformRate * double(in.synapses);
        } else {
            for (int32_t p : touched_)
                for (size_t g = 0; g < count.size(); ++g)
                    for (int64_t ii = 0; ii < (count[g] > 0 ? inPer : 0); ++ii)
                        eventsAll += double(hits_[size_t(p)] * count[g]) * rateOf(int64_t(g) * inPer + ii, p);
        }
        eventsNonzero = eventsAll;
    } else {
        // Nonzero weights per (input feature, tap) over the slice's outputs.
        // weight(o, ii, k) of a Full projection is weights[(o * inPer + ii) * taps + k]: one
        // contiguous row per output feature, added onto its group's counts.
        const std::vector<int32_t>& cnt = nonzeroCounts(s, pi);
        // Input positions grouped by the taps that reach them.
        std::sort(pairs.begin(), pairs.end());
        std::map<std::vector<int32_t>, std::vector<int32_t>> sigPositions;
        for (size_t k = 0; k < pairs.size();) {
            size_t e = k;
            std::vector<int32_t> sig;
            while (e < pairs.size() && pairs[e].first == pairs[k].first)
                sig.push_back(pairs[e++].second);
            std::sort(sig.begin(), sig.end());
            sigPositions[sig].push_back(pairs[k].first);
            k = e;
        }
        const int64_t sb = wb + (sparse_ ? sparse_->indexBits : 0);
        sparse = sparse_ ? 0 : -1;
        for (const auto& [sig, positions] : sigPositions)
            for (size_t g = 0; g < count.size(); ++g) {
                if (count[g] == 0)
                    continue;
                for (int64_t ii = 0; ii < inPer; ++ii) {
                    const int64_t i = int64_t(g) * inPer + ii;
                    int64_t nnz = 0;
                    for (int32_t k : sig)
                        nnz += cnt[size_t(i * taps + k)];
                    in.nonzero += nnz * int64_t(positions.size());
                    if (sparse_)
                        sparse += int64_t(positions.size()) *
                                  alignUp(sparse_->rowHeaderBytes + bitsToBytes(nnz * sb), sparse_->rowAlignBytes);
                    for (int32_t p : positions) {
                        const double r = perNeuron ? rateOf(i, p) : uniformRate;
                        eventsNonzero += r * double(nnz);
                        eventsAll += r * double(hits_[size_t(p)] * count[g]);
                    }
                }
            }
    }
    for (int32_t p : touched_)
        hits_[size_t(p)] = 0;
    finishBytes(in, dense, sparse, convShared);
    in.synOpsPerStep = in.encoding == Encoding::Sparse ? eventsNonzero : eventsAll;
    return in;
}

SliceInput SliceAnalyzer::analyzeEnumerated(const Slice& s, int32_t pi, std::vector<int32_t>* axonList)
{
    const Projection& pr = net_.projections[size_t(pi)];
    const Population& dp = net_.populations[size_t(s.pop)];
    const Population& sp = net_.populations[size_t(pr.src)];
    const int64_t wb = chip_.limits.weightBits;
    const int64_t runHdr = dense_ ? dense_->runHeaderBytes : 0;
    SliceInput in;
    in.projection = pi;
    std::vector<Axon>& axons = axonScratch_;
    axons.clear();
    if (seen_.size() < mark_.size())
        seen_.resize(mark_.size());
    nextGeneration();
    const uint32_t gen = generation_;
    Seen* seen = seen_.data();
    const int64_t F = s.features();
    // Entry `local` (slice position * F + feature) continues an axon's run
    // when the axon's previous entry is local - 1 at the same position, i.e.
    // when the feature is not the slice's first.
    int64_t local = 0;
    bool continues = false;
    auto touch = [&](int64_t src, float w) __attribute__((always_inline)) {
        Seen& m = seen[src];
        if (m.generation != gen) {
            // A new axon, already holding this entry (a run of one). Built
            // whole: reading back a just-stored axon stalls the load.
            m.generation = gen;
            m.slot = int32_t(axons.size());
            axons.push_back(Axon{src, 1, w != 0.0f ? 1 : 0, local, 1, 0});
            return;
        }
        Axon& a = axons[size_t(m.slot)];
        ++a.entries;
        a.nnz += w != 0.0f ? 1 : 0;
        if (continues && a.last == local - 1) {
            ++a.runLen;
        } else {
            if (a.runLen > 0)
                a.runBytes += runHdr + bitsToBytes(a.runLen * wb);
            a.runLen = 1;
        }
        a.last = local;
    };
    // Neurons of the slice: position-major, features inner (collectAxons' order).
    const int64_t inner = dp.innerStride(), outer = inner * dp.features();
    // Screening: once the axons exceed the limit they only grow, and the rest
    // no longer matters.
    const bool screening = exitFanIn_ >= 0;
    bool over = false;
    const DiagSynapses* diag = pr.coupling == Coupling::Diag ? &diagSynapses(pi) : nullptr;
    const ExplicitRows* rows = pr.coupling == Coupling::Explicit ? &explicitRows(pi) : nullptr;
    if (rows && rows->uniform) {
        // Every row L synapses long (row n at n * L) and no weight zero: the
        // row starts and weights need not be read. The features of one
        // position lie `inner` neurons apart, a cache line each when inner is
        // large: the rows a few features ahead are prefetched.
        const int64_t L = rows->length, step = inner * L;
        const int32_t* srcNeuron = pr.srcNeuron.data();
        forEachPosition(dp, s, [&](int64_t pd) {
            if (screening && fanInSoFar_ + int64_t(axons.size()) > exitFanIn_)
                return; // does not fit (checked per position: the same verdict)
            const int64_t base = dp.shape.empty() ? 0 : (pd / inner) * outer + pd % inner;
            const int32_t* run = srcNeuron + (base + s.f0 * inner) * L;
            for (int64_t f = 0; f < F; ++f, ++local, run += step) {
                if (f + 16 < F)
                    __builtin_prefetch(run + 16 * step);
                continues = f != 0;
                for (int64_t k = 0; k < L; ++k)
                    touch(int64_t(run[k]), 1.0f);
            }
        });
        over = true; // done
    } else if (rows && pr.rowLength == 0) { // (compact rows with zero weights: forEachSynapseOf below)
        // The slice's rows lie strided in the CSR arrays (one cache line or
        // more per neuron): the neurons are listed first so that the rows a
        // few neurons ahead, their synapses and their sources' marks can be
        // prefetched (loads of different neurons then overlap).
        std::vector<int64_t>& order = neuronScratch_;
        order.clear();
        forEachNeuron(dp, s, [&](int64_t n) { order.push_back(n); });
        const int64_t* rowStart = pr.rowStart.data();
        const int32_t* srcNeuron = pr.srcNeuron.data();
        const float* weights = pr.weights.data();
        const int64_t wStep = pr.sharedWeight ? 0 : 1; // weights[k * wStep]
        const int64_t count = int64_t(order.size());
        int64_t fi = 0; // feature index within the slice of neuron `local`
        for (; local < count; ++local) {
            if (screening && fanInSoFar_ + int64_t(axons.size()) > exitFanIn_)
                break;
            if (local + 16 < count)
                __builtin_prefetch(rowStart + order[size_t(local + 16)]);
            if (local + 8 < count) {
                const int64_t k = rowStart[order[size_t(local + 8)]];
                __builtin_prefetch(srcNeuron + k);
                __builtin_prefetch(weights + k * wStep);
            }
            if (local + 4 < count) {
                const int64_t* row = rowStart + order[size_t(local + 4)];
                if (row[0] < row[1])
                    __builtin_prefetch(seen + srcNeuron[row[0]]);
            }
            continues = fi != 0;
            if (++fi == F)
                fi = 0;
            const int64_t* row = rowStart + order[size_t(local)];
            for (int64_t k = row[0]; k < row[1]; ++k)
                touch(int64_t(srcNeuron[k]), weights[k * wStep]);
        }
        over = true; // done
    }
    forEachPosition(dp, s, [&](int64_t pd) {
        if (over)
            return;
        const int64_t base = dp.shape.empty() ? 0 : (pd / inner) * outer + pd % inner;
        for (int64_t f = s.f0; f < s.f1 && !over; ++f, ++local) {
            if (screening && fanInSoFar_ + int64_t(axons.size()) > exitFanIn_) {
                over = true;
                break;
            }
            const int64_t n = dp.shape.empty() ? 0 : base + f * inner;
            continues = f != s.f0;
            if (diag) {
                diag->forEach(n, touch);
            } else {
                forEachSynapseOf(pr, sp, dp, n, touch);
            }
        }
    });
    int64_t dense = dense_ ? 0 : -1, sparse = sparse_ ? 0 : -1;
    double eventsAll = 0, eventsNonzero = 0;
    for (Axon& a : axons) {
        a.runBytes += runHdr + bitsToBytes(a.runLen * wb);
        in.synapses += a.entries;
        in.nonzero += a.nnz;
        if (dense_)
            dense += alignUp(dense_->rowHeaderBytes + a.runBytes, dense_->rowAlignBytes);
        if (sparse_)
            sparse += alignUp(sparse_->rowHeaderBytes + bitsToBytes(a.nnz * (wb + sparse_->indexBits)),
                              sparse_->rowAlignBytes);
        const double r = sp.rateOf(a.src);
        eventsAll += r * double(a.entries);
        eventsNonzero += r * double(a.nnz);
    }
    in.axons = int64_t(axons.size());
    if (axonList) {
        axonList->reserve(axons.size());
        for (const Axon& a : axons)
            axonList->push_back(int32_t(a.src));
    }
    int64_t convShared = -1;
    if (conv_ && pr.coupling == Coupling::Diag)
        convShared = alignUp(bitsToBytes(F * pr.taps() * wb), conv_->rowAlignBytes) + in.axons * conv_->rowHeaderBytes;
    finishBytes(in, dense, sparse, convShared);
    in.synOpsPerStep = in.encoding == Encoding::Sparse ? eventsNonzero : eventsAll;
    return in;
}

void SliceAnalyzer::nextGeneration()
{
    if (++generation_ == 0) { // wrapped: no mark may look current
        std::fill(mark_.begin(), mark_.end(), 0);
        for (Seen& m : seen_)
            m.generation = 0;
        generation_ = 1;
    }
}

const std::vector<int32_t>& SliceAnalyzer::nonzeroCounts(const Slice& s, int32_t pi)
{
    // They depend on the slice's features only: slices at other positions reuse them.
    const auto key = std::make_tuple(pi, s.f0, s.f1);
    if (auto it = nonzero_.find(key); it != nonzero_.end())
        return it->second;
    if (nonzero_.size() >= 64)
        nonzero_.clear(); // bounded: screening meets many feature ranges
    const Projection& pr = net_.projections[size_t(pi)];
    const int64_t rowLen = pr.inPerGroup() * pr.taps(), outPer = pr.outPerGroup();
    std::vector<int32_t>& cnt = nonzero_[key];
    cnt.assign(size_t(pr.inFeatures * pr.taps()), 0);
    for (int64_t f = s.f0; f < s.f1; ++f) {
        const int64_t o = pr.dstFeatureToOut[size_t(f)];
        const float* w = pr.weights.data() + o * rowLen;
        int32_t* c = cnt.data() + (o / outPer) * rowLen;
        for (int64_t j = 0; j < rowLen; ++j)
            c[j] += w[j] != 0.0f ? 1 : 0;
    }
    return cnt;
}

DiagSynapses::DiagSynapses(const Projection& pr) : pr_(pr)
{
    for (size_t a = size_t(pr.featureAxis) + 1; a < pr.outShape.size(); ++a)
        innerOut_ *= pr.outShape[a];
    for (size_t a = size_t(pr.featureAxis) + 1; a < pr.inShape.size(); ++a)
        innerIn_ *= pr.inShape[a];
    taps_ = pr.taps();
    const int64_t positions = pr.inPositions();
    inPositionBase_.resize(size_t(positions));
    for (int64_t p = 0; p < positions; ++p)
        inPositionBase_[size_t(p)] = (p / innerIn_) * (innerIn_ * pr.inFeatures) + p % innerIn_;
}

SliceAnalyzer::ExplicitRows::ExplicitRows(const Network& net, const Projection& pr)
{
    length = uniformRowLength(pr, net.populations[size_t(pr.dst)].size());
    uniform = pr.zeroWeights == 0 && length >= 0;
    length = std::max<int64_t>(0, length);
}

const SliceAnalyzer::ExplicitRows& SliceAnalyzer::explicitRows(int32_t pi)
{
    Tables& t = *tables_;
    std::call_once(t.once[size_t(pi)], [&] {
        t.explicitRows[size_t(pi)] = std::make_unique<ExplicitRows>(net_, net_.projections[size_t(pi)]);
    });
    return *t.explicitRows[size_t(pi)];
}

const DiagSynapses& SliceAnalyzer::diagSynapses(int32_t pi)
{
    if (diag_.size() < net_.projections.size())
        diag_.resize(net_.projections.size());
    auto& d = diag_[size_t(pi)];
    if (!d)
        d = std::make_unique<DiagSynapses>(net_.projections[size_t(pi)]);
    return *d;
}

Usage SliceAnalyzer::analyze(const Slice& s, std::vector<SliceInput>* inputs, std::vector<AxonList>* axons)
{
    const Population& p = net_.populations[size_t(s.pop)];
    Usage u;
    u.neurons = s.neurons();
    u.stateBytes = u.neurons * chip_.limits.neuronStateBytes;
    if (inputs)
        inputs->clear();
    if (axons)
        axons->clear();
    for (int32_t pi : incoming_[size_t(s.pop)]) {
        const Projection& pr = net_.projections[size_t(pi)];
        fanInSoFar_ = u.fanInAxons;
        std::vector<int32_t> list;
        std::vector<int32_t>* listOut = axons ? &list : nullptr;
        SliceInput in = pr.coupling == Coupling::Full ? analyzeFull(s, pi, listOut) : analyzeEnumerated(s, pi, listOut);
        if (axons)
            axons->push_back(std::make_shared<const std::vector<int32_t>>(std::move(list)));
        u.fanInAxons += in.axons;
        u.synapticBytes += in.bytes;
        u.synOpsPerStep += in.synOpsPerStep;
        if (inputs)
            inputs->push_back(in);
        if ((exitFanIn_ >= 0 && u.fanInAxons > exitFanIn_) || (exitBytes_ >= 0 && u.synapticBytes > exitBytes_)) {
            u.fanInAxons = std::max(u.fanInAxons, exitFanIn_ + 1);
            return u; // screening: does not fit
        }
    }
    double rate = p.rate;
    if (!p.neuronRates.empty() && u.neurons > 0) {
        double sum = 0;
        forEachNeuron(p, s, [&](int64_t n) { sum += p.neuronRates[size_t(n)]; });
        rate = sum / double(u.neurons);
    }
    if (hasDestinations(s.pop)) {
        // fanOut() and spikesOut() in one pass over the counts (same sums, same order).
        const auto& cnt = *(*outCount_)[size_t(s.pop)];
        int64_t fan = 0;
        double spikes = 0;
        forEachNeuron(p, s, [&](int64_t k) {
            fan += cnt[size_t(k)];
            spikes += p.rateOf(k) * cnt[size_t(k)];
        });
        u.fanOutAxons = fan;
        u.spikesOutPerStep = spikes;
    }
    u.timeNs = timeNs(u.synOpsPerStep, u.neurons, rate);
    return u;
}

void SliceAnalyzer::forEachAxon(const Slice& s, int32_t pi, const std::function<void(int64_t)>& f)
{
    std::vector<int64_t> axons;
    collectAxons(s, pi, axons);
    for (int64_t n : axons)
        f(n);
}

void SliceAnalyzer::collectAxons(const Slice& s, int32_t pi, std::vector<int64_t>& out)
{
    out.clear();
    auto f = [&out](int64_t n) { out.push_back(n); };
    const Projection& pr = net_.projections[size_t(pi)];
    const Population& dp = net_.populations[size_t(s.pop)];
    const Population& sp = net_.populations[size_t(pr.src)];
    if (pr.coupling == Coupling::Full) {
        std::vector<char> activeGroup(static_cast<size_t>(pr.groups), 0);
        for (int64_t fd = s.f0; fd < s.f1; ++fd)
            activeGroup[size_t(pr.dstFeatureToOut[size_t(fd)] / pr.outPerGroup())] = 1;
        touched_.clear();
        forEachPosition(dp, s, [&](int64_t pd) {
            forEachTap(pr.axes, pr.dstPositionToOut[size_t(pd)], [&](int64_t, int64_t p) {
                if (hits_[size_t(p)]++ == 0)
                    touched_.push_back(int32_t(p));
            });
        });
        const std::vector<int32_t> positions = touched_;
        for (int32_t p : positions)
            hits_[size_t(p)] = 0;
        for (int64_t g = 0; g < pr.groups; ++g)
            if (activeGroup[size_t(g)])
                for (int64_t ii = 0; ii < pr.inPerGroup(); ++ii)
                    for (int32_t p : positions)
                        f(sp.neuronIndex(pr.inFeatureToSrc[size_t(g * pr.inPerGroup() + ii)],
                                         pr.inPositionToSrc[size_t(p)]));
        return;
    }
    nextGeneration();
    const uint32_t gen = generation_;
    forEachPosition(dp, s, [&](int64_t pd) {
        for (int64_t fd = s.f0; fd < s.f1; ++fd)
            forEachSynapseOf(pr, sp, dp, dp.neuronIndex(fd, pd), [&](int64_t src, float) {
                if (mark_[size_t(src)] != gen) {
                    mark_[size_t(src)] = gen;
                    out.push_back(src);
                }
            });
    });
}

void SliceAnalyzer::setDestinations(int32_t pop, const std::vector<Slice>& slices,
                                    const std::vector<int32_t>& destinationSlices)
{
    std::vector<int32_t> cnt(size_t(net_.populations[size_t(pop)].size()), 0);
    for (int32_t d : destinationSlices)
        countDestination(pop, slices, d, cnt);
    setDestinationCounts(pop, std::move(cnt));
}

void SliceAnalyzer::countDestination(int32_t pop, const std::vector<Slice>& slices, int32_t d,
                                     std::vector<int32_t>& cnt)
{
    for (int32_t pi : incoming_[size_t(slices[size_t(d)].pop)])
        if (net_.projections[size_t(pi)].src == pop) {
            collectAxons(slices[size_t(d)], pi, axons_);
            for (int64_t n : axons_)
                ++cnt[size_t(n)];
        }
}

int64_t SliceAnalyzer::fanOut(const Slice& s) const
{
    const Population& p = net_.populations[size_t(s.pop)];
    const auto& cnt = *(*outCount_)[size_t(s.pop)];
    int64_t n = 0;
    forEachNeuron(p, s, [&](int64_t k) { n += cnt[size_t(k)]; });
    return n;
}

double SliceAnalyzer::spikesOut(const Slice& s) const
{
    const Population& p = net_.populations[size_t(s.pop)];
    const auto& cnt = *(*outCount_)[size_t(s.pop)];
    double n = 0;
    forEachNeuron(p, s, [&](int64_t k) { n += p.rateOf(k) * cnt[size_t(k)]; });
    return n;
}

} // namespace stc::target

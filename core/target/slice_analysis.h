// Exact per-slice resource counts: fan-in axons, synaptic memory in each
// available encoding (the same bytes the package encoder writes), synaptic
// operations per step, fan-out axons and spike traffic. Full projections are
// counted analytically from their geometry (cost ~ fan-in axons per slice);
// Diag and Explicit projections by enumerating the slice's synapses.
#pragma once

#include "target/mapping.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

namespace stc::target {

// bytes rounded up to a multiple of align (align <= 1: unchanged). Inline,
// without a division for the usual power-of-two alignments: the analyses
// call it per axon.
inline int64_t alignUp(int64_t bytes, int64_t align)
{
    if (align <= 1)
        return bytes;
    if ((align & (align - 1)) == 0 && bytes >= 0)
        return (bytes + align - 1) & ~(align - 1);
    return (bytes + align - 1) / align * align;
}

// Calls f(flat position in a grid of shape `posShape`) for every position of
// the slice's box, row-major (once, with 0, for a rank-0 grid).
template <typename F>
void forEachSlicePosition(const ir::Shape& posShape, const Slice& s, F&& f)
{
    const size_t rank = posShape.size();
    for (size_t a = 0; a < rank; ++a)
        if (s.lo[a] >= s.hi[a])
            return;
    std::vector<int64_t> c(s.lo.begin(), s.lo.end());
    while (true) {
        int64_t flat = 0;
        for (size_t a = 0; a < rank; ++a)
            flat = flat * posShape[a] + c[a];
        f(flat);
        size_t a = rank;
        while (a-- > 0) {
            if (++c[a] < s.hi[a])
                break;
            c[a] = s.lo[a];
        }
        if (a == size_t(-1))
            return;
    }
}

// forEachSynapseOf for a Diag projection, the same synapses in the same
// order, with the element arithmetic done once: the op tensors' strides
// behind the feature axis, and per op input position its op input element
// at feature 0 (no division per synapse).
class DiagSynapses {
public:
    explicit DiagSynapses(const Projection& pr);
    template <typename F>
    void forEach(int64_t dstNeuron, F&& f) const
    {
        const Projection& pr = pr_;
        const int64_t e = pr.dstToOutElement[size_t(dstNeuron)];
        const int64_t o = (e / innerOut_) % pr.outFeatures;
        const int64_t q = (e / (innerOut_ * pr.outFeatures)) * innerOut_ + e % innerOut_;
        const int64_t oIn = o * innerIn_;
        const float* w = pr.weights.data() + o * taps_;
        const int64_t* base = inPositionBase_.data();
        const int32_t* toSrc = pr.inElementToSrc.data();
        forEachTap(pr.axes, q, [&](int64_t tap, int64_t p) { f(int64_t(toSrc[base[p] + oIn]), w[tap]); });
    }

private:
    const Projection& pr_;
    int64_t innerOut_ = 1, innerIn_ = 1, taps_ = 1;
    std::vector<int64_t> inPositionBase_;
};

class SliceAnalyzer {
public:
    SliceAnalyzer(const Network& net, const ChipDescriptor& chip);

    // Source neurons of one input's fan-in axons, in collectAxons() order.
    using AxonList = std::shared_ptr<const std::vector<int32_t>>;

    // Resources of `s` as a destination: neurons, fan-in axons, synaptic
    // memory (best available encoding per projection), synaptic ops, state,
    // compute time. Fan-out is filled by fanOut() once destinations exist.
    // With `axons`, also each input's axon list (what collectAxons() finds),
    // so that later stages need not enumerate the synapses again.
    Usage analyze(const Slice& s, std::vector<SliceInput>* inputs = nullptr, std::vector<AxonList>* axons = nullptr);

    // Calls f(srcNeuron) once per fan-in axon of `s` through projection `pi`.
    void forEachAxon(const Slice& s, int32_t pi, const std::function<void(int64_t)>& f);
    // The same source neurons, in the same order, into `out` (replaced).
    void collectAxons(const Slice& s, int32_t pi, std::vector<int64_t>& out);

    // Per-neuron count of destination slices (axons out) of population
    // `pop`, given the slices of every population.
    void setDestinations(int32_t pop, const std::vector<Slice>& slices, const std::vector<int32_t>& destinationSlices);
    // The same in parts (for several threads): adds the axons of one
    // destination slice to `counts` (sized to the population), and stores
    // the summed counts. Integer sums: the split does not change the result.
    void countDestination(int32_t pop, const std::vector<Slice>& slices, int32_t destinationSlice,
                          std::vector<int32_t>& counts);
    void setDestinationCounts(int32_t pop, std::vector<int32_t> counts)
    {
        (*outCount_)[size_t(pop)] = std::make_shared<const std::vector<int32_t>>(std::move(counts));
    }
    // Counts computed earlier for the same destination slices (shared, not copied).
    using Counts = std::shared_ptr<const std::vector<int32_t>>;
    void setDestinationCounts(int32_t pop, Counts counts) { (*outCount_)[size_t(pop)] = std::move(counts); }
    const Counts& destinationCounts(int32_t pop) const { return (*outCount_)[size_t(pop)]; }
    // Reads the destination counts of `owner` (shared, not copied): analyzers
    // of other threads then give the same fan-out as the owner. Not while the
    // owner's counts are being set.
    void shareDestinations(const SliceAnalyzer& owner) { outCount_ = owner.outCount_; }

    // An Explicit projection whose rows all have `length` synapses (row n at
    // n * length: compact, or CSR rows that happen to be so) and no zero
    // weight is `uniform`: the analysis then reads neither its row starts nor
    // its weights.
    struct ExplicitRows {
        ExplicitRows(const Network& net, const Projection& pr);
        bool uniform = false;
        int64_t length = 0;
    };
    // Per-projection tables that depend only on the network, computed on
    // first use (thread-safe): analyzers of one network that share them
    // compute each once. A partition keeps them for the next one.
    struct Tables {
        explicit Tables(size_t projections) : once(projections), explicitRows(projections) {}
        std::vector<std::once_flag> once;
        std::vector<std::unique_ptr<const ExplicitRows>> explicitRows;
    };
    const std::shared_ptr<Tables>& tables() const { return tables_; }
    void shareTables(std::shared_ptr<Tables> tables) { tables_ = std::move(tables); }
    int64_t fanOut(const Slice& s) const;     // needs setDestinations(s.pop, ...)
    double spikesOut(const Slice& s) const;   // messages per step
    bool hasDestinations(int32_t pop) const
    {
        const Counts& c = (*outCount_)[size_t(pop)];
        return c && !c->empty();
    }

    // While set, analyze() stops counting once a slice exceeds these (the
    // result then only tells that it does not fit): candidate screening.
    void setEarlyExit(int64_t fanIn, int64_t bytes) { exitFanIn_ = fanIn, exitBytes_ = bytes; }
    void clearEarlyExit() { exitFanIn_ = exitBytes_ = -1; }

    // Compute time per step of a core with these totals.
    double timeNs(double synOps, int64_t neurons, double rate) const;

    const Network& network() const { return net_; }
    const ChipDescriptor& chip() const { return chip_; }

private:
    SliceInput analyzeFull(const Slice& s, int32_t pi, std::vector<int32_t>* axons);
    SliceInput analyzeEnumerated(const Slice& s, int32_t pi, std::vector<int32_t>* axons);
    void finishBytes(SliceInput& in, int64_t dense, int64_t sparse, int64_t convShared);
    const DiagSynapses& diagSynapses(int32_t pi); // computed on first use
    const ExplicitRows& explicitRows(int32_t pi); // computed on first use (shared tables)
    // Full projection with zero weights: nonzero weights per (input feature,
    // tap) summed over the output features of the slice (kept per feature range).
    const std::vector<int32_t>& nonzeroCounts(const Slice& s, int32_t pi);
    // One fan-in axon while a slice's synapses are enumerated.
    struct Axon {
        int64_t src, entries = 0, nnz = 0, last = -2, runLen = 0, runBytes = 0;
    };

    const Network& net_;
    const ChipDescriptor& chip_;
    const SynapseEncoding *dense_, *sparse_, *conv_;
    std::vector<std::vector<int32_t>> incoming_;
    std::shared_ptr<std::vector<Counts>> outCount_; // per population, per neuron
    // Scratch, reused across calls.
    std::vector<int32_t> hits_, touched_;
    std::vector<int64_t> axons_;
    std::vector<uint32_t> mark_;
    // Per source neuron: the generation that last saw it and its axon's slot
    // (together: one cache line per lookup).
    struct Seen {
        uint32_t generation = 0;
        int32_t slot = 0;
    };
    std::vector<Seen> seen_;
    void nextGeneration();
    std::vector<Axon> axonScratch_;
    std::vector<int64_t> neuronScratch_;
    std::vector<std::unique_ptr<DiagSynapses>> diag_;
    std::map<std::tuple<int32_t, int64_t, int64_t>, std::vector<int32_t>> nonzero_;
    std::shared_ptr<Tables> tables_;
    uint32_t generation_ = 0;
    int64_t exitFanIn_ = -1, exitBytes_ = -1;
    int64_t fanInSoFar_ = 0;
};

} // namespace stc::target

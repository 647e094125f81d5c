// target::Mapping: where every neuron of a Network lives on the chip(s) and
// how spikes travel. A plain value type: the IDE draws it as a floorplan, the
// backend encodes it into a package, reports read its statistics.
#pragma once

#include "target/chip_descriptor.h"
#include "target/network.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace stc::target {

// A core-sized group of one population: a feature range times a box of
// positions (position axes of the population, in order). Inside a core its
// neurons are ordered position-major, feature-minor ("slice-local order").
struct Slice {
    int32_t pop = -1;
    int64_t f0 = 0, f1 = 0;
    std::vector<int64_t> lo, hi; // per position axis, [lo, hi)
    int64_t features() const { return f1 - f0; }
    int64_t positionCount() const;
    int64_t neurons() const { return features() * positionCount(); }
    // Population flat index of slice-local neuron `local`.
    int64_t neuronAt(const Population& p, int64_t local) const;
    bool contains(const Population& p, int64_t neuron) const;
    friend bool operator==(const Slice&, const Slice&) = default;
};

enum class Encoding : uint8_t { Dense, Sparse, ConvShared };
const char* toString(Encoding e);

// Synapses of one incoming projection into one slice.
struct SliceInput {
    int32_t projection = -1;
    int64_t axons = 0;         // distinct source neurons
    int64_t synapses = 0;      // structural (zeros included)
    int64_t nonzero = 0;
    int64_t bytes = 0;         // in the chosen encoding
    Encoding encoding = Encoding::Dense;
    double synOpsPerStep = 0;  // events x synapses at the source rates
    friend bool operator==(const SliceInput&, const SliceInput&) = default;
};

// Per-core resources (also used per slice).
struct Usage {
    int64_t neurons = 0;
    int64_t fanInAxons = 0;
    int64_t fanOutAxons = 0;
    int64_t synapticBytes = 0;
    int64_t stateBytes = 0;  // neurons x neuron_state_bytes
    double synOpsPerStep = 0;
    double spikesOutPerStep = 0;
    double timeNs = 0;       // estimated compute time per step (synaptic ops + neuron updates)
    Usage& operator+=(const Usage& o);
    friend bool operator==(const Usage&, const Usage&) = default;
};

enum class Resource : uint8_t { Neurons, FanIn, FanOut, SynapticMemory, CoreMemory, StepTime };
constexpr int kResourceCount = 6;
const char* toString(Resource r);

// Used / capacity per resource. StepTime's capacity is the mapping's
// critical-path step time, so a core on the critical path is 100 % busy.
struct Utilization {
    double of[kResourceCount] = {0, 0, 0, 0, 0, 0};
    Resource binding = Resource::Neurons; // the highest of the static resources
    double bindingValue() const { return of[int(binding)]; }
    friend bool operator==(const Utilization& a, const Utilization& b);
};

struct CoreAssignment {
    CoreCoord coord;                 // physical core
    std::vector<int32_t> slices;     // indices into Mapping::slices
    Usage usage;
    Utilization utilization;
};

// Spike traffic from one core to another, and the path it takes.
struct Route {
    int32_t from = -1, to = -1; // indices into Mapping::cores
    double spikesPerStep = 0;   // messages per step (one per source neuron and destination core)
    int hopsEw = 0, hopsNs = 0, chipLinks = 0;
    std::vector<std::array<int, 3>> path; // global tile coordinates (x, y, chip z), first = source tile
};

// Why a model does not fit: which population, which limit, by how much.
struct FitProblem {
    int32_t pop = -1;
    Resource resource = Resource::Neurons;
    double needed = 0;    // for the smallest possible slice (or the whole model)
    double available = 0;
    std::string message;
};

struct ChipUsage {
    int chip = 0;
    int coresUsed = 0;
    int coresAvailable = 0;
    double meanBindingUtilization = 0;
    double synOpsPerStep = 0;
};

struct MapOptions {
    int chips = 1;                     // chips to use (1..board size)
    std::string objective = "balanced"; // min-cores | balanced | latency
    uint64_t seed = 1;                 // placement annealing
    int annealIterations = -1;         // < 0: automatic (scaled with the core count)
    bool shareCores = true;            // pack slices of different populations onto one core
    // Host threads for slice analysis and traffic (< 1: every host thread); the same mapping for
    // any count. Default 1 for library callers that run several compiles at once; stc compile
    // passes 0. The analysis joins once per growing chunk of a cut's slices (candidates are
    // screened on one thread), so that a worker preempted on a loaded host stalls few joins.
    int threads = 1;
    // Encode the package while placement anneals (the encoding depends on the
    // partition only) and keep it in Mapping::packageDraft for buildPackage.
    // For callers that write a package right after mapping (stc compile).
    bool encodeWhilePlacing = false;
};

class NeuronLocator;
class PackageDraft;

struct Mapping {
    std::string chipId;
    bool projectedChip = false;
    int chipsUsed = 0;
    int chipsRequested = 1;
    std::string objective;
    uint64_t seed = 1;

    std::vector<Slice> slices;
    std::vector<Usage> sliceUsage;                  // per slice
    std::vector<std::vector<SliceInput>> sliceInputs; // per slice, per incoming projection
    // Per slice, per input (as sliceInputs): the source neurons of its fan-in
    // axons in SliceAnalyzer::collectAxons' order, as the partition found them
    // (shared, not copied); the package encoder reads them when present.
    std::vector<std::vector<std::shared_ptr<const std::vector<int32_t>>>> sliceAxons;
    std::vector<int32_t> sliceCore;                 // slice -> index into cores
    // Per population: block shape [features, positions...] and first slice
    // (a population's slices are its blocks in row-major block order).
    std::vector<std::vector<int64_t>> popBlock;
    std::vector<int32_t> popFirstSlice;
    std::vector<CoreAssignment> cores;
    std::vector<Route> routes;
    std::vector<ChipUsage> chips;
    // Built by placement for the traffic and kept for the package's routes
    // (the same lookups); used only while builtFor(popBlock, popFirstSlice, slices).
    std::shared_ptr<const NeuronLocator> neuronLocator;
    // Set by placement with MapOptions::encodeWhilePlacing; taken by the first
    // buildPackage of this mapping (package_encoder.h).
    std::shared_ptr<PackageDraft> packageDraft;

    // Summary.
    double stepTimeNs = 0;        // modelled time step: slowest core + routing + barrier
    double criticalCoreTimeNs = 0;
    double meanBindingUtilization = 0; // over used cores, static resources
    double meanUtilizationWithTime = 0; // binding over static resources and step time
    double trafficPerStep = 0;          // spike messages per step
    double weightedHops = 0;            // sum of messages x hops per step
    int64_t totalHops = 0;              // sum of route hops (unweighted)
    double interChipTrafficPerStep = 0;
    bool fits = true;
    std::vector<FitProblem> problems;

    std::vector<int32_t> coresOfPopulation(int32_t pop) const;
    int32_t sliceOf(const Network& net, int32_t pop, int64_t neuron) const;
};

// Finds the slice of a population neuron and its slice-local index: for loops
// over every axon. Both are tabulated per neuron once (8 bytes a neuron), as the
// arithmetic took about ten 64-bit divisions a lookup.
class NeuronLocator {
public:
    // popBlock/popFirstSlice/slices as in Mapping (or Partition); the tables
    // are filled on `threads` threads (0: every host thread).
    NeuronLocator(const Network& net, const std::vector<std::vector<int64_t>>& popBlock,
                  const std::vector<int32_t>& popFirstSlice, const std::vector<Slice>& slices, int threads = 1);
    // Whether it was built from exactly these (a mapping edited since must not use it).
    bool builtFor(const std::vector<std::vector<int64_t>>& popBlock, const std::vector<int32_t>& popFirstSlice,
                  const std::vector<Slice>& slices) const;
    int32_t slice(int32_t pop, int64_t neuron) const;
    // Slice index, and the neuron's index in slice-local order.
    int32_t locate(int32_t pop, int64_t neuron, int64_t& local) const;
    // The population's per-neuron (slice, local index) table that locate()
    // reads, or nullptr when its neurons are located arithmetically: for
    // loops that look up many neurons of one population without a call each.
    const std::pair<int32_t, int32_t>* table(int32_t pop) const
    {
        const auto& w = where_[size_t(pop)];
        return w.empty() ? nullptr : w.data();
    }

private:
    struct Pop {
        int64_t inner = 1, features = 1;
        std::vector<int64_t> posShape, block, blocksPerAxis; // blocks: [features, positions...]
        int32_t first = -1;
    };
    int32_t sliceAndCoords(const Pop& p, int64_t neuron, int64_t& feature, int64_t* coord) const;
    std::vector<Pop> pops_;
    std::vector<std::vector<std::pair<int32_t, int32_t>>> where_; // per population, per neuron: slice, local
    std::vector<std::vector<int64_t>> popBlock_;
    std::vector<int32_t> popFirstSlice_;
    std::vector<Slice> slices_; // a copy (a few thousand), so a shared locator stands alone
};

} // namespace stc::target

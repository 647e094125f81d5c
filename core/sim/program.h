// A deployment package decoded for simulation: per core its slices, neuron
// parameters, synapse tables expanded into a form the event loop can walk
// quickly (runs of effective integer weights, or a convolution plan for
// conv_shared tables), and its routing table with each route's mesh path.
// Built from the package only (target::Package), never from the IR.
#pragma once

#include "fixedpoint/arith.h"
#include "target/chip_descriptor.h"
#include "target/package.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace stc::sim {

enum class NeuronKind : uint8_t {
    Input,       // host-encoded graded spikes (pixels)
    Lif,         // lif / if / leaky: fixedpoint::neuronStep
    RelayOr,     // binary relay: fires when a >= theta (OR of spikes for max pooling)
    RelayGraded, // graded relay: emits a
    Product,     // and / gate / mul: emits a0 * a1 (two compartments)
    Readout,     // accumulator read by the host
};
const char* toString(NeuronKind k);

struct PopulationInfo {
    std::string name, origin, model;
    NeuronKind kind = NeuronKind::Lif;
    int phase = 0;             // pipelined schedule: step offset of model step 0
    int64_t size = 0;          // neurons
    int64_t firstId = 0;       // global neuron id of neuron 0 (populations in order)
    std::vector<int64_t> shape;
    int featureAxis = 0;
    fixedpoint::NeuronParams neuron; // Lif: du, dv, act shift, theta, fire, reset; RelayOr: theta
    double valueScale = 1.0;   // real value of one output step (readouts: of the accumulator)
    double outputScale = 1.0;  // extra host factor of a readout
    bool perStepOutput = false;
    bool membraneOut = false;  // Lif with graded output: emits the charged membrane, not spikes
    bool biasOnce = false;     // Readout: bias added at model step 0 only (time average)
    double inputScale = 1.0;   // Input: host encoding (fixedpoint::encodeInput)
    int64_t inputLo = 0, inputHi = 255;
};

// Read-only arrays that equal arrays of other synapse blocks share: conv_shared
// kernels built from the same table bits, exponents and feature groups (the
// cores holding the same features of one projection at other positions),
// and row records that came out the same (their targets are core-local, so
// cores with the same layout and pattern decode to the same records). A
// 4-384-shaped package held 461 MB of kernels (37 MB distinct) and 556 MB of
// row records (2.3 MB distinct). Const access reads the shared copy; edit()
// gives this block its own copy first when the array is shared.
template <typename T>
class SharedArray {
public:
    SharedArray() = default;
    explicit SharedArray(std::vector<T> v) : p_(std::make_shared<std::vector<T>>(std::move(v))) {}
    const T* data() const { return p_ ? p_->data() : nullptr; }
    size_t size() const { return p_ ? p_->size() : 0; }
    bool empty() const { return size() == 0; }
    const T& operator[](size_t i) const { return (*p_)[i]; }
    const T* begin() const { return data(); }
    const T* end() const { return data() + size(); }
    const std::vector<T>& values() const
    {
        static const std::vector<T> none;
        return p_ ? *p_ : none;
    }
    std::vector<T>& edit()
    {
        ++generation_;
        if (!p_)
            p_ = std::make_shared<std::vector<T>>();
        else if (p_.use_count() > 1)
            p_ = std::make_shared<std::vector<T>>(*p_);
        return *p_;
    }
    bool sameStorage(const SharedArray& o) const { return p_ == o.p_; }
    // Counts this handle's edit() calls: an array derived from its values
    // records it and is stale once it moved on (ConvPlan::Group::narrow).
    uint64_t generation() const { return generation_; }

private:
    std::shared_ptr<std::vector<T>> p_;
    uint64_t generation_ = 0;
};
using SharedWeights = SharedArray<int32_t>;

// A vector whose every change goes through edit() or an assignment, each of
// which stamps it with a version not used before (a counter over the whole
// process): what is derived from its values (the core-major plan of
// GraphCache) records the versions and is stale once one moved on. Call
// edit() for every change; a reference kept from an earlier edit() is not
// tracked.
template <typename T>
class VersionedArray {
public:
    VersionedArray() = default;
    VersionedArray(std::vector<T> v) : v_(std::move(v)), version_(fresh()) {}
    VersionedArray& operator=(std::vector<T> v)
    {
        v_ = std::move(v);
        version_ = fresh();
        return *this;
    }
    const T& operator[](size_t i) const { return v_[i]; }
    const T* data() const { return v_.data(); }
    size_t size() const { return v_.size(); }
    bool empty() const { return v_.empty(); }
    auto begin() const { return v_.begin(); }
    auto end() const { return v_.end(); }
    const std::vector<T>& values() const { return v_; }
    std::vector<T>& edit()
    {
        version_ = fresh();
        return v_;
    }
    uint64_t version() const { return version_; }

private:
    static uint64_t fresh()
    {
        static std::atomic<uint64_t> next{0};
        return ++next;
    }
    std::vector<T> v_;
    uint64_t version_ = 0;
};

// conv_shared input of a full projection: weights shared over positions.
// A spike of axon a (op input feature i, op input position p) adds, for
// every (tap, target position) reached from p, the kernel row of (i, tap)
// to the slice features of i's group.
struct ConvPlan {
    int64_t taps = 1, inPerGroup = 1;
    std::vector<int32_t> axonFeature, axonPosition; // per axon: op input feature and position
    std::vector<int32_t> tapStart;                  // per op input position: CSR into tapTap/tapBase
    std::vector<int32_t> tapTap;                    // tap index
    std::vector<uint32_t> tapBase;                  // core-local index of the target position's first feature
    struct Group {
        std::vector<uint32_t> features; // slice-local features (ascending) of the group's outputs
        bool contiguous = true;         // features == [features[0], features[0] + n)
        SharedWeights kernel;           // [inPerGroup][taps][features.size()] effective weights
        // The kernel as int8 mantissas and a left shift per feature j:
        // kernel[r][j] == narrow[r][j] << shift[j], when every weight has
        // that form (weights of up to 8 bits do). A delivered row is a
        // quarter of the bytes. Built by narrowKernels (at load); valid only
        // while the kernel has not been edited since (generation).
        SharedArray<int8_t> narrow;
        SharedArray<uint32_t> shift;
        uint64_t narrowOf = 0; // kernel.generation() narrow was built from
        bool narrowValid() const { return !narrow.empty() && narrowOf == kernel.generation(); }
    };
    std::vector<Group> groups;
    int64_t bytesPerTap = 0; // kernel bytes read per tap (memory-read counter)
    // What a spike of axon a needs, in one 16-byte load (derived from the
    // arrays above at load): its group, the kernel row of its feature within
    // the group ((i % inPerGroup) x taps) and its taps [tapBegin, tapEnd).
    struct Axon {
        int32_t group, kernelRow, tapBegin, tapEnd;
    };
    std::vector<Axon> axons;
};

struct SynapseBlock {
    int32_t slice = 0;       // index into CoreProgram::slices
    int32_t projection = 0;  // index into the package projections
    int32_t srcPop = -1;
    int compartment = 0;     // products: 0 = left operand, 1 = right operand
    int delay = 0;           // extra synaptic delay (steps)
    // Messages sent towards step index > lastSend of their sample (the sender's
    // step index + 1) would be integrated after the destination's last model
    // step: the last k steps of a recurrent loop with delay k. They are dropped
    // (a sample's spikes never reach the next sample). T - 1 + phase(dst) - delay.
    int32_t lastSend = 0;
    target::Encoding encoding = target::Encoding::Dense;
    int64_t axons = 0;
    int32_t dstPop = -1;     // population of the slice (counters)
    bool fromInput = false;  // the source is an input population (first-layer synaptic ops)
    // Row form (dense, sparse, and diagonal conv_shared expanded at load): one
    // contiguous record per axon at rows[rowStart[a]], so a spike touches one
    // stretch of memory: {run count, synapses, table bytes}, then per run of
    // consecutive core-local targets {first target, length, effective weights
    // (mantissa << exponent) x length}.
    std::vector<uint32_t> rowStart;
    SharedArray<int32_t> rows;
    static constexpr int kRowHeader = 3;
    static constexpr int kRunHeader = 2;
    // Synapses of axon a (synaptic ops per spike) and the synapse-table bytes a spike reads.
    uint32_t rowSynapses(uint32_t a) const { return uint32_t(rows[rowStart[a] + 1]); }
    uint32_t rowBytes(uint32_t a) const { return uint32_t(rows[rowStart[a] + 2]); }
    // Calls f(target, weights, length) for every run of axon a (weights
    // writable through a non-const block).
    template <typename Self, typename F>
    static void forEachRun(Self& block, uint32_t a, F&& f)
    {
        forEachRunAt(rowData(block) + block.rowStart[a], f);
    }
    // The same for the record at r (a row record's first word); returns the
    // record's words.
    template <typename Word, typename F>
    static uint32_t forEachRunAt(Word* r, F&& f)
    {
        Word* const begin = r;
        const int32_t runs = r[0];
        r += kRowHeader;
        for (int32_t k = 0; k < runs; ++k) {
            f(uint32_t(r[0]), r + kRunHeader, uint32_t(r[1]));
            r += kRunHeader + r[1];
        }
        return uint32_t(r - begin);
    }
    // Every run of every record has length 1: {runs, synapses, table bytes},
    // then {target, 1, weight} per synapse (the attention product operands'
    // one-synapse rows, strided scatters). Set at load; core-major delivery
    // then skips the run walk, while the rows have not been written since
    // (a write through edit() or a non-const forEachRun may change the runs).
    bool unitRuns = false;
    uint64_t unitRunsOf = 0; // rows.generation() unitRuns was found for
    bool unitRunsValid() const { return unitRuns && unitRunsOf == rows.generation(); }
    static const int32_t* rowData(const SynapseBlock& b) { return b.rows.data(); }
    static int32_t* rowData(SynapseBlock& b) { return b.rows.edit().data(); }
    bool conv = false;
    ConvPlan plan;
    int64_t structuralSynapses = 0; // all synapses of the block (dense-equivalent MACs per step)
};

struct SliceInfo {
    int32_t pop = -1;
    int64_t first = 0, count = 0, features = 0; // core-local neurons [first, first + count)
    std::vector<int32_t> popNeuron;              // slice-local -> population flat index
};

// One routing-table entry with its mesh path (dimension-order routing over
// the board the placement used).
struct RouteHop {
    int32_t destCore = 0, destInput = 0, destAxon = 0;
    uint32_t entry = 0;  // row form: the axon's record offset in rows; conv_shared: the axon
    uint16_t hopsEw = 0, hopsNs = 0, chipLinks = 0;
    float latencyNs = 0; // hops x hop latency + links x link latency + within-tile delivery
};

struct CoreProgram {
    int32_t index = 0;
    target::CoreCoord coord;
    int64_t neurons = 0;
    std::vector<SliceInfo> slices;
    std::vector<int32_t> bias;
    std::vector<SynapseBlock> inputs;
    int maxDelay = 0; // deepest synaptic delay of its inputs (dendritic delay slots - 1)
    // Per local neuron: routes [routeStart[n], routeStart[n + 1]). Versioned:
    // the core-major plan is derived from them (GraphCache).
    VersionedArray<uint32_t> routeStart;
    VersionedArray<RouteHop> routes;
    std::vector<int32_t> neuronSlice; // core-local neuron -> slice index
};

struct SimProgram;
namespace detail {
struct CoreMajorPlan; // core/sim/pull_plan.h: the slice graph and the pull plan
}

// What core-major simulation derives from a program's routes (its slice
// graph, sim::coreGraph, and the pull plan, detail::pullPlan), kept with the
// program so that it is not rebuilt per simulate() call (it reads every
// route: 0.6-0.75 s on the 4,017-core 4-384 package, two threads). Built on first use; rebuilt when the
// program changed since: per core its sizes, slices, the slice of each
// input, and the versions of its route table (VersionedArray). A copy or move
// of a program starts without it.
class GraphCache {
public:
    GraphCache() = default;
    GraphCache(const GraphCache&) {}
    GraphCache(GraphCache&&) noexcept {}
    GraphCache& operator=(const GraphCache&)
    {
        reset();
        return *this;
    }
    GraphCache& operator=(GraphCache&&) noexcept
    {
        reset();
        return *this;
    }
    // The cached plan of `prog`, built now when missing or stale.
    std::shared_ptr<const detail::CoreMajorPlan> get(const SimProgram& prog);
    // Builds it again (core-major execution found it did not match the
    // routes: one was changed without edit()).
    std::shared_ptr<const detail::CoreMajorPlan> rebuild(const SimProgram& prog);
    void reset();

private:
    std::mutex mu_;
    std::shared_ptr<const detail::CoreMajorPlan> plan_;
    std::vector<uint64_t> key_;
};

struct SimProgram {
    std::string model, chipId, chipName;
    bool projectedChip = false;
    std::string projectionNote;
    bool fromQuantizedModule = false;
    int64_t timesteps = 1;
    int depth = 0;             // pipeline depth: an inference takes timesteps + depth hardware steps
    std::string scheduleMode = "latency";
    int weightBits = 8;
    int chipsUsed = 1;
    target::ChipDescriptor chip;
    std::vector<PopulationInfo> populations;
    std::vector<target::PackageProjection> projections;
    std::vector<CoreProgram> cores;
    std::vector<int32_t> inputPops, readoutPops;
    int64_t totalNeurons = 0;
    mutable GraphCache sliceGraph;
    int64_t inputSize() const; // elements of one sample (sum over input populations)
};

struct ProgramLoad {
    std::optional<SimProgram> program;
    std::string error;
    bool ok() const { return program.has_value(); }
};

// Decodes a package (tables, geometry, routes). Fails with a message naming
// the core/input when a table does not decode or a route points nowhere.
// Cores are decoded on `threads` threads (< 1: one per hardware thread); the
// program does not depend on the count. Equal conv_shared kernels and equal
// row records share one copy (SharedArray) unless `share` is false (tests
// compare both).
ProgramLoad buildProgram(const target::Package& pkg, int threads = 0, bool share = true);
ProgramLoad loadProgram(const std::string& packageDir, int threads = 0);

// (Re)builds ConvPlan::Group::narrow of every conv_shared group whose kernel
// has the int8 << shift form (groups sharing a kernel share it); the others
// get none. buildProgram calls it; call it again after editing kernels to
// deliver through the narrow form again. Returns the groups that have one.
int64_t narrowKernels(SimProgram& prog);

} // namespace stc::sim

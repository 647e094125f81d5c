// buildPackage: fixed-point parameters per population and the per-core
// synapse tables, routing tables and biases; PackageDraftJob encodes the same
// while placement anneals (the package depends on the partition, not on where
// the cores are placed, except for their coordinates).
#include "target/package.h"
#include "target/package_encoder.h"

#include "fixedpoint/arith.h"
#include "interp/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>

#ifndef STC_VERSION
#define STC_VERSION "0"
#endif

namespace stc::target {

namespace {

using detail::CoreEncoder;
using detail::KernelRows;
using detail::Quantizer;

// Returns the real value of one step of the population's output: a membrane
// state unit for a lif with graded (membrane) output, the unit for graded
// relays and readouts, else 1 (a spike).
double fixedPoint(const Population& p, PackagePopulation& q, int weightBits, double maxInput)
{
    const double qmax = double((int64_t{1} << (weightBits - 1)) - 1);
    q.unit = maxInput > 0 ? maxInput / qmax : 1.0;
    const NeuronParams& n = p.neuron;
    q.reset = n.reset;
    q.fireOnEqual = n.fire != "gt";
    q.du = fixedpoint::kDecayOne;
    q.actShift = 0;
    if (p.kind == PopulationKind::Lif) {
        q.actShift = fixedpoint::kDefaultActShift;
        double scale = 1.0; // real threshold in units of the input current
        if (n.model == "lif") {
            q.dv = int32_t(std::lround(double(fixedpoint::kDecayOne) / n.tau));
            scale = n.decayInput ? n.tau : 1.0; // decay_input: v += (x - v) / tau
        } else if (n.model == "leaky") {
            q.dv = int32_t(std::lround(double(fixedpoint::kDecayOne) * (1.0 - n.beta)));
        }
        q.theta = int64_t(std::llround(n.vThreshold * scale / q.unit)) << q.actShift;
        if (p.spikeBits > 1)
            return q.unit / (scale * double(int64_t{1} << q.actShift));
    } else if (p.kind == PopulationKind::Relay && p.spikeBits == 1) {
        q.theta = std::max<int64_t>(1, std::llround(n.vThreshold / q.unit)); // OR: fires on any input
    }
    return (p.kind == PopulationKind::Relay && p.spikeBits > 1) || p.kind == PopulationKind::Readout ? q.unit : 1.0;
}

// Parameters of a population of a quantized module: the pass's own values.
void integerParams(const Population& p, PackagePopulation& q)
{
    q.unit = p.fx.inputUnit;
    q.valueScale = p.fx.valueScale;
    q.outputScale = p.outputScale;
    q.du = fixedpoint::kDecayOne;
    q.reset = p.neuron.reset;
    if (p.kind == PopulationKind::Lif) {
        const fixedpoint::NeuronParams& n = p.fx.neuron;
        q.du = n.du;
        q.dv = n.dv;
        q.actShift = n.actShift;
        q.theta = n.theta;
        q.fireOnEqual = n.fireOnEqual;
        q.reset = fixedpoint::resetName(n.reset);
    } else if (p.kind == PopulationKind::Relay && p.spikeBits == 1) {
        q.theta = 1; // OR of binary spikes: fires on any input
    }
    if (p.kind == PopulationKind::Input) {
        q.inputScale = p.fx.inputScale;
        q.inputLo = p.fx.inputLo;
        q.inputHi = p.fx.inputHi;
    }
}

// Runs fn(k, worker) for k in [0, count) on the pool; an exception is
// rethrown for the lowest k that threw, so errors do not depend on timing.
template <typename F>
void forEachParallel(interp::ThreadPool& pool, size_t count, F&& fn)
{
    std::vector<std::exception_ptr> errors(count);
    pool.parallelFor(int64_t(count), [&](int64_t k, int worker) {
        try {
            fn(size_t(k), worker);
        } catch (...) {
            errors[size_t(k)] = std::current_exception();
        }
    });
    for (auto& e : errors)
        if (e)
            std::rethrow_exception(e);
}

// Routing: every axon of every input is one output axon of its source
// neuron's core; per source core sorted by (local neuron, destination core,
// input, axon).
//
// The entries are taken in (destination core, input, axon) order, in chunks of
// consecutive destination cores, twice: once to count each chunk's entries per
// source core, once to place them (each chunk from its own offset) into the
// source core's table, which is then in (destination core, input, axon) order;
// a stable counting sort by local neuron per source core (in cache) gives the
// final order. The order does not depend on the chunks or the threads.
void buildRoutes(const Network& net, const Mapping& m, interp::ThreadPool& pool, std::vector<PackageCore>& cores)
{
    std::vector<int64_t> sliceOffset(m.slices.size(), 0);
    for (const auto& c : m.cores) {
        int64_t off = 0;
        for (int32_t s : c.slices) {
            sliceOffset[size_t(s)] = off;
            off += m.slices[size_t(s)].neurons();
        }
    }
    // Placement's locator when it was built for this mapping (it usually was).
    std::shared_ptr<const NeuronLocator> own = m.neuronLocator;
    if (!own || !own->builtFor(m.popBlock, m.popFirstSlice, m.slices))
        own = std::make_shared<const NeuronLocator>(net, m.popBlock, m.popFirstSlice, m.slices, pool.size());
    const NeuronLocator& locator = *own;
    const size_t nc = cores.size();
    // Chunks of destination cores with about equal numbers of axons.
    std::vector<size_t> axonsBefore(nc + 1, 0);
    for (size_t ci = 0; ci < nc; ++ci) {
        size_t axons = 0;
        for (const PackageInput& in : cores[ci].inputs)
            axons += in.axonSource.size();
        axonsBefore[ci + 1] = axonsBefore[ci] + axons;
    }
    const size_t chunks = std::min(nc, 8 * size_t(pool.size()));
    std::vector<size_t> chunkBegin(chunks + 1, nc);
    for (size_t k = 0; k < chunks; ++k)
        chunkBegin[k] = size_t(std::lower_bound(axonsBefore.begin(), axonsBefore.end(), axonsBefore[nc] * k / chunks) -
                               axonsBefore.begin());
    // f(source core, local neuron, destination core, input, axon) for every
    // axon of chunk k, in order.
    auto forEachAxon = [&](size_t k, auto&& f) {
        for (size_t ci = chunkBegin[k]; ci < chunkBegin[k + 1]; ++ci)
            for (size_t i = 0; i < cores[ci].inputs.size(); ++i) {
                const PackageInput& in = cores[ci].inputs[i];
                const int32_t srcPop = net.projections[size_t(in.projection)].src;
                const std::pair<int32_t, int32_t>* where = locator.table(srcPop);
                for (size_t a = 0; a < in.axonSource.size(); ++a) {
                    int64_t local;
                    int32_t s;
                    if (where) {
                        s = where[size_t(in.axonSource[a])].first;
                        local = where[size_t(in.axonSource[a])].second;
                    } else {
                        s = locator.locate(srcPop, in.axonSource[a], local);
                    }
                    f(size_t(m.sliceCore[size_t(s)]), int32_t(sliceOffset[size_t(s)] + local), int32_t(ci),
                      int32_t(i), int32_t(a));
                }
            }
    };
    // at[k][c]: entries of chunk k from source core c, then where they start.
    std::vector<std::vector<uint32_t>> at(chunks);
    forEachParallel(pool, chunks, [&](size_t k, int) {
        at[k].assign(nc, 0);
        forEachAxon(k, [&](size_t core, int32_t, int32_t, int32_t, int32_t) { ++at[k][core]; });
    });
    std::vector<RouteEntry*> table(nc);
    forEachParallel(pool, nc, [&](size_t c, int) {
        uint32_t n = 0;
        for (size_t k = 0; k < chunks; ++k)
            n += std::exchange(at[k][c], n);
        cores[c].routes.resize(n);
        table[c] = cores[c].routes.data();
    });
    forEachParallel(pool, chunks, [&](size_t k, int) {
        uint32_t* next = at[k].data();
        forEachAxon(k, [&](size_t core, int32_t local, int32_t ci, int32_t i, int32_t a) {
            table[core][next[core]++] = {local, ci, i, a};
        });
    });
    // Stable by local neuron (the entries are in destination order), into a
    // worker's spare table, which then swaps with the core's.
    std::vector<std::vector<RouteEntry>> spare(size_t(pool.size()));
    std::vector<std::vector<uint32_t>> start(size_t(pool.size()));
    forEachParallel(pool, nc, [&](size_t c, int worker) {
        std::vector<RouteEntry>& routes = cores[c].routes;
        if (std::is_sorted(routes.begin(), routes.end(),
                           [](const RouteEntry& x, const RouteEntry& y) { return x.localNeuron < y.localNeuron; }))
            return;
        std::vector<RouteEntry>& sorted = spare[size_t(worker)];
        std::vector<uint32_t>& st = start[size_t(worker)];
        st.assign(cores[c].bias.size() + 1, 0);
        for (const RouteEntry& r : routes)
            ++st[size_t(r.localNeuron) + 1];
        for (size_t n = 1; n < st.size(); ++n)
            st[n] += st[n - 1];
        sorted.resize(routes.size());
        for (const RouteEntry& r : routes)
            sorted[st[size_t(r.localNeuron)]++] = r;
        routes.swap(sorted);
    });
}

// The partition-dependent package: prepare() (populations, fixed-point
// parameters, shared kernel rows), encodeCores() on any number of threads
// (each claims cores until none is left), finish() (errors, geometry, routes).
class PackageEncoding {
public:
    PackageEncoding(const Network& net, const Mapping& m, const ChipDescriptor& chip)
        : net_(net), m_(m), chip_(chip), errors_(m.cores.size())
    {
    }

    void prepare(interp::ThreadPool& pool)
    {
        Package& pkg = pkg_;
        const bool integer = net_.quantized;
        const int wb = int(chip_.limits.weightBits);
        // Value scale of each population's output and the unit of its input.
        const size_t np = net_.populations.size();
        Quantizer& quant = quant_;
        quant.integer = integer;
        quant.qmaxInt = (int64_t{1} << (wb - 1)) - 1;
        quant.valueScale.assign(np, 1.0);
        quant.unit.assign(np, 1.0);
        std::vector<double>& valueScale = quant.valueScale;
        posShapes_.resize(np);
        for (size_t i = 0; i < np; ++i) {
            const Population& p = net_.populations[i];
            posShapes_[i] = p.positionShape();
            PackagePopulation q;
            q.name = p.name;
            q.kind = toString(p.kind);
            q.model = p.neuron.model;
            q.origin = p.origin;
            q.shape = p.shape;
            q.featureAxis = p.featureAxis;
            q.spikeBits = p.spikeBits;
            q.phase = p.phase;
            q.outputScale = p.outputScale;
            double maxInput = 0;
            std::vector<double> srcScales;
            for (int32_t pi : net_.incoming(int32_t(i))) {
                const Projection& pr = net_.projections[size_t(pi)];
                srcScales.push_back(valueScale[size_t(pr.src)]);
                if (integer)
                    continue; // the float maximum only sets the backend's own unit
                float mx = 0;
                for (float w : pr.weights)
                    mx = std::max(mx, std::fabs(w));
                maxInput = std::max(maxInput, double(mx) * valueScale[size_t(pr.src)]);
            }
            if (integer) {
                integerParams(p, q);
            } else if (p.kind == PopulationKind::Input) {
                valueScale[i] = p.spikeBits > 1 ? 1.0 / double((int64_t{1} << std::min(p.spikeBits, 16)) - 1) : 1.0;
                q.unit = q.inputScale = valueScale[i];
                q.inputHi = p.spikeBits > 1 ? (int64_t{1} << std::min(p.spikeBits, 16)) - 1 : 1;
            } else if (p.kind == PopulationKind::Product) {
                valueScale[i] = srcScales.size() == 2 ? srcScales[0] * srcScales[1] : 1.0;
                q.unit = valueScale[i];
            } else {
                valueScale[i] = fixedPoint(p, q, wb, maxInput);
            }
            q.perStepOutput = p.perStepOutput;
            q.biasOnce = p.biasPerInference;
            if (!integer) {
                quant.unit[i] = q.unit;
                q.valueScale = valueScale[i];
            }
            pkg.populations.push_back(std::move(q));
        }
        for (const auto& pr : net_.projections)
            pkg.projections.push_back({pr.name, pr.src, pr.dst, toString(pr.coupling), pr.delay, std::nullopt});

        // Kernel rows of the projections that some core stores as shared kernels.
        kernels_.resize(net_.projections.size());
        std::vector<char> shared(net_.projections.size(), 0);
        for (const auto& ins : m_.sliceInputs)
            for (const SliceInput& si : ins)
                if (si.encoding == Encoding::ConvShared)
                    shared[size_t(si.projection)] = 1;
        std::vector<size_t> list;
        for (size_t pi = 0; pi < shared.size(); ++pi)
            if (shared[pi])
                list.push_back(pi);
        forEachParallel(pool, list.size(),
                        [&](size_t k, int) { kernels_[list[k]] = detail::kernelRows(net_.projections[list[k]], quant); });
        pkg.cores.resize(m_.cores.size());
    }

    void encodeCores()
    {
        const size_t n = pkg_.cores.size();
        if (next_.load() >= n)
            return;
        CoreEncoder enc(net_, m_, chip_, quant_, posShapes_, kernels_);
        for (size_t ci; (ci = next_.fetch_add(1)) < n;) {
            try {
                enc.encode(ci, pkg_.cores[ci]);
            } catch (...) {
                errors_[ci] = std::current_exception();
            }
        }
    }

    // No more cores are claimed (the ones being encoded finish).
    void stop() { next_.store(errors_.size()); } // errors_: one slot per core

    // After every encodeCores() returned: the lowest core's error, else the routes.
    Package finish(interp::ThreadPool& pool)
    {
        for (auto& e : errors_)
            if (e)
                std::rethrow_exception(e);
        for (const auto& c : pkg_.cores)
            for (const auto& in : c.inputs)
                if (in.encoding == Encoding::ConvShared && !pkg_.projections[size_t(in.projection)].geometry)
                    pkg_.projections[size_t(in.projection)].geometry =
                        detail::geometryOf(net_.projections[size_t(in.projection)]);
        buildRoutes(net_, m_, pool, pkg_.cores);
        return std::move(pkg_);
    }

private:
    const Network& net_;
    const Mapping& m_;
    const ChipDescriptor& chip_;
    Package pkg_;
    Quantizer quant_;
    std::vector<ir::Shape> posShapes_;
    std::vector<KernelRows> kernels_;
    std::atomic<size_t> next_{0};
    std::vector<std::exception_ptr> errors_;
};

int poolThreads(int threads, const Mapping& m)
{
    return std::min<int>(threads < 1 ? 0 : threads, int(std::max<size_t>(1, m.cores.size())));
}

} // namespace

bool PackageDraft::builtFor(const Network& net, const Mapping& m, const ChipDescriptor& chip) const
{
    if (&net != net_ || chip.id != chipId_ || chip.limits.weightBits != weightBits_ || m.slices != slices_ ||
        m.sliceInputs != sliceInputs_ || m.cores.size() != coreSlices_.size())
        return false;
    for (size_t c = 0; c < m.cores.size(); ++c)
        if (m.cores[c].slices != coreSlices_[c])
            return false;
    return true;
}

std::optional<Package> PackageDraft::take()
{
    std::lock_guard lock(mutex_);
    if (error_) {
        std::exception_ptr e = std::exchange(error_, nullptr);
        std::rethrow_exception(e);
    }
    std::optional<Package> out = std::move(pkg_);
    pkg_.reset();
    return out;
}

struct PackageDraftJob::State {
    State(const Network& net, const Mapping& m, const ChipDescriptor& chip) : encoding(net, m, chip) {}
    PackageEncoding encoding;
    std::promise<void> prepared;
};

PackageDraftJob::PackageDraftJob(const Network& net, const Mapping& m, const ChipDescriptor& chip)
    : state_(std::make_unique<State>(net, m, chip)), draft_(std::make_shared<PackageDraft>())
{
    draft_->net_ = &net;
    draft_->chipId_ = chip.id;
    draft_->weightBits_ = chip.limits.weightBits;
    draft_->slices_ = m.slices;
    draft_->sliceInputs_ = m.sliceInputs;
    for (const auto& c : m.cores)
        draft_->coreSlices_.push_back(c.slices);
    prepared_ = state_->prepared.get_future();
    thread_ = std::thread([s = state_.get()] {
        try {
            interp::ThreadPool alone(1); // this thread only: placement runs on the others
            s->encoding.prepare(alone);
        } catch (...) {
            s->prepared.set_exception(std::current_exception());
            return;
        }
        s->prepared.set_value();
        s->encoding.encodeCores();
    });
}

PackageDraftJob::~PackageDraftJob()
{
    if (thread_.joinable()) {
        state_->encoding.stop();
        thread_.join();
    }
}

std::shared_ptr<PackageDraft> PackageDraftJob::finish(int threads, const Mapping& m)
{
    try {
        prepared_.get(); // rethrows an error of prepare()
        interp::ThreadPool pool(poolThreads(threads, m));
        // The job's own thread is still encoding: the pool adds size() - 1 threads to it.
        pool.parallelFor(std::max(1, pool.size() - 1), [&](int64_t, int) { state_->encoding.encodeCores(); });
        thread_.join();
        draft_->pkg_ = state_->encoding.finish(pool);
    } catch (...) {
        if (thread_.joinable()) {
            state_->encoding.stop();
            thread_.join();
        }
        draft_->error_ = std::current_exception();
    }
    return draft_;
}

Package buildPackage(const Network& net, const Mapping& m, const ChipDescriptor& chip, const std::string& pipeline,
                     const Estimate& est, int threads)
{
    std::optional<Package> drafted;
    if (m.packageDraft && m.packageDraft->builtFor(net, m, chip))
        drafted = m.packageDraft->take();
    Package pkg;
    if (drafted) {
        pkg = std::move(*drafted);
    } else {
        interp::ThreadPool pool(poolThreads(threads, m));
        PackageEncoding encoding(net, m, chip);
        encoding.prepare(pool);
        pool.parallelFor(pool.size(), [&](int64_t, int) { encoding.encodeCores(); });
        pkg = encoding.finish(pool);
    }
    for (size_t ci = 0; ci < pkg.cores.size(); ++ci)
        pkg.cores[ci].coord = m.cores[ci].coord;
    pkg.compilerVersion = STC_VERSION;
    pkg.model = net.model;
    pkg.chipId = chip.id;
    pkg.chipName = chip.name;
    pkg.projectedChip = chip.projectedChip;
    pkg.projectionNote = chip.projectionNote;
    pkg.chipDescriptorJson = chip.sourceText;
    pkg.pipeline = pipeline;
    pkg.timesteps = net.timesteps;
    pkg.depth = net.depth;
    pkg.chipsUsed = m.chipsUsed;
    pkg.objective = m.objective;
    pkg.seed = m.seed;
    pkg.fromQuantizedModule = net.quantized;
    pkg.scheduleMode = net.scheduleMode;
    pkg.chipsRequested = std::max(m.chipsRequested, m.chipsUsed);
    pkg.weightBits = int(chip.limits.weightBits);
    pkg.utilization = m.meanBindingUtilization;
    pkg.stepTimeNs = est.stepTimeNs;
    pkg.energyPj = est.totalPj();
    pkg.latencyNs = est.latencyNs;
    return pkg;
}

} // namespace stc::target

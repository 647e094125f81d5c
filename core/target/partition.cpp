#include "target/partition.h"

#include "interp/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

namespace stc::target {

namespace {

std::string fmtCount(double v)
{
    std::ostringstream os;
    if (v == std::floor(v) && std::abs(v) < 1e15)
        os << int64_t(v);
    else
        os.precision(4), os << v;
    return os.str();
}

// Distinct block sizes ceil(D / k) for k = 1..D, largest first.
std::vector<int64_t> blockSizes(int64_t d)
{
    std::vector<int64_t> out;
    for (int64_t k = 1; k <= d; ++k) {
        const int64_t b = (d + k - 1) / k;
        if (out.empty() || out.back() != b)
            out.push_back(b);
    }
    return out;
}

struct Candidate {
    std::vector<int64_t> block; // [features, positions...]
    int64_t count = 0;          // slices
    int64_t neurons = 0;        // per full block
};

std::vector<Slice> slicesFor(int32_t pop, const std::vector<int64_t>& dims, const std::vector<int64_t>& block)
{
    std::vector<int64_t> nb(dims.size());
    int64_t total = 1;
    for (size_t d = 0; d < dims.size(); ++d) {
        nb[d] = (dims[d] + block[d] - 1) / block[d];
        total *= nb[d];
    }
    std::vector<Slice> out;
    out.reserve(size_t(total));
    std::vector<int64_t> idx(dims.size(), 0);
    for (int64_t s = 0; s < total; ++s) {
        Slice sl;
        sl.pop = pop;
        sl.f0 = idx[0] * block[0];
        sl.f1 = std::min(dims[0], sl.f0 + block[0]);
        for (size_t d = 1; d < dims.size(); ++d) {
            sl.lo.push_back(idx[d] * block[d]);
            sl.hi.push_back(std::min(dims[d], sl.lo.back() + block[d]));
        }
        out.push_back(std::move(sl));
        for (size_t d = dims.size(); d-- > 0;) {
            if (++idx[d] < nb[d])
                break;
            idx[d] = 0;
        }
    }
    return out;
}

// Slices with every block index at 0, in the middle, and last: corners and
// interior, where the extremes of every resource are.
std::vector<Slice> representatives(int32_t pop, const std::vector<int64_t>& dims, const std::vector<int64_t>& block)
{
    std::vector<Slice> out;
    for (int which = 0; which < 3; ++which) {
        Slice sl;
        sl.pop = pop;
        for (size_t d = 0; d < dims.size(); ++d) {
            const int64_t nb = (dims[d] + block[d] - 1) / block[d];
            const int64_t i = which == 0 ? 0 : which == 1 ? nb / 2 : nb - 1;
            const int64_t lo = i * block[d], hi = std::min(dims[d], lo + block[d]);
            if (d == 0) {
                sl.f0 = lo;
                sl.f1 = hi;
            } else {
                sl.lo.push_back(lo);
                sl.hi.push_back(hi);
            }
        }
        if (std::find(out.begin(), out.end(), sl) == out.end())
            out.push_back(std::move(sl));
    }
    return out;
}

// Lower bound on the fan-in axons and table bytes of any slice, through one
// Explicit or Diag projection: every destination neuron has at least `minIn`
// synapse entries and every source neuron at most `maxOut`, so nb neurons
// have at least ceil(nb * minIn / maxOut) axons, each a table row of at least
// `minRow` bytes in every encoding the chip has. Used only to skip cuts that
// cannot fit, so the chosen cut is the same as without it.
struct AxonBound {
    int64_t minIn = 0, maxOut = 1, minRow = 0;
    int64_t axons(int64_t nb) const { return minIn > 0 ? (nb * minIn + maxOut - 1) / maxOut : 0; }
};

AxonBound axonBound(const Network& net, const ChipDescriptor& chip, const Projection& pr)
{
    AxonBound b;
    if (pr.coupling == Coupling::Full)
        return b; // counted analytically; no bound needed
    const Population& sp = net.populations[size_t(pr.src)];
    const Population& dp = net.populations[size_t(pr.dst)];
    std::vector<int32_t> out(size_t(sp.size()), 0);
    int64_t minIn = -1;
    for (int64_t n = 0; n < dp.size(); ++n) {
        int64_t in = 0;
        forEachSynapseOf(pr, sp, dp, n, [&](int64_t src, float) {
            ++out[size_t(src)];
            ++in;
        });
        minIn = minIn < 0 ? in : std::min(minIn, in);
    }
    const int64_t maxOut = out.empty() ? 0 : *std::max_element(out.begin(), out.end());
    if (minIn <= 0 || maxOut <= 0)
        return b;
    b.minIn = minIn;
    b.maxOut = maxOut;
    // The cheapest row of one axon: dense holds at least one run of one
    // weight, sparse may hold only its header (zeros dropped), conv_shared
    // (Diag) a row header (its kernel is counted once).
    const int64_t wb = chip.limits.weightBits;
    b.minRow = -1;
    auto consider = [&](int64_t bytes) { b.minRow = b.minRow < 0 ? bytes : std::min(b.minRow, bytes); };
    if (const SynapseEncoding* e = chip.encoding("dense"))
        consider(alignUp(e->rowHeaderBytes + e->runHeaderBytes + (wb + 7) / 8, e->rowAlignBytes));
    if (const SynapseEncoding* e = chip.encoding("sparse"))
        consider(alignUp(e->rowHeaderBytes, e->rowAlignBytes));
    if (const SynapseEncoding* e = chip.encoding("conv_shared"); e && pr.coupling == Coupling::Diag)
        consider(e->rowHeaderBytes);
    b.minRow = std::max<int64_t>(0, b.minRow);
    return b;
}

} // namespace

bool fitsCore(const Usage& u, const ChipDescriptor& chip, double timeCapNs, FitProblem* why)
{
    const CoreLimits& l = chip.limits;
    auto check = [&](bool ok, Resource r, double need, double avail) {
        if (!ok && why) {
            why->resource = r;
            why->needed = need;
            why->available = avail;
        }
        return ok;
    };
    return check(u.neurons <= l.neurons, Resource::Neurons, double(u.neurons), double(l.neurons)) &&
           check(u.fanInAxons <= l.fanInAxons, Resource::FanIn, double(u.fanInAxons), double(l.fanInAxons)) &&
           check(u.fanOutAxons <= l.fanOutAxons, Resource::FanOut, double(u.fanOutAxons), double(l.fanOutAxons)) &&
           check(u.synapticBytes <= l.synapticMemoryBytes, Resource::SynapticMemory, double(u.synapticBytes),
                 double(l.synapticMemoryBytes)) &&
           check(l.coreMemoryBytes <= 0 || u.synapticBytes + u.stateBytes <= l.coreMemoryBytes, Resource::CoreMemory,
                 double(u.synapticBytes + u.stateBytes), double(l.coreMemoryBytes)) &&
           check(u.timeNs <= timeCapNs, Resource::StepTime, u.timeNs, timeCapNs);
}

Utilization utilizationOf(const Usage& u, const ChipDescriptor& chip, double stepTimeNs)
{
    const CoreLimits& l = chip.limits;
    Utilization r;
    r.of[int(Resource::Neurons)] = double(u.neurons) / double(l.neurons);
    r.of[int(Resource::FanIn)] = double(u.fanInAxons) / double(l.fanInAxons);
    r.of[int(Resource::FanOut)] = double(u.fanOutAxons) / double(l.fanOutAxons);
    r.of[int(Resource::SynapticMemory)] = double(u.synapticBytes) / double(l.synapticMemoryBytes);
    r.of[int(Resource::CoreMemory)] =
        l.coreMemoryBytes > 0 ? double(u.synapticBytes + u.stateBytes) / double(l.coreMemoryBytes) : 0.0;
    r.of[int(Resource::StepTime)] = stepTimeNs > 0 ? u.timeNs / stepTimeNs : 0.0;
    r.binding = Resource::Neurons;
    for (int k = 0; k < int(Resource::StepTime); ++k)
        if (r.of[k] > r.of[int(r.binding)])
            r.binding = Resource(k);
    return r;
}

int32_t sliceIndexOf(const Population& p, const std::vector<int64_t>& b, int32_t first, int64_t n);

int32_t Partition::sliceOf(const Network& net, int32_t pop, int64_t n) const
{
    return sliceIndexOf(net.populations[size_t(pop)], block[size_t(pop)], firstSlice[size_t(pop)], n);
}

Partition partitionNetwork(const Network& net, const ChipDescriptor& chip, const PartitionOptions& opt)
{
    Partition part;
    SliceAnalyzer an(net, chip);
    // Slices are analysed on opt.threads threads, each with its own analyzer
    // reading `an`'s destination counts. An analysis depends only on the slice
    // (and those counts), and every decision below is taken in candidate and
    // slice order, so the partition does not depend on the thread count.
    interp::ThreadPool pool(opt.threads < 1 ? 0 : opt.threads);
    std::vector<std::unique_ptr<SliceAnalyzer>> helpers(size_t(pool.size()));
    auto helper = [&](int worker) -> SliceAnalyzer& { // a worker only touches its own slot
        auto& h = helpers[size_t(worker)];
        if (!h) {
            h = std::make_unique<SliceAnalyzer>(net, chip);
            h->shareDestinations(an);
            h->shareTables(an.tables());
        }
        return *h;
    };
    auto setDestinations = [&](int32_t pop, const std::vector<int32_t>& dest) {
        const size_t n = size_t(net.populations[size_t(pop)].size());
        std::vector<std::vector<int32_t>> counts(helpers.size());
        pool.parallelFor(int64_t(dest.size()), [&](int64_t k, int w) {
            std::vector<int32_t>& cnt = counts[size_t(w)];
            if (cnt.empty())
                cnt.assign(n, 0);
            // The destination slice's axons from `pop`, as its analysis found them.
            const size_t d = size_t(dest[size_t(k)]);
            const std::vector<SliceInput>& ins = part.inputs[d];
            for (size_t j = 0; j < ins.size(); ++j)
                if (net.projections[size_t(ins[j].projection)].src == pop)
                    for (int32_t src : *part.axons[d][j])
                        ++cnt[size_t(src)];
        });
        std::vector<int32_t> total(n, 0);
        for (const auto& c : counts)
            for (size_t i = 0; i < c.size(); ++i)
                total[i] += c[i];
        an.setDestinationCounts(pop, std::move(total));
    };
    // Screening of candidate c: its representative slices (extremes of every
    // resource) fit, counted with early exit.
    auto screen = [&](SliceAnalyzer& a, int32_t pop, const std::vector<int64_t>& dims, const Candidate& c) {
        bool ok = true;
        a.setEarlyExit(chip.limits.fanInAxons, chip.limits.synapticMemoryBytes);
        for (const Slice& r : representatives(pop, dims, c.block))
            if (!fitsCore(a.analyze(r), chip, opt.timeCapNs)) {
                ok = false;
                break;
            }
        a.clearEarlyExit();
        return ok;
    };
    const int32_t np = int32_t(net.populations.size());
    part.block.resize(size_t(np));
    part.firstSlice.assign(size_t(np), -1);
    std::vector<std::vector<int32_t>> slicesOf(static_cast<size_t>(np));
    std::vector<std::vector<int32_t>> consumers(static_cast<size_t>(np));
    for (const auto& pr : net.projections)
        consumers[size_t(pr.src)].push_back(pr.dst);
    std::vector<char> changed(size_t(np), 1);
    const Partition* prev = opt.previous && opt.previous->ok() ? opt.previous : nullptr;
    if (prev && prev->tables)
        an.shareTables(prev->tables); // same network: its tables are computed once
    part.tables = an.tables();
    // Destinations first, so that a population's fan-out is known when it is cut.
    for (int32_t pop = np - 1; pop >= 0; --pop) {
        const Population& p = net.populations[size_t(pop)];
        std::vector<int32_t> dest;
        bool destChanged = false;
        for (int32_t c : consumers[size_t(pop)]) {
            destChanged = destChanged || changed[size_t(c)];
            for (int32_t s : slicesOf[size_t(c)])
                dest.push_back(s);
        }
        std::sort(dest.begin(), dest.end());
        dest.erase(std::unique(dest.begin(), dest.end()), dest.end());
        bool destinationsSet = false;
        if (prev && !prev->block[size_t(pop)].empty()) {
            const int32_t first = prev->firstSlice[size_t(pop)];
            int32_t last = first;
            while (last < int32_t(prev->slices.size()) && prev->slices[size_t(last)].pop == pop)
                ++last;
            bool ok = true;
            for (int32_t k = first; k < last && ok; ++k)
                ok = prev->usage[size_t(k)].timeNs <= opt.timeCapNs;
            std::vector<Usage> usage(prev->usage.begin() + first, prev->usage.begin() + last);
            // Same destination slices as in `prev`: the same counts.
            const bool prevCounts = !destChanged && size_t(pop) < prev->destinationCounts.size() &&
                                    prev->destinationCounts[size_t(pop)];
            if (prevCounts) {
                an.setDestinationCounts(pop, prev->destinationCounts[size_t(pop)]);
                destinationsSet = true;
            }
            if (ok && destChanged && !dest.empty()) {
                // Same cut, new destinations: only the fan-out changes.
                setDestinations(pop, dest);
                destinationsSet = true;
                for (int32_t k = first; k < last && ok; ++k) {
                    Usage& u = usage[size_t(k - first)];
                    u.fanOutAxons = an.fanOut(prev->slices[size_t(k)]);
                    u.spikesOutPerStep = an.spikesOut(prev->slices[size_t(k)]);
                    ok = fitsCore(u, chip, opt.timeCapNs);
                }
            }
            if (ok) {
                part.block[size_t(pop)] = prev->block[size_t(pop)];
                part.firstSlice[size_t(pop)] = int32_t(part.slices.size());
                for (int32_t k = first; k < last; ++k) {
                    slicesOf[size_t(pop)].push_back(int32_t(part.slices.size()));
                    part.slices.push_back(prev->slices[size_t(k)]);
                    part.usage.push_back(usage[size_t(k - first)]);
                    part.inputs.push_back(prev->inputs[size_t(k)]);
                    part.axons.push_back(prev->axons[size_t(k)]); // shared lists, not copied
                }
                changed[size_t(pop)] = 0;
                continue;
            }
        }
        if (!dest.empty() && !destinationsSet)
            setDestinations(pop, dest);

        std::vector<int64_t> dims = {p.features()};
        for (int64_t d : p.positionShape())
            dims.push_back(d);
        // Lower bounds per neuron for any block, from synapse counts alone:
        // every stored synapse costs at least its weight bits (unless kernels
        // are shared), every event a synaptic op.
        const double n = double(std::max<int64_t>(1, p.size()));
        double bytesLB = 0, events = 0;
        for (int32_t pi : net.incoming(pop)) {
            const Projection& pr = net.projections[size_t(pi)];
            const double syn = double(pr.synapseCount());
            const bool shared = chip.encoding("conv_shared") && pr.coupling != Coupling::Explicit;
            bytesLB += shared ? 0.0 : syn * double(chip.limits.weightBits) / 8.0;
            events += syn * net.populations[size_t(pr.src)].rate;
        }
        const double bytesPerNeuron = bytesLB / n;
        const double timePerNeuron = an.timeNs(events, p.size(), p.rate) / n;
        double fanOutPerNeuron = 0;
        if (!dest.empty()) {
            Slice whole;
            whole.pop = pop;
            whole.f0 = 0;
            whole.f1 = dims[0];
            for (size_t d = 1; d < dims.size(); ++d) {
                whole.lo.push_back(0);
                whole.hi.push_back(dims[d]);
            }
            fanOutPerNeuron = double(an.fanOut(whole)) / n;
        }
        std::vector<std::vector<int64_t>> sizes;
        for (int64_t d : dims)
            sizes.push_back(blockSizes(d));
        std::vector<Candidate> cands;
        std::vector<size_t> pick(dims.size(), 0);
        while (true) {
            Candidate c;
            c.count = 1;
            c.neurons = 1;
            for (size_t d = 0; d < dims.size(); ++d) {
                const int64_t b = sizes[d][pick[d]];
                c.block.push_back(b);
                c.count *= (dims[d] + b - 1) / b;
                c.neurons *= b;
            }
            const double nb = double(c.neurons);
            if (c.neurons <= chip.limits.neurons && nb * bytesPerNeuron <= double(chip.limits.synapticMemoryBytes) &&
                nb * timePerNeuron <= opt.timeCapNs && nb * fanOutPerNeuron <= double(chip.limits.fanOutAxons))
                cands.push_back(std::move(c));
            size_t d = dims.size();
            while (d-- > 0) {
                if (++pick[d] < sizes[d].size())
                    break;
                pick[d] = 0;
            }
            if (d == size_t(-1))
                break;
        }
        // Fewest slices first; among equals, whole feature blocks first (fewer
        // copies of each weight row and of each input axon).
        std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
            return a.count != b.count ? a.count < b.count : a.block[0] > b.block[0];
        });
        bool placed = false;
        bool bounded = false;
        // Screening verdicts (-1: not screened yet). Candidates are screened a
        // window at a time, one per thread, and taken in order: the first that
        // passes is cut, whatever the window (a screening depends only on the
        // candidate), so the cut does not depend on the thread count.
        std::vector<int8_t> verdict(cands.size(), -1);
        for (size_t next = 0; next < cands.size() && !placed;) {
            if (verdict[next] < 0) {
                const size_t window = std::min(cands.size() - next, size_t(pool.size()));
                pool.parallelFor(int64_t(window), [&](int64_t k, int w) {
                    verdict[next + size_t(k)] = screen(helper(w), pop, dims, cands[next + size_t(k)]) ? 1 : 0;
                });
            }
            if (!verdict[next]) {
                ++next;
                if (!bounded && next < cands.size()) {
                    // Screening fails: drop the remaining cuts whose full block cannot
                    // fit by the fan-in bounds (their screening would fail too: the first
                    // representative slice is a full block), keeping the order.
                    bounded = true;
                    std::vector<int32_t> boundedInputs;
                    for (int32_t pi : net.incoming(pop))
                        if (net.projections[size_t(pi)].coupling != Coupling::Full)
                            boundedInputs.push_back(pi);
                    std::vector<AxonBound> bounds(boundedInputs.size());
                    pool.parallelFor(int64_t(bounds.size()), [&](int64_t k, int) {
                        bounds[size_t(k)] = axonBound(net, chip, net.projections[size_t(boundedInputs[size_t(k)])]);
                    });
                    auto cannotFit = [&](const Candidate& c) {
                        int64_t axons = 0, bytes = 0;
                        for (const AxonBound& b : bounds) {
                            axons += b.axons(c.neurons);
                            bytes += b.axons(c.neurons) * b.minRow;
                        }
                        return axons > chip.limits.fanInAxons || bytes > chip.limits.synapticMemoryBytes;
                    };
                    size_t kept = next;
                    for (size_t j = next; j < cands.size(); ++j)
                        if (!cannotFit(cands[j])) {
                            if (kept != j) {
                                verdict[kept] = verdict[j];
                                cands[kept] = std::move(cands[j]);
                            }
                            ++kept;
                        }
                    cands.resize(kept);
                    verdict.resize(kept);
                }
                continue;
            }
            const Candidate& c = cands[next];
            ++next;
            std::vector<Slice> sl = slicesFor(pop, dims, c.block);
            std::vector<Usage> us(sl.size());
            std::vector<std::vector<SliceInput>> ins(sl.size());
            std::vector<std::vector<SliceAnalyzer::AxonList>> axs(sl.size());
            // In chunks, so that a cut failing early does not analyse all of its
            // slices; the chunks grow (few joins for the cuts that fit: a worker
            // preempted by another process stalls every join).
            bool ok = true;
            size_t chunk = 16 * size_t(pool.size());
            for (size_t b = 0, e = 0; b < sl.size() && ok; b = e, chunk *= 2) {
                e = std::min(sl.size(), b + chunk);
                pool.parallelFor(int64_t(e - b), [&](int64_t j, int w) {
                    us[b + size_t(j)] = helper(w).analyze(sl[b + size_t(j)], &ins[b + size_t(j)], &axs[b + size_t(j)]);
                });
                for (size_t j = b; j < e && ok; ++j)
                    ok = fitsCore(us[j], chip, opt.timeCapNs);
            }
            if (!ok)
                continue;
            part.block[size_t(pop)] = c.block;
            part.firstSlice[size_t(pop)] = int32_t(part.slices.size());
            for (size_t j = 0; j < sl.size(); ++j) {
                slicesOf[size_t(pop)].push_back(int32_t(part.slices.size()));
                part.slices.push_back(std::move(sl[j]));
                part.usage.push_back(us[j]);
                part.inputs.push_back(std::move(ins[j]));
                part.axons.push_back(std::move(axs[j]));
            }
            placed = true;
        }
        if (placed)
            continue;
        // Does not fit: say which limit a single neuron (or the smallest block) breaks.
        Slice one;
        one.pop = pop;
        one.f0 = 0;
        one.f1 = 1;
        for (size_t d = 1; d < dims.size(); ++d) {
            one.lo.push_back(0);
            one.hi.push_back(1);
        }
        FitProblem fp;
        fp.pop = pop;
        const Usage u1 = an.analyze(one);
        std::ostringstream msg;
        msg << "%" << p.name << " (" << toString(p.kind) << ", " << p.size() << " neurons) ";
        if (!fitsCore(u1, chip, opt.timeCapNs, &fp)) {
            const double over = fp.needed - fp.available;
            msg << "cannot be mapped: a single neuron needs " << fmtCount(fp.needed) << " " << toString(fp.resource)
                << (fp.resource == Resource::SynapticMemory || fp.resource == Resource::CoreMemory ? " bytes" : "")
                << (fp.resource == Resource::StepTime ? " ns" : "") << ", a " << chip.id << " core has "
                << fmtCount(fp.available) << " (over by " << fmtCount(over) << ", "
                << fmtCount(std::round(100.0 * over / std::max(1e-9, fp.available))) << " %)";
        } else {
            fp.resource = Resource::FanOut;
            fp.needed = double(u1.fanOutAxons);
            fp.available = double(chip.limits.fanOutAxons);
            msg << "cannot be cut into slices that respect every core limit at once (fan-out to "
                << dest.size() << " destination slices)";
        }
        fp.message = msg.str();
        part.problems.push_back(fp);
    }
    part.destinationCounts.resize(size_t(np));
    for (int32_t pop = 0; pop < np; ++pop)
        part.destinationCounts[size_t(pop)] = an.destinationCounts(pop);
    if (!part.problems.empty())
        return part;

    // Pack slices onto logical cores, largest dominant share first, first fit.
    const size_t ns = part.slices.size();
    std::vector<int32_t> order(ns);
    std::vector<double> share(ns);
    for (size_t s = 0; s < ns; ++s) {
        order[s] = int32_t(s);
        const Utilization ut = utilizationOf(part.usage[s], chip, opt.timeCapNs);
        share[s] = std::max(ut.bindingValue(), std::isfinite(opt.timeCapNs) ? ut.of[int(Resource::StepTime)] : 0.0);
    }
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return share[size_t(a)] > share[size_t(b)]; });
    for (int32_t s : order) {
        size_t target = part.cores.size();
        // First fit among the most recently opened cores (older ones are full).
        if (opt.shareCores)
            for (size_t c = part.cores.size() > 256 ? part.cores.size() - 256 : 0; c < part.cores.size(); ++c) {
                Usage sum = part.coreUsage[c];
                sum += part.usage[size_t(s)];
                if (fitsCore(sum, chip, opt.timeCapNs)) {
                    target = c;
                    break;
                }
            }
        if (target == part.cores.size()) {
            part.cores.emplace_back();
            part.coreUsage.emplace_back();
        }
        part.cores[target].push_back(s);
        part.coreUsage[target] += part.usage[size_t(s)];
    }
    for (const Usage& u : part.coreUsage)
        part.criticalTimeNs = std::max(part.criticalTimeNs, u.timeNs);
    return part;
}

} // namespace stc::target

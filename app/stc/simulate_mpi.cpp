#include "simulate_mpi.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace stc::cli {

namespace {

static_assert(std::is_trivially_copyable_v<sim::EventCounts>);

template <typename T> void put(std::string& out, const T& v)
{
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T> bool get(const std::string& in, size_t& at, T& v)
{
    if (at + sizeof v > in.size())
        return false;
    std::memcpy(&v, in.data() + at, sizeof v);
    at += sizeof v;
    return true;
}

std::string pack(const sim::SimResult& r, const std::vector<int>& predicted, int64_t correct)
{
    std::string out;
    const sim::Counters& c = r.counters;
    put(out, int64_t(c.cores)), put(out, int64_t(c.steps)), put(out, int64_t(c.perPopulation.size()));
    put(out, c.samples), put(out, c.inputSynapticOps);
    put(out, r.samples), put(out, correct), put(out, r.seconds), put(out, int64_t(r.threads));
    put(out, int64_t(predicted.size()));
    for (int p : predicted)
        put(out, int32_t(p));
    for (const auto& e : c.perCoreStep)
        put(out, e);
    for (const auto& e : c.perPopulation)
        put(out, e);
    return out;
}

bool unpackAndAdd(const std::string& in, sim::SimResult& r, std::vector<int>& predicted, int64_t& correct)
{
    size_t at = 0;
    int64_t cores = 0, steps = 0, pops = 0, samples = 0, inputOps = 0, resultSamples = 0, right = 0, threads = 0, n = 0;
    double seconds = 0;
    if (!get(in, at, cores) || !get(in, at, steps) || !get(in, at, pops) || !get(in, at, samples) ||
        !get(in, at, inputOps) || !get(in, at, resultSamples) || !get(in, at, right) || !get(in, at, seconds) ||
        !get(in, at, threads) || !get(in, at, n))
        return false;
    for (int64_t i = 0; i < n; ++i) {
        int32_t p = 0;
        if (!get(in, at, p))
            return false;
        predicted.push_back(p);
    }
    sim::Counters c;
    c.reset(int(cores), int(steps), size_t(pops));
    for (auto& e : c.perCoreStep)
        if (!get(in, at, e))
            return false;
    for (auto& e : c.perPopulation)
        if (!get(in, at, e))
            return false;
    c.samples = samples;
    c.inputSynapticOps = inputOps;
    if (r.counters.cores != c.cores || r.counters.steps != c.steps)
        return false;
    r.counters += c;
    r.samples += resultSamples;
    r.threads += int(threads);
    r.seconds = std::max(r.seconds, seconds);
    correct += right;
    return true;
}

} // namespace

std::pair<int64_t, int64_t> rankSlice(const MpiSession& mpi, int64_t samples)
{
    const int64_t n = mpi.size(), r = mpi.rank();
    return {samples * r / n, samples * (r + 1) / n};
}

bool gatherSimulation(const MpiSession& mpi, sim::SimResult& r, std::vector<int>& predicted, int64_t& correct,
                      bool* failed)
{
    *failed = mpi.anyFailed(!r.ok());
    const std::vector<std::string> all = mpi.gather(*failed ? std::string{} : pack(r, predicted, correct));
    if (mpi.rank() != 0 || *failed)
        return false;
    for (size_t k = 1; k < all.size(); ++k)
        if (!unpackAndAdd(all[k], r, predicted, correct)) {
            r.error = "rank " + std::to_string(k) + " sent counters of another shape (a different package or build?)";
            *failed = true;
            return false;
        }
    r.outputs.clear();
    return true;
}

} // namespace stc::cli

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") // the synaptic accumulation loops must vectorize
#endif
// The simulator's schedules (see simulator.h): samples one after another
// (or several in lock-step, batch.cpp) on host threads, or one sample's cores
// split over threads. The event loop itself is sim/worker.h.
#include "sim/simulator.h"
#include "sim/worker.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <memory>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

namespace stc::sim {

const char* toString(Schedule s)
{
    switch (s) {
    case Schedule::Package: return "package";
    case Schedule::Latency: return "latency";
    case Schedule::Throughput: return "throughput";
    }
    return "?";
}

const char* toString(Parallel p)
{
    switch (p) {
    case Parallel::Auto: return "auto";
    case Parallel::Samples: return "samples";
    case Parallel::Cores: return "cores";
    }
    return "?";
}

const char* toString(Order o)
{
    switch (o) {
    case Order::Auto: return "auto";
    case Order::StepMajor: return "step-major";
    case Order::CoreMajor: return "core-major";
    }
    return "?";
}

namespace detail {

namespace {
// What a core's state holds: compartments, and whether it has LIF or readout neurons.
struct StateShape {
    int comps = 1;
    bool lif = false, readout = false;
};
StateShape stateShape(const SimProgram& prog, const CoreProgram& cp)
{
    StateShape sh;
    for (const auto& s : cp.slices) {
        const NeuronKind k = prog.populations[size_t(s.pop)].kind;
        sh.comps = k == NeuronKind::Product ? 2 : sh.comps;
        sh.lif = sh.lif || k == NeuronKind::Lif;
        sh.readout = sh.readout || k == NeuronKind::Readout;
    }
    return sh;
}
} // namespace

std::vector<CoreState> makeState(const SimProgram& prog)
{
    std::vector<CoreState> st(prog.cores.size());
    for (size_t c = 0; c < prog.cores.size(); ++c) {
        const CoreProgram& cp = prog.cores[c];
        CoreState& cs = st[c];
        const StateShape sh = stateShape(prog, cp);
        cs.comps = sh.comps;
        cs.acc.assign(size_t(cs.comps) * size_t(cp.neurons), 0);
        if (sh.lif)
            cs.u.assign(size_t(cp.neurons), 0), cs.v.assign(size_t(cp.neurons), 0);
        if (sh.readout)
            cs.readout.assign(size_t(cp.neurons), 0);
    }
    return st;
}

bool stateFits(const SimProgram& prog, const std::vector<CoreState>& st)
{
    if (st.size() != prog.cores.size())
        return false;
    for (size_t c = 0; c < st.size(); ++c) {
        const size_t n = size_t(prog.cores[c].neurons);
        const StateShape sh = stateShape(prog, prog.cores[c]);
        const CoreState& cs = st[c];
        if (cs.comps != sh.comps || cs.acc.size() != size_t(sh.comps) * n || cs.u.size() != (sh.lif ? n : 0) ||
            cs.v.size() != cs.u.size() || cs.readout.size() != (sh.readout ? n : 0))
            return false;
    }
    return true;
}

void resetTransient(std::vector<CoreState>& state)
{
    for (CoreState& cs : state) {
        std::fill(cs.acc.begin(), cs.acc.end(), 0);
        for (int b = 0; b < 2; ++b)
            cs.events[b].clear(), cs.segments[b].clear();
    }
}

// Splits cores over threads by a static work estimate (neurons + synapses).
std::vector<int8_t> partitionCores(const SimProgram& prog, int threads)
{
    std::vector<std::pair<double, int32_t>> load;
    for (size_t c = 0; c < prog.cores.size(); ++c) {
        double w = double(prog.cores[c].neurons);
        for (const auto& b : prog.cores[c].inputs)
            w += 0.1 * double(b.structuralSynapses);
        load.push_back({w, int32_t(c)});
    }
    std::sort(load.rbegin(), load.rend());
    std::vector<double> sum(size_t(threads), 0.0);
    std::vector<int8_t> owner(prog.cores.size(), 0);
    for (const auto& [w, c] : load) {
        const size_t t = size_t(std::min_element(sum.begin(), sum.end()) - sum.begin());
        owner[size_t(c)] = int8_t(t);
        sum[t] += w;
    }
    return owner;
}

void runCores(RunContext& run, const SampleSource& source, int threads)
{
    const SimProgram& prog = run.prog;
    std::vector<CoreState> state = makeState(prog);
    std::vector<int8_t> owner = partitionCores(prog, threads);
    std::vector<std::unique_ptr<Worker>> workers;
    for (int k = 0; k < threads; ++k)
        workers.push_back(std::make_unique<Worker>(run, state, threads > 1 ? &owner : nullptr, k));
    const int64_t H = run.samples == 0 ? 0 : (run.samples - 1) * run.interval + run.steps;
    std::vector<float> input(size_t(prog.inputSize()), 0.0f);
    int64_t inputSample = -1, h = 0;
    bool stop = false;
    auto prepare = [&]() { // single-threaded between steps
        if (h < H && run.opt.control && !run.opt.control->checkpoint())
            stop = true, run.result.cancelled = true;
        const int64_t s = h / run.interval;
        if (!stop && h < H && s < run.samples && h - s * run.interval < run.timesteps && s != inputSample) {
            if (!source(s, input))
                stop = true, run.result.error = "sample " + std::to_string(s) + " is not available";
            inputSample = s;
        }
    };
    auto completion = [&]() noexcept {
        size_t buffered = 0;
        for (auto& w : workers)
            buffered += w->traceBuf.size();
        if (buffered >= run.opt.traceChunk)
            for (auto& w : workers)
                w->flushTrace();
        int64_t done = 0;
        for (auto& w : workers)
            done += w->samplesDone;
        if (run.opt.progress && done > run.result.samples)
            run.opt.progress(done, run.samples);
        run.result.samples = done;
        ++h;
        prepare();
    };
    prepare();
    std::barrier sync(threads, completion);
    auto body = [&](int k) {
        while (!stop && h < H) {
            workers[size_t(k)]->step(h, input, inputSample);
            sync.arrive_and_wait();
        }
    };
    std::vector<std::thread> pool;
    for (int k = 1; k < threads; ++k)
        pool.emplace_back(body, k);
    body(0);
    for (auto& t : pool)
        t.join();
    for (auto& w : workers) {
        w->flushTrace();
        run.result.counters += w->counters;
    }
}

void runPasses(RunContext& run, const SampleSource& source, int threads, int chunk,
               const std::function<std::unique_ptr<PassRunner>()>& make)
{
    std::mutex sourceMu;
    std::atomic<int64_t> next{0}, done{0};
    std::atomic<bool> stop{false};
    std::vector<Counters> counters(static_cast<size_t>(threads));
    auto body = [&](int k) {
        const std::unique_ptr<PassRunner> runner = make();
        Worker& w = runner->worker();
        std::vector<std::vector<float>> inputs(size_t(chunk), std::vector<float>(size_t(run.prog.inputSize()), 0.0f));
        for (int64_t first; !stop && (first = next.fetch_add(chunk)) < run.samples;) {
            const int n = int(std::min<int64_t>(chunk, run.samples - first));
            {
                std::lock_guard lock(sourceMu);
                for (int b = 0; b < n && !stop; ++b)
                    if (!source(first + b, inputs[size_t(b)])) {
                        run.result.error = "sample " + std::to_string(first + b) + " is not available";
                        stop = true;
                    }
            }
            if (stop)
                break;
            if (!runner->pass(inputs, first, n)) {
                stop = true;
                run.result.cancelled = true;
            }
            if (w.traceBuf.size() >= run.opt.traceChunk)
                w.flushTrace();
            const int64_t d = done += n;
            if (run.opt.progress && k == 0)
                run.opt.progress(d, run.samples);
        }
        w.flushTrace();
        counters[size_t(k)] = std::move(w.counters);
    };
    std::vector<std::thread> pool;
    for (int k = 1; k < threads; ++k)
        pool.emplace_back(body, k);
    body(0);
    for (auto& t : pool)
        t.join();
    for (auto& c : counters)
        run.result.counters += c;
    run.result.samples = done;
}

namespace {
// Step-major passes: one sample, or `batch` samples in lock-step (batch.cpp).
class StepPasses : public PassRunner {
public:
    StepPasses(RunContext& run, int batch) : run_(run), batch_(batch)
    {
        for (int b = 0; b < batch; ++b)
            states_.push_back(makeState(run.prog));
        w_ = std::make_unique<Worker>(run, states_[0], nullptr, 0);
        if (batch > 1)
            w_->setBatch(&states_);
    }
    Worker& worker() override { return *w_; }
    bool pass(const std::vector<std::vector<float>>& inputs, int64_t first, int n) override
    {
        // One sample alone: the latency-mode pipeline, with sample index s
        // mapped to slot 0 of the schedule (outputs are written at s). A
        // thread skips the samples other threads run, so it starts each
        // sample from a clean chip: no spikes in flight, empty dendrites
        // (neuron state is reset by the schedule at model step 0).
        for (int b = 0; b < n; ++b)
            resetTransient(states_[size_t(b)]);
        w_->clearDelayed();
        for (int64_t h = 0; h < run_.steps; ++h) {
            if (run_.opt.control && !run_.opt.control->checkpoint())
                return false;
            if (batch_ > 1)
                w_->stepBatch(h, inputs, first, n);
            else
                w_->step(h + first * run_.interval, inputs[0], first);
        }
        return true;
    }

private:
    RunContext& run_;
    int batch_;
    std::vector<std::vector<CoreState>> states_;
    std::unique_ptr<Worker> w_;
};
} // namespace

// Whole samples per thread, `batch` of them in lock-step (batch.cpp) or one
// at a time.
void runSamples(RunContext& run, const SampleSource& source, int threads, int batch)
{
    runPasses(run, source, threads, batch, [&]() { return std::make_unique<StepPasses>(run, batch); });
}

} // namespace detail

using namespace detail;


SimResult simulate(const SimProgram& prog, int64_t samples, const SampleSource& source, const SimOptions& opt)
{
    const auto t0 = std::chrono::steady_clock::now();
    SimResult result;
    const bool throughput = opt.schedule == Schedule::Throughput ||
                            (opt.schedule == Schedule::Package && prog.scheduleMode == "throughput");
    result.schedule = throughput ? Schedule::Throughput : Schedule::Latency;
    int threads = opt.threads < 1 ? int(std::max(1u, std::thread::hardware_concurrency())) : opt.threads;
    Parallel par = opt.parallel;
    if (par == Parallel::Auto)
        par = samples > 1 && (threads > 1 || opt.batch > 1) ? Parallel::Samples : Parallel::Cores;
    threads = std::max(1, std::min<int>(threads, par == Parallel::Cores ? int(prog.cores.size())
                                                                         : int(std::max<int64_t>(1, samples))));
    threads = std::min(threads, 127);
    result.parallel = par;
    result.threads = threads;
    const int steps = int(prog.timesteps + prog.depth);
    result.order = par == Parallel::Samples && opt.order != Order::StepMajor && coreMajorFits(prog, steps)
                       ? Order::CoreMajor
                       : Order::StepMajor;
    if (prog.readoutPops.empty()) {
        result.error = "the package has no readout population";
        return result;
    }
    RunContext run{prog, opt, samples, 1, prog.timesteps, int(prog.timesteps + prog.depth), result, {}, {}, {}};
    run.interval = throughput && par == Parallel::Cores ? prog.timesteps : prog.timesteps + prog.depth;
    run.readoutIndex.assign(prog.populations.size(), -1);
    run.inputOffset.assign(prog.populations.size(), 0);
    for (size_t r = 0; r < prog.readoutPops.size(); ++r) {
        const PopulationInfo& p = prog.populations[size_t(prog.readoutPops[r])];
        run.readoutIndex[size_t(prog.readoutPops[r])] = int32_t(r);
        result.outputs.emplace_back(size_t(samples * p.size * (p.perStepOutput ? prog.timesteps : 1)), 0.0f);
    }
    int64_t off = 0;
    for (int32_t p : prog.inputPops) {
        run.inputOffset[size_t(p)] = off;
        off += prog.populations[size_t(p)].size;
    }
    // A batch larger than a thread's share of the samples would leave the
    // other threads idle.
    const int64_t share = (samples + threads - 1) / std::max(1, threads);
    result.batch = par == Parallel::Samples ? int(std::clamp<int64_t>(opt.batch, 1, std::max<int64_t>(1, share))) : 1;
    if (samples > 0) {
        if (par == Parallel::Cores)
            runCores(run, source, threads);
        else if (result.order == Order::CoreMajor)
            runCoreMajor(run, source, threads, result.batch);
        else
            runSamples(run, source, threads, result.batch);
    }
    result.counters.samples = result.samples;
    if (opt.trace)
        opt.trace->onFinish();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
}

SimResult simulate(const SimProgram& prog, const std::vector<float>& inputs, int64_t samples, const SimOptions& opt)
{
    const int64_t n = prog.inputSize();
    if (int64_t(inputs.size()) < samples * n) {
        SimResult r;
        r.error = "expected " + std::to_string(samples * n) + " input values, got " + std::to_string(inputs.size());
        return r;
    }
    return simulate(prog, samples,
                    [&](int64_t s, std::vector<float>& data) {
                        data.assign(inputs.begin() + s * n, inputs.begin() + (s + 1) * n);
                        return true;
                    },
                    opt);
}

std::vector<float> sampleOutputs(const SimProgram& prog, const SimResult& r, int64_t sample)
{
    std::vector<float> out;
    for (size_t k = 0; k < prog.readoutPops.size(); ++k) {
        const PopulationInfo& p = prog.populations[size_t(prog.readoutPops[k])];
        const int64_t n = p.size * (p.perStepOutput ? prog.timesteps : 1);
        out.insert(out.end(), r.outputs[k].begin() + sample * n, r.outputs[k].begin() + (sample + 1) * n);
    }
    return out;
}

} // namespace stc::sim

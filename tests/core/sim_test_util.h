// Helpers for the simulator tests: compile a module to a package, write it
// to disk and load it back with the core loader (the simulator never sees
// the IR), and record the fixed-point reference's spike trains.
#pragma once

#include "fixedpoint/executor.h"
#include "sim/program.h"
#include "sim/simulator.h"
#include "target/compile.h"

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unistd.h>
#include <string>
#include <vector>

namespace stc::simtest {

struct Compiled {
    target::CompileOutput out;
    sim::SimProgram program;
};

inline Compiled compile(const ir::Module& m, const std::string& chip = "loihi3",
                        const std::string& pipeline = target::kDefaultCompilePipeline, int chips = 1)
{
    target::CompileRequest req;
    req.chip = chip;
    req.pipeline = pipeline;
    req.chips = chips;
    Compiled c{target::compileModule(m, req), {}};
    if (!c.out.ok())
        throw std::runtime_error(c.out.error);
    // Round trip through the on-disk format: the simulator runs what the
    // loader reads, exactly as `stc simulate PKG` does.
    static std::atomic<int> counter{0};
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("stc-simtest-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
                                       ".stcpkg");
    std::string err;
    if (!target::writePackage(c.out.package, dir.string(), "test package\n", &err))
        throw std::runtime_error("writePackage: " + err);
    sim::ProgramLoad load = sim::loadProgram(dir.string());
    std::filesystem::remove_all(dir);
    if (!load.ok())
        throw std::runtime_error("loadProgram: " + load.error);
    c.program = std::move(*load.program);
    return c;
}

// Keeps every trace record (the simulator may call from several threads).
class TraceCollector : public sim::TraceSink {
public:
    std::vector<sim::SpikeRecord> records;
    std::mutex mu;
    void onChunk(std::span<const sim::SpikeRecord> r) override
    {
        std::lock_guard lock(mu);
        records.insert(records.end(), r.begin(), r.end());
    }
};

// Per IR value name: for each step t, the (flat index -> integer) of its
// non-zero elements, for sample `sample` of `inputs` (flattened samples).
using Trains = std::map<std::string, std::vector<std::map<int64_t, int32_t>>>;

inline Trains referenceTrains(const ir::Module& q, const std::vector<float>& inputs, int64_t sampleSize,
                              int64_t sample, std::vector<float>* outputs = nullptr)
{
    Trains trains;
    fixedpoint::RunOptions ro;
    ro.observe = [&](int t, ir::ValueId v, std::span<const int32_t> data, double) {
        if (t < 0)
            return;
        auto& steps = trains[q.value(v).name];
        steps.resize(size_t(q.timesteps));
        for (size_t i = 0; i < data.size(); ++i)
            if (data[i] != 0)
                steps[size_t(t)][int64_t(i)] = data[i];
    };
    interp::InputBatch b{1, std::vector<float>(inputs.begin() + sample * sampleSize,
                                               inputs.begin() + (sample + 1) * sampleSize)};
    fixedpoint::RunResult r = fixedpoint::run(q, {b}, ro);
    if (!r.ok())
        throw std::runtime_error("fixed-point reference: " + r.error);
    if (outputs)
        *outputs = r.outputs[0];
    return trains;
}

// The simulator's trains of `sample`, keyed by population name, shifted back
// by each population's phase (model time).
inline Trains simulatedTrains(const sim::SimProgram& prog, const std::vector<sim::SpikeRecord>& records,
                              int64_t sample)
{
    Trains trains;
    for (const auto& r : records) {
        if (r.sample != uint32_t(sample))
            continue;
        size_t p = 0;
        while (p + 1 < prog.populations.size() && int64_t(r.neuron) >= prog.populations[p + 1].firstId)
            ++p;
        const sim::PopulationInfo& pop = prog.populations[p];
        auto& steps = trains[pop.name];
        steps.resize(size_t(prog.timesteps));
        const int t = int(r.step) - pop.phase;
        if (t < 0 || t >= prog.timesteps)
            throw std::runtime_error("spike of %" + pop.name + " outside its schedule (step " +
                                     std::to_string(r.step) + ", phase " + std::to_string(pop.phase) + ")");
        steps[size_t(t)][int64_t(r.neuron) - pop.firstId] = r.value;
    }
    return trains;
}

// Random pixels in [0, 1] with about a third exact zeros (event sparsity).
inline std::vector<float> randomSamples(int64_t n, int64_t size, uint64_t seed)
{
    std::vector<float> v(size_t(n * size));
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (auto& x : v) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        const double u = double(s >> 11) * (1.0 / 9007199254740992.0);
        x = u < 0.33 ? 0.0f : float((u - 0.33) / 0.67);
    }
    return v;
}

} // namespace stc::simtest

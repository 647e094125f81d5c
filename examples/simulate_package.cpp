// Load a deployment package, simulate it bit-accurately on Fashion-MNIST test
// images, read the energy/latency ledger. docs/api-guide.md, "Simulate".
//   example_simulate_package PKG.stcpkg      (exit 77 = skipped: no Fashion-MNIST)
#include "data/fashion_mnist.h"
#include "sim/ledger.h"
#include "sim/simulator.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <span>
#include <vector>

using namespace stc;

namespace {

// Counts spikes per population. The simulator calls a sink from its worker
// threads, one call at a time, so no lock is needed here.
class SpikeCounter : public sim::TraceSink {
public:
    explicit SpikeCounter(const sim::SimProgram& p) : program_(p), counts_(p.populations.size()) {}
    void onChunk(std::span<const sim::SpikeRecord> records) override
    {
        for (const sim::SpikeRecord& r : records)
            ++counts_[populationOf(r.neuron)];
    }
    const std::vector<int64_t>& counts() const { return counts_; }

private:
    size_t populationOf(uint32_t neuron) const
    {
        size_t p = 0;
        while (p + 1 < program_.populations.size() && program_.populations[p + 1].firstId <= neuron)
            ++p;
        return p;
    }
    const sim::SimProgram& program_;
    std::vector<int64_t> counts_;
};

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: example_simulate_package PKG.stcpkg\n");
        return 2;
    }
    // Package -> SimProgram (decoded synapse tables and routes). Needs no IR.
    const sim::ProgramLoad load = sim::loadProgram(argv[1]);
    if (!load.ok()) {
        std::fprintf(stderr, "%s\n", load.error.c_str());
        return 1;
    }
    const sim::SimProgram& program = *load.program;
    std::printf("program: model %s on %s%s, %zu cores, %zu populations, %lld inputs per sample, T = %lld + %d "
                "pipeline steps\n",
                program.model.c_str(), program.chipId.c_str(), program.projectedChip ? " (PROJECTED)" : "",
                program.cores.size(), program.populations.size(), (long long)program.inputSize(),
                (long long)program.timesteps, program.depth);

    const int64_t n = 16;
    const auto images = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), n);
    if (!images.ok()) {
        std::printf("skipped: %s\n", images.error.c_str());
        return 77;
    }

    SpikeCounter spikes(program);
    sim::RunControl control; // cancel / pause / step from another thread
    std::atomic<bool> jobCancelled{false};
    control.cancelWith(&jobCancelled); // e.g. a UI job's cancel flag
    sim::SimOptions options;
    options.threads = 2; // results do not depend on it
    options.trace = &spikes;
    options.control = &control;
    const sim::SimResult result = sim::simulate(program, images.value.pixels, n, options);
    if (!result.ok()) {
        std::fprintf(stderr, "%s\n", result.cancelled ? "cancelled" : result.error.c_str());
        return 1;
    }
    int correct = 0;
    for (int64_t s = 0; s < n; ++s) {
        const std::vector<float> out = sim::sampleOutputs(program, result, s);
        correct += int(std::max_element(out.begin(), out.end()) - out.begin()) == images.value.labels[size_t(s)];
    }
    std::printf("simulated %lld images: %d correct, schedule %s\n", (long long)result.samples, correct,
                sim::toString(result.schedule));
    for (size_t p = 0; p < program.populations.size(); ++p)
        if (program.populations[p].kind == sim::NeuronKind::Lif)
            std::printf("  %-28s %8lld spikes over %lld neurons\n", program.populations[p].name.c_str(),
                        (long long)spikes.counts()[p], (long long)program.populations[p].size);

    // Counters x descriptor constants = the ledger; every line cites its constant.
    const sim::Ledger ledger = sim::buildLedger(program, result.counters);
    std::printf("energy %.4f uJ per inference (dynamic %.4f, static %.4f), latency %.3f us [%s]\n",
                ledger.totalPj() * 1e-6, ledger.dynamicPj * 1e-6, ledger.staticPj * 1e-6,
                ledger.latency.latencyModeNs * 1e-3, ledger.label().c_str());
    for (const sim::LedgerLine& line : ledger.lines) {
        if (line.scope != "total" || line.energyPj == 0)
            continue;
        if (line.kind == "static") // count: chip-nanoseconds, constant: mW (= pJ per ns)
            std::printf("  %-22s %10.0f ns x %4.0f mW = %9.4f uJ  %s\n", line.kind.c_str(), line.count, line.unitPj,
                        line.energyPj * 1e-6, line.constant.c_str());
        else
            std::printf("  %-22s %10.0f x %7.3f pJ = %9.4f uJ  %s\n", line.kind.c_str(), line.count, line.unitPj,
                        line.energyPj * 1e-6, line.constant.c_str());
    }
    if (!ledger.bottlenecks.empty())
        std::printf("bottleneck: %s\n", ledger.bottlenecks.front().c_str());

    // A cancelled run stops at the next hardware step and says so.
    sim::RunControl stop;
    stop.cancel();
    options.control = &stop;
    options.trace = nullptr;
    const sim::SimResult cancelled = sim::simulate(program, images.value.pixels, n, options);
    std::printf("cancelled run: cancelled = %s, ok() = %s\n", cancelled.cancelled ? "true" : "false",
                cancelled.ok() ? "true" : "false");
    return 0;
}

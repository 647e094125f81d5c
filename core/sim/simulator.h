// The built-in chip simulator: runs a decoded deployment package
// (sim/program.h) hardware step by hardware step, as the chip would.
//
// * Pipelined schedule of the package: population p handles model step t of
//   sample s in hardware step start(s) + t + phase(p); a spike sent in step h
//   is integrated in step h + 1 + delay (the projection's alignment delay, held
//   in per-neuron dendritic delay slots). Spike trains are therefore the
//   fixed-point reference's (zero-delay) trains shifted by each population's
//   phase; SpikeRecord::step is t + phase.
// * Event-driven synapses: work is spikes x fan-out (rows of the spiking
//   axon), graded spikes carry their integer payload.
// * Neuron updates with fixedpoint::neuronStep (24-bit state: u wraps, v
//   saturates, as Lava's bit-accurate LIF); relays, products and readouts as
//   documented in docs/simulator.md.
// * Every hardware step ends with a barrier over all cores. With
//   Parallel::Cores the simulated cores are split over host threads and the
//   barrier is a real one; Parallel::Samples runs whole samples on separate
//   threads (same results and counters, no per-step synchronisation), by
//   default core-major (Order, sim/core_major.cpp: each slice of a core runs
//   all steps of `batch` samples before the next slice); step-major with
//   SimOptions::batch > 1 runs `batch` samples per thread in lock-step and
//   walks each synapse record once for all samples that spiked on its axon
//   in the step. Both are host-side strategies: results and counters are
//   unchanged.
#pragma once

#include "sim/counters.h"
#include "sim/program.h"
#include "sim/trace.h"

#include <functional>
#include <string>
#include <vector>

namespace stc::sim {

enum class Schedule : uint8_t {
    Package,    // the package's schedule-time mode
    Latency,    // one sample at a time: a new sample every T + depth steps
    Throughput, // samples back to back: a new sample every T steps, layers reset at their own phase
};
enum class Parallel : uint8_t { Auto, Samples, Cores };
// Host-side execution order of Parallel::Samples (results and counters do not
// depend on it): StepMajor advances every core one hardware step at a time;
// CoreMajor (sim/core_major.cpp) runs each slice of a core (or each cycle of
// slices) for all steps of the inference windows of `batch` samples once the
// slices sending to it are done, so its synapse tables and accumulators
// stay in cache.
// Auto: CoreMajor for Parallel::Samples, StepMajor for Parallel::Cores.
enum class Order : uint8_t { Auto, StepMajor, CoreMajor };

struct SimOptions {
    Schedule schedule = Schedule::Package;
    int threads = 1;                     // host threads (< 1: hardware concurrency)
    Parallel parallel = Parallel::Auto;  // Auto: Samples for several samples on several threads or
                                         // with batch > 1, else Cores
    int batch = 1;                       // Samples: samples in lock-step per thread (1 = one at a time);
                                         // CoreMajor: samples per pass over the cores
    Order order = Order::Auto;
    TraceSink* trace = nullptr;          // receives every spike (of tracePopulations)
    std::vector<char> tracePopulations;  // per population: 1 = traced; empty = all
    size_t traceChunk = size_t(1) << 16; // records buffered before a sink call
    RunControl* control = nullptr;       // cancel / pause / step
    std::function<void(int64_t done, int64_t total)> progress; // samples completed
};

// Fills `data` with sample `index`: program.inputSize() floats, the input
// populations in order. Called from simulator threads, one call at a time.
using SampleSource = std::function<bool(int64_t index, std::vector<float>& data)>;

struct SimResult {
    // Per readout population (SimProgram::readoutPops order):
    // [samples][size] for a mean over time, [samples][T][size] per step.
    std::vector<std::vector<float>> outputs;
    Counters counters;
    int64_t samples = 0;
    Schedule schedule = Schedule::Latency;
    Parallel parallel = Parallel::Samples;
    int threads = 1;
    int batch = 1; // samples in lock-step per thread (Parallel::Samples)
    Order order = Order::StepMajor;
    bool cancelled = false;
    std::string error;
    double seconds = 0;
    bool ok() const { return error.empty() && !cancelled; }
};

SimResult simulate(const SimProgram& program, int64_t samples, const SampleSource& source,
                   const SimOptions& options = {});
// `inputs` holds `samples` consecutive samples.
SimResult simulate(const SimProgram& program, const std::vector<float>& inputs, int64_t samples,
                   const SimOptions& options = {});

// The execution graph of a program: its nodes are cores (bySlice = false) or
// the slices of cores (bySlice = true: slice k of core c is node
// sliceBase[c] + k), with an edge from the sender of every route to the core
// (or slice) whose synapse block it reaches, split into strongly connected
// components in topological order: a node only sends to nodes of its own or
// of later components. A component of several nodes, or of one node that
// sends to itself, is a cycle. Cores hosting slices of several layers make
// cycles of cores in feed-forward models; their slices do not.
struct CoreGraph {
    bool bySlice = false;
    std::vector<int32_t> sliceBase;               // per core: node of its slice 0 (bySlice)
    std::vector<std::pair<int32_t, int32_t>> nodes; // (core, slice; -1 when by core)
    std::vector<std::vector<int32_t>> components; // node ids, ascending within a component
    std::vector<int32_t> componentOf;             // per node
    int64_t cyclicComponents = 0, nodesInCycles = 0;
};
CoreGraph coreGraph(const SimProgram& program, bool bySlice = true);

// Real output values of one sample (per readout, flattened), from a result.
std::vector<float> sampleOutputs(const SimProgram& program, const SimResult& r, int64_t sample);

const char* toString(Schedule s);
const char* toString(Parallel p);
const char* toString(Order o);

} // namespace stc::sim

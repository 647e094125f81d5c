// Energy ledger and latency model of a simulation: the simulator's event
// counters times the chip descriptor's per-event constants, every line citing
// the constant's JSON path and its source (or projection). Per inference
// (counters divided by the samples run), split by event kind, by layer
// (population), by core and by step of the inference.
//
// Latency: a hardware step takes the slowest core's compute time (synaptic
// ops x t_synop + active/idle neuron updates x t_update) plus the slowest
// message sent in it (hops x hop latency + chip links + within-tile delivery)
// plus the barrier (target::barrierTimeNs). Latency mode runs one sample at a
// time (T + depth steps); throughput mode overlaps samples, so steady-state
// step r carries the work of every step index i = r (mod T).
//
// Baselines, always with their assumptions: the SNN literature's formula
// E_MAC x MACs(first, non-spiking layer) + E_AC x SOPs (Horowitz 2014, 45 nm:
// 4.6 pJ / 0.9 pJ), and a dense-equivalent estimate (every synapse a MAC every
// step, as a dense GPU forward computes it) at 4.6 pJ/MAC and at an A100-class
// board-power figure.
#pragma once

#include "sim/counters.h"
#include "sim/program.h"

#include <string>
#include <vector>

namespace stc::sim {

struct LedgerLine {
    std::string scope;  // "total", "layer", "core", "step"
    std::string item;   // layer name, core index, step index ("" for totals)
    std::string kind;   // synaptic_op, neuron_update_active, neuron_update_idle, spike_within_tile,
                        // hop_ew, hop_ns, chip_link, static
    double count = 0;   // events per inference
    double unitPj = 0;  // the descriptor constant
    std::string constant; // its JSON path, e.g. "energy_pj.synaptic_op"
    std::string source;   // the descriptor's source or projection text
    bool projected = false;
    double energyPj = 0;  // per inference
};

struct LatencyModel {
    double barrierNs = 0;
    // Latency mode, per step index of an inference (T + depth).
    std::vector<double> stepNs, coreNs, meshNs;
    std::vector<int32_t> criticalCore;
    double latencyModeNs = 0;      // one inference alone
    // Throughput mode, per steady-state step (T of them).
    std::vector<double> steadyStepNs;
    std::vector<int32_t> steadyCriticalCore;
    double throughputIntervalNs = 0; // a new inference every interval
    double throughputLatencyNs = 0;  // (T + depth) steady steps
    std::string mode;                // the package's schedule mode (used for static energy)
};

struct Baselines {
    double firstLayerMacs = 0; // dense MACs of layers fed by the input population, per inference
    double sops = 0;           // measured synaptic ops of the spiking layers, per inference
    double literaturePj = 0;   // 4.6 pJ x firstLayerMacs + 0.9 pJ x sops
    double denseMacs = 0;      // every synapse every step, products as one MAC each
    double denseHorowitzPj = 0; // denseMacs x 4.6 pJ
    double denseGpuPj = 0;      // denseMacs x kGpuPjPerMac
    std::vector<std::string> assumptions;
};

inline constexpr double kHorowitzMacPj = 4.6; // 32-bit float MAC, 45 nm (Horowitz, ISSCC 2014)
inline constexpr double kHorowitzAcPj = 0.9;  // 32-bit float add, 45 nm (Horowitz, ISSCC 2014)
// A100 SXM: 400 W board power at 19.5 TFLOPS FP32 (NVIDIA A100 datasheet) =
// 20.5 pJ/FLOP = 41 pJ per MAC at 100 % utilization.
inline constexpr double kGpuPjPerMac = 41.0;

// Something that limits the step time or dominates the energy, with what
// would relieve it (sim/bottlenecks.cpp).
struct Bottleneck {
    enum class Kind : uint8_t { Core, Layer, Mesh };
    Kind kind = Kind::Core;
    int32_t core = -1;               // Core: its index in the package
    std::string layer;               // Layer; Core: the layer with most neurons there
    std::vector<std::string> layers; // Core: every layer with neurons there
    double latencyShare = 0;         // Core: of the compute time on the critical path; Mesh: of the latency
    double energyShare = 0;          // of the dynamic energy
    int64_t synapses = 0;            // Core: synapses stored (its fan-in); Layer: synapses into the layer
    double synapticOps = 0;          // per inference
    int64_t neurons = 0;
    int layerCores = 0;              // cores the (main) layer spans
    int splitInto = 0;               // Core: cores that would bring it to the next-slowest core's time
    std::string explanation;         // "core 37: 41 % of the critical path, fan-in 3,900 synapses, layer %fc1"
    std::string suggestion;          // what to change, as pipeline options where there is one
};

struct Ledger {
    std::string chipId, chipName;
    bool projectedChip = false;
    std::string projectionNote;
    int64_t samples = 0, timesteps = 1;
    int depth = 0;
    int chips = 1;
    std::vector<LedgerLine> lines; // totals first, then per layer, per core, per step
    double dynamicPj = 0, staticPj = 0;
    double totalPj() const { return dynamicPj + staticPj; }
    EventCounts perInference;      // counters / samples
    LatencyModel latency;
    Baselines baselines;
    std::vector<Bottleneck> bottleneckItems; // ranked: cores by critical-path share, layers by energy, mesh
    std::vector<std::string> bottlenecks;   // the same in words (explanation — suggestion)
    std::vector<std::string> notes;
    std::string label() const { return projectedChip ? "PROJECTED" : "modelled"; }
};

// The top cores by share of the critical path, the top layers by share of the
// dynamic energy, and the mesh when it is a large part of the latency.
std::vector<Bottleneck> findBottlenecks(const SimProgram& program, const Counters& counters, const Ledger& ledger,
                                        int top = 3);

// `counters` from a SimResult; `mode` "" = the package's schedule mode.
Ledger buildLedger(const SimProgram& program, const Counters& counters, const std::string& mode = {});

// Human table: totals by kind with constants and sources, top layers, top
// cores, the step profile, latency in both modes, baselines, bottlenecks.
std::string formatLedger(const Ledger& l, int maxRows = 12);
// Everything, including every per-layer/core/step line.
std::string ledgerJson(const Ledger& l);

} // namespace stc::sim

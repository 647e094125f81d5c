// Partitioning: each population is cut into core-sized slices (a block shape
// over features x positions) so that every slice respects every per-core
// limit, then slices are packed onto logical cores (several small slices
// may share a core). A cap on per-core compute time per step turns the
// packing into load balancing: heavy populations get more, lighter cores.
#pragma once

#include "target/mapping.h"
#include "target/slice_analysis.h"

#include <limits>

namespace stc::target {

struct PartitionOptions {
    double timeCapNs = std::numeric_limits<double>::infinity(); // per-core compute time per step
    bool shareCores = true;
    int threads = 1; // host threads analysing slices (< 1: every host thread); the partition does not depend on it
    // A partition of the same network under a looser cap: populations whose
    // slices already meet this cap (and whose destinations did not change)
    // keep their cut, which makes the allocation search incremental.
    const struct Partition* previous = nullptr;
};

struct Partition {
    std::vector<Slice> slices;
    std::vector<Usage> usage;
    std::vector<std::vector<SliceInput>> inputs;
    // Per slice, per input (as `inputs`): the source neurons of its fan-in
    // axons, found by the analysis; destination counts and traffic read them
    // instead of enumerating the synapses again.
    std::vector<std::vector<SliceAnalyzer::AxonList>> axons;
    std::vector<std::vector<int32_t>> cores; // logical cores -> slices
    std::vector<Usage> coreUsage;
    // Per population: its block shape [features, positions...] and first slice;
    // slices of a population are its blocks in row-major block order.
    std::vector<std::vector<int64_t>> block;
    std::vector<int32_t> firstSlice;
    std::vector<FitProblem> problems; // populations that cannot be cut to fit a core
    double criticalTimeNs = 0;         // slowest logical core
    // Per population: how many destination slices each neuron sends to (null
    // for populations without destinations); a later partition whose
    // destinations of a population did not change reuses them.
    std::vector<SliceAnalyzer::Counts> destinationCounts;
    // The analyzers' per-projection tables (network-only), for the next partition.
    std::shared_ptr<SliceAnalyzer::Tables> tables;
    bool ok() const { return problems.empty(); }
    // The slice holding neuron `n` of population `pop`.
    int32_t sliceOf(const Network& net, int32_t pop, int64_t n) const;
};

// Resource check of one core's totals. On failure names the first violated
// resource with the amount needed and available.
bool fitsCore(const Usage& u, const ChipDescriptor& chip, double timeCapNs, FitProblem* why = nullptr);

Partition partitionNetwork(const Network& net, const ChipDescriptor& chip, const PartitionOptions& options);

// Utilization of a core's totals against the chip limits; StepTime against `stepTimeNs`.
Utilization utilizationOf(const Usage& u, const ChipDescriptor& chip, double stepTimeNs);

} // namespace stc::target

// A design-space sweep over quantization bits x pruning sparsity: for each
// configuration compile (fold-bn, prune, fuse, quantize), map onto the chip
// (partition, place, route) and estimate energy/latency with the cost model,
// and measure top-1 accuracy in the fixed-point reference path. Results are
// returned and, with a project, recorded as linked compile + accuracy runs
// (one transaction per configuration). Used by `stc sweep` and the IDE.
#pragma once

#include "data/fashion_mnist.h"
#include "ir/module.h"
#include "passes/context.h"
#include "store/project.h"

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace stc::store {

struct SweepSpec {
    std::vector<int> bits = {8};           // quantize{bits=b}, each in [2, 16]
    std::vector<double> sparsity = {0.0};  // prune{sparsity=s}, each in [0, 0.99]; 0 = no prune entry
    std::string pruneMode = "magnitude";   // magnitude | channel | head
    std::string chip = "loihi3";           // descriptor id or path; empty = do not map
    int64_t limit = 500;                   // test images evaluated per configuration
    int threads = 2;                       // fixed-point executor threads
    bool floatBaseline = true;             // also evaluate the float model once
    std::string description;               // recorded with the sweep (e.g. the command line)
};

struct SweepPoint {
    int bits = 0;
    double sparsity = 0;
    std::string pipeline;          // everything that ran: IR passes, then the mapping passes
    double sparsityAchieved = 0;   // prune's statistic (0 without pruning)
    CompileResult compile;         // mapped = false with notMappedReason when mapping failed
    std::optional<AccuracyResult> accuracy; // none when the compile or the evaluation failed
    std::string error;             // why the compile or the evaluation failed
    int64_t compileRunId = 0, accuracyRunId = 0; // when recorded in a project
};

struct SweepResult {
    std::optional<AccuracyResult> floatBaseline;
    int64_t floatRunId = 0;
    std::vector<SweepPoint> points; // bits-major, in the order of the spec
    int64_t sweepId = 0;
    bool cancelled = false;
    std::string error; // fatal: nothing (more) was run
    bool ok() const { return error.empty() && !cancelled; }
};

// The IR part of a configuration's pipeline, e.g.
// "fold-bn,prune{sparsity=0.25 mode=magnitude},fuse,quantize{bits=8}".
std::string sweepPipeline(int bits, double sparsity, const std::string& pruneMode);

// Called after each configuration (and its project rows) is done.
using SweepProgress = std::function<void(const SweepPoint& point, size_t done, size_t total)>;

// `test` holds labelled images (the first spec.limit are used); `calibration`
// feeds quantize and the firing-rate measurement of partition (may be empty).
// With `project`, rows are added there (store::Error propagates).
SweepResult runSweep(const ir::Module& model, const data::ImageSet& test, const passes::CalibrationProvider& calibration,
                     const SweepSpec& spec, Project* project, const SweepProgress& progress = {},
                     const std::atomic<bool>* cancel = nullptr);

// Indices into result.points of the energy-vs-accuracy Pareto front (mapped
// configurations with an accuracy), sorted by energy.
std::vector<size_t> energyAccuracyFront(const std::vector<SweepPoint>& points);

} // namespace stc::store

// A design-space sweep over quantization bits x pruning sparsity x time
// steps T x threshold scaling x chip count: for each configuration compile
// (set-timesteps, fold-bn, scale-thresholds, prune, fuse, quantize), map onto
// the chip (partition, place, route) and estimate energy/latency with the
// cost model, and measure top-1 accuracy in the fixed-point reference path.
// Strategies: the whole grid, a seeded random sample of it, or successive
// halving towards the lowest-energy configuration within an accuracy budget
// (sweep_halving.cpp). With a project, results are recorded as linked compile
// + accuracy runs (one transaction per configuration), and configurations
// already measured there are reused instead of run again (resume).
// Used by `stc sweep` and the IDE.
#pragma once

#include "data/fashion_mnist.h"
#include "ir/module.h"
#include "passes/context.h"
#include "store/project.h"

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stc::store {

enum class SweepStrategy : uint8_t { Grid, Random, Halving };
const char* toString(SweepStrategy s); // grid | random | halving

struct SweepSpec {
    std::vector<int> bits = {8};                // quantize{bits=b}, each in [2, 16]
    std::vector<double> sparsity = {0.0};       // prune{sparsity=s}, each in [0, 0.99]; 0 = no prune entry
    std::vector<int64_t> timesteps;             // set-timesteps{t=T}; empty = the model's own T only
    std::vector<double> thresholdScale = {1.0}; // scale-thresholds{factor=f}; 1 = no entry
    std::vector<int> chips = {1};               // partition{chips=n}
    std::string pruneMode = "magnitude";        // magnitude | channel | head
    std::string chip = "loihi3";                // descriptor id or path; empty = do not map
    int64_t limit = 500;                        // test images evaluated per configuration
    int threads = 2;                            // fixed-point executor threads
    bool floatBaseline = true;                  // also evaluate the float model once
    SweepStrategy strategy = SweepStrategy::Grid;
    int64_t samples = 0;                        // random: configurations drawn from the grid (0 = all)
    uint64_t seed = 1;                          // random: the draw is a function of the seed
    double accuracyBudget = 0;                  // halving: lowest acceptable top-1, 0..1
    int halvingEta = 2;                         // halving: a round keeps about 1/eta of the candidates
    int64_t halvingFirstImages = 0;             // halving: images in round 0 (0 = automatic)
    bool resume = true;                         // with a project: reuse configurations measured there
    std::string description;                    // recorded with the sweep (e.g. the command line)
    std::map<std::string, std::string> params;  // recorded with every configuration (e.g. an advice's prediction)
    std::vector<size_t> only;                   // run only these indices of sweepConfigurations (a rank's share); empty = all
    int64_t sweepId = 0;                        // with a project: add to this sweep instead of opening a new one
};

// One point of the grid. timesteps 0 = the model's T.
struct SweepConfig {
    int bits = 8;
    double sparsity = 0;
    int64_t timesteps = 0;
    double thresholdScale = 1.0;
    int chips = 1;
    std::string label() const; // "bits=8 sparsity=0.25 T=2 vth-scale=1.2 chips=2" (defaults left out)
};

struct SweepPoint : SweepConfig {
    std::string pipeline;          // everything that ran: IR passes, then the mapping passes
    double sparsityAchieved = 0;   // prune's statistic (0 without pruning)
    CompileResult compile;         // mapped = false with notMappedReason when mapping failed
    std::optional<AccuracyResult> accuracy; // none when the compile or the evaluation failed
    std::string error;             // why the compile or the evaluation failed
    int64_t compileRunId = 0, accuracyRunId = 0; // when recorded in a project
    bool resumed = false;          // taken from the project's earlier runs, not run again
    std::string eliminated;        // halving: why it was dropped before the full evaluation (empty: it was not)
};

struct SweepResult {
    std::optional<AccuracyResult> floatBaseline;
    int64_t floatRunId = 0;
    std::vector<SweepPoint> points; // bits-major, in the order of the spec
    int64_t sweepId = 0;
    SweepStrategy strategy = SweepStrategy::Grid;
    size_t gridSize = 0;            // configurations in the full grid
    int64_t imagesEvaluated = 0;    // fixed-point evaluations this sweep ran (resumed ones excluded)
    int64_t gridImages = 0;         // what evaluating the whole grid on `limit` images costs
    std::optional<size_t> best;     // halving: index of the lowest-energy point meeting the budget
    std::vector<std::string> rounds; // halving: one line per round
    bool cancelled = false;
    std::string error; // fatal: nothing (more) was run
    bool ok() const { return error.empty() && !cancelled; }
};

// The IR part of a configuration's pipeline, e.g.
// "fold-bn,prune{sparsity=0.25 mode=magnitude},fuse,quantize{bits=8}".
std::string sweepPipeline(const SweepConfig& c, const std::string& pruneMode);
// The mapping part: "partition{chip=loihi3},place,route" (chips=n when n > 1).
std::string sweepMapPipeline(const std::string& chip, int chips);

// The grid in sweep order (bits-major, then sparsity, T, threshold scale,
// chips), or a seeded random sample of it (spec.strategy == Random).
std::vector<SweepConfig> sweepConfigurations(const SweepSpec& spec);

// Called after each configuration (and its project rows) is done.
using SweepProgress = std::function<void(const SweepPoint& point, size_t done, size_t total)>;

// `test` holds labelled images (the first spec.limit are used); `calibration`
// feeds quantize and the firing-rate measurement of partition (may be empty).
// With `project`, rows are added there (store::Error propagates).
SweepResult runSweep(const ir::Module& model, const data::ImageSet& test, const passes::CalibrationProvider& calibration,
                     const SweepSpec& spec, Project* project, const SweepProgress& progress = {},
                     const std::atomic<bool>* cancel = nullptr);

// For each configuration of sweepConfigurations(spec): whether `project`
// holds it measured on `images` images already (what resume reuses).
std::vector<bool> measuredInProject(const Project& project, const SweepSpec& spec, int64_t images);

// Indices into result.points of the energy-vs-accuracy Pareto front (mapped
// configurations with an accuracy on the most images), sorted by energy.
std::vector<size_t> energyAccuracyFront(const std::vector<SweepPoint>& points);

} // namespace stc::store

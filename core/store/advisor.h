// Guided pass selection: a cost model fitted on a project's history of
// compiled and measured configurations (sweeps, earlier advice) proposes
// configurations -- quantize bits, prune sparsity, time steps, threshold
// scale, chips, i.e. pipeline option values -- predicted to cut energy or
// latency at the accuracy of a baseline configuration. Every proposal carries
// its prediction with the model's leave-one-out error; once applied (run and
// recorded with its prediction, `stc advise --apply`), the advice report
// shows the measured result next to what was predicted.
//
// The model: ridge-regularised least squares per metric on features of the
// five knobs (log energy and log latency; top-1 directly), fitted only on the
// knobs that vary in the history. It interpolates: candidates take values
// seen in the history or between them (every bit width and T in the range,
// midpoints of sparsity and threshold scale), never beyond them.
#pragma once

#include "store/project.h"
#include "store/sweep.h"

#include <optional>
#include <string>
#include <vector>

namespace stc::store {

struct FitQuality {
    int points = 0;        // configurations the model was fitted on
    double r2 = 0;         // in-sample coefficient of determination
    double looRmse = 0;    // leave-one-out RMS error (log units for energy/latency: ~relative error)
};

struct Prediction {
    double energyPj = 0, latencyNs = 0, accuracy = 0;
};

struct Proposal {
    SweepConfig config;
    std::string pipeline;      // the IR part (sweepPipeline)
    Prediction predicted;
    double saving = 0;         // predicted fraction of the objective saved vs the baseline
    std::string change;        // what differs from the baseline, e.g. "bits 8 -> 6, T 4 -> 2"
};

// A proposal that was applied: its prediction (recorded with the run) and what was measured.
struct AppliedAdvice {
    int64_t compileRunId = 0;
    SweepConfig config;
    Prediction predicted, measured;
    bool measuredAccuracy = false;
};

struct AdviceRequest {
    std::string objective = "energy"; // energy | latency
    double tolerance = 0.005;         // accepted top-1 loss vs the baseline (0.005 = 0.5 pp)
    int64_t baselineRunId = 0;        // 0 = the most accurate configuration measured on the most images
    int maxProposals = 5;
};

struct Advice {
    std::string error;                // why nothing could be proposed
    std::optional<ConfigPoint> baseline;
    SweepConfig baselineConfig;
    int64_t images = 0;               // the image count accuracies were compared on
    FitQuality energyFit, latencyFit, accuracyFit;
    std::vector<std::string> knobs;   // the knobs that vary in the history (the model's inputs)
    std::vector<Proposal> proposals;  // best first
    std::vector<AppliedAdvice> applied;
    bool ok() const { return error.empty(); }
};

// The configuration a run recorded (its params), `modelT` for runs without a T.
SweepConfig configOf(const RunMeta& meta, int64_t modelT);

Advice advise(const Project& project, const AdviceRequest& request);

// The run parameters that record a proposal's prediction (for the applied run).
std::map<std::string, std::string> predictionParams(const Proposal& p, int64_t baselineRunId);

} // namespace stc::store

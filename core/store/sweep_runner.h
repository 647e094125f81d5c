// Internal to core/store: the machinery runSweep shares between the grid /
// random strategies (sweep.cpp) and successive halving (sweep_halving.cpp).
#pragma once

#include "passes/pipeline.h"
#include "passes/registry.h"
#include "store/sweep.h"
#include "target/target_passes.h"

#include <map>
#include <memory>

namespace stc::store::detail {

struct Config {
    SweepConfig config;
    passes::Pipeline ir;
    std::optional<passes::Pipeline> map;
    std::string pipelineText; // as recorded: the IR passes, then the mapping passes
};

// Parses a configuration's pipelines; nullopt with `error` for a bad value.
std::optional<Config> parseConfig(const SweepConfig& sc, const SweepSpec& spec, const passes::PassRegistry& registry,
                                  std::string* error);
// The project's measured configurations resume can reuse, by pipeline text.
std::map<std::string, ConfigPoint> measuredPoints(const Project& project, const std::string& chip, int64_t images);

class SweepRunner {
public:
    SweepRunner(const ir::Module& model, const data::ImageSet& test, const passes::CalibrationProvider& calibration,
                const SweepSpec& spec, Project* project, const SweepProgress& progress,
                const std::atomic<bool>* cancel);

    // Parses every configuration (a bad value stops the sweep before any
    // work), opens the sweep in the project, evaluates the float baseline.
    bool prepare();
    void runEach();    // grid / random: compile, map and evaluate each in turn
    void runHalving(); // sweep_halving.cpp
    SweepResult take() { return std::move(result_); }

private:
    bool cancelled() const { return cancel_ && cancel_->load(); }
    // Compiles and maps; the compiled module is returned when the compile succeeded.
    SweepPoint compile(const Config& c, std::shared_ptr<const ir::Module>* compiled);
    // A point measured earlier in the project (same model, chip, pipeline, images).
    bool resumeFrom(const Config& c, SweepPoint& p) const;
    // Evaluates images [already evaluated, upTo) and accumulates. False: cancelled or failed (p.error).
    bool evaluate(SweepPoint& p, const ir::Module& compiled, int64_t upTo);
    void record(SweepPoint& p, const Config& c);
    void finish(SweepPoint p, const Config& c);

    const ir::Module& model_;
    const data::ImageSet& test_;
    const passes::CalibrationProvider& calibration_;
    const SweepSpec& spec_;
    Project* project_;
    const SweepProgress& progress_;
    const std::atomic<bool>* cancel_;
    int64_t n_ = 0;
    std::shared_ptr<target::TargetSession> session_;
    passes::PassRegistry registry_;
    std::vector<Config> configs_;
    std::map<std::string, ConfigPoint> earlier_; // by pipeline text
    SweepResult result_;
};

} // namespace stc::store::detail

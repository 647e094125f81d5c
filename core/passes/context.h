// CompileContext: the one configuration object of a compile (TVM PassContext
// style): target, typed options, disabled passes, instruments, cancellation,
// progress, calibration data and the reproducer directory. No globals.
#pragma once

#include "passes/options.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace stc::passes {

class Instrument;

// Input samples for post-training calibration, each flattened in the shape of
// the module's (single) input.
struct CalibrationSet {
    std::vector<int64_t> sampleShape;
    std::vector<std::vector<float>> samples;
};
// Returns up to `maxSamples` samples (e.g. from the training set).
using CalibrationProvider = std::function<CalibrationSet(int64_t maxSamples)>;

struct Progress {
    int entryIndex = -1;       // pipeline entry running
    std::string pass;          // its name
    double passFraction = 0.0; // 0..1 within the pass
    double overall = 0.0;      // 0..1 over the pipeline
    std::string what;          // optional detail from the pass
};

class CompileContext {
public:
    CompileContext() = default;
    CompileContext(const CompileContext&) = delete; // holds the cancel flag
    CompileContext& operator=(const CompileContext&) = delete;

    std::string target; // e.g. "loihi3"; core/target adds a descriptor later
    // Free-form typed options for passes and targets (e.g. "weight-bits" = 8).
    std::map<std::string, OptionValue> options;
    std::set<std::string> disabledPasses; // skipped wherever they appear
    std::vector<std::shared_ptr<Instrument>> instruments;
    std::function<void(const Progress&)> onProgress;
    CalibrationProvider calibration;
    std::string reproducerDir; // where verify-each writes reproducers; empty = system temp dir

    void cancel() { cancelled_.store(true); }
    bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
    void resetCancel() { cancelled_.store(false); }
    void checkCancelled() const; // throws PassCancelled

    int64_t optionInt(const std::string& name, int64_t def) const;
    double optionFloat(const std::string& name, double def) const;
    bool optionBool(const std::string& name, bool def) const;
    std::string optionString(const std::string& name, const std::string& def) const;

private:
    std::atomic<bool> cancelled_{false};
};

} // namespace stc::passes

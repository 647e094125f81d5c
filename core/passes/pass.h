// A pass: its static description (PassInfo, what the registry and the IDE's
// "add pass" list show) and its run function, which transforms a module in
// place through a PassRun (options, statistics, diagnostics, cancellation).
#pragma once

#include "ir/module.h"
#include "passes/options.h"
#include "util/diagnostics.h"

#include <functional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace stc::passes {

class CompileContext;

enum class PassKind : uint8_t {
    Transform, // IR -> IR
    Analysis,  // reads the IR, reports statistics; must not change it
};
const char* toString(PassKind k);

struct PassInfo {
    std::string name;        // stable argument name, e.g. "fold-bn"
    std::string description; // one line
    PassKind kind = PassKind::Transform;
    std::vector<OptionSpec> options;
    // Order constraints, as named IR properties (see properties.h).
    std::vector<std::string> needs;       // must hold before this pass runs
    std::vector<std::string> provides;    // hold after it
    std::vector<std::string> invalidates; // may no longer hold after it
    // Whether the pass is correct on a module with `delay` ops (recurrent back
    // edges, an operand defined after its user). The runner refuses, at the
    // first delay op, to run a pass that is not.
    bool handlesDelay = false;

    const OptionSpec* option(const std::string& optName) const;
};

using StatValue = std::variant<int64_t, double>;

struct Statistic {
    std::string name; // e.g. "bn-folded"
    StatValue value;
    friend bool operator==(const Statistic&, const Statistic&) = default;
};

// Statistics of one pass run, in the order the pass first reported them.
class Statistics {
public:
    void set(const std::string& name, StatValue v);
    void add(const std::string& name, int64_t delta); // counters
    const StatValue* find(const std::string& name) const;
    int64_t getInt(const std::string& name, int64_t def = 0) const;
    double getFloat(const std::string& name, double def = 0.0) const; // either kind, as double
    const std::vector<Statistic>& items() const { return items_; }
    bool empty() const { return items_.empty(); }

private:
    std::vector<Statistic> items_;
};

std::string formatStatValue(const StatValue& v);

// Thrown by checkCancelled(); the runner turns it into status Cancelled.
struct PassCancelled : std::runtime_error {
    PassCancelled() : std::runtime_error("cancelled") {}
};

// Everything a running pass may touch besides the module.
class PassRun {
public:
    PassRun(const PassInfo& info, Options options, CompileContext& ctx, int entryIndex = 0, int entryCount = 1);

    const PassInfo& info() const { return info_; }
    const Options& options() const { return options_; }
    CompileContext& context() { return ctx_; }
    Statistics& stats() { return stats_; }
    Diagnostics& diagnostics() { return diags_; }

    // Errors make the pass fail (the runner restores the IR from before it).
    void error(const std::string& message, const std::string& op = {}, const std::string& origin = {});
    void warning(const std::string& message, const std::string& op = {}, const std::string& origin = {});
    void note(const std::string& message);

    // Long passes call these inside their loops.
    void checkCancelled() const; // throws PassCancelled
    void progress(double fraction, const std::string& what = {});

    const Statistics& statistics() const { return stats_; }
    const Diagnostics& diags() const { return diags_; }

private:
    const PassInfo& info_;
    Options options_;
    CompileContext& ctx_;
    int entryIndex_;
    int entryCount_;
    Statistics stats_;
    Diagnostics diags_;
};

using PassFn = std::function<void(ir::Module&, PassRun&)>;

struct PassDef {
    PassInfo info;
    PassFn run;
};

} // namespace stc::passes

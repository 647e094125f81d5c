// Pass instrumentation: hooks before/after each pass that receive the IR.
// Built-ins: timing, IR snapshots (printed text before/after, for the IDE's
// diff view and --print-after-all), verify-each (with a reproducer on
// failure) and statistics collection.
#pragma once

#include "ir/module.h"
#include "passes/pipeline.h"
#include "passes/runner.h"

#include <functional>
#include <string>
#include <vector>

namespace stc::passes {

struct PassEvent {
    int entryIndex;
    const PipelineEntry& entry;
    const PassInfo& info;
    const Pipeline& pipeline;
};

class Instrument {
public:
    virtual ~Instrument() = default;
    virtual std::string name() const = 0;
    virtual void beforePipeline(const Pipeline&, const ir::Module& input) {}
    virtual void beforePass(const PassEvent&, const ir::Module&) {}
    // After a pass that succeeded. May turn the record into a failure
    // (status Failed + a diagnostic): the runner then stops.
    virtual void afterPass(const PassEvent&, const ir::Module&, PassRecord&) {}
    // After a pass that failed or was cancelled; gets the IR from before it.
    virtual void afterPassFailed(const PassEvent&, const ir::Module& before, const PassRecord&) {}
    virtual void afterPipeline(const RunResult&) {}
};

// Wall time per pass, reported like `--time-passes`.
class TimingInstrument : public Instrument {
public:
    struct Row {
        std::string pass;
        double seconds;
    };
    std::string name() const override { return "timing"; }
    void beforePipeline(const Pipeline&, const ir::Module&) override { rows_.clear(); }
    void afterPass(const PassEvent&, const ir::Module&, PassRecord& r) override;
    void afterPassFailed(const PassEvent&, const ir::Module&, const PassRecord& r) override;
    const std::vector<Row>& rows() const { return rows_; }
    std::string report() const; // table with per-pass time and share of the total

private:
    std::vector<Row> rows_;
};

using IrPrinter = std::function<std::string(const ir::Module&)>;
IrPrinter defaultIrPrinter(); // the Spike IR text printer

// Printed IR before and after each pass.
class SnapshotInstrument : public Instrument {
public:
    struct Snapshot {
        int entryIndex;
        std::string pass;
        std::string before;
        std::string after; // empty if the pass failed
        bool changed = false;
    };
    explicit SnapshotInstrument(IrPrinter printer = defaultIrPrinter(), bool keepBefore = true);
    std::string name() const override { return "ir-snapshot"; }
    void beforePipeline(const Pipeline&, const ir::Module&) override { snapshots_.clear(); }
    void beforePass(const PassEvent&, const ir::Module&) override;
    void afterPass(const PassEvent&, const ir::Module&, PassRecord&) override;
    void afterPassFailed(const PassEvent&, const ir::Module&, const PassRecord&) override;
    const std::vector<Snapshot>& snapshots() const { return snapshots_; }

private:
    IrPrinter printer_;
    bool keepBefore_;
    std::string pendingBefore_;
    std::vector<Snapshot> snapshots_;
};

using IrVerifier = std::function<Diagnostics(const ir::Module&)>;
IrVerifier defaultIrVerifier(); // ir::verify

// Runs the verifier after every pass. On failure the record fails with the
// verifier's diagnostics (naming the op) plus a note with the reproducer: the
// IR from before the failing pass (<dir>/<stem>.sir) and the failing pipeline
// entry (<stem>.pipeline), so `stc opt <stem>.sir -p "$(cat <stem>.pipeline)"`
// shows the failure again. Directory: the context's reproducerDir, else the
// system temp dir.
class VerifyEachInstrument : public Instrument {
public:
    explicit VerifyEachInstrument(std::string reproducerDir, IrVerifier verifier = defaultIrVerifier(),
                                  IrPrinter printer = defaultIrPrinter());
    std::string name() const override { return "verify-each"; }
    void beforePipeline(const Pipeline&, const ir::Module& input) override;
    void beforePass(const PassEvent&, const ir::Module& m) override { before_ = m; }
    void afterPass(const PassEvent&, const ir::Module&, PassRecord&) override;
    // Paths written for the last failure (empty if none).
    const std::string& reproducerIr() const { return reproIr_; }
    const std::string& reproducerPipeline() const { return reproPipeline_; }

private:
    std::string dir_;
    IrVerifier verifier_;
    IrPrinter printer_;
    ir::Module before_;
    std::string reproIr_, reproPipeline_;
};

// Statistics of every pass, accumulated over runs (the `--stats` report).
class StatisticsInstrument : public Instrument {
public:
    struct Row {
        std::string pass;
        Statistic stat;
    };
    std::string name() const override { return "statistics"; }
    void afterPass(const PassEvent&, const ir::Module&, PassRecord& r) override;
    const std::vector<Row>& rows() const { return rows_; }
    std::string report() const;

private:
    std::vector<Row> rows_;
};

// Calls a function for every hook; for tests and ad-hoc observers.
class CallbackInstrument : public Instrument {
public:
    using Fn = std::function<void(const std::string& hook, int entryIndex, const ir::Module*)>;
    explicit CallbackInstrument(Fn fn) : fn_(std::move(fn)) {}
    std::string name() const override { return "callback"; }
    void beforePipeline(const Pipeline&, const ir::Module& m) override { fn_("before-pipeline", -1, &m); }
    void beforePass(const PassEvent& e, const ir::Module& m) override { fn_("before-pass", e.entryIndex, &m); }
    void afterPass(const PassEvent& e, const ir::Module& m, PassRecord&) override { fn_("after-pass", e.entryIndex, &m); }
    void afterPassFailed(const PassEvent& e, const ir::Module& m, const PassRecord&) override
    {
        fn_("after-pass-failed", e.entryIndex, &m);
    }
    void afterPipeline(const RunResult&) override { fn_("after-pipeline", -1, nullptr); }

private:
    Fn fn_;
};

} // namespace stc::passes

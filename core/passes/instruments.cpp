#include "passes/instruments.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace stc::passes {

void TimingInstrument::afterPass(const PassEvent&, const ir::Module&, PassRecord& r)
{
    rows_.push_back({r.pass, r.seconds});
}

void TimingInstrument::afterPassFailed(const PassEvent&, const ir::Module&, const PassRecord& r)
{
    rows_.push_back({r.pass + " (" + toString(r.status) + ")", r.seconds});
}

std::string TimingInstrument::report() const
{
    double total = 0.0;
    for (const auto& r : rows_)
        total += r.seconds;
    std::string out = "===- pass execution timing -===\n  wall time (s)   share  pass\n";
    char line[256];
    for (const auto& r : rows_) {
        std::snprintf(line, sizeof line, "  %12.6f  %5.1f%%  %s\n", r.seconds, total > 0 ? 100.0 * r.seconds / total : 0.0,
                      r.pass.c_str());
        out += line;
    }
    std::snprintf(line, sizeof line, "  %12.6f  100.0%%  total\n", total);
    return out + line;
}

SnapshotInstrument::SnapshotInstrument(IrPrinter printer, bool keepBefore)
    : printer_(std::move(printer)), keepBefore_(keepBefore)
{
}

void SnapshotInstrument::beforePass(const PassEvent&, const ir::Module& m)
{
    // The "after" text of the previous pass is the "before" of this one.
    if (!keepBefore_)
        pendingBefore_.clear();
    else if (!snapshots_.empty() && !snapshots_.back().after.empty())
        pendingBefore_ = snapshots_.back().after;
    else
        pendingBefore_ = printer_(m);
}

void SnapshotInstrument::afterPass(const PassEvent& e, const ir::Module& m, PassRecord& r)
{
    snapshots_.push_back({e.entryIndex, e.entry.pass, std::move(pendingBefore_), printer_(m), r.changed});
}

void SnapshotInstrument::afterPassFailed(const PassEvent& e, const ir::Module&, const PassRecord&)
{
    snapshots_.push_back({e.entryIndex, e.entry.pass, std::move(pendingBefore_), {}, false});
}

VerifyEachInstrument::VerifyEachInstrument(std::string reproducerDir, IrVerifier verifier, IrPrinter printer)
    : dir_(std::move(reproducerDir)), verifier_(std::move(verifier)), printer_(std::move(printer))
{
}

void VerifyEachInstrument::beforePipeline(const Pipeline&, const ir::Module&)
{
    reproIr_.clear();
    reproPipeline_.clear();
}

void VerifyEachInstrument::afterPass(const PassEvent& e, const ir::Module& m, PassRecord& r)
{
    Diagnostics d = verifier_(m);
    if (!d.hasErrors())
        return;
    r.status = PassStatus::Failed;
    for (auto diag : d.items()) {
        if (diag.severity == Severity::Error)
            diag.message = "verifier failed after pass '" + e.entry.pass + "': " + diag.message;
        r.diagnostics.add(std::move(diag));
    }

    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path dir = dir_.empty() ? fs::temp_directory_path(ec) / "stc-reproducers" : fs::path(dir_);
    fs::create_directories(dir, ec);
    std::string stem;
    for (int n = 0;; ++n) {
        stem = "repro-" + std::to_string(e.entryIndex + 1) + "-" + e.entry.pass + (n ? "-" + std::to_string(n) : "");
        if (!fs::exists(dir / (stem + ".sir"), ec))
            break;
    }
    const fs::path irPath = dir / (stem + ".sir");
    const fs::path pipePath = dir / (stem + ".pipeline");
    Pipeline failing;
    failing.entries.push_back(e.entry);
    std::ofstream(irPath) << printer_(before_);
    std::ofstream(pipePath) << failing.print() << "\n";
    if (!fs::exists(irPath, ec) || !fs::exists(pipePath, ec)) {
        r.diagnostics.add({Severity::Note, {}, e.entry.pass, {}, "could not write a reproducer to " + dir.string()});
        return;
    }
    reproIr_ = irPath.string();
    reproPipeline_ = pipePath.string();
    r.diagnostics.add({Severity::Note, {}, e.entry.pass, {},
                       "reproducer: input IR " + reproIr_ + ", pipeline " + reproPipeline_ + " (run: stc opt " +
                           reproIr_ + " -p \"" + failing.print() + "\" --verify-each)"});
}

void StatisticsInstrument::afterPass(const PassEvent&, const ir::Module&, PassRecord& r)
{
    for (const auto& s : r.stats.items())
        rows_.push_back({r.pass, s});
}

std::string StatisticsInstrument::report() const
{
    std::string out = "===- pass statistics -===\n";
    for (const auto& row : rows_)
        out += "  " + row.pass + ": " + row.stat.name + " = " + formatStatValue(row.stat.value) + "\n";
    return out;
}

} // namespace stc::passes

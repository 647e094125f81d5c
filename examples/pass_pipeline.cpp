// Pass pipelines: parse pipeline text, run it with instruments, toggle an
// entry, cancel a run. docs/api-guide.md, "Pass pipelines".
//   example_pass_pipeline MODEL.sir
#include "ir/ir_io.h"
#include "passes/context.h"
#include "passes/instruments.h"
#include "passes/pipeline.h"
#include "passes/registry.h"
#include "passes/runner.h"

#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_set>

using namespace stc;

namespace {

// Lines of `a` that are not in `b` (a rough size of a pass's diff).
int linesOnlyIn(const std::string& a, const std::string& b)
{
    std::unordered_multiset<std::string> other;
    std::istringstream bs(b), as(a);
    for (std::string line; std::getline(bs, line);)
        other.insert(line);
    int n = 0;
    for (std::string line; std::getline(as, line);) {
        auto it = other.find(line);
        if (it == other.end())
            ++n;
        else
            other.erase(it);
    }
    return n;
}

void printRecords(const passes::RunResult& r)
{
    std::printf("run: %s, IR now %zu ops\n", passes::toString(r.status), r.module.ops().size());
    for (const passes::PassRecord& rec : r.records)
        std::printf("  %-22s %-9s %-9s %zu statistic(s)\n", rec.entryText.c_str(), passes::toString(rec.status),
                    rec.changed ? "changed" : "-", rec.stats.items().size());
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: example_pass_pipeline MODEL.sir\n");
        return 2;
    }
    const ir::LoadResult loaded = ir::loadModule(argv[1]);
    if (!loaded.ok()) {
        std::fprintf(stderr, "%s", loaded.diagnostics.format().c_str());
        return 1;
    }
    const ir::Module& input = *loaded.module;

    // The registry knows every pass and its options; it is a plain value (no global).
    const passes::PassRegistry registry = passes::makeBuiltinRegistry();
    std::printf("passes:");
    for (const std::string& name : registry.passNames())
        std::printf(" %s", name.c_str());
    std::printf("\n");

    // Pipeline text -> Pipeline. Errors carry the column of the offending entry.
    Diagnostics diags;
    std::optional<passes::Pipeline> pipeline =
        passes::parsePipeline("fold-bn,canonicalize,dce,quantize{bits=8}", registry, diags);
    if (!pipeline) {
        std::fprintf(stderr, "%s", diags.format().c_str());
        return 1;
    }
    std::printf("pipeline: %s\n", pipeline->print(registry).c_str());
    for (const char* text : {"fold-bn,quantise{bits=8}", "fold-bn,quantize{bits=1}"}) {
        Diagnostics d;
        passes::parsePipeline(text, registry, d);
        std::printf("%s -> %s", text, d.format().c_str());
    }
    // Order constraints are checked against the input IR before anything runs.
    Diagnostics order;
    if (auto reversed = passes::parsePipeline("quantize{bits=8},fold-bn", registry, order)) {
        passes::checkOrder(*reversed, registry, &input, order);
        std::printf("order: %s", order.format().c_str());
    }

    // Run with instruments. The input module is never modified.
    passes::CompileContext ctx;
    auto timing = std::make_shared<passes::TimingInstrument>();
    auto snapshots = std::make_shared<passes::SnapshotInstrument>();
    auto stats = std::make_shared<passes::StatisticsInstrument>();
    ctx.instruments = {timing, snapshots, stats};
    const passes::RunResult result = passes::runPipeline(input, *pipeline, registry, ctx);
    printRecords(result);
    std::printf("timing rows: %zu (TimingInstrument::report() prints the --time-passes table)\n",
                timing->rows().size());
    for (const auto& s : snapshots->snapshots())
        std::printf("  diff of %-12s +%d -%d lines\n", s.pass.c_str(), linesOnlyIn(s.after, s.before),
                    linesOnlyIn(s.before, s.after));
    for (const auto& row : stats->rows())
        if (row.stat.name == "bn-folded" || row.stat.name == "layers-quantized" || row.stat.name == "weight-bytes")
            std::printf("  %s: %s = %s\n", row.pass.c_str(), row.stat.name.c_str(),
                        passes::formatStatValue(row.stat.value).c_str());

    // Toggle an entry off (the IDE's checkbox): it prints with a leading '-' and is skipped.
    pipeline->entries[1].enabled = false;
    std::printf("toggled: %s\n", pipeline->print(registry).c_str());
    printRecords(passes::runPipeline(input, *pipeline, registry, ctx));

    // Cancel: CompileContext::cancel() is an atomic flag, callable from any
    // thread. Here an instrument cancels after the first pass; the runner
    // stops before the next one and returns the IR after the last pass that ran.
    passes::CompileContext cancelling;
    cancelling.instruments = {std::make_shared<passes::CallbackInstrument>(
        [&](const std::string& hook, int entry, const ir::Module*) {
            if (hook == "after-pass" && entry == 0)
                cancelling.cancel();
        })};
    pipeline->entries[1].enabled = true;
    printRecords(passes::runPipeline(input, *pipeline, registry, cancelling));
    return result.ok() ? 0 : 1;
}

#include "passes/runner.h"

#include "ir/printer.h"
#include "passes/instruments.h"
#include "passes/rewrite.h"

#include <chrono>

namespace stc::passes {

const char* toString(PassStatus s)
{
    switch (s) {
    case PassStatus::NotRun: return "not-run";
    case PassStatus::Ok: return "ok";
    case PassStatus::Failed: return "failed";
    case PassStatus::Skipped: return "skipped";
    case PassStatus::Cancelled: return "cancelled";
    }
    return "?";
}

const char* toString(RunStatus s)
{
    switch (s) {
    case RunStatus::Ok: return "ok";
    case RunStatus::Failed: return "failed";
    case RunStatus::Cancelled: return "cancelled";
    }
    return "?";
}

Diagnostics RunResult::allDiagnostics() const
{
    Diagnostics all = diagnostics;
    for (const auto& r : records)
        all.append(r.diagnostics);
    return all;
}

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

} // namespace

RunResult runPipeline(const ir::Module& input, const Pipeline& pipeline, const PassRegistry& registry,
                      CompileContext& ctx)
{
    const auto start = Clock::now();
    RunResult result;
    result.module = input;
    for (size_t i = 0; i < pipeline.entries.size(); ++i) {
        PassRecord rec;
        rec.entryIndex = static_cast<int>(i);
        rec.pass = pipeline.entries[i].pass;
        Pipeline single;
        single.entries.push_back(pipeline.entries[i]);
        rec.entryText = single.print(registry);
        result.records.push_back(std::move(rec));
    }

    const std::vector<std::string> disabled(ctx.disabledPasses.begin(), ctx.disabledPasses.end());
    bool valid = validateEntries(pipeline, registry, result.diagnostics);
    valid = valid && checkOrder(pipeline, registry, &input, result.diagnostics, disabled);
    if (!valid) {
        result.status = RunStatus::Failed;
        result.seconds = secondsSince(start);
        return result;
    }

    for (auto& instr : ctx.instruments)
        instr->beforePipeline(pipeline, input);

    ir::Module& work = result.module;
    const int count = static_cast<int>(pipeline.entries.size());
    for (int i = 0; i < count; ++i) {
        const PipelineEntry& entry = pipeline.entries[size_t(i)];
        PassRecord& rec = result.records[size_t(i)];
        if (!entry.enabled || ctx.disabledPasses.count(entry.pass)) {
            rec.status = PassStatus::Skipped;
            continue;
        }
        if (ctx.cancelled()) {
            result.status = RunStatus::Cancelled;
            break;
        }
        const PassDef& def = *registry.find(entry.pass);
        PassRun run(def.info, Options(def.info.options, entry.options), ctx, i, count);
        const PassEvent event{i, entry, def.info, pipeline};
        run.progress(0.0);
        for (auto& instr : ctx.instruments)
            instr->beforePass(event, work);

        if (const int32_t delay = def.info.handlesDelay ? -1 : firstDelayOp(work); delay >= 0) {
            const ir::Op& op = work.ops()[size_t(delay)];
            run.diagnostics().add({Severity::Error, op.textLoc, ir::opLabel(work, op), op.origin,
                                   def.info.name + ": not yet: this pass does not handle delay ops (recurrent "
                                                   "back edges); a module with one runs in the interpreters and "
                                                   "through dce, canonicalize, fold-bn, reassociate-matmul, lower-attention, "
                                                   "fuse, set-timesteps, scale-thresholds, quantize, "
                                                   "schedule-time and the chip mapping (partition, place, "
                                                   "route) only"});
        }
        ir::Module before = work; // constants are shared, so this copy is cheap
        const auto t0 = Clock::now();
        rec.status = PassStatus::Ok;
        try {
            if (!run.diags().hasErrors())
                def.run(work, run);
        } catch (const PassCancelled&) {
            rec.status = PassStatus::Cancelled;
        } catch (const std::exception& ex) {
            run.error(std::string("internal error: ") + ex.what());
        }
        rec.seconds = secondsSince(t0);
        rec.stats = run.statistics();
        rec.diagnostics = run.diags();
        if (rec.status == PassStatus::Ok && rec.diagnostics.hasErrors())
            rec.status = PassStatus::Failed;
        if (rec.status == PassStatus::Ok) {
            rec.changed = !before.sameAs(work);
            if (rec.changed && def.info.kind == PassKind::Analysis) {
                rec.status = PassStatus::Failed;
                rec.diagnostics.error({}, entry.pass, "analysis pass modified the IR");
            }
        }
        if (rec.status == PassStatus::Ok) {
            run.progress(1.0);
            for (auto& instr : ctx.instruments)
                instr->afterPass(event, work, rec);
        }
        if (rec.status != PassStatus::Ok) {
            work = std::move(before);
            rec.changed = false;
            for (auto& instr : ctx.instruments)
                instr->afterPassFailed(event, work, rec);
            result.status = rec.status == PassStatus::Cancelled ? RunStatus::Cancelled : RunStatus::Failed;
            break;
        }
    }
    result.seconds = secondsSince(start);
    for (auto& instr : ctx.instruments)
        instr->afterPipeline(result);
    return result;
}

} // namespace stc::passes

#include "store/sweep.h"

#include "passes/evaluate.h"
#include "passes/runner.h"
#include "store/convert.h"
#include "target/cost_model.h"
#include "target/target_passes.h"

#include <algorithm>
#include <chrono>
#include <memory>

namespace stc::store {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string firstError(const Diagnostics& d, const std::string& fallback)
{
    for (const auto& item : d.items())
        if (item.severity == Severity::Error)
            return item.op.empty() ? item.message : "[" + item.op + "] " + item.message;
    return fallback;
}

std::string mapPipeline(const std::string& chip)
{
    return "partition{chip=" + passes::formatOptionValue(chip) + "},place,route";
}

} // namespace

std::string sweepPipeline(int bits, double sparsity, const std::string& pruneMode)
{
    std::string p = "fold-bn,";
    if (sparsity > 0)
        p += "prune{sparsity=" + passes::formatOptionValue(sparsity) + " mode=" + pruneMode + "},";
    return p + "fuse,quantize{bits=" + std::to_string(bits) + "}";
}

std::vector<size_t> energyAccuracyFront(const std::vector<SweepPoint>& points)
{
    std::vector<XY> xy;
    std::vector<size_t> index;
    for (size_t i = 0; i < points.size(); ++i)
        if (points[i].compile.mapped && points[i].accuracy) {
            xy.push_back({points[i].compile.energyPj, points[i].accuracy->accuracy()});
            index.push_back(i);
        }
    std::vector<size_t> front;
    for (size_t k : paretoFront(xy, higherIsBetter(Metric::EnergyPj), higherIsBetter(Metric::Accuracy)))
        front.push_back(index[k]);
    return front;
}

SweepResult runSweep(const ir::Module& model, const data::ImageSet& test, const passes::CalibrationProvider& calibration,
                     const SweepSpec& spec, Project* project, const SweepProgress& progress,
                     const std::atomic<bool>* cancel)
{
    SweepResult result;
    if (model.attrs.getBool("quantized")) {
        result.error = "the model is already quantized; a sweep needs the float model";
        return result;
    }
    if (spec.bits.empty() || spec.sparsity.empty()) {
        result.error = "nothing to sweep: give at least one bit width and one sparsity";
        return result;
    }
    const int64_t n = std::min<int64_t>(spec.limit, test.count);
    if (n <= 0 || test.labels.size() < size_t(n)) {
        result.error = "no labelled test images to evaluate";
        return result;
    }
    auto session = std::make_shared<target::TargetSession>();
    passes::PassRegistry registry = passes::makeBuiltinRegistry();
    target::registerTargetPasses(registry, session);

    // Parse every configuration first, so a bad value stops the sweep before any work.
    struct Config {
        int bits;
        double sparsity;
        passes::Pipeline ir;
        std::optional<passes::Pipeline> map;
    };
    std::vector<Config> configs;
    for (int b : spec.bits)
        for (double s : spec.sparsity) {
            Diagnostics d;
            const std::string text = sweepPipeline(b, s, spec.pruneMode);
            auto ir = passes::parsePipeline(text, registry, d);
            std::optional<passes::Pipeline> map;
            if (ir && !spec.chip.empty())
                map = passes::parsePipeline(mapPipeline(spec.chip), registry, d);
            if (!ir || (!spec.chip.empty() && !map)) {
                result.error = "configuration bits=" + std::to_string(b) + " sparsity=" +
                               passes::formatOptionValue(s) + ": " + firstError(d, "bad pipeline") + " (in '" + text +
                               "')";
                return result;
            }
            configs.push_back({b, s, std::move(*ir), std::move(map)});
        }

    if (project)
        result.sweepId = project->addSweep(spec.description);
    if (spec.floatBaseline) {
        const auto t0 = Clock::now();
        passes::EvalResult e = passes::evaluateTop1(model, test, passes::ExecPath::Float, 0, n, spec.threads, cancel);
        if (e.error.empty() && e.images == n) {
            result.floatBaseline = AccuracyResult{"fashion-mnist", "test", 0, e.images, e.correct, EvalPath::Float,
                                                  secondsSince(t0)};
            if (project) {
                RunMeta meta;
                meta.label = "float baseline";
                meta.sweepId = result.sweepId;
                result.floatRunId = project->addAccuracyRun(meta, *result.floatBaseline);
            }
        } else if (!e.error.empty()) {
            result.error = "float model: " + e.error;
            return result;
        }
    }

    for (const Config& c : configs) {
        if (cancel && cancel->load()) {
            result.cancelled = true;
            break;
        }
        SweepPoint p;
        p.bits = c.bits;
        p.sparsity = c.sparsity;
        p.pipeline = c.ir.print(registry) + (c.map ? "," + c.map->print(registry) : std::string{});
        const auto t0 = Clock::now();
        passes::CompileContext ctx;
        ctx.target = spec.chip;
        ctx.calibration = calibration;
        passes::RunResult compiled = passes::runPipeline(model, c.ir, registry, ctx);
        p.compile.status = toCompileStatus(compiled.status);
        p.compile.passes = toPassRows(compiled.records);
        for (const auto& rec : compiled.records)
            if (rec.pass == "prune")
                p.sparsityAchieved = rec.stats.getFloat("sparsity-achieved");
        if (!compiled.ok()) {
            p.error = firstError(compiled.allDiagnostics(), "compile failed");
            p.compile.notMappedReason = "not compiled";
        } else if (c.map) {
            *session = target::TargetSession{};
            passes::RunResult mapped = passes::runPipeline(compiled.module, *c.map, registry, ctx);
            auto rows = toPassRows(mapped.records, int(p.compile.passes.size()));
            p.compile.passes.insert(p.compile.passes.end(), rows.begin(), rows.end());
            if (mapped.ok() && session->routed && session->chip) {
                setMapping(p.compile, session->mapping,
                           target::estimateCost(session->network, session->mapping, *session->chip));
            } else {
                p.compile.notMappedReason = firstError(mapped.allDiagnostics(), "mapping failed");
            }
        } else {
            p.compile.notMappedReason = "no chip given";
        }
        p.compile.seconds = secondsSince(t0);
        if (compiled.ok()) {
            const auto t1 = Clock::now();
            passes::EvalResult e =
                passes::evaluateTop1(compiled.module, test, passes::ExecPath::FixedPoint, 0, n, spec.threads, cancel);
            if (!e.error.empty())
                p.error = "fixed-point evaluation: " + e.error;
            else if (e.images == n)
                p.accuracy = AccuracyResult{"fashion-mnist", "test", 0, e.images, e.correct, EvalPath::FixedPoint,
                                            secondsSince(t1)};
            else
                result.cancelled = true; // the evaluation stopped early
        }
        if (result.cancelled)
            break;
        if (project) {
            RunMeta meta;
            meta.chip = spec.chip;
            meta.pipeline = p.pipeline;
            meta.sweepId = result.sweepId;
            meta.label = "bits=" + std::to_string(p.bits) + " sparsity=" + passes::formatOptionValue(p.sparsity);
            meta.params = {{"bits", std::to_string(p.bits)},
                           {"sparsity", passes::formatOptionValue(p.sparsity)},
                           {"sparsity-achieved", passes::formatOptionValue(p.sparsityAchieved)},
                           {"prune-mode", spec.pruneMode}};
            project->transaction([&] {
                p.compileRunId = project->addCompileRun(meta, p.compile);
                if (p.accuracy) {
                    RunMeta am = meta;
                    am.pipeline = c.ir.print(registry);
                    am.compileRunId = p.compileRunId;
                    p.accuracyRunId = project->addAccuracyRun(am, *p.accuracy);
                }
            });
        }
        result.points.push_back(std::move(p));
        if (progress)
            progress(result.points.back(), result.points.size(), configs.size());
    }
    return result;
}

} // namespace stc::store

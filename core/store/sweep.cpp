#include "store/sweep.h"
#include "store/sweep_runner.h"

#include "passes/evaluate.h"
#include "passes/runner.h"
#include "store/convert.h"
#include "target/cost_model.h"
#include "target/target_passes.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <random>

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

} // namespace

const char* toString(SweepStrategy s)
{
    switch (s) {
    case SweepStrategy::Grid: return "grid";
    case SweepStrategy::Random: return "random";
    case SweepStrategy::Halving: return "halving";
    }
    return "?";
}

std::string SweepConfig::label() const
{
    std::string l = "bits=" + std::to_string(bits) + " sparsity=" + passes::formatOptionValue(sparsity);
    if (timesteps > 0)
        l += " T=" + std::to_string(timesteps);
    if (thresholdScale != 1.0)
        l += " vth-scale=" + passes::formatOptionValue(thresholdScale);
    if (chips > 1)
        l += " chips=" + std::to_string(chips);
    return l;
}

std::string sweepPipeline(const SweepConfig& c, const std::string& pruneMode)
{
    std::string p;
    if (c.timesteps > 0)
        p += "set-timesteps{t=" + std::to_string(c.timesteps) + "},";
    p += "fold-bn,";
    if (c.thresholdScale != 1.0)
        p += "scale-thresholds{factor=" + passes::formatOptionValue(c.thresholdScale) + "},";
    if (c.sparsity > 0)
        p += "prune{sparsity=" + passes::formatOptionValue(c.sparsity) + " mode=" + pruneMode + "},";
    return p + "fuse,quantize{bits=" + std::to_string(c.bits) + "}";
}

std::string sweepMapPipeline(const std::string& chip, int chips)
{
    std::string p = "partition{chip=" + passes::formatOptionValue(chip);
    if (chips > 1)
        p += " chips=" + std::to_string(chips);
    return p + "},place,route";
}

std::vector<SweepConfig> sweepConfigurations(const SweepSpec& spec)
{
    const std::vector<int64_t> steps = spec.timesteps.empty() ? std::vector<int64_t>{0} : spec.timesteps;
    std::vector<SweepConfig> grid;
    for (int b : spec.bits)
        for (double s : spec.sparsity)
            for (int64_t t : steps)
                for (double f : spec.thresholdScale)
                    for (int n : spec.chips)
                        grid.push_back({b, s, t, f, n});
    if (spec.strategy == SweepStrategy::Random && spec.samples > 0 && size_t(spec.samples) < grid.size()) {
        std::mt19937_64 rng(spec.seed);
        std::vector<size_t> order(grid.size());
        std::iota(order.begin(), order.end(), size_t(0));
        for (size_t i = 0; i < size_t(spec.samples); ++i) // partial Fisher-Yates: the first `samples` are the draw
            std::swap(order[i], order[i + size_t(rng() % (grid.size() - i))]);
        order.resize(size_t(spec.samples));
        std::sort(order.begin(), order.end()); // run in grid order
        std::vector<SweepConfig> drawn;
        for (size_t i : order)
            drawn.push_back(grid[i]);
        return drawn;
    }
    return grid;
}

std::vector<size_t> energyAccuracyFront(const std::vector<SweepPoint>& points)
{
    // Accuracies on fewer images (dropped early by halving) are not compared
    // with full ones.
    int64_t images = 0;
    for (const SweepPoint& p : points)
        if (p.accuracy)
            images = std::max(images, p.accuracy->samples);
    std::vector<XY> xy;
    std::vector<size_t> index;
    for (size_t i = 0; i < points.size(); ++i)
        if (points[i].compile.mapped && points[i].accuracy && points[i].accuracy->samples == images) {
            xy.push_back({points[i].compile.energyPj, points[i].accuracy->accuracy()});
            index.push_back(i);
        }
    std::vector<size_t> front;
    for (size_t k : paretoFront(xy, higherIsBetter(Metric::EnergyPj), higherIsBetter(Metric::Accuracy)))
        front.push_back(index[k]);
    return front;
}

namespace detail {

std::optional<Config> parseConfig(const SweepConfig& sc, const SweepSpec& spec, const passes::PassRegistry& registry,
                                  std::string* error)
{
    Diagnostics d;
    const std::string text = sweepPipeline(sc, spec.pruneMode);
    auto ir = passes::parsePipeline(text, registry, d);
    std::optional<passes::Pipeline> map;
    if (ir && !spec.chip.empty())
        map = passes::parsePipeline(sweepMapPipeline(spec.chip, sc.chips), registry, d);
    if (!ir || (!spec.chip.empty() && !map)) {
        *error = "configuration " + sc.label() + ": " + firstError(d, "bad pipeline") + " (in '" + text + "')";
        return std::nullopt;
    }
    Config c{sc, std::move(*ir), std::move(map), {}};
    c.pipelineText = c.ir.print(registry) + (c.map ? "," + c.map->print(registry) : std::string{});
    return c;
}

std::map<std::string, ConfigPoint> measuredPoints(const Project& project, const std::string& chip, int64_t images)
{
    std::map<std::string, ConfigPoint> out;
    RunFilter f;
    f.chip = chip;
    if (const auto current = project.info().model)
        f.modelId = current->id;
    for (ConfigPoint& cp : project.configurations(f))
        if (cp.accuracy && cp.accuracy->path == EvalPath::FixedPoint && cp.accuracy->firstSample == 0 &&
            cp.accuracy->samples == images && cp.compile.status == CompileStatus::Ok)
            out[cp.meta.pipeline] = std::move(cp); // the newest wins
    return out;
}

} // namespace detail

std::vector<bool> measuredInProject(const Project& project, const SweepSpec& spec, int64_t images)
{
    passes::PassRegistry registry = passes::makeBuiltinRegistry();
    target::registerTargetPasses(registry, std::make_shared<target::TargetSession>());
    const auto earlier = detail::measuredPoints(project, spec.chip, images);
    std::vector<bool> out;
    for (const SweepConfig& sc : sweepConfigurations(spec)) {
        std::string error;
        const auto c = detail::parseConfig(sc, spec, registry, &error);
        out.push_back(c && earlier.count(c->pipelineText));
    }
    return out;
}

namespace detail {

SweepRunner::SweepRunner(const ir::Module& model, const data::ImageSet& test,
                         const passes::CalibrationProvider& calibration, const SweepSpec& spec, Project* project,
                         const SweepProgress& progress, const std::atomic<bool>* cancel)
    : model_(model), test_(test), calibration_(calibration), spec_(spec), project_(project), progress_(progress),
      cancel_(cancel), session_(std::make_shared<target::TargetSession>()), registry_(passes::makeBuiltinRegistry())
{
    target::registerTargetPasses(registry_, session_);
    result_.strategy = spec.strategy;
}

bool SweepRunner::prepare()
{
    if (model_.attrs.getBool("quantized")) {
        result_.error = "the model is already quantized; a sweep needs the float model";
        return false;
    }
    if (spec_.bits.empty() || spec_.sparsity.empty() || spec_.thresholdScale.empty() || spec_.chips.empty()) {
        result_.error = "nothing to sweep: give at least one value for every dimension";
        return false;
    }
    n_ = std::min<int64_t>(spec_.limit, test_.count);
    if (n_ <= 0 || test_.labels.size() < size_t(n_)) {
        result_.error = "no labelled test images to evaluate";
        return false;
    }
    if (spec_.strategy == SweepStrategy::Halving) {
        if (spec_.chip.empty()) {
            result_.error = "successive halving ranks configurations by energy: it needs a chip to map onto";
            return false;
        }
        if (!(spec_.accuracyBudget > 0 && spec_.accuracyBudget <= 1)) {
            result_.error = "successive halving needs an accuracy budget in (0, 1] (e.g. 0.85 for 85 %)";
            return false;
        }
    }
    for (const SweepConfig& sc : sweepConfigurations(spec_)) {
        std::string error;
        auto c = parseConfig(sc, spec_, registry_, &error);
        if (!c) {
            result_.error = error;
            return false;
        }
        configs_.push_back(std::move(*c));
    }
    result_.gridSize = configs_.size();
    result_.gridImages = int64_t(configs_.size()) * n_;
    if (!spec_.only.empty()) { // this process's share of the grid
        std::vector<Config> mine;
        for (size_t i : spec_.only) {
            if (i >= configs_.size()) {
                result_.error = "configuration index " + std::to_string(i) + " is outside the grid of " +
                                std::to_string(configs_.size());
                return false;
            }
            mine.push_back(configs_[i]);
        }
        configs_ = std::move(mine);
    }
    if (project_ && spec_.resume)
        earlier_ = measuredPoints(*project_, spec_.chip, n_);
    if (project_)
        result_.sweepId = spec_.sweepId ? spec_.sweepId : project_->addSweep(spec_.description);
    if (spec_.floatBaseline) {
        const auto t0 = Clock::now();
        passes::EvalResult e = passes::evaluateTop1(model_, test_, passes::ExecPath::Float, 0, n_, spec_.threads, cancel_);
        if (e.error.empty() && e.images == n_) {
            result_.floatBaseline = AccuracyResult{"fashion-mnist", "test", 0, e.images, e.correct, EvalPath::Float,
                                                   secondsSince(t0)};
            if (project_) {
                RunMeta meta;
                meta.label = "float baseline";
                meta.sweepId = result_.sweepId;
                result_.floatRunId = project_->addAccuracyRun(meta, *result_.floatBaseline);
            }
        } else if (!e.error.empty()) {
            result_.error = "float model: " + e.error;
            return false;
        }
    }
    return true;
}

bool SweepRunner::resumeFrom(const Config& c, SweepPoint& p) const
{
    const auto it = earlier_.find(c.pipelineText);
    if (it == earlier_.end())
        return false;
    p.pipeline = c.pipelineText;
    p.compile = it->second.compile;
    p.accuracy = it->second.accuracy;
    p.compileRunId = it->second.meta.id;
    p.accuracyRunId = it->second.accuracyRunId;
    if (const auto s = it->second.meta.params.find("sparsity-achieved"); s != it->second.meta.params.end())
        p.sparsityAchieved = std::atof(s->second.c_str());
    p.resumed = true;
    return true;
}

SweepPoint SweepRunner::compile(const Config& c, std::shared_ptr<const ir::Module>* compiledOut)
{
    SweepPoint p;
    static_cast<SweepConfig&>(p) = c.config;
    p.pipeline = c.pipelineText;
    const auto t0 = Clock::now();
    passes::CompileContext ctx;
    ctx.target = spec_.chip;
    ctx.calibration = calibration_;
    passes::RunResult compiled = passes::runPipeline(model_, c.ir, registry_, ctx);
    p.compile.status = toCompileStatus(compiled.status);
    p.compile.passes = toPassRows(compiled.records);
    for (const auto& rec : compiled.records)
        if (rec.pass == "prune")
            p.sparsityAchieved = rec.stats.getFloat("sparsity-achieved");
    if (!compiled.ok()) {
        p.error = firstError(compiled.allDiagnostics(), "compile failed");
        p.compile.notMappedReason = "not compiled";
    } else if (c.map) {
        *session_ = target::TargetSession{};
        passes::RunResult mapped = passes::runPipeline(compiled.module, *c.map, registry_, ctx);
        auto rows = toPassRows(mapped.records, int(p.compile.passes.size()));
        p.compile.passes.insert(p.compile.passes.end(), rows.begin(), rows.end());
        if (mapped.ok() && session_->routed && session_->chip)
            setMapping(p.compile, session_->mapping,
                       target::estimateCost(session_->network, session_->mapping, *session_->chip));
        else
            p.compile.notMappedReason = firstError(mapped.allDiagnostics(), "mapping failed");
    } else {
        p.compile.notMappedReason = "no chip given";
    }
    p.compile.seconds = secondsSince(t0);
    if (compiled.ok() && compiledOut)
        *compiledOut = std::make_shared<const ir::Module>(std::move(compiled.module));
    return p;
}

bool SweepRunner::evaluate(SweepPoint& p, const ir::Module& compiled, int64_t upTo)
{
    const int64_t from = p.accuracy ? p.accuracy->samples : 0;
    if (upTo <= from)
        return true;
    const auto t0 = Clock::now();
    passes::EvalResult e =
        passes::evaluateTop1(compiled, test_, passes::ExecPath::FixedPoint, from, upTo - from, spec_.threads, cancel_);
    result_.imagesEvaluated += e.images;
    if (!e.error.empty()) {
        p.error = "fixed-point evaluation: " + e.error;
        p.accuracy.reset();
        return false;
    }
    if (e.images != upTo - from) {
        result_.cancelled = true; // the evaluation stopped early
        return false;
    }
    if (!p.accuracy)
        p.accuracy = AccuracyResult{"fashion-mnist", "test", 0, 0, 0, EvalPath::FixedPoint, 0};
    p.accuracy->samples += e.images;
    p.accuracy->correct += e.correct;
    p.accuracy->seconds += secondsSince(t0);
    return true;
}

void SweepRunner::record(SweepPoint& p, const Config& c)
{
    if (!project_ || p.resumed)
        return;
    RunMeta meta;
    meta.chip = spec_.chip;
    meta.pipeline = p.pipeline;
    meta.sweepId = result_.sweepId;
    meta.label = p.label();
    meta.params = {{"bits", std::to_string(p.bits)},
                   {"sparsity", passes::formatOptionValue(p.sparsity)},
                   {"sparsity-achieved", passes::formatOptionValue(p.sparsityAchieved)},
                   {"prune-mode", spec_.pruneMode},
                   {"timesteps", std::to_string(p.timesteps > 0 ? p.timesteps : model_.timesteps)},
                   {"threshold-scale", passes::formatOptionValue(p.thresholdScale)},
                   {"chips", std::to_string(p.chips)}};
    if (!p.eliminated.empty())
        meta.params["halving"] = p.eliminated;
    for (const auto& [key, value] : spec_.params)
        meta.params[key] = value;
    project_->transaction([&] {
        p.compileRunId = project_->addCompileRun(meta, p.compile);
        if (p.accuracy) {
            RunMeta am = meta;
            am.pipeline = c.ir.print(registry_);
            am.compileRunId = p.compileRunId;
            p.accuracyRunId = project_->addAccuracyRun(am, *p.accuracy);
        }
    });
}

void SweepRunner::finish(SweepPoint p, const Config& c)
{
    record(p, c);
    result_.points.push_back(std::move(p));
    if (progress_)
        progress_(result_.points.back(), result_.points.size(), configs_.size());
}

void SweepRunner::runEach()
{
    for (const Config& c : configs_) {
        if (cancelled()) {
            result_.cancelled = true;
            break;
        }
        SweepPoint p;
        static_cast<SweepConfig&>(p) = c.config;
        if (resumeFrom(c, p)) {
            finish(std::move(p), c);
            continue;
        }
        std::shared_ptr<const ir::Module> compiled;
        p = compile(c, &compiled);
        if (compiled && !evaluate(p, *compiled, n_) && result_.cancelled)
            break;
        finish(std::move(p), c);
    }
}

} // namespace detail

SweepResult runSweep(const ir::Module& model, const data::ImageSet& test, const passes::CalibrationProvider& calibration,
                     const SweepSpec& spec, Project* project, const SweepProgress& progress,
                     const std::atomic<bool>* cancel)
{
    detail::SweepRunner runner(model, test, calibration, spec, project, progress, cancel);
    if (runner.prepare()) {
        if (spec.strategy == SweepStrategy::Halving)
            runner.runHalving();
        else
            runner.runEach();
    }
    return runner.take();
}

} // namespace stc::store

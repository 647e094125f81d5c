// stc sweep: quantization bits x pruning sparsity x time steps x threshold
// scale x chips -> accuracy (fixed-point reference) and estimated
// energy/latency (mapping + cost model), as a grid, a random sample or
// successive halving within an accuracy budget; recorded in a project file
// (configurations measured there before are reused); prints the table and
// the energy-vs-accuracy Pareto front.
#include "cli_args.h"
#include "commands.h"
#include "model_input.h"
#include "plugin_host.h"
#include "project_cli.h"
#include "sweep_mpi.h"

#include "data/fashion_mnist.h"
#include "ir/ir_io.h"
#include "passes/calibration.h"
#include "store/sweep.h"

#include <QString>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

namespace stc::cli {

namespace {

constexpr const char* kUsage =
    "usage: stc sweep MODEL.sir|MODEL.pt [--bits 8,6,4] [--sparsity 0,0.25,0.5,0.75] [--timesteps 2,4]\n"
    "                 [--threshold-scale 0.8,1,1.25] [--chips 1,2] [--chip loihi3|none]\n"
    "                 [--strategy grid|random|halving] [--samples K] [--seed S]\n"
    "                 [--accuracy-budget 0.85] [--eta 2] [--first-images N] [--no-resume]\n"
    "                 [--limit N] [--calibration N] [--threads N] [--prune-mode magnitude|channel|head]\n"
    "                 [--input-shape 1,1,28,28] [--project OUT.stcproj]\n"
    "defaults: --bits 8 --sparsity 0 --timesteps (the model's) --threshold-scale 1 --chips 1 --chip loihi3\n"
    "          --strategy grid --limit 500 --calibration 256 --threads 2 --eta 2\n"
    "random draws --samples configurations of the grid (seeded); halving looks for the lowest-energy\n"
    "configuration with top-1 >= --accuracy-budget (a fraction, or a percentage if > 1), evaluating\n"
    "candidates on growing image counts. With --project, configurations already measured there on\n"
    "the same images are reused, not run again (--no-resume runs them again). Exit status 1 when a\n"
    "configuration failed, or halving found none within the budget.\n";


template <typename T> std::optional<std::vector<T>> parseList(const std::string& text)
{
    std::vector<T> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        std::stringstream one(item);
        T v{};
        if (!(one >> v) || !one.eof())
            return std::nullopt;
        out.push_back(v);
    }
    if (out.empty())
        return std::nullopt;
    return out;
}

std::string percent(const std::optional<store::AccuracyResult>& a)
{
    char buf[32];
    if (!a)
        return "—";
    std::snprintf(buf, sizeof buf, "%.2f", 100.0 * a->accuracy());
    return buf;
}

std::string fmt(const char* f, double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

void printTable(const store::SweepResult& r)
{
    const int64_t full = r.gridSize ? r.gridImages / int64_t(r.gridSize) : 0;
    // Halving drops candidates after fewer images: say on how many.
    auto top1 = [&](const store::SweepPoint& p) {
        std::string t = percent(p.accuracy);
        if (p.accuracy && p.accuracy->samples != full)
            t += " (" + std::to_string(p.accuracy->samples) + " images)";
        return t;
    };
    std::printf("| configuration | sparsity achieved | top-1 (%%) | vs float (pp) | cores | energy/inference (µJ) | "
                "latency (µs) | compile (s) | eval (s) | notes |\n"
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (const auto& p : r.points) {
        const auto& c = p.compile;
        std::string delta = "—";
        if (p.accuracy && r.floatBaseline)
            delta = fmt("%+.2f", 100.0 * (p.accuracy->accuracy() - r.floatBaseline->accuracy()));
        std::string notes = p.error;
        if (notes.empty() && !c.mapped)
            notes = "not mapped: " + c.notMappedReason;
        if (p.resumed)
            notes += notes.empty() ? "resumed from the project" : "; resumed from the project";
        if (!p.eliminated.empty())
            notes += (notes.empty() ? "halving: " : "; halving: ") + p.eliminated;
        std::printf("| %s | %.3f | %s | %s | %s | %s | %s | %.2f | %s | %s |\n", p.label().c_str(),
                    p.sparsityAchieved, top1(p).c_str(), delta.c_str(),
                    c.mapped ? std::to_string(c.coresUsed).c_str() : "—",
                    c.mapped ? fmt("%.4g", c.energyPj * 1e-6).c_str() : "—",
                    c.mapped ? fmt("%.4g", c.latencyNs * 1e-3).c_str() : "—", c.seconds,
                    p.accuracy ? fmt("%.2f", p.accuracy->seconds).c_str() : "—", notes.c_str());
    }
}

void printFront(const store::SweepResult& r)
{
    const std::vector<size_t> front = store::energyAccuracyFront(r.points);
    if (front.empty()) {
        std::printf("\nPareto front: none (no configuration was both mapped and evaluated)\n");
        return;
    }
    std::printf("\nPareto front, estimated energy per inference vs top-1 (%zu of %zu configurations):\n", front.size(),
                r.points.size());
    for (size_t i : front) {
        const auto& p = r.points[i];
        std::printf("  %-40s %10.4g µJ  %6.2f %%  %s\n", p.label().c_str(), p.compile.energyPj * 1e-6, 100.0 * p.accuracy->accuracy(),
                    p.compileRunId ? ("(run " + std::to_string(p.compileRunId) + ")").c_str() : "");
    }
}

void printSearch(const store::SweepResult& r, const store::SweepSpec& spec)
{
    size_t resumed = 0;
    for (const auto& p : r.points)
        resumed += p.resumed;
    std::printf("\nstrategy %s: %zu of %zu grid configurations, %zu resumed from the project; %lld fixed-point image "
                "evaluations (the whole grid on every image: %lld)\n",
                store::toString(r.strategy), r.points.size(), r.gridSize, resumed, (long long)r.imagesEvaluated,
                (long long)r.gridImages);
    if (r.strategy != store::SweepStrategy::Halving)
        return;
    for (const auto& line : r.rounds)
        std::printf("  %s\n", line.c_str());
    if (r.best) {
        const auto& b = r.points[*r.best];
        std::printf("lowest energy with top-1 >= %.2f %%: %s, %.4g µJ, %.2f %% on %lld images%s\n",
                    100 * spec.accuracyBudget, b.label().c_str(), b.compile.energyPj * 1e-6,
                    100 * b.accuracy->accuracy(), (long long)b.accuracy->samples,
                    b.compileRunId ? (" (run " + std::to_string(b.compileRunId) + ")").c_str() : "");
    } else {
        std::printf("no configuration reached top-1 >= %.2f %% on all %lld images\n", 100 * spec.accuracyBudget,
                    (long long)(r.gridSize ? r.gridImages / int64_t(r.gridSize) : 0));
    }
}

} // namespace

int runSweepCommand(const Args& argsIn)
{
    Args args = argsIn;
    const auto bitsText = takeOption(args, "--bits");
    const auto sparsityText = takeOption(args, "--sparsity");
    const auto chip = takeOption(args, "--chip");
    const auto limitText = takeOption(args, "--limit");
    const auto calibText = takeOption(args, "--calibration");
    const auto threadsText = takeOption(args, "--threads");
    const auto pruneMode = takeOption(args, "--prune-mode");
    const auto shapeText = takeOption(args, "--input-shape");
    const auto projectPath = takeOption(args, "--project");
    const auto stepsText = takeOption(args, "--timesteps");
    const auto scaleText = takeOption(args, "--threshold-scale");
    const auto chipsText = takeOption(args, "--chips");
    const auto strategy = takeOption(args, "--strategy");
    const auto samplesText = takeOption(args, "--samples");
    const auto seedText = takeOption(args, "--seed");
    const auto budgetText = takeOption(args, "--accuracy-budget");
    const auto etaText = takeOption(args, "--eta");
    const auto firstText = takeOption(args, "--first-images");
    const bool noResume = takeFlag(args, "--no-resume");
    if (reportUnknownOptions(args, "sweep"))
        return 2;
    if (args.size() != 1) {
        std::fprintf(stderr, "%s", kUsage);
        return 2;
    }
    store::SweepSpec spec;
    auto bits = parseList<int>(bitsText.value_or("8"));
    auto sparsity = parseList<double>(sparsityText.value_or("0"));
    auto limit = parseList<int64_t>(limitText.value_or("500"));
    auto calib = parseList<int64_t>(calibText.value_or("256"));
    auto threads = parseList<int>(threadsText.value_or("2"));
    auto shape = parseIntList(shapeText.value_or("1,1,28,28"));
    if (!bits || !sparsity || !limit || limit->size() != 1 || (*limit)[0] < 1 || !calib || calib->size() != 1 ||
        (*calib)[0] < 0 || !threads || threads->size() != 1 || !shape) {
        std::fprintf(stderr, "stc sweep: bad option value\n%s", kUsage);
        return 2;
    }
    auto steps = parseList<int64_t>(stepsText.value_or("0"));
    auto scale = parseList<double>(scaleText.value_or("1"));
    auto chips = parseList<int>(chipsText.value_or("1"));
    auto samples = parseList<int64_t>(samplesText.value_or("0"));
    auto seed = parseList<uint64_t>(seedText.value_or("1"));
    auto budget = parseList<double>(budgetText.value_or("0"));
    auto eta = parseList<int>(etaText.value_or("2"));
    auto first = parseList<int64_t>(firstText.value_or("0"));
    const std::string strategyName = strategy.value_or(budgetText ? "halving" : samplesText ? "random" : "grid");
    if (!steps || !scale || !chips || !samples || samples->size() != 1 || (*samples)[0] < 0 || !seed ||
        seed->size() != 1 || !budget || budget->size() != 1 || (*budget)[0] < 0 || (*budget)[0] > 100 || !eta ||
        eta->size() != 1 || (*eta)[0] < 2 || !first || first->size() != 1 || (*first)[0] < 0) {
        std::fprintf(stderr, "stc sweep: bad option value\n%s", kUsage);
        return 2;
    }
    if (strategyName == "grid")
        spec.strategy = store::SweepStrategy::Grid;
    else if (strategyName == "random")
        spec.strategy = store::SweepStrategy::Random;
    else if (strategyName == "halving")
        spec.strategy = store::SweepStrategy::Halving;
    else {
        std::fprintf(stderr, "stc sweep: unknown --strategy '%s' (grid, random or halving)\n", strategyName.c_str());
        return 2;
    }
    if (spec.strategy == store::SweepStrategy::Random && (*samples)[0] == 0) {
        std::fprintf(stderr, "stc sweep: --strategy random needs --samples K (configurations to draw)\n");
        return 2;
    }
    if (spec.strategy == store::SweepStrategy::Halving && !budgetText) {
        std::fprintf(stderr, "stc sweep: --strategy halving needs --accuracy-budget (e.g. 0.85 or 85)\n");
        return 2;
    }
    for (int64_t t : *steps)
        if (t > 0 || steps->size() > 1)
            spec.timesteps.push_back(t);
    spec.thresholdScale = *scale;
    spec.chips = *chips;
    spec.samples = (*samples)[0];
    spec.seed = (*seed)[0];
    spec.accuracyBudget = (*budget)[0] > 1 ? (*budget)[0] / 100 : (*budget)[0];
    spec.halvingEta = (*eta)[0];
    spec.halvingFirstImages = (*first)[0];
    spec.resume = !noResume;
    spec.bits = *bits;
    spec.sparsity = *sparsity;
    spec.limit = (*limit)[0];
    spec.threads = (*threads)[0];
    spec.chip = chip.value_or("loihi3");
    if (spec.chip == "none")
        spec.chip.clear();
    spec.pruneMode = pruneMode.value_or("magnitude");
    spec.description = "stc sweep";
    for (const auto& a : argsIn)
        spec.description += " " + a;

    const MpiSession mpi;
    if (mpi.active() && (!projectPath || spec.strategy == store::SweepStrategy::Halving)) {
        if (mpi.rank() == 0)
            std::fprintf(stderr, "stc sweep: under MPI (%d ranks) give --project (rank 0 gathers the runs there); "
                                 "halving runs its rounds in one process (use grid or random)\n",
                         mpi.size());
        return 2;
    }
    const std::string modelPath = args[0];
    std::string importDiagnostics;
    auto model = loadModelFile("stc sweep", modelPath, *shape, &importDiagnostics);
    if (!model)
        return 1;
    auto test = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), spec.limit);
    if (!test.ok()) {
        std::fprintf(stderr, "stc sweep: %s\n", test.error.c_str());
        return 1;
    }
    const auto calibrationData = fashionMnistCalibration("stc sweep", (*calib)[0]);
    if (!calibrationData)
        return 1;
    const passes::CalibrationProvider& calibration = *calibrationData;

    std::optional<store::Project> project;
    try {
        std::optional<store::ModelSource> source;
        if (projectPath)
            source = describeLoadedModel(modelPath, *model, *shape, importDiagnostics);
        if (projectPath && mpi.rank() == 0) {
            project.emplace(openOrCreateProject(*projectPath, modelPath, spec.chip));
            project->setModel(*source);
        }
        if (mpi.rank() == 0)
            std::fprintf(stderr, "stc sweep: %s (T=%lld), %zu configurations (%s), %lld Fashion-MNIST test images, chip %s%s\n",
                         modelPath.c_str(), (long long)model->timesteps, store::sweepConfigurations(spec).size(),
                         store::toString(spec.strategy), (long long)test.value.count,
                         spec.chip.empty() ? "none" : spec.chip.c_str(),
                         mpi.active() ? (", " + std::to_string(mpi.size()) + " MPI ranks").c_str() : "");
        auto progress = [&mpi](const store::SweepPoint& p, size_t done, size_t total) {
            std::fprintf(stderr, "  %s[%zu/%zu] %s: %s\n",
                         mpi.active() ? ("rank " + std::to_string(mpi.rank()) + " ").c_str() : "", done, total,
                         p.label().c_str(),
                         !p.error.empty()   ? p.error.c_str()
                         : p.resumed        ? "resumed from the project"
                         : p.compile.mapped ? "ok"
                                            : ("ok, not mapped: " + p.compile.notMappedReason).c_str());
        };
        store::SweepResult r;
        if (mpi.active()) {
            bool failed = false;
            auto all = runSweepOverRanks(mpi, *model, test.value, calibration, spec, project ? &*project : nullptr,
                                         *source, &failed);
            if (mpi.rank() != 0)
                return failed ? 1 : 0;
            if (!all)
                return 1;
            r = std::move(*all);
        } else {
            r = store::runSweep(*model, test.value, calibration, spec, project ? &*project : nullptr, progress);
        }
        if (!r.error.empty()) {
            std::fprintf(stderr, "stc sweep: %s\n", r.error.c_str());
            return 1;
        }
        std::printf("model %s, T=%lld; top-1 on the first %lld Fashion-MNIST test images in the fixed-point reference\n"
                    "path; energy and latency are cost-model estimates of the mapping%s\n",
                    modelPath.c_str(), (long long)model->timesteps, (long long)test.value.count,
                    spec.chip.empty() ? " (none: --chip none)" : (" onto " + spec.chip).c_str());
        for (const auto& p : r.points)
            if (p.compile.projectedChip) {
                std::printf("(%s is a projected chip: its energies and latencies are assumptions, see "
                            "resources/chips)\n",
                            spec.chip.c_str());
                break;
            }
        if (r.floatBaseline)
            std::printf("float baseline (f32 interpreter): %.2f %%\n", 100.0 * r.floatBaseline->accuracy());
        std::printf("\n");
        printTable(r);
        printFront(r);
        printSearch(r, spec);
        if (project)
            std::printf("\nrecorded in %s (sweep %lld)\n", project->path().c_str(), (long long)r.sweepId);
        if (r.cancelled)
            return 1;
        if (spec.strategy == store::SweepStrategy::Halving && !r.best)
            return 1;
        for (const auto& p : r.points)
            if (!p.error.empty())
                return 1;
        return 0;
    } catch (const store::Error& e) {
        std::fprintf(stderr, "stc sweep: %s\n", e.what());
        return 1;
    }
}

} // namespace stc::cli

// stc advise: guided pass selection. Fits the project's history (core/store
// advisor), prints the proposals with their predictions, and with --apply K
// compiles, maps and evaluates proposal K (recorded with its prediction), so
// the next report shows predicted next to measured.
#include "cli_args.h"
#include "commands.h"
#include "model_input.h"

#include "data/fashion_mnist.h"
#include "passes/calibration.h"
#include "passes/options.h"
#include "store/advisor.h"
#include "store/sweep.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

namespace stc::cli {

namespace {

constexpr const char* kUsage =
    "usage: stc advise FILE.stcproj [--objective energy|latency] [--tolerance PP] [--baseline RUN] [--proposals N]\n"
    "                  [--apply K] [--threads N] [--calibration N] [--json]\n"
    "  --tolerance: accepted top-1 loss vs the baseline in percentage points (default 0.5)\n"
    "  --baseline: a compile run (default: the most accurate configuration on the most images)\n"
    "  --apply K: compile, map and evaluate proposal K (1 = best) on the baseline's images, recorded with\n"
    "             its prediction\n";

std::optional<int64_t> number(const std::optional<std::string>& s, int64_t def)
{
    if (!s)
        return def;
    char* end = nullptr;
    const long long v = std::strtoll(s->c_str(), &end, 10);
    if (end == s->c_str() || *end || v < 0)
        return std::nullopt;
    return int64_t(v);
}

void printAdvice(const store::Advice& a, const store::AdviceRequest& req)
{
    const auto& b = *a.baseline;
    std::printf("baseline  compile run %lld: %s — top-1 %.2f %% on %lld images, %.4g µJ, %.4g µs (estimates)\n",
                (long long)b.meta.id, a.baselineConfig.label().c_str(), 100 * b.accuracy->accuracy(),
                (long long)a.images, b.compile.energyPj * 1e-6, b.compile.latencyNs * 1e-3);
    std::string knobs;
    for (const auto& k : a.knobs)
        knobs += (knobs.empty() ? "" : ", ") + k;
    std::printf("model     fitted on %d configurations (%d with top-1 on %lld images), knobs: %s\n",
                a.energyFit.points, a.accuracyFit.points, (long long)a.images, knobs.c_str());
    std::printf("          leave-one-out error: energy ±%.1f %%, latency ±%.1f %%, top-1 ±%.2f pp (R² %.2f / %.2f / %.2f)\n",
                100 * a.energyFit.looRmse, 100 * a.latencyFit.looRmse, 100 * a.accuracyFit.looRmse, a.energyFit.r2,
                a.latencyFit.r2, a.accuracyFit.r2);
    if (a.proposals.empty()) {
        std::printf("\nno unmeasured configuration within the history's values is predicted to lower %s within "
                    "%.2f pp of the baseline's top-1\n",
                    req.objective.c_str(), 100 * req.tolerance);
    } else {
        std::printf("\nproposals (predicted; %s within %.2f pp of the baseline's top-1):\n\n", req.objective.c_str(),
                    100 * req.tolerance);
        std::printf("| # | change | predicted top-1 | predicted energy | predicted latency | saving | pipeline |\n"
                    "| ---: | --- | ---: | ---: | ---: | ---: | --- |\n");
        for (size_t i = 0; i < a.proposals.size(); ++i) {
            const auto& p = a.proposals[i];
            std::printf("| %zu | %s | %.2f %% | %.4g µJ | %.4g µs | %.1f %% | `%s` |\n", i + 1, p.change.c_str(),
                        100 * p.predicted.accuracy, p.predicted.energyPj * 1e-6, p.predicted.latencyNs * 1e-3,
                        100 * p.saving, p.pipeline.c_str());
        }
    }
    if (!a.applied.empty()) {
        std::printf("\napplied proposals, predicted vs measured:\n\n"
                    "| run | configuration | top-1 predicted | top-1 measured | energy predicted | energy measured | "
                    "latency predicted | latency measured |\n"
                    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (const auto& ap : a.applied) {
            char measuredTop1[32] = "—";
            if (ap.measuredAccuracy)
                std::snprintf(measuredTop1, sizeof measuredTop1, "%.2f %%", 100 * ap.measured.accuracy);
            std::printf("| %lld | %s | %.2f %% | %s | %.4g µJ | %.4g µJ | %.4g µs | %.4g µs |\n",
                        (long long)ap.compileRunId, ap.config.label().c_str(), 100 * ap.predicted.accuracy,
                        measuredTop1, ap.predicted.energyPj * 1e-6, ap.measured.energyPj * 1e-6,
                        ap.predicted.latencyNs * 1e-3, ap.measured.latencyNs * 1e-3);
        }
    }
}

nlohmann::json adviceJson(const store::Advice& a)
{
    auto fit = [](const store::FitQuality& q) {
        return nlohmann::json{{"points", q.points}, {"r2", q.r2}, {"loo_rmse", q.looRmse}};
    };
    nlohmann::json j{{"baseline_run", a.baseline->meta.id},
                     {"baseline", a.baselineConfig.label()},
                     {"images", a.images},
                     {"knobs", a.knobs},
                     {"fit", {{"energy_log", fit(a.energyFit)}, {"latency_log", fit(a.latencyFit)},
                              {"accuracy", fit(a.accuracyFit)}}}};
    nlohmann::json props = nlohmann::json::array();
    for (const auto& p : a.proposals)
        props.push_back({{"configuration", p.config.label()}, {"change", p.change}, {"pipeline", p.pipeline},
                         {"predicted", {{"accuracy", p.predicted.accuracy}, {"energy_pj", p.predicted.energyPj},
                                        {"latency_ns", p.predicted.latencyNs}}},
                         {"saving", p.saving}});
    j["proposals"] = props;
    nlohmann::json applied = nlohmann::json::array();
    for (const auto& ap : a.applied)
        applied.push_back({{"run", ap.compileRunId}, {"configuration", ap.config.label()},
                           {"predicted", {{"accuracy", ap.predicted.accuracy}, {"energy_pj", ap.predicted.energyPj},
                                          {"latency_ns", ap.predicted.latencyNs}}},
                           {"measured", {{"accuracy", ap.measuredAccuracy ? nlohmann::json(ap.measured.accuracy)
                                                                          : nlohmann::json(nullptr)},
                                         {"energy_pj", ap.measured.energyPj},
                                         {"latency_ns", ap.measured.latencyNs}}}});
    j["applied"] = applied;
    return j;
}

// Runs proposal `p` as a one-configuration sweep on the baseline's images.
int apply(store::Project& project, const store::Advice& a, const store::Proposal& p, int threads, int64_t calib)
{
    const auto model = project.model(a.baseline->meta.modelId);
    if (!model) {
        std::fprintf(stderr, "stc advise: the baseline's model version is not in the project\n");
        return 1;
    }
    auto loaded = loadModelFile("stc advise", model->path, model->inputShape);
    if (!loaded)
        return 1;
    auto test = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), a.images);
    if (!test.ok()) {
        std::fprintf(stderr, "stc advise: %s\n", test.error.c_str());
        return 1;
    }
    const auto calibration = fashionMnistCalibration("stc advise", calib);
    if (!calibration)
        return 1;
    store::SweepSpec spec;
    spec.bits = {p.config.bits};
    spec.sparsity = {p.config.sparsity};
    if (p.config.timesteps != loaded->timesteps)
        spec.timesteps = {p.config.timesteps};
    spec.thresholdScale = {p.config.thresholdScale};
    spec.chips = {p.config.chips};
    spec.chip = a.baseline->meta.chip;
    spec.limit = a.images;
    spec.threads = threads;
    spec.floatBaseline = false;
    spec.resume = false;
    spec.description = "stc advise --apply: " + p.config.label();
    spec.params = store::predictionParams(p, a.baseline->meta.id);
    std::fprintf(stderr, "stc advise: applying %s (%s) on %lld images\n", p.config.label().c_str(), p.change.c_str(),
                 (long long)a.images);
    const store::SweepResult r = store::runSweep(*loaded, test.value, *calibration, spec, &project);
    if (!r.ok() || r.points.empty() || !r.points[0].error.empty()) {
        std::fprintf(stderr, "stc advise: %s\n",
                     !r.error.empty() ? r.error.c_str() : r.points.empty() ? "cancelled" : r.points[0].error.c_str());
        return 1;
    }
    std::printf("applied   %s as compile run %lld\n\n", p.config.label().c_str(), (long long)r.points[0].compileRunId);
    return 0;
}

} // namespace

int runAdviseCommand(const Args& argsIn)
{
    Args args = argsIn;
    const auto objective = takeOption(args, "--objective");
    const auto toleranceText = takeOption(args, "--tolerance");
    const auto baselineText = takeOption(args, "--baseline");
    const auto proposalsText = takeOption(args, "--proposals");
    const auto applyText = takeOption(args, "--apply");
    const auto threadsText = takeOption(args, "--threads");
    const auto calibText = takeOption(args, "--calibration");
    const bool json = takeFlag(args, "--json");
    if (reportUnknownOptions(args, "advise"))
        return 2;
    const auto baseline = number(baselineText, 0), proposals = number(proposalsText, 5),
               applyIndex = number(applyText, 0), threads = number(threadsText, 2), calib = number(calibText, 256);
    char* end = nullptr;
    const double tolerance = toleranceText ? std::strtod(toleranceText->c_str(), &end) : 0.5;
    if (args.size() != 1 || !baseline || !proposals || !applyIndex || !threads || !calib ||
        (toleranceText && (end == toleranceText->c_str() || *end || tolerance < 0))) {
        std::fprintf(stderr, "%s", kUsage);
        return 2;
    }
    store::AdviceRequest req;
    req.objective = objective.value_or("energy");
    req.tolerance = tolerance / 100;
    req.baselineRunId = *baseline;
    req.maxProposals = int(std::max<int64_t>(*proposals, *applyIndex));
    try {
        store::Project project = store::Project::open(args[0], *applyIndex ? store::OpenMode::ReadWrite
                                                                           : store::OpenMode::ReadOnly);
        store::Advice a = store::advise(project, req);
        if (!a.ok()) {
            std::fprintf(stderr, "stc advise: %s\n", a.error.c_str());
            return 1;
        }
        if (*applyIndex) {
            if (*applyIndex > int64_t(a.proposals.size())) {
                std::fprintf(stderr, "stc advise: there are %zu proposal(s); --apply %lld names none\n",
                             a.proposals.size(), (long long)*applyIndex);
                return 1;
            }
            if (int rc = apply(project, a, a.proposals[size_t(*applyIndex - 1)], int(*threads), *calib))
                return rc;
            a = store::advise(project, req); // refit with the new point, and show it next to its prediction
            if (!a.ok()) {
                std::fprintf(stderr, "stc advise: %s\n", a.error.c_str());
                return 1;
            }
        }
        if (json)
            std::printf("%s\n", adviceJson(a).dump(1).c_str());
        else
            printAdvice(a, req);
        return 0;
    } catch (const store::Error& e) {
        std::fprintf(stderr, "stc advise: %s\n", e.what());
        return 1;
    }
}

} // namespace stc::cli

#include "store/advisor.h"

#include "passes/options.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <set>

namespace stc::store {

namespace {

double param(const RunMeta& m, const char* key, double def)
{
    auto it = m.params.find(key);
    return it == m.params.end() ? def : std::atof(it->second.c_str());
}

// The knobs and their features; a knob enters the model only if it varies.
struct Knob {
    const char* name;
    std::function<double(const SweepConfig&)> value;
    std::vector<std::function<double(const SweepConfig&)>> features;
};

const std::vector<Knob>& knobs()
{
    static const std::vector<Knob> k = {
        {"bits", [](const SweepConfig& c) { return double(c.bits); },
         {[](const SweepConfig& c) { return double(c.bits); }, [](const SweepConfig& c) { return std::ldexp(1.0, -c.bits); }}},
        {"sparsity", [](const SweepConfig& c) { return c.sparsity; },
         {[](const SweepConfig& c) { return c.sparsity; }, [](const SweepConfig& c) { return c.sparsity * c.sparsity; }}},
        {"T", [](const SweepConfig& c) { return double(c.timesteps); },
         {[](const SweepConfig& c) { return std::log2(double(c.timesteps)); },
          [](const SweepConfig& c) { return 1.0 / double(c.timesteps); }}},
        {"threshold-scale", [](const SweepConfig& c) { return c.thresholdScale; },
         {[](const SweepConfig& c) { return std::log(c.thresholdScale); },
          [](const SweepConfig& c) { return std::log(c.thresholdScale) * std::log(c.thresholdScale); }}},
        {"chips", [](const SweepConfig& c) { return double(c.chips); }, {[](const SweepConfig& c) { return double(c.chips); }}},
    };
    return k;
}

// Solves A x = b (n x n, row-major) by Gaussian elimination with partial pivoting.
std::vector<double> solve(std::vector<double> A, std::vector<double> b)
{
    const size_t n = b.size();
    for (size_t c = 0; c < n; ++c) {
        size_t p = c;
        for (size_t r = c + 1; r < n; ++r)
            if (std::fabs(A[r * n + c]) > std::fabs(A[p * n + c]))
                p = r;
        for (size_t k = 0; k < n; ++k)
            std::swap(A[c * n + k], A[p * n + k]);
        std::swap(b[c], b[p]);
        const double d = A[c * n + c];
        if (std::fabs(d) < 1e-300)
            continue;
        for (size_t r = c + 1; r < n; ++r) {
            const double f = A[r * n + c] / d;
            for (size_t k = c; k < n; ++k)
                A[r * n + k] -= f * A[c * n + k];
            b[r] -= f * b[c];
        }
    }
    std::vector<double> x(n, 0.0);
    for (size_t c = n; c-- > 0;) {
        double s = b[c];
        for (size_t k = c + 1; k < n; ++k)
            s -= A[c * n + k] * x[k];
        x[c] = std::fabs(A[c * n + c]) < 1e-300 ? 0.0 : s / A[c * n + c];
    }
    return x;
}

// Ridge regression on standardized features; the intercept is not penalised.
class RidgeModel {
public:
    void fit(const std::vector<std::vector<double>>& X, const std::vector<double>& y, double lambda)
    {
        const size_t n = X.size(), d = X.empty() ? 0 : X[0].size();
        mean_.assign(d, 0.0);
        scale_.assign(d, 1.0);
        for (size_t j = 0; j < d; ++j) {
            double m = 0, v = 0;
            for (const auto& row : X)
                m += row[j];
            m /= double(n);
            for (const auto& row : X)
                v += (row[j] - m) * (row[j] - m);
            mean_[j] = m;
            scale_[j] = v > 0 ? std::sqrt(v / double(n)) : 1.0;
        }
        yMean_ = 0;
        for (double v : y)
            yMean_ += v;
        yMean_ /= double(std::max<size_t>(1, n));
        std::vector<double> A(d * d, 0.0), b(d, 0.0);
        for (size_t i = 0; i < n; ++i) {
            for (size_t j = 0; j < d; ++j) {
                const double xj = (X[i][j] - mean_[j]) / scale_[j];
                b[j] += xj * (y[i] - yMean_);
                for (size_t k = 0; k < d; ++k)
                    A[j * d + k] += xj * (X[i][k] - mean_[k]) / scale_[k];
            }
        }
        for (size_t j = 0; j < d; ++j)
            A[j * d + j] += lambda;
        w_ = d ? solve(A, b) : std::vector<double>{};
    }
    double predict(const std::vector<double>& x) const
    {
        double s = yMean_;
        for (size_t j = 0; j < w_.size(); ++j)
            s += w_[j] * (x[j] - mean_[j]) / scale_[j];
        return s;
    }

private:
    std::vector<double> mean_, scale_, w_;
    double yMean_ = 0;
};

struct Fitted {
    RidgeModel model;
    FitQuality quality;
};

// Picks the ridge strength with the smallest leave-one-out error.
Fitted fitWithLoo(const std::vector<std::vector<double>>& X, const std::vector<double>& y)
{
    Fitted best;
    double bestLoo = std::numeric_limits<double>::infinity();
    for (double lambda : {1e-3, 1e-2, 1e-1, 1.0, 10.0}) {
        double sq = 0;
        for (size_t leave = 0; leave < X.size(); ++leave) {
            std::vector<std::vector<double>> Xi;
            std::vector<double> yi;
            for (size_t i = 0; i < X.size(); ++i)
                if (i != leave)
                    Xi.push_back(X[i]), yi.push_back(y[i]);
            RidgeModel m;
            m.fit(Xi, yi, lambda);
            const double e = m.predict(X[leave]) - y[leave];
            sq += e * e;
        }
        const double loo = std::sqrt(sq / double(std::max<size_t>(1, X.size())));
        if (loo < bestLoo) {
            bestLoo = loo;
            best.model.fit(X, y, lambda);
            best.quality.looRmse = loo;
        }
    }
    best.quality.points = int(X.size());
    double mean = 0, ssTot = 0, ssRes = 0;
    for (double v : y)
        mean += v;
    mean /= double(std::max<size_t>(1, y.size()));
    for (size_t i = 0; i < X.size(); ++i) {
        ssTot += (y[i] - mean) * (y[i] - mean);
        const double e = best.model.predict(X[i]) - y[i];
        ssRes += e * e;
    }
    best.quality.r2 = ssTot > 0 ? 1 - ssRes / ssTot : 1.0;
    return best;
}

std::string describeChange(const SweepConfig& from, const SweepConfig& to)
{
    std::string s;
    auto add = [&](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
    if (from.bits != to.bits)
        add("bits " + std::to_string(from.bits) + " -> " + std::to_string(to.bits));
    if (from.sparsity != to.sparsity)
        add("sparsity " + passes::formatOptionValue(from.sparsity) + " -> " + passes::formatOptionValue(to.sparsity));
    if (from.timesteps != to.timesteps)
        add("T " + std::to_string(from.timesteps) + " -> " + std::to_string(to.timesteps));
    if (from.thresholdScale != to.thresholdScale)
        add("threshold scale " + passes::formatOptionValue(from.thresholdScale) + " -> " +
            passes::formatOptionValue(to.thresholdScale));
    if (from.chips != to.chips)
        add("chips " + std::to_string(from.chips) + " -> " + std::to_string(to.chips));
    return s;
}

} // namespace

SweepConfig configOf(const RunMeta& meta, int64_t modelT)
{
    SweepConfig c;
    c.bits = int(param(meta, "bits", 8));
    c.sparsity = param(meta, "sparsity", 0);
    c.timesteps = int64_t(param(meta, "timesteps", double(modelT)));
    c.thresholdScale = param(meta, "threshold-scale", 1);
    c.chips = int(param(meta, "chips", 1));
    return c;
}

std::map<std::string, std::string> predictionParams(const Proposal& p, int64_t baselineRunId)
{
    return {{"predicted-energy-pj", passes::formatOptionValue(p.predicted.energyPj)},
            {"predicted-latency-ns", passes::formatOptionValue(p.predicted.latencyNs)},
            {"predicted-accuracy", passes::formatOptionValue(p.predicted.accuracy)},
            {"advice-baseline-run", std::to_string(baselineRunId)}};
}

Advice advise(const Project& project, const AdviceRequest& req)
{
    Advice a;
    if (req.objective != "energy" && req.objective != "latency") {
        a.error = "unknown objective '" + req.objective + "' (energy or latency)";
        return a;
    }
    const std::vector<ConfigPoint> all = project.configurations();
    // The baseline and the image count accuracies are compared on.
    for (const ConfigPoint& p : all)
        if (req.baselineRunId ? p.meta.id == req.baselineRunId
                              : (p.compile.mapped && p.accuracy && p.meta.params.count("bits") &&
                                 (!a.baseline || p.accuracy->samples > a.baseline->accuracy->samples ||
                                  (p.accuracy->samples == a.baseline->accuracy->samples &&
                                   p.accuracy->accuracy() > a.baseline->accuracy->accuracy()))))
            a.baseline = p;
    if (!a.baseline) {
        a.error = req.baselineRunId ? "no compile run " + std::to_string(req.baselineRunId) + " in the project"
                                    : "no mapped configuration with an accuracy in the project: run `stc sweep "
                                      "--project` first";
        return a;
    }
    if (!a.baseline->compile.mapped || !a.baseline->accuracy) {
        a.error = "compile run " + std::to_string(a.baseline->meta.id) + " has no mapping or no accuracy to compare with";
        return a;
    }
    a.images = a.baseline->accuracy->samples;
    int64_t modelT = 1;
    if (const auto m = project.model(a.baseline->meta.modelId))
        modelT = std::max<int64_t>(1, m->timesteps);
    a.baselineConfig = configOf(a.baseline->meta, modelT);

    // The history: same model, chip and pruning mode; accuracy on the same image count.
    std::vector<SweepConfig> configs;
    std::vector<const ConfigPoint*> points;
    for (const ConfigPoint& p : all)
        if (p.compile.mapped && p.meta.modelId == a.baseline->meta.modelId && p.meta.chip == a.baseline->meta.chip &&
            p.meta.params.count("bits") && p.compile.energyPj > 0 && p.compile.latencyNs > 0) {
            configs.push_back(configOf(p.meta, modelT));
            points.push_back(&p);
        }
    std::vector<const Knob*> varying;
    for (const Knob& k : knobs()) {
        std::set<double> seen;
        for (const SweepConfig& c : configs)
            seen.insert(k.value(c));
        if (seen.size() > 1) {
            varying.push_back(&k);
            a.knobs.push_back(k.name);
        }
    }
    if (varying.empty()) {
        a.error = "the history has one configuration of each knob: nothing to learn from (sweep at least one knob)";
        return a;
    }
    auto features = [&](const SweepConfig& c) {
        std::vector<double> x;
        for (const Knob* k : varying)
            for (const auto& f : k->features)
                x.push_back(f(c));
        return x;
    };
    std::vector<std::vector<double>> X, Xacc;
    std::vector<double> logE, logL, acc;
    for (size_t i = 0; i < points.size(); ++i) {
        X.push_back(features(configs[i]));
        logE.push_back(std::log(points[i]->compile.energyPj));
        logL.push_back(std::log(points[i]->compile.latencyNs));
        if (points[i]->accuracy && points[i]->accuracy->samples == a.images &&
            points[i]->accuracy->path == a.baseline->accuracy->path) {
            Xacc.push_back(X.back());
            acc.push_back(points[i]->accuracy->accuracy());
        }
    }
    if (Xacc.size() < 4) {
        a.error = "only " + std::to_string(Xacc.size()) + " configuration(s) measured on " + std::to_string(a.images) +
                  " images: the accuracy model needs at least 4";
        return a;
    }
    const Fitted fe = fitWithLoo(X, logE), fl = fitWithLoo(X, logL), fa = fitWithLoo(Xacc, acc);
    a.energyFit = fe.quality;
    a.latencyFit = fl.quality;
    a.accuracyFit = fa.quality;

    // Candidates: combinations of the history's values (and values between them) not measured yet.
    std::set<int> bits;
    std::set<double> sparsity, scale;
    std::set<int64_t> steps;
    std::set<int> chips;
    std::set<std::string> measured;
    for (const SweepConfig& c : configs) {
        bits.insert(c.bits), sparsity.insert(c.sparsity), steps.insert(c.timesteps), scale.insert(c.thresholdScale),
            chips.insert(c.chips);
        measured.insert(c.label());
    }
    // Between the values seen, never beyond them: every integer for bits and
    // T, midpoints for sparsity and threshold scale.
    for (int b = *bits.begin(); b < *bits.rbegin(); ++b)
        bits.insert(b);
    if (*steps.rbegin() - *steps.begin() <= 16)
        for (int64_t t = *steps.begin(); t < *steps.rbegin(); ++t)
            steps.insert(t);
    auto midpoints = [](std::set<double>& values) {
        std::vector<double> v(values.begin(), values.end());
        for (size_t i = 0; i + 1 < v.size(); ++i)
            values.insert(std::round((v[i] + v[i + 1]) / 2 * 1000) / 1000);
    };
    midpoints(sparsity);
    midpoints(scale);
    const bool energy = req.objective == "energy";
    const double baseValue = energy ? a.baseline->compile.energyPj : a.baseline->compile.latencyNs;
    const double floor = a.baseline->accuracy->accuracy() - req.tolerance;
    for (int b : bits)
        for (double s : sparsity)
            for (int64_t t : steps)
                for (double f : scale)
                    for (int n : chips) {
                        Proposal p;
                        p.config = {b, s, t, f, n};
                        if (measured.count(p.config.label()))
                            continue;
                        const auto x = features(p.config);
                        p.predicted = {std::exp(fe.model.predict(x)), std::exp(fl.model.predict(x)),
                                       std::clamp(fa.model.predict(x), 0.0, 1.0)};
                        const double value = energy ? p.predicted.energyPj : p.predicted.latencyNs;
                        p.saving = 1 - value / baseValue;
                        if (p.predicted.accuracy < floor || p.saving <= 0)
                            continue;
                        SweepConfig pipelineConfig = p.config;
                        if (pipelineConfig.timesteps == modelT)
                            pipelineConfig.timesteps = 0;
                        p.pipeline = sweepPipeline(pipelineConfig, "magnitude");
                        p.change = describeChange(a.baselineConfig, p.config);
                        a.proposals.push_back(std::move(p));
                    }
    std::sort(a.proposals.begin(), a.proposals.end(),
              [](const Proposal& x, const Proposal& y) { return x.saving > y.saving; });
    if (int(a.proposals.size()) > req.maxProposals)
        a.proposals.resize(size_t(std::max(0, req.maxProposals)));

    for (size_t i = 0; i < points.size(); ++i) {
        const RunMeta& m = points[i]->meta;
        if (!m.params.count("predicted-energy-pj"))
            continue;
        AppliedAdvice ap;
        ap.compileRunId = m.id;
        ap.config = configs[i];
        ap.predicted = {param(m, "predicted-energy-pj", 0), param(m, "predicted-latency-ns", 0),
                        param(m, "predicted-accuracy", 0)};
        ap.measured.energyPj = points[i]->compile.energyPj;
        ap.measured.latencyNs = points[i]->compile.latencyNs;
        if (points[i]->accuracy) {
            ap.measured.accuracy = points[i]->accuracy->accuracy();
            ap.measuredAccuracy = true;
        }
        a.applied.push_back(ap);
    }
    return a;
}

} // namespace stc::store

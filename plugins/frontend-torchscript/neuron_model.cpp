#include "neuron_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace stc::torchscript {

ir::Attributes NeuronParams::toAttributes() const
{
    ir::Attributes a;
    a.set("neuron", neuron);
    if (neuron == "lif") {
        a.set("tau", tau);
        a.set("decay_input", decayInput);
    }
    if (neuron == "leaky")
        a.set("beta", beta);
    a.set("v_threshold", vThreshold);
    if (reset == "hard")
        a.set("v_reset", vReset);
    a.set("reset", reset);
    a.set("fire", fire);
    return a;
}

std::string NeuronParams::describe() const
{
    std::ostringstream os;
    os << neuron;
    if (neuron == "lif")
        os << " tau=" << tau << (decayInput ? "" : " decay_input=false");
    if (neuron == "leaky")
        os << " beta=" << beta;
    os << " v_threshold=" << vThreshold << " fire=" << (fire == "ge" ? ">=" : ">");
    if (reset == "hard")
        os << " hard reset to " << vReset;
    else
        os << " reset=" << reset;
    return os.str();
}

std::vector<std::vector<float>> simulateNeuron(const NeuronParams& p, const std::vector<std::vector<float>>& inputs,
                                               std::vector<std::vector<float>>* membranes)
{
    const size_t T = inputs.size();
    const size_t n = T ? inputs[0].size() : 0;
    // Scalars enter the arithmetic as f32, as ATen casts a Python float
    // operand to the tensor's dtype.
    const auto tau = float(p.tau);
    const auto decay = float(1.0 - 1.0 / p.tau);
    const auto beta = float(p.beta);
    const auto th = float(p.vThreshold);
    const auto vr = float(p.vReset);
    const bool hard = p.reset == "hard";
    const bool subtract = p.reset == "subtract";
    const bool delayedReset = p.reset == "subtract-delayed";
    const bool ge = p.fire != "gt";
    const bool isIf = p.neuron == "if", isLeaky = p.neuron == "leaky";
    std::vector<float> v(n, hard ? vr : 0.0f);
    std::vector<std::vector<float>> spikes(T, std::vector<float>(n, 0.0f));
    if (membranes)
        membranes->assign(T, std::vector<float>(n, 0.0f));
    for (size_t t = 0; t < T; ++t) {
        const std::vector<float>& x = inputs[t];
        for (size_t i = 0; i < n; ++i) {
            float m = v[i];
            if (isIf) {
                m = m + x[i];
            } else if (isLeaky) {
                const bool delayed = delayedReset && (m - th > 0.0f);
                m = beta * m + x[i];
                if (delayed)
                    m = m - th;
            } else if (p.decayInput) {
                m = vr == 0.0f ? m + (x[i] - m) / tau : m + (x[i] - (m - vr)) / tau;
            } else {
                m = vr == 0.0f ? m * decay + x[i] : m - (m - vr) / tau + x[i];
            }
            const bool spike = ge ? m >= th : m > th;
            if (membranes)
                (*membranes)[t][i] = m;
            spikes[t][i] = spike ? 1.0f : 0.0f;
            if (spike) {
                if (hard)
                    m = vr;
                else if (subtract)
                    m = m - th;
            }
            v[i] = m;
        }
    }
    return spikes;
}

namespace {

// Least squares y = sum_k w_k f_k over samples.
template <size_t K>
std::optional<std::array<double, K>> solveLeastSquares(const std::vector<std::array<double, K>>& f,
                                                       const std::vector<double>& y)
{
    if (f.size() < K)
        return std::nullopt;
    double A[K][K + 1] = {};
    for (size_t s = 0; s < f.size(); ++s)
        for (size_t i = 0; i < K; ++i) {
            for (size_t j = 0; j < K; ++j)
                A[i][j] += f[s][i] * f[s][j];
            A[i][K] += f[s][i] * y[s];
        }
    for (size_t c = 0; c < K; ++c) {
        size_t piv = c;
        for (size_t r = c + 1; r < K; ++r)
            if (std::abs(A[r][c]) > std::abs(A[piv][c]))
                piv = r;
        if (std::abs(A[piv][c]) < 1e-12)
            return std::nullopt;
        for (size_t j = 0; j <= K; ++j)
            std::swap(A[c][j], A[piv][j]);
        for (size_t r = 0; r < K; ++r) {
            if (r == c)
                continue;
            const double m = A[r][c] / A[c][c];
            for (size_t j = c; j <= K; ++j)
                A[r][j] -= m * A[c][j];
        }
    }
    std::array<double, K> w{};
    for (size_t i = 0; i < K; ++i)
        w[i] = A[i][K] / A[i][i];
    return w;
}

bool near(double a, double b, double tol = 1e-3) { return std::abs(a - b) <= tol * std::max(1.0, std::abs(b)); }

// Candidate values for a fitted parameter: the nearest model constant (or a
// value derived from one) if close, and the fitted value itself.
std::vector<double> snap(double p, const std::vector<double>& pool)
{
    std::vector<double> out;
    double best = 0.0, bestErr = 1e300;
    for (double k : pool)
        if (std::isfinite(k) && std::abs(p - k) < bestErr) {
            best = k;
            bestErr = std::abs(p - k);
        }
    if (bestErr <= 1e-3 * std::max(1.0, std::abs(best)))
        out.push_back(best);
    if (std::isfinite(p)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.6g", p);
        const double r = std::strtod(buf, nullptr);
        if (std::find(out.begin(), out.end(), r) == out.end())
            out.push_back(r);
        if (std::find(out.begin(), out.end(), p) == out.end())
            out.push_back(p);
    }
    return out;
}

size_t mismatches(const NeuronParams& p, const std::vector<NeuronData>& data, size_t& total)
{
    size_t bad = 0;
    total = 0;
    for (const NeuronData& d : data) {
        auto s = simulateNeuron(p, d.inputs);
        for (size_t t = 0; t < s.size(); ++t)
            for (size_t i = 0; i < s[t].size(); ++i) {
                ++total;
                bad += (s[t][i] != 0.0f) != (d.spikes[t][i] != 0.0f);
            }
    }
    return bad;
}

} // namespace

std::optional<NeuronParams> fitNeuron(const std::vector<NeuronData>& data, const std::vector<double>& constants,
                                      double threshold, bool ge, std::string& why)
{
    const size_t T = data.empty() ? 0 : data[0].inputs.size();
    // Charge fit on elements that did not spike in the previous step (their
    // membrane was not reset): m_t = a*m_{t-1} + b*x_t + c.
    std::vector<std::array<double, 3>> f3;
    std::vector<double> y3;
    std::vector<std::array<double, 2>> f2;
    std::vector<double> y2;
    for (const NeuronData& d : data) {
        for (size_t i = 0; i < d.inputs[0].size(); ++i) {
            f2.push_back({double(d.inputs[0][i]), 1.0});
            y2.push_back(d.membranes[0][i]);
        }
        for (size_t t = 1; t < T; ++t)
            for (size_t i = 0; i < d.inputs[t].size(); ++i)
                if (d.spikes[t - 1][i] == 0.0f) {
                    f3.push_back({double(d.membranes[t - 1][i]), double(d.inputs[t][i]), 1.0});
                    y3.push_back(d.membranes[t][i]);
                }
    }
    double a = NAN, b = NAN, c = NAN;
    if (auto w = solveLeastSquares<3>(f3, y3)) {
        a = (*w)[0];
        b = (*w)[1];
        c = (*w)[2];
    } else if (auto w2 = solveLeastSquares<2>(f2, y2)) {
        b = (*w2)[0]; // one step only: the leak is not observable
        c = (*w2)[1];
    } else {
        why = "too few observations to fit the membrane equation";
        return std::nullopt;
    }
    std::vector<double> pool, tauPool;
    for (double k : constants) {
        pool.push_back(k);
        pool.push_back(-k);
        tauPool.push_back(k);
        if (k != 0.0)
            tauPool.push_back(1.0 / k);
        if (k != 1.0)
            tauPool.push_back(1.0 / (1.0 - k));
    }
    // Membrane right after a spike, from transitions out of spiking elements.
    double postSpike = NAN;
    if (std::isfinite(a) && std::abs(a) > 1e-6) {
        double sum = 0.0;
        size_t count = 0;
        for (const NeuronData& d : data)
            for (size_t t = 1; t < T; ++t)
                for (size_t i = 0; i < d.inputs[t].size(); ++i)
                    if (d.spikes[t - 1][i] != 0.0f) {
                        sum += (d.membranes[t][i] - b * d.inputs[t][i] - c) / a;
                        ++count;
                    }
        if (count)
            postSpike = sum / double(count);
    }

    std::vector<NeuronParams> cands;
    auto addResets = [&](NeuronParams p, std::vector<double> vResets) {
        vResets.push_back(0.0);
        if (std::isfinite(postSpike))
            for (double v : snap(postSpike, pool))
                vResets.push_back(v);
        if (p.neuron == "leaky") { // snnTorch: the reset uses the previous step's spike
            for (const char* r : {"subtract-delayed", "none"}) {
                p.reset = r;
                cands.push_back(p);
            }
            return;
        }
        for (double v : vResets) {
            p.reset = "hard";
            p.vReset = v;
            cands.push_back(p);
        }
        p.vReset = 0.0;
        for (const char* r : {"subtract", "none"}) {
            p.reset = r;
            cands.push_back(p);
        }
    };
    NeuronParams base;
    base.vThreshold = threshold;
    base.fire = ge ? "ge" : "gt";
    const bool leakKnown = std::isfinite(a);
    if (std::isfinite(b) && b > 0.0 && b < 1.0 - 1e-4) {
        for (double tau : snap(1.0 / b, tauPool)) {
            NeuronParams p = base;
            p.neuron = "lif";
            p.tau = tau;
            p.decayInput = true;
            addResets(p, snap(c * tau, pool));
        }
    }
    if (near(b, 1.0)) {
        if (!leakKnown || near(a, 1.0)) {
            NeuronParams p = base;
            p.neuron = "if";
            addResets(p, {});
        }
        std::vector<double> leaks;
        if (leakKnown && a > 0.0 && a < 1.0)
            leaks = snap(a, pool);
        else if (!leakKnown)
            for (double k : constants)
                if (k > 0.0 && k < 1.0)
                    leaks.push_back(k);
        for (double leak : leaks) {
            NeuronParams p = base;
            p.neuron = "leaky";
            p.beta = leak;
            addResets(p, {});
            for (double tau : snap(1.0 / (1.0 - leak), tauPool)) {
                NeuronParams q = base;
                q.neuron = "lif";
                q.tau = tau;
                q.decayInput = false;
                addResets(q, snap(c * tau, pool));
            }
        }
    }
    if (cands.empty()) {
        std::ostringstream os;
        os << "the membrane update is not of the form v' = v + (x - (v - v_reset)) / tau, v - (v - v_reset) / tau + x, "
              "beta * v + x or v + x (fitted v' = "
           << a << " * v + " << b << " * x + " << c << ")";
        why = os.str();
        return std::nullopt;
    }
    // The first candidate reproducing every spike wins. Most candidates
    // already miss on the first elements: check those first (a miss there is
    // a miss on all), and only survivors on everything.
    std::vector<NeuronData> head = data;
    for (NeuronData& d : head)
        for (auto* series : {&d.inputs, &d.membranes, &d.spikes})
            for (auto& v : *series)
                v.resize(std::min<size_t>(v.size(), 512));
    size_t total = 0;
    for (const NeuronParams& p : cands)
        if (mismatches(p, head, total) == 0 && mismatches(p, data, total) == 0)
            return p;
    size_t bestBad = SIZE_MAX;
    const NeuronParams* best = nullptr;
    for (const NeuronParams& p : cands) {
        const size_t bad = mismatches(p, data, total);
        if (bad < bestBad) {
            bestBad = bad;
            best = &p;
        }
    }
    std::ostringstream os;
    os << "the closest model (" << best->describe() << ") differs on " << bestBad << " of " << total
       << " probed spikes";
    why = os.str();
    return std::nullopt;
}

} // namespace stc::torchscript

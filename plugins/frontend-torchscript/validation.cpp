#include "validation.h"

#include "interp/interpreter.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

namespace stc::torchscript {

bool closeEnough(double got, double want)
{
    if (std::isnan(got) || std::isnan(want))
        return std::isnan(got) && std::isnan(want);
    return std::abs(got - want) <= 1e-5 + 1e-4 * std::abs(want);
}

std::vector<float> toInterpreterOrder(const std::vector<float>& data, const LoweredOutput& out, int64_t batch,
                                      int64_t T)
{
    const auto& shape = out.recordedShape;
    const size_t rank = shape.size();
    std::vector<int64_t> stride(rank, 1);
    for (size_t i = rank; i-- > 1;)
        stride[i - 1] = stride[i] * shape[i];
    int bAxis = -1, tAxis = -1, tbAxis = -1;
    std::vector<size_t> feat; // recorded axis of each IR feature
    for (size_t i = 0; i < rank; ++i) {
        switch (out.layout[i].role) {
        case Role::Batch: bAxis = int(i); break;
        case Role::Time: tAxis = int(i); break;
        case Role::TimeBatch: tbAxis = int(i); break;
        case Role::Feature: feat.push_back(i); break;
        case Role::Unit: break;
        }
    }
    const bool perStep = tAxis >= 0 || tbAxis >= 0;
    const int64_t steps = perStep ? T : 1;
    int64_t perSample = 1;
    for (size_t a : feat)
        perSample *= shape[a];
    std::vector<float> result(size_t(batch * steps * perSample));
    std::vector<int64_t> idx(feat.size());
    for (int64_t b = 0; b < batch; ++b)
        for (int64_t t = 0; t < steps; ++t)
            for (int64_t f = 0; f < perSample; ++f) {
                int64_t rem = f, off = 0;
                for (size_t k = feat.size(); k-- > 0;) {
                    off += (rem % shape[feat[k]]) * stride[feat[k]];
                    rem /= shape[feat[k]];
                }
                if (bAxis >= 0)
                    off += b * stride[size_t(bAxis)];
                if (tAxis >= 0)
                    off += t * stride[size_t(tAxis)];
                if (tbAxis >= 0)
                    off += (t * batch + b) * stride[size_t(tbAxis)];
                result[size_t((b * steps + t) * perSample + f)] = data[size_t(off)];
            }
    return result;
}

ValidationReport validateImport(const ir::Module& m, const LoweringResult& lowered,
                                const frontend::ReferenceRun& reference, Diagnostics& diags)
{
    ValidationReport rep;
    const auto start = std::chrono::steady_clock::now();
    const int64_t batch = reference.inputShape.empty() ? 1 : reference.inputShape[0];
    interp::RunOptions opts;
    opts.threads = 0;
    interp::RunResult run = interp::run(m, {interp::InputBatch{batch, reference.input}}, opts);
    const SourceLoc loc{};
    if (!run.ok()) {
        diags.add({Severity::Error, loc, "", "",
                   "self-validation: the reference interpreter rejected the imported module: " + run.error});
        rep.ok = false;
        return rep;
    }
    // Spike counts first: the first neuron (in op order) that diverges is the
    // most useful place to look.
    for (const auto& s : run.lif) {
        auto it = reference.spikeCounts.find(s.name);
        if (it == reference.spikeCounts.end())
            continue;
        if (it->second != s.total) {
            ++rep.spikeMismatches;
            if (rep.spikeMismatches == 1) {
                rep.firstDivergingNeuron = s.name;
                diags.add({Severity::Error, loc, "lif", s.name,
                           "self-validation: neuron " + s.name + " fires " + std::to_string(s.total) +
                               " spikes in the imported model, " + std::to_string(it->second) +
                               " in LibTorch (first diverging neuron)"});
            }
        }
    }
    for (size_t k = 0; k < lowered.outputs.size() && k < run.outputs.size() && k < reference.outputs.size(); ++k) {
        const auto want = toInterpreterOrder(reference.outputs[k], lowered.outputs[k], batch, m.timesteps);
        const auto& got = run.outputs[k];
        if (want.size() != got.size()) {
            diags.add({Severity::Error, loc, "output", "",
                       "self-validation: output " + std::to_string(k) + " has " + std::to_string(got.size()) +
                           " values, LibTorch " + std::to_string(want.size())});
            rep.ok = false;
            continue;
        }
        size_t firstBad = got.size();
        for (size_t i = 0; i < got.size(); ++i) {
            const double d = std::abs(double(got[i]) - double(want[i]));
            rep.maxAbsError = std::max(rep.maxAbsError, d);
            if (std::abs(want[i]) > 1e-6)
                rep.maxRelError = std::max(rep.maxRelError, d / std::abs(double(want[i])));
            if (!closeEnough(got[i], want[i]) && firstBad == got.size())
                firstBad = i;
        }
        if (firstBad != got.size()) {
            std::ostringstream os;
            os << "self-validation: output " << k << " differs from LibTorch at flat index " << firstBad
               << ": imported " << got[firstBad] << ", LibTorch " << want[firstBad]
               << " (max abs error " << rep.maxAbsError << ")";
            diags.add({Severity::Error, loc, "output", "", os.str()});
            rep.ok = false;
        }
    }
    if (rep.spikeMismatches)
        rep.ok = false;
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

double thresholdMargin(const NeuronInstance& n, const Replayer& recording)
{
    if (n.stepMembrane.empty())
        return -1.0;
    std::vector<std::vector<float>> membranes;
    std::string error;
    if (!recording.recorded(n.stepMembrane, 1, membranes, nullptr, &error))
        return -1.0;
    double margin = -1.0;
    for (const auto& step : membranes)
        for (float v : step) {
            const double d = std::abs(double(v) - n.params.vThreshold);
            if (margin < 0 || d < margin)
                margin = d;
        }
    return margin;
}

bool isRoundingTie(double margin, const NeuronParams& p)
{
    return margin >= 0.0 && margin <= 1e-5 * std::max(1.0, std::abs(p.vThreshold));
}

} // namespace stc::torchscript

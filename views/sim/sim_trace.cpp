#include "sim/sim_trace.h"

#include "interp/interpreter.h"

#include <QElapsedTimer>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace stc::views::sim {

int64_t SimTrace::totalSpikes() const
{
    int64_t n = 0;
    for (const auto& l : layers)
        n += l.total;
    return n;
}

std::vector<float> uniformInput(int64_t n, uint32_t seed)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> out(size_t(std::max<int64_t>(0, n)));
    for (float& x : out)
        x = u(rng);
    return out;
}

void setPrediction(SimTrace& trace, const std::vector<float>& outputs, int64_t steps)
{
    trace.logits = outputs;
    trace.probabilities.clear();
    trace.predicted = -1;
    // A per-step output [T, C] is averaged over time for the prediction display.
    if (steps > 1) {
        const size_t classes = outputs.size() / size_t(steps);
        trace.logits.assign(classes, 0.0f);
        for (size_t i = 0; i < classes * size_t(steps); ++i)
            trace.logits[i % classes] += outputs[i] / float(steps);
    }
    if (trace.logits.empty())
        return;
    const float mx = *std::max_element(trace.logits.begin(), trace.logits.end());
    double sum = 0;
    for (float x : trace.logits)
        sum += std::exp(double(x - mx));
    for (float x : trace.logits)
        trace.probabilities.push_back(float(std::exp(double(x - mx)) / sum));
    trace.predicted = int(std::max_element(trace.logits.begin(), trace.logits.end()) - trace.logits.begin());
}

SimTrace runReference(const ir::Module& m, const std::vector<float>& image, const std::atomic<bool>* cancel)
{
    SimTrace trace;
    trace.engine = "f32 reference interpreter (core/interp)";
    trace.timesteps = m.timesteps;
    QElapsedTimer timer;
    timer.start();
    const auto inputs = m.inputs();
    if (inputs.size() != 1) {
        trace.error = "the simulator panel feeds one image; this module has " + std::to_string(inputs.size()) + " inputs";
        return trace;
    }
    const int64_t want = m.typeOf(inputs[0]).numElements();
    if (want != int64_t(image.size())) {
        trace.error = "the model input " + ir::toString(m.typeOf(inputs[0])) + " has " + std::to_string(want) +
                      " elements, the image has " + std::to_string(image.size());
        return trace;
    }

    // LIF layers, and which value feeds each (its input trace).
    std::map<ir::ValueId, size_t> layerOfResult, layerOfInput;
    for (size_t i = 0; i < m.ops().size(); ++i) {
        const ir::Op& op = m.ops()[i];
        if (op.kind != ir::OpKind::Lif)
            continue;
        LayerTrace l;
        l.name = m.value(op.result).name;
        l.origin = op.origin;
        l.opIndex = int(i);
        l.neurons = m.typeOf(op.result).numElements();
        l.stepOffset.push_back(0);
        layerOfResult[op.result] = trace.layers.size();
        if (!op.operands.empty())
            layerOfInput[op.operands[0]] = trace.layers.size();
        trace.layers.push_back(std::move(l));
    }

    interp::RunOptions options;
    options.threads = 0;
    options.cancel = cancel;
    options.observe = [&](int t, ir::ValueId v, std::span<const float> data) {
        if (t < 0)
            return;
        if (auto it = layerOfResult.find(v); it != layerOfResult.end()) {
            LayerTrace& l = trace.layers[it->second];
            for (size_t k = 0; k < data.size(); ++k)
                if (data[k] != 0.0f)
                    l.neuron.push_back(int32_t(k));
            l.stepOffset.push_back(int64_t(l.neuron.size()));
        }
        if (auto it = layerOfInput.find(v); it != layerOfInput.end()) {
            LayerTrace& l = trace.layers[it->second];
            if (int64_t(data.size()) == l.neurons)
                l.input.insert(l.input.end(), data.begin(), data.end());
        }
    };
    interp::InputBatch batch{1, image};
    interp::RunResult r = interp::run(m, {batch}, options);
    trace.cancelled = r.cancelled;
    trace.error = r.error;
    if (!r.ok())
        return trace;
    for (LayerTrace& l : trace.layers) {
        l.spikesPerStep.clear();
        for (size_t t = 0; t + 1 < l.stepOffset.size(); ++t)
            l.spikesPerStep.push_back(l.stepOffset[t + 1] - l.stepOffset[t]);
        l.total = int64_t(l.neuron.size());
        if (int64_t(l.input.size()) != l.neurons * l.steps())
            l.input.clear();
    }
    if (!r.outputs.empty()) {
        const ir::Shape& shape = r.outputShapes[0];
        const bool perStep = shape.size() >= 3 && shape[1] == m.timesteps && m.timesteps > 0;
        setPrediction(trace, r.outputs[0], perStep ? m.timesteps : 1);
    }
    trace.seconds = double(timer.nsecsElapsed()) / 1e9;
    return trace;
}

SimTrace syntheticTrace(int layers, int64_t neurons, int64_t steps, int64_t spikes, uint32_t seed)
{
    SimTrace trace;
    trace.engine = "synthetic";
    trace.timesteps = steps;
    std::mt19937 rng(seed);
    const int64_t perLayerStep = std::max<int64_t>(1, spikes / std::max<int64_t>(1, layers * steps));
    for (int li = 0; li < layers; ++li) {
        LayerTrace l;
        l.name = "layer" + std::to_string(li);
        l.origin = "blocks." + std::to_string(li) + ".lif";
        l.neurons = neurons;
        l.stepOffset.push_back(0);
        std::uniform_int_distribution<int32_t> pick(0, int32_t(neurons - 1));
        for (int64_t t = 0; t < steps; ++t) {
            const size_t before = l.neuron.size();
            for (int64_t k = 0; k < perLayerStep; ++k)
                l.neuron.push_back(pick(rng));
            std::sort(l.neuron.begin() + long(before), l.neuron.end());
            l.stepOffset.push_back(int64_t(l.neuron.size()));
            l.spikesPerStep.push_back(int64_t(l.neuron.size() - before));
        }
        l.total = int64_t(l.neuron.size());
        trace.layers.push_back(std::move(l));
    }
    return trace;
}

} // namespace stc::views::sim

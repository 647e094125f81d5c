// Finds spiking neurons in a recording by the structure of their computation
// (class names are only used to name things): a chain of membrane values, one
// per time step, each compared with a threshold, threaded from step to step
// through elementwise ops. The neuron model and its constants are then fitted
// and verified bit for bit by replaying the recorded ops with LibTorch on
// probe inputs (ties included) against the Spike IR `lif` formula.
#pragma once

#include "neuron_model.h"
#include "recorded_graph.h"

#include <map>
#include <string>
#include <vector>

namespace stc::torchscript {

struct NeuronInstance {
    std::string path;      // module path, e.g. "blocks.0.attn.q_lif" (unique)
    std::string className; // hint, e.g. "MultiStepLIFNode"
    bool ok = false;       // recognized and verified
    NeuronParams params;
    int64_t T = 0;
    std::vector<ValueRef> stepInput;               // the value driving step t
    std::vector<std::vector<ValueRef>> stepSpikes; // values that are the spikes of step t
    std::vector<ValueRef> stepMembrane;            // the charged membrane of step t (compared with v_th)
    std::vector<int32_t> nodes;                    // recorded nodes absorbed into the neuron
    std::vector<int64_t> spikesPerStep;            // recorded spike counts (whole batch)
    int64_t spikeTotal = 0;
    SourceLoc loc;
    std::string source;
};

struct NeuronAnalysis {
    std::vector<NeuronInstance> neurons;
    std::vector<int32_t> nodeOwner;                      // per recorded node: neuron index or -1
    std::map<ValueRef, std::pair<int32_t, int32_t>> spikeOf;    // spike value -> (neuron, step)
    std::map<ValueRef, std::pair<int32_t, int32_t>> membraneOf; // membrane value -> (neuron, step)
};

NeuronAnalysis recognizeNeurons(const RecordedGraph& g, Replayer& replayer, Diagnostics& diags);

// Ops that act elementwise (the only ones a neuron's state update is made of).
bool isElementwiseKind(const std::string& kind);

} // namespace stc::torchscript

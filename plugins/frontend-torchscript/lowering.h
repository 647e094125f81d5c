// Lowers a recording (plus the recognized neurons) to a Spike IR module.
#pragma once

#include "layout.h"
#include "neuron_recognizer.h"
#include "recorded_graph.h"

#include "ir/module.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stc::torchscript {

struct LoweredOutput {
    ir::ValueId value = ir::kNoValue;
    Layout layout;                     // of the recorded output tensor
    std::vector<int64_t> recordedShape;
};

struct LoweringResult {
    std::optional<ir::Module> module; // empty when anything was unsupported
    std::vector<LoweredOutput> outputs;
    std::map<std::string, ir::ValueId> neuronValues; // neuron path -> lif result
    int64_t timesteps = 0;
};

// `expectedT` (0 = any) is the number of time steps the user asked for.
// Every unsupported construct is reported (op kind, module path, source
// range) and lowering continues, so one run lists them all.
LoweringResult lowerRecording(const RecordedGraph& g, const NeuronAnalysis& neurons, int64_t expectedT,
                              Diagnostics& diags);

} // namespace stc::torchscript

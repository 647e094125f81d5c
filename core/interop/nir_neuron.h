// Spike IR `lif` neurons <-> NIR neuron nodes (LIF, IF, LI, I, Threshold).
// Our neurons are discrete-time; NIR's are continuous-time ODEs. We map them
// through forward Euler with a step `dt`: tau dv/dt = (v_leak - v) + R I
// becomes v += dt/tau * (v_leak - v + R x). The derivation and what is lost
// are in docs/nir.md ("Neurons").
#pragma once

#include "interop/nir_graph.h"
#include "ir/attributes.h"

#include <string>
#include <vector>

namespace stc::interop {

struct NeuronExport {
    NirNode node; // type, parameter arrays of `shape`, and the stc_* metadata
    // What a tool that ignores our metadata computes differently, one line each.
    std::vector<std::string> losses;
    std::string error; // not expressible at all
};

// `shape` is the neuron population's shape (the NIR parameter arrays' shape).
NeuronExport exportNeuron(const ir::Attributes& lif, const ir::Shape& shape, double dt);

struct NeuronImport {
    ir::Attributes attrs;   // of the `lif` op
    double inputGain = 1.0; // the input is scaled by this first (a `scale` op) when != 1
    std::vector<double> inputGains; // or, when not empty, per neuron (a `mul` by a constant)
    bool fromMetadata = false; // restored exactly from consistent stc_* metadata
    std::string note;       // e.g. stc metadata present but inconsistent, hence ignored
    std::string error;
};

bool isNirNeuronType(const std::string& type);
NeuronImport importNeuron(const NirNode& node, double dt);

// NIR's CubaLIF/CubaLI (a synaptic current I feeding the membrane) is, in
// Spike IR, two `lif` ops: the current stage (a leaky integrator: output
// "membrane", reset "none") and the membrane neuron it feeds. The membrane
// integrates the current of the same step, as snnTorch's Synaptic does
// (docs/nir.md, "Synaptic current").
//
// True when `syn` can be a CubaLIF's current stage and `mem` (its only user)
// the membrane: both leak (no `if` neuron, beta < 1).
bool isCubaPair(const ir::Attributes& syn, const ir::Attributes& mem);
NeuronExport exportCubaNeuron(const ir::Attributes& syn, const ir::Attributes& mem, const ir::Shape& shape, double dt);

struct CubaImport {
    NeuronImport syn, mem; // applied in this order: input -> [scale] -> syn -> [scale] -> mem
    std::string error;
};
CubaImport importCubaNeuron(const NirNode& node, double dt);

} // namespace stc::interop

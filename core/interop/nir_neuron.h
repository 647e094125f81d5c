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
    bool fromMetadata = false; // restored exactly from consistent stc_* metadata
    std::string note;       // e.g. stc metadata present but inconsistent, hence ignored
    std::string error;
};

bool isNirNeuronType(const std::string& type);
NeuronImport importNeuron(const NirNode& node, double dt);

} // namespace stc::interop

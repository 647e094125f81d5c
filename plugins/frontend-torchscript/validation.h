// Self-validation: runs the imported module in the reference interpreter on
// the example input and compares with what LibTorch computed.
#pragma once

#include "lowering.h"
#include "neuron_recognizer.h"

#include "frontend/importer.h"

#include <string>
#include <vector>

namespace stc::torchscript {

struct ValidationReport {
    bool ok = true;
    double maxAbsError = 0.0;
    double maxRelError = 0.0;
    int64_t spikeMismatches = 0; // neurons whose spike count differs
    std::string firstDivergingNeuron; // path of the first (op order) such neuron
    double seconds = 0.0;
};

// Element-wise closeness used throughout: |a - b| <= 1e-5 + 1e-4 * |b|.
bool closeEnough(double got, double want);

// Rearranges a LibTorch output tensor (recorded layout) into the order the
// interpreter returns: [batch, T, ...features] or [batch, ...features].
std::vector<float> toInterpreterOrder(const std::vector<float>& data, const LoweredOutput& out, int64_t batch,
                                      int64_t T);

// `reference` holds the LibTorch outputs (flattened, recorded layout) and the
// recorded spike totals per neuron path.
ValidationReport validateImport(const ir::Module& m, const LoweringResult& lowered,
                                const frontend::ReferenceRun& reference, Diagnostics& diags);

// The smallest |charged membrane - v_th| of neuron `n` in the recording
// (LibTorch's own values), over every step and element; -1 when unknown.
double thresholdMargin(const NeuronInstance& n, const Replayer& recording);

// Whether a spike-count mismatch may be a float rounding tie: LibTorch's
// membrane came within 1e-5 * max(1, |v_th|) of the threshold, and LibTorch's
// BLAS and the interpreter sum in different orders. It only decides whether
// the importer validates again on fresh inputs; nothing is accepted on it.
bool isRoundingTie(double margin, const NeuronParams& p);

} // namespace stc::torchscript

// Add alignment for the quantize pass (docs/passes.md, "Quantization design").
// The fixed-point model adds two integers only when their scales differ by an
// exact power of two (one operand is shifted, fixedpoint/qmodel.cpp). A
// residual add sums a layer output (scale = input scale x weight unit) with
// spikes (scale 1) or with another layer's output, so the quantizer picks the
// weight unit of such a layer from a power-of-two grid anchored at the other
// operand's scale instead of freely.
#pragma once

#include "fixedpoint/qmodel.h"
#include "ir/module.h"

#include <string>
#include <vector>

namespace stc::passes::quantalign {

struct UnitChoice {
    double unit = 0.0;     // the unit to use (== ideal when nothing constrains it)
    double bitsLost = 0.0; // log2(unit / ideal), in [0, 1)
};

// The weight unit for layer `layerOp` (conv/linear) whose input has scale
// `inScale` and whose unconstrained unit is `ideal`. Follows the layer's
// result through scale-preserving views (reshape, flatten, permute, maxpool,
// scale) to every add it feeds; for the first add whose other operand has a
// scale known from `infos` (values before `layerOp`) or derivable without
// quantizing another layer (spikes: 1), returns the smallest unit >= ideal
// that makes the two scales differ by a power of two. If `ideal` already does,
// it is returned unchanged (bit-identical to an unconstrained quantization).
UnitChoice alignedUnit(const ir::Module& m, int32_t layerOp, double inScale, double ideal,
                       const std::vector<fixedpoint::ValueQ>& infos);

// Why the add `addOp` could not be aligned (appended to the refusal).
std::string explainMisalignedAdd(const ir::Module& m, int32_t addOp, const std::vector<fixedpoint::ValueQ>& infos);

} // namespace stc::passes::quantalign

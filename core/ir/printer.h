// Spike IR text printer. The output is the canonical form described in
// docs/spike-ir.md: parsing it gives back an identical module (weights
// bit-exact), and printing that module gives back the same text.
#pragma once

#include "ir/module.h"

#include <string>

namespace stc::ir {

struct PrintOptions {
    // Replace constants that would be printed as base64 (more than 16 elements,
    // or f32 containing NaN) with `const <elided N bytes>`. For human listings
    // only: the parser refuses such text.
    bool elideConstants = false;
};

// Constants with at most this many elements (and no NaN) are printed inline.
constexpr int64_t kMaxInlineConstantElements = 16;

std::string printModule(const Module& m, const PrintOptions& options = {});
// One op as printed in a module, without indentation or newline.
std::string printOp(const Module& m, const Op& op, const PrintOptions& options = {});
// `%3 = conv2d` (or `output`): how diagnostics name an op.
std::string opLabel(const Module& m, const Op& op);

// toString(Type), but safe on a corrupt element type (prints `<elem 9>[...]`).
std::string printType(const Type& t);

// Attribute value syntax: 3, 2.0, true, "s", [1, 2], [0.5, 1.0], f[].
std::string printAttrValue(const AttrValue& v);
// Float attribute syntax: shortest round-trip digits, always distinguishable
// from an int (2.0, 1e-07, inf, -inf, nan).
std::string formatFloat(double v);
std::string formatFloat(float v);

} // namespace stc::ir

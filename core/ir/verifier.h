// Spike IR verifier: checks a module against the op definitions (ops.h) and
// reports every problem, each located at the op (file:line:col when the module
// was parsed from text), with the op label, its origin and what was expected.
#pragma once

#include "ir/module.h"
#include "util/diagnostics.h"

#include <string>

namespace stc::ir {

// Limits that keep shape arithmetic (element counts, conv/pool output sizes,
// byte sizes) far away from int64 overflow. Real models are many orders of
// magnitude below them.
constexpr int64_t kMaxDimension = 2147483647; // 2^31 - 1, also the bound for shape-like int attributes
constexpr int64_t kMaxElements = int64_t{1} << 40;

// Empty if every dim is in 0..kMaxDimension and the element count is at most
// kMaxElements; otherwise says what is wrong.
std::string checkTypeLimits(const Type& t);

// `moduleLoc` locates module-level problems (timesteps, missing output); pass
// ParseResult::moduleLoc. Op-level problems use Op::textLoc.
Diagnostics verify(const Module& m, const SourceLoc& moduleLoc = {});

} // namespace stc::ir

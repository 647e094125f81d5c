// Definitions of the built-in passes (one function per pass file), used by
// registerBuiltinPasses.
#pragma once

#include "passes/pass.h"

namespace stc::passes {

PassDef makeFoldBnPass();
PassDef makeDcePass();
PassDef makeCanonicalizePass();
PassDef makePrunePass();
PassDef makeLowerAttentionPass();
PassDef makeReassociateMatmulPass();
PassDef makeLowerCustomPass();
PassDef makeFusePass();
PassDef makeQuantizePass();
PassDef makeScheduleTimePass();
PassDef makeLayoutBuffersPass();
PassDef makeSetTimestepsPass();
PassDef makeScaleThresholdsPass();

// Property names shared by the passes and the mapping passes of core/target.
namespace prop {
inline constexpr const char* kBnFolded = "bn-folded";
inline constexpr const char* kAttentionLowered = "attention-lowered";
inline constexpr const char* kCustomLowered = "custom-lowered";
inline constexpr const char* kFused = "fused";
inline constexpr const char* kQuantized = "quantized";
inline constexpr const char* kTimeScheduled = "time-scheduled";
inline constexpr const char* kBuffersLaidOut = "buffers-laid-out";
} // namespace prop

} // namespace stc::passes

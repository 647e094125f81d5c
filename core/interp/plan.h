// Execution plan of the reference interpreter: validates a module, splits its
// ops into the phases before / inside / after the time loop, prepares each
// kernel's parameters and assigns storage (reusing buffers whose values are
// dead). Internal to core/interp.
#pragma once

#include "interp/kernels_elementwise.h"
#include "interp/kernels_linear.h"
#include "interp/kernels_neuron.h"
#include "interp/kernels_pool.h"
#include "ir/custom_op.h"
#include "ir/module.h"

#include <string>
#include <variant>
#include <vector>

namespace stc::interp::detail {

enum class Phase : uint8_t { Pre, Loop, Post };

struct LifState {
    LifParams params;
    std::vector<float> v;  // membrane state, nb * n
    size_t statsIndex = 0; // into RunResult::lif
};

struct TimeMeanState {
    ReduceState reduce;     // per-step mean over the op's axes (identity without axes)
    std::vector<float> tmp; // per-step reduced value when there are axes
};

// delay{steps = k}: the operand's last k per-step values, ring[t % k] holding
// step t - k's (zero before step k). Read at the op, written after the step.
struct DelayState {
    int64_t steps = 1;
    std::vector<float> ring; // steps x nb x n
};

// A custom op's reference kernel (ir/custom_op.h), created for this run.
struct CustomState {
    std::shared_ptr<ir::CustomKernel> kernel;
    std::vector<ir::KernelInput> inputs; // rebound before each call
};

struct PlannedOp {
    int32_t op = -1; // index into module.ops()
    ir::OpKind kind = ir::OpKind::Const;
    ir::ValueId result = ir::kNoValue;
    Phase phase = Phase::Pre;
    bool alias = false;    // the result is a view of operand 0 (reshape, flatten, direct encode)
    bool timeMean = false; // mean{over_time}: accumulates in the loop, finalised after it
    float factor = 0.0f;   // scale
    uint64_t seed = 0;     // rate encode
    std::variant<std::monostate, ConvState, LinearState, MatMulState, PoolState, BatchNormState, LifState,
                 BinaryState, PermuteState, ReduceState, TimeMeanState, CustomState, DelayState>
        state;
};

enum class Storage : uint8_t { Slot, Input, Const, Converted, Alias, None };

struct ValueInfo {
    Phase phase = Phase::Pre;
    bool batched = false;
    int64_t elements = 0;
    Storage storage = Storage::None;
    ir::ValueId root = ir::kNoValue; // the value owning the storage (itself unless an alias)
    int32_t slot = -1;               // Storage::Slot
    int32_t index = -1;              // Storage::Input: input number; Storage::Converted: converted[] index
};

struct Plan {
    int64_t batch = 0;
    std::vector<PlannedOp> pre, loop, post;
    std::vector<size_t> timeMeans; // indices into loop of the mean{over_time} ops
    std::vector<ValueInfo> values;
    std::vector<int64_t> slotSizes; // floats
    std::vector<std::vector<float>> converted; // non-f32 constants as floats
    std::vector<size_t> lifOps; // (phase Loop) indices into loop, in op order
    std::vector<size_t> delayOps; // (phase Loop) indices into loop: their rings take the operand after each step
};

// Validates `m` for a run with `batch` samples and fills `plan`. Returns "" or
// an error message naming the offending op.
std::string buildPlan(const ir::Module& m, int64_t batch, Plan& plan);

// "op #12 (%q = conv2d at blocks.0.attn.q_conv)"
std::string describeOp(const ir::Module& m, int32_t opIndex);

} // namespace stc::interp::detail

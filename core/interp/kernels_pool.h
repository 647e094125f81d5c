// 2-D max and average pooling over x[C,H,W], as ATen's CPU kernels compute them.
// Internal to core/interp.
#pragma once

#include "interp/kernels_common.h"
#include "ir/attributes.h"
#include "ir/types.h"

#include <string>

namespace stc::interp::detail {

struct PoolState {
    int64_t c = 0, h = 0, w = 0, oh = 0, ow = 0;
    int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
    bool countIncludePad = true;
    int64_t divisorOverride = 0; // 0 = none
};

// x, y: per-sample shapes [C,H,W]; y's spatial size (from type inference) fixes ceil_mode's effect.
std::string preparePool(PoolState& st, bool isMax, const ir::Shape& x, const ir::Shape& y,
                        const ir::Attributes& attrs);
void runMaxPool(const PoolState& st, In x, Out y, int64_t nb, const Exec& ex);
void runAvgPool(const PoolState& st, In x, Out y, int64_t nb, const Exec& ex);

} // namespace stc::interp::detail

// Element-wise, data-movement and reduction kernels: add/mul (broadcasting),
// scale, batchnorm, permute, mean/sum over axes, rate encoding, time averaging.
// Internal to core/interp.
#pragma once

#include "interp/kernels_common.h"
#include "ir/attributes.h"
#include "ir/types.h"

#include <string>

namespace stc::interp::detail {

// Broadcasting a (op) b -> y, per sample; dims coalesced where possible.
struct BinaryState {
    std::vector<int64_t> dims, aStr, bStr; // per-sample output dims and operand strides (0 = broadcast)
    int64_t elements = 0;
    bool sameShape = false; // a, b and y have the same per-sample shape
};
std::string prepareBinary(BinaryState& st, const ir::Shape& a, const ir::Shape& b, const ir::Shape& y);
void runAdd(const BinaryState& st, In a, In b, Out y, int64_t nb, const Exec& ex);
void runMul(const BinaryState& st, In a, In b, Out y, int64_t nb, const Exec& ex);

void runScale(float factor, In x, Out y, int64_t nb, int64_t n, const Exec& ex);

struct BatchNormState {
    int64_t outer = 1, channels = 0, inner = 1;
    float eps = 0.0f;
    std::vector<float> alpha, beta;
};
std::string prepareBatchNorm(BatchNormState& st, const ir::Shape& x, const ir::Attributes& attrs);
// mean, var, gamma, beta: [C] each, not batched.
void runBatchNorm(BatchNormState& st, In x, const float* mean, const float* var, const float* gamma,
                  const float* beta, Out y, int64_t nb, const Exec& ex);

struct PermuteState {
    std::vector<int64_t> dims, inStr; // output dims and the input stride for each
    int64_t elements = 0;
};
std::string preparePermute(PermuteState& st, const ir::Shape& x, const ir::Attributes& attrs);
void runPermute(const PermuteState& st, In x, Out y, int64_t nb, const Exec& ex);

// Sum or mean over per-sample axes. Accumulates in double, rounds to float,
// then (mean) divides by the float count.
struct ReduceState {
    std::vector<int64_t> dims, outStr; // input dims and the output stride for each (0 = reduced)
    int64_t inElements = 0, outElements = 0, count = 1;
    bool mean = false;
    bool identity = false; // no axes: a plain copy
};
std::string prepareReduce(ReduceState& st, bool mean, const ir::Shape& x, const ir::Attributes& attrs);
void runReduce(const ReduceState& st, In x, Out y, int64_t nb, const Exec& ex);

// Rate encoding of n elements per sample at step t (see interp/rate_encoding.h).
void runRateEncode(uint64_t seed, int64_t t, In x, Out y, int64_t nb, int64_t n, const Exec& ex);

// acc += x (element-wise); then acc /= steps after the last step.
void accumulate(In x, Out acc, int64_t nb, int64_t n, const Exec& ex);
void divideBy(Out acc, float steps, int64_t nb, int64_t n, const Exec& ex);

// y = x broadcast to nb samples (copies).
void copyValue(In x, Out y, int64_t nb, int64_t n);

} // namespace stc::interp::detail

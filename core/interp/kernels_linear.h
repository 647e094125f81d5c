// GEMM-based kernels: conv1d/conv2d (im2col), linear, batched matmul.
// Internal to core/interp.
#pragma once

#include "interp/kernels_common.h"
#include "ir/attributes.h"
#include "ir/types.h"

#include <string>

namespace stc::interp::detail {

// Conv geometry per sample; conv1d is a conv2d with H = KH = 1.
struct ConvGeom {
    int64_t c = 0, h = 1, w = 0;   // input
    int64_t o = 0, oh = 1, ow = 0; // output
    int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1, groups = 1;
    int64_t cg() const { return c / groups; }
    int64_t og() const { return o / groups; }
    int64_t kdim() const { return cg() * kh * kw; }
    int64_t pixels() const { return oh * ow; }
    bool pointwise() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
};

struct ConvState {
    ConvGeom g;
    bool weightPerStep = false; // repack every execution instead of once per run
    bool packed = false;
    std::vector<float> packedW; // groups x packedASize(og, kdim)
};

// x, w, y: per-sample shapes. Returns an error message or "".
std::string prepareConv(ConvState& st, bool is1d, const ir::Shape& x, const ir::Shape& w, const ir::Shape& y,
                        const ir::Attributes& attrs);
// bias.p may be null.
void runConv(ConvState& st, In x, In w, In bias, Out y, int64_t nb, const Exec& ex);

struct LinearState {
    int64_t in = 0, out = 0, rows = 0; // rows per sample = product of leading dims
    bool weightPerStep = false;
    bool packed = false;
    std::vector<float> packedW; // packed B = W^T, packedBSize(in, out)
};

std::string prepareLinear(LinearState& st, const ir::Shape& x, const ir::Shape& w);
void runLinear(LinearState& st, In x, In w, In bias, Out y, int64_t nb, const Exec& ex);

struct MatMulState {
    int64_t n = 0, k = 0, m = 0;
    ir::Shape lead;              // broadcast leading dims of the result (per sample)
    std::vector<int64_t> aLead;  // element stride of a per leading dim (0 where broadcast)
    std::vector<int64_t> bLead;
    int64_t instances = 1;       // product of lead
};

std::string prepareMatMul(MatMulState& st, const ir::Shape& a, const ir::Shape& b);
void runMatMul(const MatMulState& st, In a, In b, Out y, int64_t nb, const Exec& ex);

} // namespace stc::interp::detail

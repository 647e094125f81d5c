#include "sdt_mask_add.h"

#include <cmath>

namespace stc::customops {

namespace {

constexpr double kDefaultTau = 2.0;       // MultiStepLIFNode(tau=2.0, ...)
constexpr double kDefaultThreshold = 0.5; // talking_heads_lif: v_threshold=0.5

const char* const kOperandNames[3] = {"q", "k", "v"};

// Per step: s[h, d] = LIF(Σ_n k[h, n, d] · v[h, n, d]), out[h, n, d] = q[h, n, d] · s[h, d],
// where h runs over the leading dims (heads), n over the tokens (axis -2), d over the last axis.
// The LIF update is the interpreter's (kernels_neuron.cpp) for decay_input, hard reset to 0, fire
// on >=: every + - / one float32 rounding, so the lowered form gives the same bits.
class Kernel final : public ir::CustomKernel {
public:
    Kernel(const ir::Shape& shape, float tau, float vth) : tau_(tau), vth_(vth)
    {
        d_ = shape.back();
        n_ = shape[shape.size() - 2];
        heads_ = 1;
        for (size_t i = 0; i + 2 < shape.size(); ++i)
            heads_ *= shape[i];
    }

    void step(int, int64_t batch, const std::vector<ir::KernelInput>& in, float* out) override
    {
        const int64_t cells = heads_ * d_, elems = heads_ * n_ * d_;
        if (v_.empty())
            v_.assign(size_t(batch * cells), 0.0f); // hard reset: the membrane starts at v_reset = 0
        sum_.resize(size_t(cells));
        for (int64_t b = 0; b < batch; ++b) {
            const float *q = in[0].at(b), *k = in[1].at(b), *v = in[2].at(b);
            float* mem = v_.data() + b * cells;
            float* o = out + b * elems;
            for (int64_t h = 0; h < heads_; ++h) {
                float* s = sum_.data() + h * d_;
                for (int64_t d = 0; d < d_; ++d)
                    s[d] = 0.0f;
                for (int64_t n = 0; n < n_; ++n) {
                    const int64_t row = (h * n_ + n) * d_;
                    for (int64_t d = 0; d < d_; ++d)
                        s[d] += k[row + d] * v[row + d]; // mask (AND of spikes) and add (count)
                }
                for (int64_t d = 0; d < d_; ++d) {
                    float& vp = mem[h * d_ + d];
                    const float hcharge = vp + (s[d] - (vp - 0.0f)) / tau_;
                    const bool spike = hcharge - vth_ >= 0.0f;
                    vp = spike ? 0.0f : hcharge;
                    s[d] = spike ? 1.0f : 0.0f;
                }
                for (int64_t n = 0; n < n_; ++n) {
                    const int64_t row = (h * n_ + n) * d_;
                    for (int64_t d = 0; d < d_; ++d)
                        o[row + d] = q[row + d] * s[d]; // mask the queries with the channel spikes
                }
            }
        }
    }

private:
    float tau_, vth_;
    int64_t heads_ = 1, n_ = 0, d_ = 0;
    std::vector<float> v_;   // membrane per sample and (head, channel)
    std::vector<float> sum_; // per (head, channel) of one sample
};

} // namespace

SdtMaskAddOp::SdtMaskAddOp()
    : ir::CustomOpDef(kName, 3, 3,
                      {{"tau", ir::AttrKind::Float, false, "membrane time constant of the LIF on the token sum, default 2.0"},
                       {"v_threshold", ir::AttrKind::Float, false, "its firing threshold, default 0.5"}},
                      "spike-driven self-attention: q ⊙ LIF(Σ_tokens k ⊙ v) over q, k, v spike[T,...,N,D]")
{
}

ir::InferResult SdtMaskAddOp::inferType(const std::vector<ir::Type>& in, const ir::Attributes&) const
{
    for (size_t i = 0; i < 3; ++i) {
        if (in[i].elem != ir::ElemType::Spike || !in[i].perStep())
            return ir::InferResult::fail(std::string("operand ") + std::to_string(i) + " (" + kOperandNames[i] +
                                         ") must be a per-step spike tensor, got " + ir::toString(in[i]));
        if (in[i].rank() < 2)
            return ir::InferResult::fail(std::string("operand ") + std::to_string(i) + " (" + kOperandNames[i] +
                                         ") must have rank >= 2 ([..., tokens, channels]), got " +
                                         ir::toString(in[i]));
    }
    for (size_t i = 1; i < 3; ++i)
        if (in[i].shape != in[0].shape)
            return ir::InferResult::fail(std::string("q, k and v must have the same shape: q is ") +
                                         ir::toString(in[0]) + ", " + kOperandNames[i] + " is " + ir::toString(in[i]));
    return ir::InferResult::ok({ir::ElemType::Spike, in[0].shape, ir::TimeKind::PerStep});
}

std::string SdtMaskAddOp::checkAttributes(const ir::Attributes& a) const
{
    const double tau = a.getFloat("tau", kDefaultTau);
    if (!(tau > 0.0) || !std::isfinite(tau))
        return "tau must be a positive finite number";
    if (!std::isfinite(a.getFloat("v_threshold", kDefaultThreshold)))
        return "v_threshold must be finite";
    return {};
}

std::unique_ptr<ir::CustomKernel> SdtMaskAddOp::createKernel(const ir::KernelSetup& setup, std::string* error) const
{
    if (setup.result.rank() < 2) {
        if (error)
            *error = "result must have rank >= 2";
        return nullptr;
    }
    const ir::Attributes& a = *setup.attrs;
    return std::make_unique<Kernel>(setup.result.shape, static_cast<float>(a.getFloat("tau", kDefaultTau)),
                                    static_cast<float>(a.getFloat("v_threshold", kDefaultThreshold)));
}

ir::ValueId SdtMaskAddOp::lower(ir::LoweringBuilder& b, const std::vector<ir::ValueId>& x, const ir::Attributes& a,
                                std::string* error) const
{
    // kv = k ⊙ v (spike AND), Σ over tokens (graded count), LIF, then q ⊙ spikes (broadcast over tokens).
    const ir::ValueId kv = b.build(ir::OpKind::Mul, {x[1], x[2]}, {}, "sdt.kv", error);
    if (kv == ir::kNoValue)
        return kv;
    ir::Attributes sumAttrs;
    sumAttrs.set("axes", ir::IntList{-2});
    sumAttrs.set("keepdim", true);
    const ir::ValueId sum = b.build(ir::OpKind::Sum, {kv}, sumAttrs, "sdt.kv_sum", error);
    if (sum == ir::kNoValue)
        return sum;
    ir::Attributes lif;
    lif.set("neuron", std::string("lif"));
    lif.set("tau", a.getFloat("tau", kDefaultTau));
    lif.set("decay_input", true);
    lif.set("v_threshold", a.getFloat("v_threshold", kDefaultThreshold));
    lif.set("v_reset", 0.0);
    lif.set("reset", std::string("hard"));
    const ir::ValueId spikes = b.build(ir::OpKind::Lif, {sum}, lif, "sdt.kv_lif", error);
    if (spikes == ir::kNoValue)
        return spikes;
    return b.build(ir::OpKind::Mul, {x[0], spikes}, {}, "sdt.out", error);
}

} // namespace stc::customops

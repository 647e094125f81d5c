// Small spiking models with random weights, built programmatically for the
// interpreter tests and benchmark (no Qt, no parser): a conv SNN and a
// Spikformer-like network (SPS stem, spiking self-attention in both the CIFAR
// form (q @ k^T) @ v and the ImageNet form q @ (k^T @ v), MLP, mean head).
#pragma once

#include "ir/module.h"

#include <cmath>
#include <random>
#include <string>

namespace stc::test {

class ModelBuilder {
public:
    ModelBuilder(int64_t timesteps, uint32_t seed) : rng_(seed) { m.timesteps = timesteps; }

    ir::Module m;
    std::string error;

    ir::ValueId input(ir::Shape s, const std::string& name)
    {
        return m.addInput(ir::Type{ir::ElemType::F32, std::move(s), ir::TimeKind::Invariant}, name);
    }

    ir::ValueId op(ir::OpKind k, std::vector<ir::ValueId> operands, ir::Attributes a, const std::string& origin)
    {
        if (!error.empty())
            return ir::kNoValue;
        std::string e;
        const ir::ValueId v = m.build(k, std::move(operands), std::move(a), origin, {}, &e);
        if (v == ir::kNoValue)
            error = origin + ": " + e;
        return v;
    }

    ir::ValueId random(ir::Shape s, float lo, float hi, const std::string& origin)
    {
        std::uniform_real_distribution<float> d(lo, hi);
        std::vector<float> v(size_t(ir::numElements(s)));
        for (auto& x : v)
            x = d(rng_);
        return m.addConst(ir::Tensor::fromFloats(std::move(s), std::move(v)), {}, origin);
    }

    // Uniform weights scaled by fan-in (gain 1 ~ unit variance outputs for unit inputs).
    ir::ValueId weight(ir::Shape s, int64_t fanIn, float gain, const std::string& origin)
    {
        const float b = gain * std::sqrt(3.0f / float(fanIn));
        return random(std::move(s), -b, b, origin);
    }

    ir::ValueId bn(ir::ValueId x, int64_t c, int64_t axis, const std::string& origin)
    {
        ir::Attributes a;
        a.set("eps", 1e-5);
        a.set("axis", axis);
        return op(ir::OpKind::BatchNorm,
                  {x, random({c}, -0.2f, 0.2f, origin + ".running_mean"), random({c}, 0.5f, 2.0f, origin + ".running_var"),
                   random({c}, 0.8f, 1.6f, origin + ".weight"), random({c}, 0.0f, 0.6f, origin + ".bias")},
                  a, origin);
    }

    ir::ValueId lif(ir::ValueId x, const std::string& origin, double vth = 1.0)
    {
        ir::Attributes a;
        a.set("neuron", std::string("lif"));
        a.set("tau", 2.0);
        a.set("decay_input", true);
        a.set("v_threshold", vth);
        a.set("v_reset", 0.0);
        a.set("reset", std::string("hard"));
        a.set("fire", std::string("ge"));
        return op(ir::OpKind::Lif, {x}, a, origin);
    }

    ir::ValueId conv3x3(ir::ValueId x, int64_t cin, int64_t cout, const std::string& origin, float gain = 2.0f)
    {
        ir::Attributes a;
        a.set("padding", ir::IntList{1, 1});
        return op(ir::OpKind::Conv2d, {x, weight({cout, cin, 3, 3}, cin * 9, gain, origin + ".weight")}, a, origin);
    }

    ir::ValueId linear(ir::ValueId x, int64_t in, int64_t out, bool bias, const std::string& origin,
                       float gain = 2.0f)
    {
        std::vector<ir::ValueId> ops{x, weight({out, in}, in, gain, origin + ".weight")};
        if (bias)
            ops.push_back(random({out}, -0.1f, 0.1f, origin + ".bias"));
        return op(ir::OpKind::Linear, ops, {}, origin);
    }

    ir::ValueId unary(ir::OpKind k, ir::ValueId x, const char* key, ir::AttrValue v, const std::string& origin)
    {
        ir::Attributes a;
        a.set(key, std::move(v));
        return op(k, {x}, a, origin);
    }

    ir::ValueId maxpool(ir::ValueId x, int64_t k, int64_t s, int64_t p, const std::string& origin)
    {
        ir::Attributes a;
        a.set("kernel", ir::IntList{k, k});
        a.set("stride", ir::IntList{s, s});
        a.set("padding", ir::IntList{p, p});
        return op(ir::OpKind::MaxPool2d, {x}, a, origin);
    }

private:
    std::mt19937 rng_;
};

// x[1,28,28] -> 2 x (conv3x3-bn-lif-maxpool2) -> linear -> mean over time -> [10].
inline ir::Module buildConvSnn(int64_t timesteps, uint32_t seed, std::string* error)
{
    ModelBuilder b(timesteps, seed);
    b.m.name = "conv_snn";
    using K = ir::OpKind;
    ir::ValueId x = b.unary(K::Encode, b.input({1, 28, 28}, "image"), "mode", std::string("direct"), "encode");
    x = b.lif(b.bn(b.conv3x3(x, 1, 8, "conv1"), 8, 0, "bn1"), "lif1");
    x = b.maxpool(x, 2, 2, 0, "pool1");
    x = b.lif(b.bn(b.conv3x3(x, 8, 16, "conv2"), 16, 0, "bn2"), "lif2");
    x = b.maxpool(x, 2, 2, 0, "pool2");
    x = b.unary(K::Flatten, x, "start", int64_t(0), "flatten");
    x = b.linear(x, 16 * 7 * 7, 10, true, "fc", 1.0f);
    x = b.unary(K::Mean, x, "over_time", true, "mean_t");
    b.m.addOutput({x});
    if (error)
        *error = b.error;
    return std::move(b.m);
}

struct SpikformerSpec {
    int64_t embed = 48;
    int64_t heads = 4;
    int64_t blocks = 2; // alternating CIFAR and ImageNet attention forms
    int64_t mlpRatio = 4;
    int64_t timesteps = 4;
    uint32_t seed = 1;
};

// Spikformer (linear variant) for [1,28,28]: SPS 2 stages with MaxPool(3,2,1) -> 7x7 = 49 tokens.
inline ir::Module buildSpikformer(const SpikformerSpec& s, std::string* error)
{
    ModelBuilder b(s.timesteps, s.seed);
    b.m.name = "spikformer";
    using K = ir::OpKind;
    const int64_t d = s.embed, h = s.heads, dh = d / h, n = 49;
    ir::ValueId x = b.unary(K::Encode, b.input({1, 28, 28}, "image"), "mode", std::string("direct"), "encode");
    x = b.lif(b.bn(b.conv3x3(x, 1, d / 2, "patch_embed.proj_conv"), d / 2, 0, "patch_embed.proj_bn"),
              "patch_embed.proj_lif");
    x = b.maxpool(x, 3, 2, 1, "patch_embed.maxpool");
    x = b.lif(b.bn(b.conv3x3(x, d / 2, d, "patch_embed.proj_conv1"), d, 0, "patch_embed.proj_bn1"),
              "patch_embed.proj_lif1");
    const ir::ValueId feat = b.maxpool(x, 3, 2, 1, "patch_embed.maxpool1");
    x = b.lif(b.bn(b.conv3x3(feat, d, d, "patch_embed.rpe_conv"), d, 0, "patch_embed.rpe_bn"), "patch_embed.rpe_lif");
    x = b.op(K::Add, {x, feat}, {}, "patch_embed.residual");
    x = b.unary(K::Flatten, x, "start", int64_t(1), "patch_embed.flatten"); // [d, N]
    x = b.unary(K::Permute, x, "perm", ir::IntList{1, 0}, "patch_embed.transpose"); // [N, d]

    for (int64_t blk = 0; blk < s.blocks; ++blk) {
        const std::string p = "blocks." + std::to_string(blk) + ".";
        const bool kvFirst = blk % 2 == 1;
        auto qkv = [&](const char* name) {
            const std::string q = p + "attn." + name;
            ir::ValueId y = b.lif(b.bn(b.linear(x, d, d, false, q + "_linear"), d, -1, q + "_bn"), q + "_lif");
            y = b.unary(K::Reshape, y, "shape", ir::IntList{n, h, dh}, q + "_heads");
            return b.unary(K::Permute, y, "perm", ir::IntList{1, 0, 2}, q + "_heads"); // [h, N, dh]
        };
        const ir::ValueId q = qkv("q"), k = qkv("k"), v = qkv("v");
        const ir::ValueId kt = b.unary(K::Permute, k, "perm", ir::IntList{0, 2, 1}, p + "attn.k_t"); // [h, dh, N]
        ir::ValueId o;
        if (kvFirst) {
            const ir::ValueId kv = b.op(K::MatMul, {kt, v}, {}, p + "attn.kv");
            o = b.unary(K::Scale, b.op(K::MatMul, {q, kv}, {}, p + "attn.q_kv"), "factor", 0.125, p + "attn.scale");
        } else {
            const ir::ValueId attn =
                b.unary(K::Scale, b.op(K::MatMul, {q, kt}, {}, p + "attn.q_k"), "factor", 0.125, p + "attn.scale");
            o = b.op(K::MatMul, {attn, v}, {}, p + "attn.attn_v");
        }
        o = b.unary(K::Permute, o, "perm", ir::IntList{1, 0, 2}, p + "attn.merge");
        o = b.unary(K::Reshape, o, "shape", ir::IntList{n, d}, p + "attn.merge");
        o = b.lif(o, p + "attn.attn_lif", 0.5);
        o = b.lif(b.bn(b.linear(o, d, d, true, p + "attn.proj_linear"), d, -1, p + "attn.proj_bn"),
                  p + "attn.proj_lif");
        x = b.op(K::Add, {x, o}, {}, p + "attn.residual");
        ir::ValueId m = b.lif(b.bn(b.linear(x, d, d * s.mlpRatio, true, p + "mlp.fc1_linear"), d * s.mlpRatio, -1,
                                   p + "mlp.fc1_bn"),
                              p + "mlp.fc1_lif");
        m = b.lif(b.bn(b.linear(m, d * s.mlpRatio, d, true, p + "mlp.fc2_linear"), d, -1, p + "mlp.fc2_bn"),
                  p + "mlp.fc2_lif");
        x = b.op(K::Add, {x, m}, {}, p + "mlp.residual");
    }
    x = b.unary(K::Mean, x, "axes", ir::IntList{0}, "mean_tokens"); // [d]
    x = b.linear(x, d, 10, true, "head", 1.0f);
    x = b.unary(K::Mean, x, "over_time", true, "mean_time");
    b.m.addOutput({x});
    if (error)
        *error = b.error;
    return std::move(b.m);
}

// Multiply-accumulates of one inference (all time steps): conv, linear and matmul.
inline double macsPerInference(const ir::Module& m)
{
    double macs = 0;
    for (const ir::Op& op : m.ops()) {
        if (op.result < 0)
            continue;
        const ir::Type& t = m.typeOf(op.result);
        const double steps = t.perStep() ? double(m.timesteps) : 1.0;
        if (op.kind == ir::OpKind::Conv2d || op.kind == ir::OpKind::Conv1d) {
            const ir::Shape& w = m.typeOf(op.operands[1]).shape;
            macs += steps * double(t.numElements()) * double(ir::numElements(w) / w[0]);
        } else if (op.kind == ir::OpKind::Linear) {
            macs += steps * double(t.numElements()) * double(m.typeOf(op.operands[1]).shape[1]);
        } else if (op.kind == ir::OpKind::MatMul) {
            const ir::Shape& a = m.typeOf(op.operands[0]).shape;
            macs += steps * double(t.numElements()) * double(a.back());
        }
    }
    return macs;
}

} // namespace stc::test

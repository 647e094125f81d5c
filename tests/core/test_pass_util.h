// Small modules built in code for the pass tests, and helpers to run them.
#pragma once

#include "interp/interpreter.h"
#include "ir/module.h"
#include "ir/verifier.h"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace stc::testutil {

// Deterministic pseudo-random numbers (no global state).
struct Lcg {
    uint64_t s;
    explicit Lcg(uint64_t seed) : s(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
    double uniform() // [0, 1)
    {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<double>(s >> 11) * (1.0 / 9007199254740992.0);
    }
    float sym(float scale) { return static_cast<float>((uniform() * 2.0 - 1.0) * scale); }
};

inline ir::Tensor randomTensor(ir::Shape shape, Lcg& rng, float scale, float offset = 0.0f)
{
    std::vector<float> v(static_cast<size_t>(ir::numElements(shape)));
    for (auto& x : v)
        x = offset + rng.sym(scale);
    return ir::Tensor::fromFloats(std::move(shape), std::move(v));
}

class Builder {
public:
    explicit Builder(uint64_t seed = 1, int64_t timesteps = 4) : rng(seed) { m.timesteps = timesteps; }

    ir::ValueId op(ir::OpKind kind, std::vector<ir::ValueId> operands, ir::Attributes attrs = {},
                   std::string name = {}, std::string origin = {})
    {
        std::string error;
        ir::ValueId v = m.build(kind, std::move(operands), std::move(attrs), std::move(origin), std::move(name), &error);
        if (v == ir::kNoValue)
            throw std::runtime_error("test module: " + error);
        return v;
    }
    ir::ValueId weight(ir::Shape shape, float scale, std::string name = {}, float offset = 0.0f)
    {
        return m.addConst(randomTensor(std::move(shape), rng, scale, offset), std::move(name));
    }
    ir::ValueId lif(ir::ValueId x, double vth = 1.0, std::string name = {})
    {
        ir::Attributes a;
        a.set("neuron", std::string("lif"));
        a.set("tau", 2.0);
        a.set("decay_input", true);
        a.set("v_threshold", vth);
        a.set("v_reset", 0.0);
        a.set("reset", std::string("hard"));
        return op(ir::OpKind::Lif, {x}, a, std::move(name));
    }
    // batchnorm over `axis` with random statistics (var > 0).
    ir::ValueId bn(ir::ValueId x, int64_t axis, std::string name = {})
    {
        int64_t rank = m.typeOf(x).rank();
        const int64_t c = m.typeOf(x).shape[size_t(axis < 0 ? axis + rank : axis)];
        ir::ValueId mean = weight({c}, 0.3f), var = weight({c}, 0.4f, {}, 0.6f);
        ir::ValueId gamma = weight({c}, 0.5f, {}, 1.0f), beta = weight({c}, 0.3f);
        ir::Attributes a;
        a.set("eps", 1e-5);
        a.set("axis", axis);
        return op(ir::OpKind::BatchNorm, {x, mean, var, gamma, beta}, a, std::move(name));
    }
    ir::ValueId permute(ir::ValueId x, ir::IntList perm)
    {
        ir::Attributes a;
        a.set("perm", std::move(perm));
        return op(ir::OpKind::Permute, {x}, a);
    }
    ir::ValueId reshape(ir::ValueId x, ir::IntList shape)
    {
        ir::Attributes a;
        a.set("shape", std::move(shape));
        return op(ir::OpKind::Reshape, {x}, a);
    }
    ir::ValueId scale(ir::ValueId x, double f)
    {
        ir::Attributes a;
        a.set("factor", f);
        return op(ir::OpKind::Scale, {x}, a);
    }
    ir::ValueId encode(ir::ValueId x)
    {
        ir::Attributes a;
        a.set("mode", std::string("direct"));
        return op(ir::OpKind::Encode, {x}, a, "enc");
    }
    ir::ValueId meanTime(ir::ValueId x)
    {
        ir::Attributes a;
        a.set("over_time", true);
        return op(ir::OpKind::Mean, {x}, a, "logits");
    }

    ir::Module m;
    Lcg rng;
};

// conv2d-bn-lif-maxpool-flatten-linear-bn(axis -1)-lif-linear-mean(time): a
// small CNN classifier on a [1,8,8] image.
inline ir::Module convNet(uint64_t seed = 1)
{
    Builder b(seed);
    ir::ValueId x = b.m.addInput({ir::ElemType::F32, {1, 8, 8}, ir::TimeKind::Invariant}, "image");
    ir::ValueId e = b.encode(x);
    ir::Attributes conv;
    conv.set("padding", ir::IntList{1, 1});
    ir::ValueId c = b.op(ir::OpKind::Conv2d, {e, b.weight({4, 1, 3, 3}, 0.6f, "conv.w")}, conv, "conv");
    ir::ValueId s = b.lif(b.bn(c, 0, "conv.bn"), 1.0, "conv.lif");
    ir::Attributes pool;
    pool.set("kernel", ir::IntList{2, 2});
    ir::ValueId p = b.op(ir::OpKind::MaxPool2d, {s}, pool, "pool");
    ir::ValueId f = b.op(ir::OpKind::Flatten, {p}, {}, "flat");
    ir::ValueId l1 = b.op(ir::OpKind::Linear, {f, b.weight({16, 64}, 0.3f, "fc1.w"), b.weight({16}, 0.1f, "fc1.b")},
                          {}, "fc1");
    ir::ValueId s2 = b.lif(b.bn(l1, -1, "fc1.bn"), 1.0, "fc1.lif");
    ir::ValueId l2 = b.op(ir::OpKind::Linear, {s2, b.weight({10, 16}, 0.5f, "head.w"), b.weight({10}, 0.1f, "head.b")},
                          {}, "head");
    b.m.addOutput({b.meanTime(l2)});
    return std::move(b.m);
}

// A Spikformer-like block on C=8 channels x N=6 tokens with 2 heads: q/k/v as
// conv1d-bn-lif (CIFAR form) or linear-transpose-bn-transpose-lif (linear
// form), attention (q k^T * 0.125) v, attn lif (0.5), proj, residual, head.
inline ir::Module attentionNet(bool linearForm, uint64_t seed = 2, bool kvFirst = false)
{
    Builder b(seed);
    const int64_t C = 8, N = 6, H = 2, D = C / H;
    ir::ValueId x = b.m.addInput({ir::ElemType::F32, {C, N}, ir::TimeKind::Invariant}, "tokens");
    ir::ValueId e = b.lif(b.encode(x), 0.5, "in.lif"); // spikes [C, N]
    ir::ValueId eT = b.permute(e, {1, 0});              // [N, C]
    auto qkv = [&](const std::string& n) {
        ir::ValueId nc; // [N, C] spikes
        if (linearForm) {
            ir::ValueId l = b.op(ir::OpKind::Linear, {eT, b.weight({C, C}, 0.6f, n + ".w")}, {}, n + ".linear");
            ir::ValueId t = b.permute(l, {1, 0});
            ir::ValueId bnv = b.bn(t, 0, n + ".bn");
            nc = b.lif(b.reshape(b.permute(bnv, {1, 0}), {N, C}), 1.0, n + ".lif");
        } else {
            ir::ValueId c = b.op(ir::OpKind::Conv1d, {e, b.weight({C, C, 1}, 0.6f, n + ".w")}, {}, n + ".conv");
            nc = b.permute(b.lif(b.bn(c, 0, n + ".bn"), 1.0, n + ".lif"), {1, 0});
        }
        return b.permute(b.reshape(nc, {N, H, D}), {1, 0, 2}); // [H, N, D]
    };
    ir::ValueId q = qkv("q"), k = qkv("k"), v = qkv("v");
    ir::ValueId o; // [H, N, D]
    if (kvFirst) { // ImageNet form: q @ (k^T @ v) * 0.125
        ir::ValueId kv = b.op(ir::OpKind::MatMul, {b.permute(k, {0, 2, 1}), v}, {}, "kv");
        o = b.scale(b.op(ir::OpKind::MatMul, {q, kv}, {}, "attn_v"), 0.125);
    } else { // CIFAR form: (q @ k^T * 0.125) @ v
        ir::ValueId attn = b.scale(b.op(ir::OpKind::MatMul, {q, b.permute(k, {0, 2, 1})}, {}, "attn"), 0.125);
        o = b.op(ir::OpKind::MatMul, {attn, v}, {}, "attn_v");
    }
    ir::ValueId merged = b.reshape(b.permute(o, {1, 0, 2}), {N, C});         // [N, C]
    ir::ValueId as = b.permute(b.lif(merged, 0.15, "attn.lif"), {1, 0});     // [C, N]; low threshold: small test
    ir::ValueId pc = b.op(ir::OpKind::Conv1d, {as, b.weight({C, C, 1}, 1.0f, "proj.w", 0.3f), b.weight({C}, 0.3f, "proj.b", 0.5f)},
                          {}, "proj.conv");
    ir::ValueId ps = b.lif(b.bn(pc, 0, "proj.bn"), 1.0, "proj.lif");
    ir::ValueId res = b.op(ir::OpKind::Add, {e, ps}, {}, "res");
    ir::Attributes mean;
    mean.set("axes", ir::IntList{1});
    ir::ValueId pooled = b.op(ir::OpKind::Mean, {res}, mean, "pooled"); // [C]
    ir::ValueId head = b.op(ir::OpKind::Linear, {pooled, b.weight({4, C}, 0.5f, "head.w"), b.weight({4}, 0.1f)}, {},
                            "head");
    b.m.addOutput({b.meanTime(head)});
    return std::move(b.m);
}

// The bundled Fashion-MNIST Spikformer's architecture (tools/models/
// train_spikformer_fmnist.py) as the importer produces it, random weights:
// SPS 1->8->16->32->64 (3x3 conv-bn-lif, maxpool after the first two), RPE,
// 49 tokens x 64 channels, 2 blocks with 4 heads (CIFAR form, then ImageNet
// form), MLP ratio 2, head mean over tokens -> linear(64, 10) -> mean over T.
inline ir::Module spikformerNet(uint64_t seed = 3)
{
    Builder b(seed);
    ir::ValueId x = b.m.addInput({ir::ElemType::F32, {1, 28, 28}, ir::TimeKind::Invariant}, "image");
    ir::ValueId h = b.encode(x);
    const int64_t chans[] = {1, 8, 16, 32, 64};
    auto conv2d = [&](ir::ValueId in, int64_t ci, int64_t co, const std::string& n) {
        ir::Attributes a;
        a.set("padding", ir::IntList{1, 1});
        ir::ValueId c = b.op(ir::OpKind::Conv2d, {in, b.weight({co, ci, 3, 3}, 3.0f / std::sqrt(float(ci * 9)), n + ".w", 0.1f / std::sqrt(float(ci * 9)))}, a,
                             n + ".conv");
        return b.lif(b.bn(c, 0, n + ".bn"), 1.0, n + ".lif");
    };
    for (int i = 0; i < 4; ++i) {
        h = conv2d(h, chans[i], chans[i + 1], "sps" + std::to_string(i));
        if (i < 2) {
            ir::Attributes p;
            p.set("kernel", ir::IntList{3, 3});
            p.set("stride", ir::IntList{2, 2});
            p.set("padding", ir::IntList{1, 1});
            h = b.op(ir::OpKind::MaxPool2d, {h}, p, "sps" + std::to_string(i) + ".pool");
        }
    }
    ir::ValueId rpe = conv2d(h, 64, 64, "rpe");
    ir::Attributes fl;
    fl.set("start", int64_t{1});
    ir::ValueId tokens = b.op(ir::OpKind::Flatten, {b.op(ir::OpKind::Add, {rpe, h}, {}, "sps.res")}, fl, "tokens");
    const int64_t C = 64, N = 49, H = 4, D = 16;
    auto conv1d = [&](ir::ValueId in, int64_t ci, int64_t co, const std::string& n, double vth = 1.0) {
        ir::ValueId c = b.op(ir::OpKind::Conv1d, {in, b.weight({co, ci, 1}, 3.0f / std::sqrt(float(ci)), n + ".w"),
                                                  b.weight({co}, 0.1f, n + ".b")}, {}, n + ".conv");
        return b.lif(b.bn(c, 0, n + ".bn"), vth, n + ".lif");
    };
    for (int blk = 0; blk < 2; ++blk) {
        const std::string p = "blocks." + std::to_string(blk);
        auto heads = [&](const std::string& n) {
            ir::ValueId s = conv1d(tokens, C, C, p + ".attn." + n);
            return b.permute(b.reshape(b.permute(s, {1, 0}), {N, H, D}), {1, 0, 2}); // [H, N, D]
        };
        ir::ValueId q = heads("q"), k = heads("k"), v = heads("v"), o;
        if (blk == 0) {
            ir::ValueId attn = b.scale(b.op(ir::OpKind::MatMul, {q, b.permute(k, {0, 2, 1})}, {}, p + ".attn.qk"), 0.125);
            o = b.op(ir::OpKind::MatMul, {attn, v}, {}, p + ".attn.out");
        } else {
            ir::ValueId kv = b.op(ir::OpKind::MatMul, {b.permute(k, {0, 2, 1}), v}, {}, p + ".attn.kv");
            o = b.scale(b.op(ir::OpKind::MatMul, {q, kv}, {}, p + ".attn.out"), 0.125);
        }
        ir::ValueId merged = b.permute(b.reshape(b.permute(o, {1, 0, 2}), {N, C}), {1, 0});
        ir::ValueId a = b.lif(merged, 0.5, p + ".attn.attn_lif");
        tokens = b.op(ir::OpKind::Add, {tokens, conv1d(a, C, C, p + ".attn.proj")}, {}, p + ".res1");
        ir::ValueId hid = conv1d(tokens, C, 2 * C, p + ".mlp.fc1");
        tokens = b.op(ir::OpKind::Add, {tokens, conv1d(hid, 2 * C, C, p + ".mlp.fc2")}, {}, p + ".res2");
    }
    ir::Attributes mean;
    mean.set("axes", ir::IntList{1});
    ir::ValueId pooled = b.op(ir::OpKind::Mean, {tokens}, mean, "pooled");
    ir::ValueId head = b.op(ir::OpKind::Linear, {pooled, b.weight({10, C}, 0.5f, "head.w"), b.weight({10}, 0.1f, "head.b")},
                            {}, "head");
    b.m.addOutput({b.meanTime(head)});
    return std::move(b.m);
}

inline std::vector<interp::InputBatch> randomInputs(const ir::Module& m, int64_t batch, uint64_t seed)
{
    Lcg rng(seed);
    std::vector<interp::InputBatch> in;
    for (ir::ValueId v : m.inputs()) {
        interp::InputBatch ib;
        ib.batch = batch;
        ib.data.resize(static_cast<size_t>(batch * m.typeOf(v).numElements()));
        for (auto& x : ib.data)
            x = static_cast<float>(rng.uniform() * 1.5);
        in.push_back(std::move(ib));
    }
    return in;
}

inline std::vector<float> runOutputs(const ir::Module& m, const std::vector<interp::InputBatch>& in)
{
    auto r = interp::run(m, in);
    if (!r.ok())
        throw std::runtime_error("interpreter: " + r.error);
    return r.outputs.at(0);
}

inline double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b)
{
    if (a.size() != b.size())
        return INFINITY;
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i)
        d = std::max(d, std::fabs(double(a[i]) - double(b[i])));
    return d;
}

inline int countOps(const ir::Module& m, ir::OpKind k)
{
    int n = 0;
    for (const auto& op : m.ops())
        n += op.kind == k;
    return n;
}

} // namespace stc::testutil

#include "ir/ops.h"

#include <algorithm>
#include <cmath>

namespace stc::ir {

namespace {

using K = AttrKind;

std::vector<OpDef> makeDefs()
{
    const std::vector<AttrSpec> conv2dAttrs = {
        {"stride", K::IntList, false, "[sh, sw], default [1, 1]"},
        {"padding", K::IntList, false, "[ph, pw], default [0, 0]"},
        {"dilation", K::IntList, false, "[dh, dw], default [1, 1]"},
        {"groups", K::Int, false, "default 1"},
    };
    const std::vector<AttrSpec> conv1dAttrs = {
        {"stride", K::IntList, false, "[s], default [1]"},
        {"padding", K::IntList, false, "[p], default [0]"},
        {"dilation", K::IntList, false, "[d], default [1]"},
        {"groups", K::Int, false, "default 1"},
    };
    return {
        {OpKind::Input, "input", 0, 0, true, {}, "model input, time-invariant, shape per sample"},
        {OpKind::Const, "const", 0, 0, true, {}, "constant tensor"},
        {OpKind::Encode, "encode", 1, 1, true,
         {{"mode", K::String, true, "\"direct\" (repeat over T) or \"rate\" (Bernoulli spikes, p = clamp(x, 0, 1))"},
          {"seed", K::Int, false, "rate encoding seed, default 0"}},
         "time-invariant input -> per-step value"},
        {OpKind::Conv1d, "conv1d", 2, 3, true, conv1dAttrs, "x[C,L] * w[O,C/groups,K] + b[O]"},
        {OpKind::Conv2d, "conv2d", 2, 3, true, conv2dAttrs, "x[C,H,W] * w[O,C/groups,KH,KW] + b[O]"},
        {OpKind::Linear, "linear", 2, 3, true, {}, "x[...,I] w[O,I]^T + b[O]"},
        {OpKind::BatchNorm, "batchnorm", 5, 5, true,
         {{"eps", K::Float, true, "variance epsilon"}, {"axis", K::Int, false, "channel axis, default 0"}},
         "inference batch norm: (x - mean) / sqrt(var + eps) * gamma + beta"},
        {OpKind::Lif, "lif", 1, 1, true,
         {{"neuron", K::String, false, "\"lif\" (default), \"if\" or \"leaky\" (snnTorch)"},
          {"tau", K::Float, false, "membrane time constant (lif)"},
          {"decay_input", K::Bool, false, "lif: v += (x - (v - v_reset)) / tau if true, else v += x - (v - v_reset) / tau"},
          {"beta", K::Float, false, "leaky: v = beta * v + x"},
          {"v_threshold", K::Float, true, "firing threshold"},
          {"v_reset", K::Float, false, "reset potential (hard reset), default 0"},
          {"reset", K::String, true, "\"hard\", \"subtract\", \"subtract-delayed\" (snnTorch) or \"none\""},
          {"fire", K::String, false, "\"ge\" (spike when v >= v_threshold, default) or \"gt\""},
          {"output", K::String, false,
           "\"spikes\" (default) or \"membrane\": the charged membrane before the reset, f32 (a readout, "
           "e.g. the mem snnTorch returns)"}},
         "spiking neuron with membrane state carried across time steps"},
        {OpKind::Add, "add", 2, 2, true, {}, "elementwise a + b (broadcasting)"},
        {OpKind::Mul, "mul", 2, 2, true, {}, "elementwise a * b (broadcasting)"},
        {OpKind::Scale, "scale", 1, 1, true, {{"factor", K::Float, true, "scalar factor"}}, "x * factor"},
        {OpKind::MatMul, "matmul", 2, 2, true, {}, "batched a[...,n,k] @ b[...,k,m]"},
        {OpKind::MaxPool2d, "maxpool2d", 1, 1, true,
         {{"kernel", K::IntList, true, "[kh, kw]"},
          {"stride", K::IntList, false, "default = kernel"},
          {"padding", K::IntList, false, "default [0, 0]"},
          {"dilation", K::IntList, false, "default [1, 1]"},
          {"ceil_mode", K::Bool, false, "default false"}},
         "2-D max pooling over x[C,H,W]"},
        {OpKind::AvgPool2d, "avgpool2d", 1, 1, true,
         {{"kernel", K::IntList, true, "[kh, kw]"},
          {"stride", K::IntList, false, "default = kernel"},
          {"padding", K::IntList, false, "default [0, 0]"},
          {"ceil_mode", K::Bool, false, "default false"},
          {"count_include_pad", K::Bool, false, "default true"},
          {"divisor_override", K::Int, false, "0 = none (default)"}},
         "2-D average pooling over x[C,H,W]"},
        {OpKind::Flatten, "flatten", 1, 1, true,
         {{"start", K::Int, false, "default 0"}, {"end", K::Int, false, "default -1"}},
         "merge dims start..end"},
        {OpKind::Reshape, "reshape", 1, 1, true, {{"shape", K::IntList, true, "new per-sample shape, one -1 allowed"}},
         "reshape (row-major)"},
        {OpKind::Permute, "permute", 1, 1, true, {{"perm", K::IntList, true, "dimension order"}}, "transpose dims"},
        {OpKind::Mean, "mean", 1, 1, true,
         {{"axes", K::IntList, false, "per-sample axes to average, default none"},
          {"over_time", K::Bool, false, "also average over the T time steps (result is time-invariant)"},
          {"keepdim", K::Bool, false, "default false"}},
         "mean over tokens/channels and/or time"},
        {OpKind::Sum, "sum", 1, 1, true,
         {{"axes", K::IntList, true, "per-sample axes to sum"}, {"keepdim", K::Bool, false, "default false"}},
         "sum over axes"},
        {OpKind::Delay, "delay", 1, 1, true,
         {{"steps", K::Int, true, "delay in time steps, >= 1"}},
         "y[t] = x[t - steps], 0 for t < steps; its operand may be defined later in the module (a recurrent "
         "back edge)"},
        {OpKind::Custom, "custom", 0, -1, true, {},
         "an op defined by a custom-op plugin, written by its registered name (custom.sdt_mask_add)"},
        {OpKind::Output, "output", 1, -1, false, {}, "module results"},
    };
}

const std::vector<OpDef>& defs()
{
    static const std::vector<OpDef> d = makeDefs();
    return d;
}

std::string shapeStr(const Type& t) { return toString(t); }

TimeKind joinTime(const std::vector<Type>& ops)
{
    for (const auto& t : ops)
        if (t.perStep())
            return TimeKind::PerStep;
    return TimeKind::Invariant;
}

bool normalizeAxis(int64_t& axis, int64_t rank)
{
    if (axis < 0)
        axis += rank;
    return axis >= 0 && axis < rank;
}

std::optional<Shape> broadcast(const Shape& a, const Shape& b)
{
    const size_t n = std::max(a.size(), b.size());
    Shape out(n);
    for (size_t i = 0; i < n; ++i) {
        const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
        const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
        if (da != db && da != 1 && db != 1)
            return std::nullopt;
        out[i] = da == 1 ? db : da;
    }
    return out;
}

ElemType sumType(ElemType a, ElemType b)
{
    if (a == ElemType::F32 || b == ElemType::F32)
        return ElemType::F32;
    return ElemType::Graded; // spike + spike, graded + spike, ...
}

ElemType productType(ElemType a, ElemType b)
{
    if (a == ElemType::F32 || b == ElemType::F32)
        return ElemType::F32;
    if (a == ElemType::Spike && b == ElemType::Spike)
        return ElemType::Spike;
    return ElemType::Graded;
}

int64_t convOut(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d)
{
    return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

int64_t poolOut(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil)
{
    const int64_t num = in + 2 * p - d * (k - 1) - 1;
    int64_t out = (ceil ? (num + s - 1) / s : num / s) + 1;
    if (ceil && (out - 1) * s >= in + p)
        --out;
    return out;
}

IntList pair(const Attributes& a, const char* key, IntList def)
{
    IntList v = a.getInts(key, def);
    if (v.size() == 1)
        v.push_back(v[0]);
    return v;
}

InferResult inferConv(const std::vector<Type>& in, const Attributes& a, int spatial)
{
    const Type& x = in[0];
    const Type& w = in[1];
    const int64_t rank = 1 + spatial;
    if (x.rank() != rank)
        return InferResult::fail("input must have rank " + std::to_string(rank) + " (C" +
                                 (spatial == 2 ? ",H,W" : ",L") + "), got " + shapeStr(x));
    if (w.rank() != rank + 1 || w.perStep())
        return InferResult::fail("weight must be time-invariant with rank " + std::to_string(rank + 1) + ", got " +
                                 shapeStr(w));
    const int64_t groups = a.getInt("groups", 1);
    if (groups < 1 || x.shape[0] % groups || w.shape[0] % groups)
        return InferResult::fail("groups=" + std::to_string(groups) + " must divide input and output channels");
    if (w.shape[1] * groups != x.shape[0])
        return InferResult::fail("weight expects " + std::to_string(w.shape[1] * groups) + " input channels, input has " +
                                 std::to_string(x.shape[0]));
    if (in.size() == 3 && (in[2].rank() != 1 || in[2].shape[0] != w.shape[0]))
        return InferResult::fail("bias must be [" + std::to_string(w.shape[0]) + "], got " + shapeStr(in[2]));
    const IntList ones(spatial, 1), zeros(spatial, 0);
    IntList stride = a.getInts("stride", ones), pad = a.getInts("padding", zeros), dil = a.getInts("dilation", ones);
    if (stride.size() != size_t(spatial) || pad.size() != size_t(spatial) || dil.size() != size_t(spatial))
        return InferResult::fail("stride, padding and dilation need " + std::to_string(spatial) + " entries");
    Shape out{w.shape[0]};
    for (int i = 0; i < spatial; ++i) {
        if (stride[i] < 1 || dil[i] < 1 || pad[i] < 0)
            return InferResult::fail("stride and dilation must be >= 1, padding >= 0");
        const int64_t o = convOut(x.shape[1 + i], w.shape[2 + i], stride[i], pad[i], dil[i]);
        if (o < 1)
            return InferResult::fail("kernel larger than padded input along spatial dim " + std::to_string(i));
        out.push_back(o);
    }
    return InferResult::ok({ElemType::F32, out, joinTime(in)});
}

InferResult inferPool(OpKind kind, const Type& x, const Attributes& a)
{
    if (x.rank() != 3)
        return InferResult::fail("input must be [C,H,W], got " + shapeStr(x));
    IntList k = pair(a, "kernel", {});
    IntList s = pair(a, "stride", k);
    IntList p = pair(a, "padding", {0, 0});
    IntList d = kind == OpKind::MaxPool2d ? pair(a, "dilation", {1, 1}) : IntList{1, 1};
    if (k.size() != 2 || s.size() != 2 || p.size() != 2 || d.size() != 2)
        return InferResult::fail("kernel, stride, padding need 2 entries");
    Shape out{x.shape[0]};
    for (int i = 0; i < 2; ++i) {
        if (k[i] < 1 || s[i] < 1 || p[i] < 0 || d[i] < 1 || p[i] * 2 > k[i])
            return InferResult::fail("invalid pooling window (kernel/stride >= 1, 0 <= padding <= kernel/2)");
        const int64_t o = poolOut(x.shape[1 + i], k[i], s[i], p[i], d[i], a.getBool("ceil_mode"));
        if (o < 1)
            return InferResult::fail("pooling window larger than input");
        out.push_back(o);
    }
    const ElemType e = kind == OpKind::MaxPool2d ? x.elem : ElemType::F32;
    return InferResult::ok({e, out, x.time});
}

InferResult inferReduce(OpKind kind, const Type& x, const Attributes& a)
{
    IntList axes = a.getInts("axes");
    const bool keep = a.getBool("keepdim");
    std::vector<bool> reduce(x.shape.size(), false);
    for (int64_t ax : axes) {
        if (!normalizeAxis(ax, x.rank()))
            return InferResult::fail("axis " + std::to_string(ax) + " out of range for " + shapeStr(x));
        if (reduce[size_t(ax)])
            return InferResult::fail("axis " + std::to_string(ax) + " listed twice");
        reduce[size_t(ax)] = true;
    }
    Shape out;
    for (size_t i = 0; i < x.shape.size(); ++i) {
        if (!reduce[i])
            out.push_back(x.shape[i]);
        else if (keep)
            out.push_back(1);
    }
    if (kind == OpKind::Sum) {
        const ElemType e = x.elem == ElemType::F32 ? ElemType::F32 : ElemType::Graded;
        return InferResult::ok({axes.empty() ? x.elem : e, out, x.time});
    }
    TimeKind t = x.time;
    if (a.getBool("over_time")) {
        if (!x.perStep())
            return InferResult::fail("over_time needs a per-step input, got " + shapeStr(x));
        t = TimeKind::Invariant;
    }
    if (axes.empty() && t == x.time)
        return InferResult::fail("mean with no axes and over_time=false does nothing");
    return InferResult::ok({ElemType::F32, out, t});
}

InferResult inferReshape(const Type& x, const Attributes& a)
{
    IntList shape = a.getInts("shape");
    int64_t known = 1;
    int inferred = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) {
            if (inferred >= 0)
                return InferResult::fail("only one -1 allowed in shape");
            inferred = int(i);
        } else if (shape[i] < 0) {
            return InferResult::fail("negative dimension in shape");
        } else {
            known *= shape[i];
        }
    }
    const int64_t n = x.numElements();
    if (inferred >= 0) {
        if (known == 0 || n % known)
            return InferResult::fail("cannot infer -1: " + std::to_string(n) + " elements not divisible by " +
                                     std::to_string(known));
        shape[size_t(inferred)] = n / known;
    } else if (known != n) {
        return InferResult::fail("shape [" + shapeToString(shape) + "] has " + std::to_string(known) +
                                 " elements, input " + shapeStr(x) + " has " + std::to_string(n));
    }
    return InferResult::ok({x.elem, shape, x.time});
}

} // namespace

std::string_view opName(OpKind k) { return defs()[static_cast<size_t>(k)].name; }

std::optional<OpKind> opKindFromName(std::string_view name)
{
    for (const auto& d : defs())
        if (d.name == name)
            return d.kind;
    return std::nullopt;
}

const OpDef& opDef(OpKind k) { return defs()[static_cast<size_t>(k)]; }
const std::vector<OpDef>& allOpDefs() { return defs(); }

InferResult inferType(OpKind kind, const std::vector<Type>& in, const Attributes& a)
{
    const OpDef& def = opDef(kind);
    const int n = static_cast<int>(in.size());
    if (n < def.minOperands || (def.maxOperands >= 0 && n > def.maxOperands))
        return InferResult::fail("expects " +
                                 (def.minOperands == def.maxOperands
                                      ? std::to_string(def.minOperands)
                                      : std::to_string(def.minOperands) + ".." +
                                            (def.maxOperands < 0 ? "n" : std::to_string(def.maxOperands))) +
                                 " operands, got " + std::to_string(n));
    switch (kind) {
    case OpKind::Input:
    case OpKind::Const:
    case OpKind::Output: return InferResult::fail("type of " + std::string(def.name) + " is not inferred");
    case OpKind::Custom: return InferResult::fail("a custom op's type is inferred by its definition (inferOpType)");
    case OpKind::Encode: {
        if (in[0].perStep())
            return InferResult::fail("encode needs a time-invariant input, got " + shapeStr(in[0]));
        const bool rate = a.getString("mode") == "rate";
        return InferResult::ok({rate ? ElemType::Spike : in[0].elem, in[0].shape, TimeKind::PerStep});
    }
    case OpKind::Conv1d: return inferConv(in, a, 1);
    case OpKind::Conv2d: return inferConv(in, a, 2);
    case OpKind::Linear: {
        const Type &x = in[0], &w = in[1];
        if (x.rank() < 1)
            return InferResult::fail("input must have rank >= 1");
        if (w.rank() != 2 || w.perStep())
            return InferResult::fail("weight must be a time-invariant [O,I] matrix, got " + shapeStr(w));
        if (x.shape.back() != w.shape[1])
            return InferResult::fail("input features " + std::to_string(x.shape.back()) + " != weight in-features " +
                                     std::to_string(w.shape[1]));
        if (n == 3 && (in[2].rank() != 1 || in[2].shape[0] != w.shape[0]))
            return InferResult::fail("bias must be [" + std::to_string(w.shape[0]) + "], got " + shapeStr(in[2]));
        Shape out = x.shape;
        out.back() = w.shape[0];
        return InferResult::ok({ElemType::F32, out, joinTime(in)});
    }
    case OpKind::BatchNorm: {
        int64_t axis = a.getInt("axis", 0);
        if (!normalizeAxis(axis, in[0].rank()))
            return InferResult::fail("channel axis out of range for " + shapeStr(in[0]));
        const int64_t c = in[0].shape[size_t(axis)];
        for (int i = 1; i < 5; ++i)
            if (in[size_t(i)].rank() != 1 || in[size_t(i)].shape[0] != c || in[size_t(i)].perStep())
                return InferResult::fail("statistics/affine operands must be time-invariant [" + std::to_string(c) +
                                         "], operand " + std::to_string(i) + " is " + shapeStr(in[size_t(i)]));
        return InferResult::ok({ElemType::F32, in[0].shape, in[0].time});
    }
    case OpKind::Lif:
        if (!in[0].perStep())
            return InferResult::fail("a neuron needs a per-step input, got " + shapeStr(in[0]));
        return InferResult::ok({a.getString("output", "spikes") == "membrane" ? ElemType::F32 : ElemType::Spike,
                                in[0].shape, TimeKind::PerStep});
    case OpKind::Add:
    case OpKind::Mul: {
        auto s = broadcast(in[0].shape, in[1].shape);
        if (!s)
            return InferResult::fail("shapes " + shapeStr(in[0]) + " and " + shapeStr(in[1]) + " do not broadcast");
        const ElemType e = kind == OpKind::Add ? sumType(in[0].elem, in[1].elem) : productType(in[0].elem, in[1].elem);
        return InferResult::ok({e, *s, joinTime(in)});
    }
    case OpKind::Scale: return InferResult::ok({ElemType::F32, in[0].shape, in[0].time});
    case OpKind::MatMul: {
        const Type &x = in[0], &y = in[1];
        if (x.rank() < 2 || y.rank() < 2)
            return InferResult::fail("operands need rank >= 2, got " + shapeStr(x) + " and " + shapeStr(y));
        if (x.shape.back() != y.shape[y.shape.size() - 2])
            return InferResult::fail("inner dimensions differ: " + shapeStr(x) + " @ " + shapeStr(y));
        auto lead = broadcast(Shape(x.shape.begin(), x.shape.end() - 2), Shape(y.shape.begin(), y.shape.end() - 2));
        if (!lead)
            return InferResult::fail("batch dims do not broadcast: " + shapeStr(x) + " @ " + shapeStr(y));
        lead->push_back(x.shape[x.shape.size() - 2]);
        lead->push_back(y.shape.back());
        return InferResult::ok({sumType(x.elem, y.elem), *lead, joinTime(in)});
    }
    case OpKind::MaxPool2d:
    case OpKind::AvgPool2d: return inferPool(kind, in[0], a);
    case OpKind::Flatten: {
        const Type& x = in[0];
        if (x.rank() == 0)
            return InferResult::ok(x);
        int64_t s = a.getInt("start", 0), e = a.getInt("end", -1);
        if (!normalizeAxis(s, x.rank()) || !normalizeAxis(e, x.rank()) || s > e)
            return InferResult::fail("flatten range out of bounds for " + shapeStr(x));
        Shape out(x.shape.begin(), x.shape.begin() + s);
        int64_t m = 1;
        for (int64_t i = s; i <= e; ++i)
            m *= x.shape[size_t(i)];
        out.push_back(m);
        out.insert(out.end(), x.shape.begin() + e + 1, x.shape.end());
        return InferResult::ok({x.elem, out, x.time});
    }
    case OpKind::Reshape: return inferReshape(in[0], a);
    case OpKind::Permute: {
        const Type& x = in[0];
        IntList perm = a.getInts("perm");
        if (int64_t(perm.size()) != x.rank())
            return InferResult::fail("perm has " + std::to_string(perm.size()) + " entries, input rank is " +
                                     std::to_string(x.rank()));
        std::vector<bool> seen(perm.size(), false);
        Shape out;
        for (int64_t p : perm) {
            if (!normalizeAxis(p, x.rank()) || seen[size_t(p)])
                return InferResult::fail("perm is not a permutation of 0.." + std::to_string(x.rank() - 1));
            seen[size_t(p)] = true;
            out.push_back(x.shape[size_t(p)]);
        }
        return InferResult::ok({x.elem, out, x.time});
    }
    case OpKind::Mean:
    case OpKind::Sum: return inferReduce(kind, in[0], a);
    case OpKind::Delay:
        if (!in[0].perStep())
            return InferResult::fail("delay needs a per-step value, got " + shapeStr(in[0]));
        return InferResult::ok(in[0]);
    }
    return InferResult::fail("unknown op");
}

std::string checkAttributes(OpKind kind, const Attributes& a)
{
    auto oneOf = [&](const char* key, std::initializer_list<const char*> allowed, const char* def) -> std::string {
        const std::string v = a.getString(key, def);
        for (const char* s : allowed)
            if (v == s)
                return {};
        std::string list;
        for (const char* s : allowed)
            list += std::string(list.empty() ? "" : ", ") + '"' + s + '"';
        return std::string(key) + " must be one of " + list + ", got \"" + v + '"';
    };
    switch (kind) {
    case OpKind::Encode: return oneOf("mode", {"direct", "rate"}, "direct");
    case OpKind::Lif: {
        if (auto e = oneOf("neuron", {"lif", "if", "leaky"}, "lif"); !e.empty())
            return e;
        if (auto e = oneOf("reset", {"hard", "subtract", "subtract-delayed", "none"}, "hard"); !e.empty())
            return e;
        if (auto e = oneOf("fire", {"ge", "gt"}, "ge"); !e.empty())
            return e;
        if (auto e = oneOf("output", {"spikes", "membrane"}, "spikes"); !e.empty())
            return e;
        const std::string neuron = a.getString("neuron", "lif");
        if (neuron == "lif") {
            if (!a.has("tau") || !a.has("decay_input"))
                return "neuron \"lif\" needs tau and decay_input";
            const double tau = a.getFloat("tau");
            if (!(tau > 0.0) || !std::isfinite(tau))
                return "tau must be a positive finite number";
        }
        if (neuron == "leaky" && !a.has("beta"))
            return "neuron \"leaky\" needs beta";
        if (!std::isfinite(a.getFloat("v_threshold")))
            return "v_threshold must be finite";
        return {};
    }
    case OpKind::Scale:
        if (!std::isfinite(a.getFloat("factor")))
            return "factor must be finite";
        return {};
    case OpKind::BatchNorm:
        if (!(a.getFloat("eps") >= 0.0))
            return "eps must be >= 0";
        return {};
    case OpKind::Delay:
        if (a.getInt("steps") < 1)
            return "steps must be >= 1 (a delay of 0 steps would be a cycle within one time step), got " +
                   std::to_string(a.getInt("steps"));
        return {};
    default: return {};
    }
}

} // namespace stc::ir

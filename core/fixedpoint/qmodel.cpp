#include "fixedpoint/qmodel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

namespace stc::fixedpoint {

using ir::OpKind;

int64_t saturatingAdd(int64_t a, int64_t b)
{
    const int64_t lim = int64_t{1} << 62;
    return std::min(lim, a + b);
}

int64_t saturatingMul(int64_t a, int64_t b)
{
    const int64_t lim = int64_t{1} << 62;
    if (a == 0 || b == 0)
        return 0;
    return a > lim / b ? lim : a * b;
}

std::string describe(const ir::Module& m, int32_t opIndex)
{
    const ir::Op& op = m.ops()[size_t(opIndex)];
    std::string s(ir::opName(op));
    if (op.result != ir::kNoValue)
        s = "%" + m.value(op.result).name + " = " + s;
    return s;
}

NeuronParams neuronParams(const ir::Op& lif)
{
    NeuronParams p;
    p.du = static_cast<int32_t>(lif.attrs.getInt("q.du", kDecayOne));
    p.dv = static_cast<int32_t>(lif.attrs.getInt("q.dv", 0));
    p.actShift = static_cast<int32_t>(lif.attrs.getInt("q.act_shift", kDefaultActShift));
    p.theta = lif.attrs.getInt("q.theta_mant") << lif.attrs.getInt("q.theta_exp");
    p.fireOnEqual = lif.attrs.getString("fire", "ge") == "ge";
    p.reset = resetFromName(lif.attrs.getString("reset", "hard"));
    return p;
}

double membraneReach(const NeuronParams& p, int64_t inBound, int64_t timesteps)
{
    auto gain = [timesteps](int32_t d) {
        const double r = 1.0 - double(d) / double(kDecayOne);
        double g = 0.0, rj = 1.0;
        for (int64_t j = 0; j < timesteps && rj > 0.0; ++j, rj *= r)
            g += rj;
        return std::max(1.0, g);
    };
    return double(inBound) * std::ldexp(1.0, p.actShift) * gain(p.du) * gain(p.dv);
}

int64_t membraneBound(const NeuronParams& p, int64_t inBound, int64_t timesteps)
{
    const double b = membraneReach(p, inBound, timesteps);
    return b >= double(kStateMax) ? kStateMax : int64_t(std::ceil(b));
}

namespace {

int64_t reducedCount(const ir::Shape& in, const ir::IntList& axes)
{
    int64_t n = 1;
    for (int64_t a : axes)
        n *= in[size_t(a < 0 ? a + int64_t(in.size()) : a)];
    return n;
}

// Sums of the positive weights and of the negated negative ones, branch-free
// (random signs mispredict) in int32 lanes: |w| <= 2^15, so a chunk of 2^15
// weights sums below 2^30. O3: GCC's -O2 cost model leaves it a branchy scalar loop.
template <typename T>
__attribute__((optimize("O3"))) std::pair<int64_t, int64_t> positiveNegativeSums(const T* row, int64_t per)
{
    constexpr int64_t kChunk = int64_t{1} << 15;
    int64_t pos = 0, neg = 0;
    for (int64_t k0 = 0; k0 < per; k0 += kChunk) {
        const int64_t k1 = std::min(per, k0 + kChunk);
        int32_t p = 0, n = 0;
        for (int64_t k = k0; k < k1; ++k) {
            const int32_t wk = row[k];
            p += std::max(wk, 0);
            n += std::max(-wk, 0);
        }
        pos += p;
        neg += n;
    }
    return {pos, neg};
}

std::string layerInfo(const ir::Module& m, const ir::Op& op, const ValueQ& x, ValueQ& out)
{
    const ir::Tensor* w = m.definingOp(op.operands[1]).constant.get();
    if (!w || (w->elem() != ir::ElemType::I8 && w->elem() != ir::ElemType::I16))
        return "weights are not quantized (expected i8/i16 mantissas; run quantize)";
    const double ws = op.attrs.getFloat("q.weight_scale", 0.0);
    const ir::IntList shift = op.attrs.getInts("q.shift");
    const int64_t outCh = w->shape()[0];
    if (!(ws > 0.0) || int64_t(shift.size()) != outCh)
        return "missing q.weight_scale or q.shift annotations";
    const ir::Tensor* b = op.operands.size() > 2 ? m.definingOp(op.operands[2]).constant.get() : nullptr;
    if (op.operands.size() > 2 && (!b || b->elem() != ir::ElemType::I32))
        return "bias is not quantized (expected i32)";
    const int64_t per = w->numElements() / outCh;
    // |sum w x| <= sum |w| * max|x|; for x in [0, max] the positive and the
    // negative weights cannot both act: max(sum w+, sum w-) * max.
    auto sums = [per](const auto* row) { return positiveNegativeSums(row, per); };
    const auto w8 = w->as<int8_t>();
    const auto w16 = w->as<int16_t>();
    const bool is8 = w->elem() == ir::ElemType::I8;
    int64_t bound = 0;
    for (int64_t o = 0; o < outCh; ++o) {
        if (shift[size_t(o)] < 0 || shift[size_t(o)] > 30)
            return "q.shift out of range 0..30";
        const auto [pos, neg] = is8 ? sums(w8.data() + o * per) : sums(w16.data() + o * per);
        const int64_t sum = x.nonNegative ? std::max(pos, neg) : pos + neg;
        int64_t ch = saturatingMul(saturatingMul(sum, int64_t{1} << shift[size_t(o)]), x.bound);
        if (b)
            ch = saturatingAdd(ch, static_cast<int64_t>(std::fabs(b->at(o))));
        bound = std::max(bound, ch);
    }
    out = {true, x.scale * ws, bound};
    return {};
}

} // namespace

ir::ValueId floatInputOf(const ir::Module& m, ir::ValueId v)
{
    while (true) {
        const ir::Op& op = m.definingOp(v);
        if (op.kind == OpKind::Input)
            return v;
        if (op.kind != OpKind::Reshape && op.kind != OpKind::Flatten)
            return ir::kNoValue;
        v = op.operands[0];
    }
}

std::string propagateOp(const ir::Module& m, int32_t i, std::vector<ValueQ>& infos)
{
    const ir::Op& op = m.ops()[size_t(i)];
    if (op.kind == OpKind::Const || op.kind == OpKind::Input || op.kind == OpKind::Output)
        return {};
    if (op.kind == OpKind::Delay) { // integers delayed exactly, at the operand's scale
        const ir::ValueId x = op.operands[0];
        if (m.value(x).def < i) {
            if (!infos[size_t(x)].known)
                return "operand %" + m.value(x).name + " has no integer representation (a float constant or input)";
            infos[size_t(op.result)] = infos[size_t(x)];
            return {};
        }
        // A back edge: its operand's scale is known only later. Spikes have scale 1
        // (checked when the operand is reached: checkBackEdges).
        if (m.typeOf(x).elem != ir::ElemType::Spike)
            return "not yet: a recurrent delay of a non-spike value in the fixed-point path (%" + m.value(x).name +
                   " is " + ir::toString(m.typeOf(x)) + "; its scale is known only after the delay)";
        infos[size_t(op.result)] = {true, 1.0, 1, true};
        return {};
    }
    // Reshapes of a float model input before its encoding stay float (the
    // executor reads the input data directly: row-major data is unchanged).
    if ((op.kind == OpKind::Reshape || op.kind == OpKind::Flatten) && !m.typeOf(op.result).perStep() &&
        !infos[size_t(op.operands[0])].known && floatInputOf(m, op.operands[0]) != ir::kNoValue)
        return {};
    std::vector<const ValueQ*> in;
    for (size_t k = 0; k < op.operands.size(); ++k) {
        const ir::ValueId v = op.operands[k];
        const bool weightSlot = (op.kind == OpKind::Conv1d || op.kind == OpKind::Conv2d || op.kind == OpKind::Linear) && k > 0;
        const bool encodeSlot = op.kind == OpKind::Encode;
        if (!weightSlot && !encodeSlot && !infos[size_t(v)].known)
            return "operand %" + m.value(v).name + " has no integer representation (a float constant or input)";
        in.push_back(&infos[size_t(v)]);
    }
    ValueQ out{true, 1.0, 0};
    const ir::Type& rt = m.typeOf(op.result);
    switch (op.kind) {
    case OpKind::Encode: {
        if (op.attrs.getString("mode") != "direct")
            return "only direct encoding is supported in the fixed-point path";
        if (floatInputOf(m, op.operands[0]) == ir::kNoValue)
            return "the encoded value must be a model input (or a reshape of one)";
        const double s = op.attrs.getFloat("q.input_scale", 0.0);
        const int64_t bits = op.attrs.getInt("q.input_bits", 0);
        if (!(s > 0.0) || bits < 1 || bits > 16)
            return "missing q.input_scale/q.input_bits (run quantize)";
        out = {true, s, (int64_t{1} << (op.attrs.getBool("q.input_signed") ? bits - 1 : bits)) - 1,
               !op.attrs.getBool("q.input_signed")};
        break;
    }
    case OpKind::Conv1d:
    case OpKind::Conv2d:
    case OpKind::Linear:
        if (auto e = layerInfo(m, op, *in[0], out); !e.empty())
            return e;
        break;
    case OpKind::Lif:
        if (!op.attrs.has("q.theta_mant"))
            return "neuron has no fixed-point parameters (run quantize)";
        if (in[0]->scale <= 0.0)
            return "neuron input has a non-positive scale";
        out = {true, 1.0, 1, true};
        if (op.attrs.getString("output", "spikes") == "membrane") {
            const double vs = op.attrs.getFloat("q.v_scale", 0.0);
            if (!(vs > 0.0))
                return "membrane-output neuron has no q.v_scale (run quantize)";
            out = {true, vs, membraneBound(neuronParams(op), in[0]->bound, m.timesteps)};
        }
        break;
    case OpKind::Reshape:
    case OpKind::Flatten:
    case OpKind::Permute:
    case OpKind::MaxPool2d:
    case OpKind::Scale:
        out = *in[0];
        if (op.kind == OpKind::Scale) {
            out.scale *= op.attrs.getFloat("factor");
            if (out.scale == 0.0)
                return "scale by 0";
        }
        break;
    case OpKind::AvgPool2d: {
        if (op.attrs.getBool("ceil_mode") || (!op.attrs.getBool("count_include_pad", true) &&
                                              !op.attrs.getInts("padding", {0, 0}).empty() &&
                                              op.attrs.getInts("padding", {0, 0}) != ir::IntList{0, 0}))
            return "avgpool with a position-dependent divisor is not supported";
        ir::IntList k = op.attrs.getInts("kernel");
        if (k.size() == 1)
            k.push_back(k[0]);
        int64_t div = op.attrs.getInt("divisor_override", 0);
        if (div <= 0)
            div = k[0] * k[1];
        out = {true, in[0]->scale / double(div), saturatingMul(in[0]->bound, k[0] * k[1]), in[0]->nonNegative};
        break;
    }
    case OpKind::Add: {
        const double r = in[0]->scale / in[1]->scale;
        const double l = std::log2(std::fabs(r));
        if (r <= 0.0 || std::fabs(l - std::round(l)) > 1e-12 || std::fabs(l) > 30) {
            char buf[96];
            std::snprintf(buf, sizeof buf, " (scales %.6g and %.6g, ratio %.6g)", in[0]->scale, in[1]->scale, r);
            return "add of values whose scales differ by a factor that is not a power of two: the integer add can "
                   "only shift one operand" + std::string(buf);
        }
        const int64_t sh = static_cast<int64_t>(std::llround(std::fabs(l)));
        const bool firstCoarse = l > 0;
        out.scale = std::min(in[0]->scale, in[1]->scale);
        const int64_t b0 = firstCoarse ? saturatingMul(in[0]->bound, int64_t{1} << sh) : in[0]->bound;
        const int64_t b1 = firstCoarse ? in[1]->bound : saturatingMul(in[1]->bound, int64_t{1} << sh);
        out.bound = saturatingAdd(b0, b1);
        out.nonNegative = in[0]->nonNegative && in[1]->nonNegative;
        break;
    }
    case OpKind::Mul:
        out = {true, in[0]->scale * in[1]->scale, saturatingMul(in[0]->bound, in[1]->bound),
               in[0]->nonNegative && in[1]->nonNegative};
        break;
    case OpKind::MatMul: {
        const int64_t k = m.typeOf(op.operands[0]).shape.back();
        out = {true, in[0]->scale * in[1]->scale, saturatingMul(k, saturatingMul(in[0]->bound, in[1]->bound)),
               in[0]->nonNegative && in[1]->nonNegative};
        break;
    }
    case OpKind::Sum:
    case OpKind::Mean: {
        const ir::Shape& s = m.typeOf(op.operands[0]).shape;
        int64_t count = reducedCount(s, op.attrs.getInts("axes"));
        if (op.kind == OpKind::Mean && op.attrs.getBool("over_time"))
            count *= m.timesteps;
        out = {true, op.kind == OpKind::Mean ? in[0]->scale / double(count) : in[0]->scale,
               saturatingMul(in[0]->bound, count), in[0]->nonNegative};
        break;
    }
    case OpKind::BatchNorm: return "batchnorm is not supported in the fixed-point path (run fold-bn)";
    case OpKind::Custom:
        return "custom op " + std::string(ir::opName(op)) +
               " is not supported in the fixed-point path (run lower-custom to rewrite it into built-in ops)";
    default: return std::string("op ") + std::string(ir::opName(op)) + " is not supported in the fixed-point path";
    }
    if (out.bound > kBoundLimit)
        return "integer values may reach " + std::to_string(out.bound) + ", beyond 32 bits";
    (void)rt;
    infos[size_t(op.result)] = out;
    return {};
}

std::string checkBackEdges(const ir::Module& m, const std::vector<ValueQ>& infos)
{
    for (int32_t i = 0; i < static_cast<int32_t>(m.ops().size()); ++i) {
        const ir::Op& op = m.ops()[size_t(i)];
        if (op.kind != OpKind::Delay || m.value(op.operands[0]).def < i)
            continue;
        const ValueQ& x = infos[size_t(op.operands[0])];
        if (!x.known || x.scale != 1.0 || x.bound > 1)
            return describe(m, i) + ": the delayed spikes %" + m.value(op.operands[0]).name +
                   " are not 0/1 integers of scale 1 in the fixed-point model";
    }
    return {};
}

Analysis analyzeQuantized(const ir::Module& m)
{
    Analysis a;
    a.values.assign(m.values().size(), ValueQ{});
    if (!m.attrs.getBool("quantized")) {
        a.error = "module is not quantized (run the quantize pass)";
        return a;
    }
    for (int32_t i = 0; i < static_cast<int32_t>(m.ops().size()); ++i)
        if (auto e = propagateOp(m, i, a.values); !e.empty()) {
            a.error = describe(m, i) + ": " + e;
            return a;
        }
    a.error = checkBackEdges(m, a.values);
    return a;
}

} // namespace stc::fixedpoint

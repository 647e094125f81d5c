#include "fixedpoint/executor.h"

#include "fixedpoint/program.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace stc::fixedpoint {

namespace detail {

namespace {

using ir::OpKind;

std::vector<int64_t> strides(const ir::Shape& s)
{
    std::vector<int64_t> st(s.size(), 1);
    for (size_t i = s.size(); i-- > 1;)
        st[i - 1] = st[i] * s[i];
    return st;
}

// For every flat index of `out`, the flat index of `in` broadcast to it.
std::vector<int32_t> broadcastMap(const ir::Shape& in, const ir::Shape& out)
{
    const auto inStr = strides(in);
    std::vector<int32_t> map(size_t(ir::numElements(out)));
    std::vector<int64_t> pos(out.size(), 0);
    const size_t off = out.size() - in.size();
    for (size_t f = 0; f < map.size(); ++f) {
        int64_t src = 0;
        for (size_t d = off; d < out.size(); ++d)
            if (in[d - off] != 1)
                src += pos[d] * inStr[d - off];
        map[f] = int32_t(src);
        for (size_t d = out.size(); d-- > 0;) {
            if (++pos[d] < out[d])
                break;
            pos[d] = 0;
        }
    }
    return map;
}

ir::IntList pairOf(const ir::Attributes& a, const char* key, ir::IntList def, size_t n)
{
    ir::IntList v = a.getInts(key, def);
    if (v.size() == 1 && n == 2)
        v.push_back(v[0]);
    return v;
}

std::string compileLayer(const ir::Module& m, const ir::Op& op, Step& s)
{
    const ir::Tensor& w = *m.definingOp(op.operands[1]).constant;
    const int64_t O = w.shape()[0];
    for (int64_t x : op.attrs.getInts("q.shift"))
        s.shift.push_back(int32_t(x));
    s.bias.assign(size_t(O), 0);
    if (op.operands.size() > 2) {
        const ir::Tensor& b = *m.definingOp(op.operands[2]).constant;
        for (int64_t o = 0; o < O; ++o)
            s.bias[size_t(o)] = int32_t(b.at(o));
    }
    const ir::Shape& xs = m.typeOf(op.operands[0]).shape;
    if (op.kind == OpKind::Linear) {
        const int64_t I = w.shape()[1];
        s.inFeatures = I;
        s.rows = ir::numElements(xs) / I;
        s.wT.resize(size_t(I * O));
        for (int64_t o = 0; o < O; ++o)
            for (int64_t i = 0; i < I; ++i)
                s.wT[size_t(i * O + o)] = int32_t(w.at(o * I + i));
        return {};
    }
    const bool two = op.kind == OpKind::Conv2d;
    const size_t n = two ? 2 : 1;
    const ir::Shape& ys = m.typeOf(op.result).shape;
    ConvGeom& g = s.g;
    g.C = xs[0];
    g.O = O;
    g.H = two ? xs[1] : 1;
    g.W = xs.back();
    g.OH = two ? ys[1] : 1;
    g.OW = ys.back();
    g.KH = two ? w.shape()[2] : 1;
    g.KW = w.shape().back();
    const auto st = pairOf(op.attrs, "stride", ir::IntList(n, 1), n);
    const auto pd = pairOf(op.attrs, "padding", ir::IntList(n, 0), n);
    const auto dl = pairOf(op.attrs, "dilation", ir::IntList(n, 1), n);
    g.sx = st.back(), g.px = pd.back(), g.dx = dl.back();
    if (two)
        g.sy = st[0], g.py = pd[0], g.dy = dl[0];
    g.groups = op.attrs.getInt("groups", 1);
    const int64_t cg = g.C / g.groups;
    s.wT.resize(size_t(cg * g.KH * g.KW * O));
    for (int64_t o = 0; o < O; ++o)
        for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t ky = 0; ky < g.KH; ++ky)
                for (int64_t kx = 0; kx < g.KW; ++kx)
                    s.wT[size_t(((ci * g.KH + ky) * g.KW + kx) * O + o)] =
                        int32_t(w.at(((o * cg + ci) * g.KH + ky) * g.KW + kx));
    return {};
}

void compilePool(const ir::Module& m, const ir::Op& op, Step& s)
{
    const ir::Shape& xs = m.typeOf(op.operands[0]).shape;
    const ir::Shape& ys = m.typeOf(op.result).shape;
    ConvGeom& g = s.g;
    g.C = xs[0], g.H = xs[1], g.W = xs[2], g.OH = ys[1], g.OW = ys[2];
    const auto k = pairOf(op.attrs, "kernel", {}, 2);
    const auto st = pairOf(op.attrs, "stride", k, 2);
    const auto pd = pairOf(op.attrs, "padding", {0, 0}, 2);
    const auto dl = op.kind == OpKind::MaxPool2d ? pairOf(op.attrs, "dilation", {1, 1}, 2) : ir::IntList{1, 1};
    g.KH = k[0], g.KW = k[1], g.sy = st[0], g.sx = st[1], g.py = pd[0], g.px = pd[1], g.dy = dl[0], g.dx = dl[1];
}

void compileMatMul(const ir::Module& m, const ir::Op& op, Step& s)
{
    const ir::Shape& a = m.typeOf(op.operands[0]).shape;
    const ir::Shape& b = m.typeOf(op.operands[1]).shape;
    const ir::Shape& y = m.typeOf(op.result).shape;
    s.n = a[a.size() - 2], s.k = a.back(), s.mcols = b.back();
    const ir::Shape lead(y.begin(), y.end() - 2);
    const ir::Shape la(a.begin(), a.end() - 2), lb(b.begin(), b.end() - 2);
    const auto ma = broadcastMap(la.empty() ? ir::Shape{} : la, lead);
    const auto mb = broadcastMap(lb.empty() ? ir::Shape{} : lb, lead);
    for (size_t i = 0; i < ma.size(); ++i) {
        s.batchA.push_back(int64_t(ma[i]) * s.n * s.k);
        s.batchB.push_back(int64_t(mb[i]) * s.k * s.mcols);
    }
}

void compileReduce(const ir::Module& m, const ir::Op& op, Step& s)
{
    const ir::Shape& xs = m.typeOf(op.operands[0]).shape;
    const auto rank = int64_t(xs.size());
    std::vector<bool> red(xs.size(), false);
    for (int64_t a : op.attrs.getInts("axes"))
        red[size_t(a < 0 ? a + rank : a)] = true;
    ir::Shape kept;
    for (size_t d = 0; d < xs.size(); ++d)
        kept.push_back(red[d] ? 1 : xs[d]);
    const auto keptStr = strides(kept);
    std::vector<int64_t> pos(xs.size(), 0);
    s.map0.resize(size_t(ir::numElements(xs)));
    for (size_t f = 0; f < s.map0.size(); ++f) {
        int64_t o = 0;
        for (size_t d = 0; d < xs.size(); ++d)
            if (!red[d])
                o += pos[d] * keptStr[d];
        s.map0[f] = int32_t(o);
        for (size_t d = xs.size(); d-- > 0;) {
            if (++pos[d] < xs[d])
                break;
            pos[d] = 0;
        }
    }
    s.map1 = {int32_t(ir::numElements(kept))};
}

} // namespace

std::string compile(const ir::Module& m, Program& p)
{
    Analysis a = analyzeQuantized(m);
    if (!a.ok())
        return a.error;
    p.q = std::move(a.values);
    p.timesteps = m.timesteps;
    p.inputs = m.inputs();
    p.outputs = m.outputs();
    for (const auto& v : m.values()) {
        p.elements.push_back(v.type.numElements());
        p.perStep.push_back(v.type.perStep());
    }
    std::vector<bool> post(m.values().size(), false);
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        const ir::Op& op = m.ops()[size_t(i)];
        if (op.kind == OpKind::Const || op.kind == OpKind::Input || op.kind == OpKind::Output)
            continue;
        if ((op.kind == OpKind::Reshape || op.kind == OpKind::Flatten) && !p.q[size_t(op.result)].known)
            continue; // a view of the float input, read through by its encode
        Step s;
        s.op = i;
        s.kind = op.kind;
        s.in = op.operands;
        s.out = op.result;
        bool anyPost = false;
        for (ir::ValueId v : op.operands)
            anyPost = anyPost || post[size_t(v)];
        const bool timeMean = op.kind == OpKind::Mean && op.attrs.getBool("over_time");
        if (op.kind == OpKind::Encode)
            s.phase = Phase::Pre;
        else if (timeMean || p.perStep[size_t(op.result)])
            s.phase = Phase::Loop;
        else
            s.phase = anyPost ? Phase::Post : Phase::Pre;
        if (s.phase == Phase::Loop && anyPost)
            return describe(m, i) + ": a per-step op uses a value computed after the time loop";
        post[size_t(op.result)] = timeMean || s.phase == Phase::Post;
        switch (op.kind) {
        case OpKind::Encode: {
            const ir::ValueId src = floatInputOf(m, op.operands[0]);
            s.in = {src};
            s.inputScale = op.attrs.getFloat("q.input_scale");
            const int64_t bits = op.attrs.getInt("q.input_bits");
            const bool sgn = op.attrs.getBool("q.input_signed");
            s.inputHi = (int64_t{1} << (sgn ? bits - 1 : bits)) - 1;
            s.inputLo = sgn ? -s.inputHi : 0;
            break;
        }
        case OpKind::Conv1d:
        case OpKind::Conv2d:
        case OpKind::Linear:
            if (auto e = compileLayer(m, op, s); !e.empty())
                return describe(m, i) + ": " + e;
            break;
        case OpKind::Delay:
            s.delayIndex = int32_t(p.delaySteps.size());
            s.delaySteps = op.attrs.getInt("steps");
            p.delaySteps.push_back(p.steps.size());
            break;
        case OpKind::MaxPool2d:
        case OpKind::AvgPool2d: compilePool(m, op, s); break;
        case OpKind::MatMul: compileMatMul(m, op, s); break;
        case OpKind::Permute: {
            const ir::Shape& xs = m.typeOf(op.operands[0]).shape;
            const ir::Shape& ys = m.typeOf(op.result).shape;
            const auto perm = op.attrs.getInts("perm");
            const auto inStr = strides(xs);
            std::vector<int64_t> pos(ys.size(), 0);
            s.map0.resize(size_t(ir::numElements(ys)));
            for (size_t f = 0; f < s.map0.size(); ++f) {
                int64_t src = 0;
                for (size_t d = 0; d < ys.size(); ++d)
                    src += pos[d] * inStr[size_t(perm[d] < 0 ? perm[d] + int64_t(ys.size()) : perm[d])];
                s.map0[f] = int32_t(src);
                for (size_t d = ys.size(); d-- > 0;) {
                    if (++pos[d] < ys[d])
                        break;
                    pos[d] = 0;
                }
            }
            break;
        }
        case OpKind::Add:
        case OpKind::Mul: {
            const ir::Shape& ys = m.typeOf(op.result).shape;
            s.map0 = broadcastMap(m.typeOf(op.operands[0]).shape, ys);
            s.map1 = broadcastMap(m.typeOf(op.operands[1]).shape, ys);
            if (op.kind == OpKind::Add) {
                const double s0 = p.q[size_t(op.operands[0])].scale, s1 = p.q[size_t(op.operands[1])].scale;
                const auto sh = int32_t(std::llround(std::fabs(std::log2(s0 / s1))));
                (s0 > s1 ? s.shift0 : s.shift1) = sh;
            }
            break;
        }
        case OpKind::Sum:
        case OpKind::Mean:
            compileReduce(m, op, s);
            if (timeMean)
                s.accIndex = p.accCount++;
            break;
        case OpKind::Lif:
            s.neuron = neuronParams(op);
            s.membraneOut = op.attrs.getString("output", "spikes") == "membrane";
            s.lifIndex = int32_t(p.lifOps.size());
            p.lifOps.push_back(i);
            break;
        default: break;
        }
        p.steps.push_back(std::move(s));
    }
    return {};
}

} // namespace detail

namespace {

using namespace detail;

struct SampleOutput {
    std::vector<std::vector<float>> outputs;
    std::vector<int64_t> spikes;
};

void runSample(const Program& p, const std::vector<const float*>& inputs, const RunOptions& opt, bool observe,
               SampleOutput& out)
{
    std::vector<std::vector<int32_t>> vals(p.elements.size());
    std::vector<std::vector<int32_t>> u(p.lifOps.size()), v(p.lifOps.size());
    std::vector<std::vector<int64_t>> acc(size_t(p.accCount));
    std::vector<std::vector<int32_t>> rings(p.delaySteps.size()); // delay: steps x n, slot t % steps = step t - steps
    out.spikes.assign(p.lifOps.size(), 0);
    out.outputs.assign(p.outputs.size(), {});
    auto notify = [&](int t, ir::ValueId id) {
        if (observe && opt.observe)
            opt.observe(t, id, vals[size_t(id)], p.q[size_t(id)].scale);
    };
    auto exec = [&](const Step& s, int t) {
        if (s.kind == ir::OpKind::Encode) {
            size_t k = 0;
            while (p.inputs[k] != s.in[0])
                ++k;
            const float* x = inputs[k];
            auto& y = vals[size_t(s.out)];
            y.resize(size_t(p.elements[size_t(s.out)]));
            for (size_t i = 0; i < y.size(); ++i)
                y[i] = encodeInput(x[i], s.inputScale, s.inputLo, s.inputHi);
        } else if (s.delayIndex >= 0) {
            auto& ring = rings[size_t(s.delayIndex)];
            const auto n = size_t(p.elements[size_t(s.out)]);
            ring.resize(size_t(s.delaySteps) * n, 0);
            const auto slot = ring.begin() + std::ptrdiff_t(size_t(t % s.delaySteps) * n);
            vals[size_t(s.out)].assign(slot, slot + std::ptrdiff_t(n));
        } else if (s.accIndex >= 0) {
            auto& a = acc[size_t(s.accIndex)];
            const auto& x = vals[size_t(s.in[0])];
            a.resize(size_t(s.map1[0]), 0);
            for (size_t i = 0; i < s.map0.size(); ++i)
                a[size_t(s.map0[i])] += x[i];
            return;
        } else if (s.lifIndex >= 0) {
            auto& uu = u[size_t(s.lifIndex)];
            auto& vv = v[size_t(s.lifIndex)];
            const auto n = size_t(p.elements[size_t(s.out)]);
            if (uu.size() != n)
                uu.assign(n, 0), vv.assign(n, 0);
            execStep(s, vals, &uu, &vv, &out.spikes[size_t(s.lifIndex)]);
        } else {
            execStep(s, vals, nullptr, nullptr, nullptr);
        }
        notify(t, s.out);
    };
    for (const Step& s : p.steps)
        if (s.phase == Phase::Pre)
            exec(s, -1);
    for (int t = 0; t < int(p.timesteps); ++t) {
        for (const Step& s : p.steps)
            if (s.phase == Phase::Loop)
                exec(s, t);
        for (size_t k : p.delaySteps) { // after the step: the operand's value of step t
            const Step& s = p.steps[k];
            const auto n = size_t(p.elements[size_t(s.out)]);
            std::copy_n(vals[size_t(s.in[0])].begin(), n,
                        rings[size_t(s.delayIndex)].begin() + std::ptrdiff_t(size_t(t % s.delaySteps) * n));
        }
        for (size_t o = 0; o < p.outputs.size(); ++o)
            if (p.perStep[size_t(p.outputs[o])])
                for (int32_t x : vals[size_t(p.outputs[o])])
                    out.outputs[o].push_back(float(double(x) * p.q[size_t(p.outputs[o])].scale));
    }
    for (const Step& s : p.steps) {
        if (s.accIndex >= 0) {
            const auto& a = acc[size_t(s.accIndex)];
            vals[size_t(s.out)].assign(a.begin(), a.end());
            notify(-1, s.out);
        } else if (s.phase == Phase::Post) {
            exec(s, -1);
        }
    }
    for (size_t o = 0; o < p.outputs.size(); ++o)
        if (!p.perStep[size_t(p.outputs[o])])
            for (int32_t x : vals[size_t(p.outputs[o])])
                out.outputs[o].push_back(float(double(x) * p.q[size_t(p.outputs[o])].scale));
}

} // namespace

RunResult run(const ir::Module& m, const std::vector<interp::InputBatch>& inputs, const RunOptions& opt)
{
    RunResult r;
    Program p;
    if (auto e = compile(m, p); !e.empty()) {
        r.error = e;
        return r;
    }
    if (inputs.size() != p.inputs.size()) {
        r.error = "expected " + std::to_string(p.inputs.size()) + " inputs, got " + std::to_string(inputs.size());
        return r;
    }
    const int64_t batch = inputs.empty() ? 1 : inputs[0].batch;
    for (size_t k = 0; k < inputs.size(); ++k)
        if (inputs[k].batch != batch ||
            int64_t(inputs[k].data.size()) != batch * p.elements[size_t(p.inputs[k])]) {
            r.error = "input " + std::to_string(k) + " has the wrong size for batch " + std::to_string(batch);
            return r;
        }
    std::vector<SampleOutput> results(static_cast<size_t>(batch));
    auto doSample = [&](int64_t b) {
        std::vector<const float*> ins;
        for (size_t k = 0; k < inputs.size(); ++k)
            ins.push_back(inputs[k].data.data() + b * p.elements[size_t(p.inputs[k])]);
        runSample(p, ins, opt, b == 0, results[size_t(b)]);
    };
    int64_t first = 0;
    if (opt.observe && batch > 0) {
        doSample(0); // observed on the calling thread
        first = 1;
    }
    const int threads = std::max(1, std::min<int>(opt.threads < 1 ? int(std::thread::hardware_concurrency()) : opt.threads,
                                                  int(batch - first)));
    std::atomic<int64_t> next{first};
    std::atomic<bool> cancelled{false};
    auto worker = [&] {
        for (int64_t b; (b = next.fetch_add(1)) < batch;) {
            if (opt.cancel && opt.cancel->load(std::memory_order_relaxed)) {
                cancelled = true;
                return;
            }
            doSample(b);
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
        pool.emplace_back(worker);
    worker();
    for (auto& t : pool)
        t.join();
    if (cancelled) {
        r.cancelled = true;
        return r;
    }
    r.outputs.assign(p.outputs.size(), {});
    for (size_t o = 0; o < p.outputs.size(); ++o) {
        const ir::Type& t = m.typeOf(p.outputs[o]);
        ir::Shape shape{batch};
        if (t.perStep())
            shape.push_back(m.timesteps);
        shape.insert(shape.end(), t.shape.begin(), t.shape.end());
        r.outputShapes.push_back(shape);
        for (const auto& s : results)
            r.outputs[o].insert(r.outputs[o].end(), s.outputs[o].begin(), s.outputs[o].end());
    }
    for (size_t l = 0; l < p.lifOps.size(); ++l) {
        const ir::Op& op = m.ops()[size_t(p.lifOps[l])];
        LifCount c{op.result, m.value(op.result).name, m.typeOf(op.result).numElements(), 0};
        for (const auto& s : results)
            c.total += s.spikes[l];
        r.lif.push_back(c);
    }
    return r;
}

} // namespace stc::fixedpoint

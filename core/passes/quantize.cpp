// quantize: post-training quantization for the fixed-point reference path
// (docs/passes.md, "Quantization design"; annotations in fixedpoint/qmodel.h).
//   weights  -> intN mantissas with a per-layer unit and a per-channel
//               power-of-two exponent (per-channel=true) or one exponent
//   biases   -> int32 in the layer's output unit
//   inputs   -> graded N-bit spikes (pixels in [0, 1] -> 0..255); a direct
//               encode of layers applied to an input moves to the input
//   membrane outputs -> graded values in the neuron's state unit
//   neurons  -> Loihi-style 24-bit state: decay dv = 4096/tau, threshold in
//               state units (1/tau, the input unit and attention scales all
//               end up in it), activation shift chosen so nothing overflows
// Calibration data (CompileContext::calibration) sets the input range and, with
// rebalance=true, scales each layer's thresholds so that its firing rate
// matches the float model's on that data. Statistics: per-layer weight error,
// and with calibration per-layer firing-rate error and top-1 agreement.
#include "fixedpoint/executor.h"
#include "fixedpoint/qmodel.h"
#include "interp/interpreter.h"
#include "passes/builtin_passes.h"
#include "passes/context.h"
#include "passes/quantize_align.h"
#include "passes/rewrite.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace stc::passes {

namespace {

using ir::OpKind;
namespace fx = stc::fixedpoint;

struct Config {
    int64_t bits, inputBits, actShift, maxShift;
    bool perChannel;
};

std::string layerName(const ir::Module& m, const ir::Op& op) { return m.value(op.result).name; }

// Replaces the constant defining value v (which must have no other users).
void setConst(ir::Module& m, ir::ValueId v, ir::Tensor t)
{
    ir::Op& op = m.mutableOps()[size_t(m.value(v).def)];
    m.setValueType(v, {t.elem(), t.shape(), ir::TimeKind::Invariant});
    op.constant = std::make_shared<const ir::Tensor>(std::move(t));
}

std::string quantizeLayer(ir::Module& m, int32_t i, const std::vector<fx::ValueQ>& infos, const Config& c,
                          PassRun& run)
{
    ir::Op& op = m.mutableOps()[size_t(i)];
    const fx::ValueQ& x = infos[size_t(op.operands[0])];
    const ir::Tensor* wt = constantOf(m, op.operands[1]);
    if (!wt || wt->elem() != ir::ElemType::F32)
        return "weights are not f32 constants";
    const std::vector<float> w = wt->toFloats();
    const int64_t O = wt->shape()[0], per = wt->numElements() / O;
    const int64_t qmax = (int64_t{1} << (c.bits - 1)) - 1;
    std::vector<double> chMax(size_t(O), 0.0);
    double layerMax = 0.0;
    for (int64_t o = 0; o < O; ++o)
        for (int64_t k = 0; k < per; ++k)
            chMax[size_t(o)] = std::max(chMax[size_t(o)], std::fabs(double(w[size_t(o * per + k)])));
    for (double v : chMax)
        layerMax = std::max(layerMax, v);
    if (layerMax == 0.0)
        layerMax = 1.0;
    // Channel exponent e: the channel's mantissas are in steps of ws / 2^e.
    std::vector<int64_t> e(size_t(O), 0);
    int64_t emax = 0;
    if (c.perChannel)
        for (int64_t o = 0; o < O; ++o) {
            if (chMax[size_t(o)] > 0.0)
                e[size_t(o)] = std::clamp<int64_t>(int64_t(std::floor(std::log2(layerMax / chMax[size_t(o)]))), 0,
                                                   c.maxShift);
            emax = std::max(emax, e[size_t(o)]);
        }
    double ws = layerMax / double(qmax);
    double unit = ws / double(int64_t{1} << emax);
    // A layer feeding an add takes the next coarser unit on the other
    // operand's power-of-two grid (quantize_align.h): at most one bit lost.
    if (const auto a = quantalign::alignedUnit(m, i, x.scale, unit, infos); a.unit != unit) {
        unit = a.unit;
        ws = unit * double(int64_t{1} << emax);
        run.stats().set("add-alignment-bits." + layerName(m, op), a.bitsLost);
    }
    ir::Tensor q(c.bits <= 8 ? ir::ElemType::I8 : ir::ElemType::I16, wt->shape());
    double err2 = 0.0, norm2 = 0.0;
    ir::IntList shift(static_cast<size_t>(O));
    for (int64_t o = 0; o < O; ++o) {
        shift[size_t(o)] = emax - e[size_t(o)];
        const double step = ws / double(int64_t{1} << e[size_t(o)]);
        for (int64_t k = 0; k < per; ++k) {
            const size_t idx = size_t(o * per + k);
            const int64_t v = std::clamp<int64_t>(std::llround(double(w[idx]) / step), -qmax, qmax);
            if (c.bits <= 8)
                q.mutableAs<int8_t>()[idx] = int8_t(v);
            else
                q.mutableAs<int16_t>()[idx] = int16_t(v);
            const double d = double(v) * step - double(w[idx]);
            err2 += d * d;
            norm2 += double(w[idx]) * double(w[idx]);
        }
    }
    const double outScale = x.scale * unit;
    if (op.operands.size() > 2) {
        const ir::Tensor* bt = constantOf(m, op.operands[2]);
        if (!bt || bt->elem() != ir::ElemType::F32)
            return "bias is not an f32 constant";
        ir::Tensor bq(ir::ElemType::I32, bt->shape());
        for (int64_t o = 0; o < O; ++o) {
            const double v = std::round(bt->at(o) / outScale);
            if (std::fabs(v) > double(fx::kStateMax))
                return "bias does not fit the state range at this input scale";
            bq.mutableAs<int32_t>()[size_t(o)] = int32_t(v);
        }
        setConst(m, op.operands[2], std::move(bq));
    }
    setConst(m, op.operands[1], std::move(q));
    ir::Op& op2 = m.mutableOps()[size_t(i)];
    op2.attrs.set("q.weight_scale", unit);
    op2.attrs.set("q.shift", shift);
    run.stats().set("weight-error." + layerName(m, op2), norm2 > 0 ? std::sqrt(err2 / norm2) : 0.0);
    return {};
}

// quantizeLayer, with one weight bit less at a time while the synaptic input
// of the neuron the layer feeds could leave the 24-bit state (statistic
// weight-bits.<layer> when lowered). Propagates the layer's info.
std::string quantizeLayerFitting(ir::Module& m, int32_t i, std::vector<fx::ValueQ>& infos, const Config& c,
                                 PassRun& run)
{
    const ir::Op& op = m.ops()[size_t(i)];
    const int32_t user = singleUser(m.computeUsers(), op.result);
    const bool feedsNeuron = user >= 0 && m.ops()[size_t(user)].kind == OpKind::Lif;
    std::vector<std::pair<ir::ValueId, std::shared_ptr<const ir::Tensor>>> floats;
    for (size_t k = 1; k < op.operands.size(); ++k)
        floats.emplace_back(op.operands[k], m.definingOp(op.operands[k]).constant);
    const ir::ValueId out = op.result;
    for (Config lc = c;; --lc.bits) {
        std::string err = quantizeLayer(m, i, infos, lc, run);
        if (err.empty())
            err = fx::propagateOp(m, i, infos);
        if (!err.empty() || !feedsNeuron || infos[size_t(out)].bound <= fx::kStateMax || lc.bits <= 2) {
            if (err.empty() && lc.bits != c.bits)
                run.stats().set("weight-bits." + layerName(m, m.ops()[size_t(i)]), lc.bits);
            return err;
        }
        for (const auto& [v, t] : floats) { // back to the float weights
            m.setValueType(v, {t->elem(), t->shape(), ir::TimeKind::Invariant});
            m.mutableOps()[size_t(m.value(v).def)].constant = t;
        }
    }
}

std::string quantizeNeuron(ir::Module& m, int32_t i, const fx::ValueQ& x, const Config& c, double thetaFactor)
{
    ir::Op& op = m.mutableOps()[size_t(i)];
    const std::string neuron = op.attrs.getString("neuron", "lif");
    const std::string reset = op.attrs.getString("reset", "hard");
    // A membrane output is a graded value with the state's scale (qmodel.h).
    const bool membraneOut = op.attrs.getString("output", "spikes") == "membrane";
    if (reset == "subtract-delayed" && neuron != "leaky")
        return "reset \"subtract-delayed\" is only defined for neuron \"leaky\"";
    if (reset == "hard" && op.attrs.getFloat("v_reset", 0.0) != 0.0)
        return "hard reset to a non-zero v_reset is not supported in the fixed-point path";
    double k = 1.0, leak = 0.0; // theta = vth * k / unit; dv = 4096 * leak
    if (neuron == "lif") {
        const double tau = op.attrs.getFloat("tau");
        leak = 1.0 / tau;
        if (op.attrs.getBool("decay_input"))
            k = tau; // v' = v + (x - v)/tau: the state counts in units of unit/tau
    } else if (neuron == "leaky") {
        leak = 1.0 - op.attrs.getFloat("beta");
    }
    fx::NeuronParams p;
    p.dv = int32_t(std::clamp<int64_t>(std::llround(leak * fx::kDecayOne), 0, fx::kDecayOne));
    const double vth = op.attrs.getFloat("v_threshold") * thetaFactor;
    if (!(vth > 0.0))
        return "non-positive thresholds are not supported in the fixed-point path";
    if (x.bound > fx::kStateMax)
        return "synaptic input may reach " + std::to_string(x.bound) + ", beyond the 24-bit state";
    // A threshold above the membrane any allowed input can reach (membraneReach
    // at shift 0, where theta is vth * k / x.scale) is never reached, in float
    // as in fixed point: the neuron never fires (NIR LI/I readouts carry the
    // largest finite f32 as their threshold). It gets kNeverFires and the
    // shift is chosen for its input and membrane alone.
    p.actShift = 0;
    const bool neverFires = !(vth * k / x.scale <= fx::membraneReach(p, x.bound, m.timesteps));
    auto fits = [&](int64_t shift) {
        p.actShift = int32_t(shift);
        if (fx::saturatingMul(x.bound, int64_t{1} << shift) > fx::kStateMax)
            return false;
        if (!neverFires && vth * k / x.scale * double(int64_t{1} << shift) > double(fx::kStateMax / 2))
            return false;
        // A membrane readout is read without saturating for every input the bounds allow.
        return !membraneOut || shift == 0 || fx::membraneBound(p, x.bound, m.timesteps) < fx::kStateMax;
    };
    int64_t shift = c.actShift;
    while (shift > 0 && !fits(shift))
        --shift;
    const double theta = vth * k / x.scale * double(int64_t{1} << shift);
    int64_t t = fx::kNeverFires;
    if (!neverFires) {
        if (theta > double(fx::kStateMax / 2))
            return "threshold does not fit the 24-bit state at this input scale";
        const bool ge = op.attrs.getString("fire", "ge") == "ge";
        const double r = std::round(theta);
        if (std::fabs(theta - r) <= 1e-9 * std::max(1.0, theta))
            t = int64_t(r);
        else
            t = ge ? int64_t(std::ceil(theta)) : int64_t(std::floor(theta));
    }
    const fx::Threshold th = fx::encodeThreshold(t);
    op.attrs.set("q.theta_mant", th.mantissa);
    op.attrs.set("q.theta_exp", int64_t(th.exponent));
    op.attrs.set("q.du", int64_t(fx::kDecayOne));
    op.attrs.set("q.dv", int64_t(p.dv));
    op.attrs.set("q.act_shift", shift);
    if (membraneOut)
        op.attrs.set("q.v_scale", x.scale / (k * double(int64_t{1} << shift)));
    return {};
}

// A direct encode repeats a time-invariant value at every step. When that
// value is computed from a model input by layers and views only (snnTorch
// models apply their first layer once, before the time loop), the layers
// commute with the repetition: encode(f(x)) = f(encode(x)) at every step, bit
// for bit in f32. Moving the encode to the input gives the fixed-point path
// what a chip receives: graded input spikes feeding the first layer.
ir::Module hoistDirectEncodes(const ir::Module& m, int64_t& hoisted)
{
    hoisted = 0;
    const auto users = m.computeUsers();
    std::vector<std::vector<int32_t>> chainOf(m.ops().size()); // encode -> its layers, input side first
    std::vector<char> deferred(m.ops().size(), 0);
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        const ir::Op& op = m.ops()[size_t(i)];
        if (op.kind != OpKind::Encode || op.attrs.getString("mode", "direct") != "direct")
            continue;
        std::vector<int32_t> chain;
        bool layer = false;
        for (ir::ValueId v = op.operands[0]; m.definingOp(v).kind != OpKind::Input;) {
            const ir::Op& d = m.definingOp(v);
            const bool isLayer = d.kind == OpKind::Linear || d.kind == OpKind::Conv1d || d.kind == OpKind::Conv2d;
            if ((!isLayer && d.kind != OpKind::Reshape && d.kind != OpKind::Flatten) || m.typeOf(v).perStep() ||
                users[size_t(v)].size() != 1) {
                layer = false;
                break;
            }
            layer = layer || isLayer;
            chain.push_back(m.value(v).def);
            v = d.operands[0];
        }
        if (!layer)
            continue;
        std::reverse(chain.begin(), chain.end());
        for (int32_t c : chain)
            deferred[size_t(c)] = 1;
        chainOf[size_t(i)] = std::move(chain);
        ++hoisted;
    }
    if (hoisted == 0)
        return m;
    Rewriter rw(m);
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        if (deferred[size_t(i)])
            continue;
        if (chainOf[size_t(i)].empty()) {
            rw.copy(i);
            continue;
        }
        const ir::Op& enc = m.ops()[size_t(i)];
        const ir::Op& first = m.ops()[size_t(chainOf[size_t(i)].front())];
        ir::ValueId x = rw.buildAs(enc.result, OpKind::Encode, {rw.mapped(first.operands[0])}, enc.attrs, enc.origin);
        for (int32_t c : chainOf[size_t(i)]) {
            const ir::Op& op = m.ops()[size_t(c)];
            std::vector<ir::ValueId> operands{x};
            for (size_t k = 1; k < op.operands.size(); ++k)
                operands.push_back(rw.mapped(op.operands[k]));
            x = rw.copyWith(c, std::move(operands), op.attrs);
        }
        rw.replace(enc.result, x);
    }
    return rw.finish();
}

// Quantizes `src` into `m` (a copy); thetaFactor scales each lif's threshold.
bool quantizeModule(ir::Module& m, const Config& c, double inputMax, bool inputSigned,
                    const std::map<int32_t, double>& thetaFactor, PassRun& run)
{
    std::vector<fx::ValueQ> infos(m.values().size());
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        run.checkCancelled();
        ir::Op& op = m.mutableOps()[size_t(i)];
        std::string err;
        if (op.kind == OpKind::Encode) {
            const int64_t levels = (int64_t{1} << (inputSigned ? c.inputBits - 1 : c.inputBits)) - 1;
            op.attrs.set("q.input_scale", inputMax / double(levels));
            op.attrs.set("q.input_bits", c.inputBits);
            op.attrs.set("q.input_signed", inputSigned);
        } else if (op.kind == OpKind::Conv1d || op.kind == OpKind::Conv2d || op.kind == OpKind::Linear) {
            const auto users = m.computeUsers();
            for (size_t k = 1; k < op.operands.size() && err.empty(); ++k)
                if (users[size_t(op.operands[k])].size() != 1)
                    err = "weights shared between layers are not supported";
            if (err.empty() && !infos[size_t(op.operands[0])].known)
                err = "input has no integer representation";
            if (err.empty())
                err = quantizeLayerFitting(m, i, infos, c, run);
        } else if (op.kind == OpKind::Lif) {
            auto it = thetaFactor.find(i);
            err = quantizeNeuron(m, i, infos[size_t(op.operands[0])], c, it == thetaFactor.end() ? 1.0 : it->second);
        }
        if (err.empty()) {
            err = fx::propagateOp(m, i, infos);
            if (op.kind == OpKind::Add && err.find("not a power of two") != std::string::npos)
                err += quantalign::explainMisalignedAdd(m, i, infos);
        }
        if (!err.empty()) {
            run.error(err, fx::describe(m, i), m.ops()[size_t(i)].origin);
            return false;
        }
    }
    if (std::string err = fx::checkBackEdges(m, infos); !err.empty()) {
        run.error(err);
        return false;
    }
    m.attrs.set("quantized", true);
    m.attrs.set("quant.weight_bits", c.bits);
    m.attrs.set("quant.per_channel", c.perChannel);
    return true;
}

std::vector<interp::InputBatch> toBatch(const CalibrationSet& set)
{
    interp::InputBatch b;
    b.batch = int64_t(set.samples.size());
    for (const auto& s : set.samples)
        b.data.insert(b.data.end(), s.begin(), s.end());
    return {b};
}

int64_t argmaxAgreement(const std::vector<float>& a, const std::vector<float>& b, int64_t batch)
{
    if (batch == 0 || a.size() != b.size())
        return 0;
    const size_t n = a.size() / size_t(batch);
    int64_t agree = 0;
    for (size_t s = 0; s < size_t(batch); ++s) {
        auto ia = std::max_element(a.begin() + long(s * n), a.begin() + long((s + 1) * n)) - a.begin();
        auto ib = std::max_element(b.begin() + long(s * n), b.begin() + long((s + 1) * n)) - b.begin();
        agree += ia == ib;
    }
    return agree;
}

void runQuantize(ir::Module& m, PassRun& run)
{
    const Options& o = run.options();
    const Config c{o.getInt("bits"), o.getInt("input-bits"), o.getInt("act-shift"), o.getInt("max-channel-shift"),
                   o.getBool("per-channel")};
    if (m.inputs().size() != 1 && run.context().calibration)
        run.warning("calibration data is used only for modules with one input");
    CalibrationSet calib;
    const int64_t nCalib = o.getInt("calibration-samples");
    if (run.context().calibration && nCalib > 0 && m.inputs().size() == 1)
        calib = run.context().calibration(nCalib);
    double inputMax = 1.0;
    bool inputSigned = false;
    for (const auto& s : calib.samples)
        for (float v : s) {
            inputMax = std::max(inputMax, double(std::fabs(v)));
            inputSigned = inputSigned || v < 0.0f;
        }
    int64_t hoisted = 0;
    const ir::Module original = hoistDirectEncodes(m, hoisted);
    if (hoisted > 0)
        run.stats().set("encodes-hoisted", hoisted);
    std::map<int32_t, double> factors;
    ir::Module q = original;
    if (!quantizeModule(q, c, inputMax, inputSigned, factors, run))
        return;
    if (!calib.samples.empty()) {
        const auto in = toBatch(calib);
        interp::RunOptions fo;
        fo.threads = 0;
        const auto ref = interp::run(original, in, fo);
        if (!ref.ok()) {
            run.error("calibration: f32 interpreter: " + ref.error);
            return;
        }
        std::map<std::string, int64_t> refSpikes;
        for (const auto& l : ref.lif)
            refSpikes[l.name] = l.total;
        fixedpoint::RunOptions xo;
        xo.threads = 0;
        const int rounds = o.getBool("rebalance") ? int(o.getInt("rebalance-rounds")) : 0;
        for (int round = 0;; ++round) {
            run.checkCancelled();
            const auto fixed = fixedpoint::run(q, in, xo);
            if (!fixed.ok()) {
                run.error("calibration: fixed-point executor: " + fixed.error);
                return;
            }
            if (round == rounds) {
                for (const auto& l : fixed.lif) {
                    const double r = double(refSpikes[l.name]);
                    run.stats().set("rate-error." + l.name, r > 0 ? (double(l.total) - r) / r : 0.0);
                }
                run.stats().set("calibration-samples", int64_t(calib.samples.size()));
                run.stats().set("calibration-top1-agreement",
                                double(argmaxAgreement(ref.outputs.at(0), fixed.outputs.at(0), in[0].batch)) /
                                    double(in[0].batch));
                break;
            }
            // Threshold re-balancing: a layer firing more than in float gets a
            // higher threshold (and vice versa), damped, layer by layer.
            for (const auto& l : fixed.lif) {
                const double r = double(refSpikes[l.name]);
                if (r <= 0 || l.total <= 0)
                    continue;
                const int32_t opIndex = original.value(original.findValue(l.name)).def;
                double& f = factors.try_emplace(opIndex, 1.0).first->second;
                f *= std::clamp(std::pow(double(l.total) / r, 0.5 * o.getFloat("rebalance-gain")), 0.9, 1.1);
            }
            q = original;
            if (!quantizeModule(q, c, inputMax, inputSigned, factors, run))
                return;
            run.progress(double(round + 1) / double(rounds + 1), "threshold re-balancing");
        }
    }
    m = std::move(q);
    int64_t layers = 0, weights = 0;
    for (const auto& op : m.ops())
        if (op.kind == OpKind::Conv1d || op.kind == OpKind::Conv2d || op.kind == OpKind::Linear) {
            ++layers;
            weights += m.typeOf(op.operands[1]).numElements();
        }
    run.stats().set("layers-quantized", layers);
    run.stats().set("weights-quantized", weights);
    run.stats().set("weight-bytes", (weights * c.bits + 7) / 8);
}

} // namespace

PassDef makeQuantizePass()
{
    PassInfo info;
    info.name = "quantize";
    info.handlesDelay = true; // integers delayed exactly; a back edge only of spikes (scale 1)
    info.description = "post-training quantization: intN weights, graded-spike inputs, 24-bit fixed-point neurons";
    info.needs = {prop::kBnFolded, prop::kCustomLowered};
    info.provides = {prop::kQuantized};
    info.options = {
        OptionSpec::integer("bits", 8, 2, 16, "weight mantissa bits (signed)"),
        OptionSpec::boolean("per-channel", true, "per-output-channel power-of-two weight exponent (else one per layer)"),
        OptionSpec::integer("input-bits", 8, 1, 16, "bits of the graded input spikes (pixels)"),
        OptionSpec::integer("act-shift", fixedpoint::kDefaultActShift, 0, 16,
                            "left shift of the synaptic input into the 24-bit state (lowered where it could overflow)"),
        OptionSpec::integer("max-channel-shift", 7, 0, 15, "largest per-channel weight exponent"),
        OptionSpec::integer("calibration-samples", 256, 0, 100000, "samples taken from the calibration provider"),
        OptionSpec::boolean("rebalance", false, "adjust thresholds so firing rates match the float model"),
        OptionSpec::integer("rebalance-rounds", 4, 1, 50, "re-balancing iterations"),
        OptionSpec::real("rebalance-gain", 1.0, 0.0, 2.0, "damping of the threshold correction"),
    };
    return {std::move(info), runQuantize};
}

} // namespace stc::passes

// The tracer: walks the IR in op order, keeping for every value either the
// population it is or a linear expression over populations (extract_expr.h),
// and materializes populations where hardware needs them.
#include "target/extractor.h"

#include <algorithm>
#include <cmath>

namespace stc::target {

namespace detail {

void Extractor::run()
{
    net_.model = m_.name;
    net_.timesteps = m_.timesteps;
    net_.quantized = integer_ = m_.attrs.getBool("quantized");
    net_.scheduleMode = m_.attrs.getString("schedule.mode", "latency");
    if (integer_) {
        q_ = fixedpoint::analyzeQuantized(m_);
        if (!q_.ok()) {
            diags_.error({}, "", "quantized module has no exact integer form: " + q_.error, "");
            return;
        }
    }
    planCubaFusion();
    for (int32_t i = 0; i < int32_t(m_.ops().size()); ++i) {
        const ir::Op& op = m_.ops()[size_t(i)];
        if (op.kind == ir::OpKind::Output) {
            for (ir::ValueId v : op.operands)
                addReadout(v, op);
            continue;
        }
        if (op.result == ir::kNoValue)
            continue;
        if (op.kind == ir::OpKind::Const || op.kind == ir::OpKind::Input)
            continue; // evaluated on demand
        exprs_[op.result] = compute(op);
        if (backEdgeOp_.count(op.result))
            resolveBackEdges(op.result);
    }
    // Terms materialized after their value (a readout of the delay itself).
    for (const auto& [v, d] : backEdgeOp_)
        resolveBackEdges(v);
    for (const auto& [t, dst] : builder_.deferred()) { // a back edge whose value never became a population
        const ir::Op& d = m_.ops()[size_t(t.delayOp)];
        if (!isFailed(d.result))
            fail(d, "recurrent delay of %" + m_.value(t.backEdge).name + ", which was not mapped");
    }
}

std::string Extractor::opLabel(const ir::Op& op) const
{
    return op.result == ir::kNoValue ? std::string(ir::opName(op))
                                     : "%" + m_.value(op.result).name + " = " + std::string(ir::opName(op));
}

Expr Extractor::fail(const ir::Op& op, const std::string& msg)
{
    diags_.error({}, opLabel(op), msg, op.origin);
    Expr e;
    if (op.result != ir::kNoValue)
        e.shape = m_.typeOf(op.result).shape;
    failed_.insert(op.result);
    return e;
}

const ir::Tensor* Extractor::constant(ir::ValueId v) const
{
    const ir::Op& d = m_.definingOp(v);
    return d.kind == ir::OpKind::Const ? d.constant.get() : nullptr;
}

Expr Extractor::exprOf(ir::ValueId v)
{
    if (auto it = exprs_.find(v); it != exprs_.end())
        return it->second;
    const ir::Op& d = m_.definingOp(v);
    Expr e;
    e.shape = m_.typeOf(v).shape;
    if (d.kind == ir::OpKind::Const && d.constant) {
        const std::vector<float> vals = d.constant->toFloats();
        e.bias.assign(vals.begin(), vals.end());
    }
    return e; // inputs used directly (without encode) are reported by their user
}

Expr Extractor::popExpr(int32_t pop, const ir::Shape& shape) const
{
    Expr e;
    e.shape = shape;
    Term t;
    t.pop = pop;
    t.index = iota32(ir::numElements(shape));
    e.terms.push_back(std::move(t));
    return e;
}

int Extractor::gradedBits() const
{
    const int64_t bits = chip_ ? chip_->limits.gradedSpikeBits : 32;
    return int(std::min<int64_t>(bits, 32));
}

Population Extractor::proto(PopulationKind kind, const std::string& name, const ir::Op& op, int32_t opIndex) const
{
    Population p;
    p.kind = kind;
    p.name = name;
    p.origin = op.origin;
    p.op = opIndex;
    return p;
}

Expr Extractor::compute(const ir::Op& op)
{
    for (ir::ValueId v : op.operands)
        if (isFailed(v)) {
            failed_.insert(op.result);
            return Expr{m_.typeOf(op.result).shape, {}, {}, false};
        }
    const ir::Type& rt = m_.typeOf(op.result);
    const std::string name = m_.value(op.result).name;
    switch (op.kind) {
    case ir::OpKind::Encode: {
        Population p = proto(PopulationKind::Input, name, op, opIndexOf(op));
        p.shape = rt.shape;
        p.neuron.model = "relay";
        const bool direct = op.attrs.getString("mode", "direct") == "direct";
        p.spikeBits = direct ? std::min(8, gradedBits()) : 1;
        if (integer_) { // the quantize pass's input encoding, applied by the host
            const int64_t bits = op.attrs.getInt("q.input_bits");
            const bool sgn = op.attrs.getBool("q.input_signed");
            p.spikeBits = int(bits);
            p.fx.inputScale = p.fx.valueScale = op.attrs.getFloat("q.input_scale");
            p.fx.inputHi = (int64_t{1} << (sgn ? bits - 1 : bits)) - 1;
            p.fx.inputLo = sgn ? -p.fx.inputHi : 0;
        }
        if (direct && gradedBits() <= 1)
            diags_.warning({}, opLabel(op),
                           "direct encoding sends real-valued inputs every step, which needs graded spikes; " +
                               std::string(chip_ ? chip_->id : "the chip") +
                               " has binary spikes, so the host must rate-code the input (results will differ "
                               "from the IR)",
                           op.origin);
        return popExpr(builder_.addPopulation(std::move(p)), rt.shape);
    }
    case ir::OpKind::Lif: {
        if (fusedAway_.count(opIndexOf(op))) // a CubaLIF's current stage: its membrane op integrates the input
            return exprOf(op.operands[0]);
        Population p = proto(PopulationKind::Lif, name, op, opIndexOf(op));
        p.neuron.model = op.attrs.getString("neuron", "lif");
        p.neuron.tau = op.attrs.getFloat("tau", 2.0);
        p.neuron.beta = op.attrs.getFloat("beta", 1.0);
        p.neuron.decayInput = op.attrs.getBool("decay_input", true);
        p.neuron.vThreshold = op.attrs.getFloat("v_threshold", 1.0);
        p.neuron.vReset = op.attrs.getFloat("v_reset", 0.0);
        p.neuron.reset = op.attrs.getString("reset", "hard");
        p.neuron.fire = op.attrs.getString("fire", "ge");
        // A membrane output leaves the population as a graded spike carrying the
        // charged (saturated 24-bit) membrane every step it is non-zero.
        const bool membrane = op.attrs.getString("output", "spikes") == "membrane";
        if (membrane)
            p.spikeBits = fixedpoint::kStateBits;
        if (integer_) {
            p.fx.neuron = fixedpoint::neuronParams(op);
            p.fx.inputUnit = q_.values[size_t(op.operands[0])].scale;
            if (membrane)
                p.fx.valueScale = q_.values[size_t(op.result)].scale;
            if (const auto f = fusedParams_.find(opIndexOf(op)); f != fusedParams_.end()) { // one CUBA compartment
                const ir::Op& syn = m_.ops()[size_t(fusedCurrent_.at(opIndexOf(op)))];
                p.fx.neuron = f->second;
                p.fx.inputUnit = q_.values[size_t(syn.operands[0])].scale;
            }
        }
        return materializeChecked(op, exprOf(op.operands[0]), std::move(p));
    }
    case ir::OpKind::Add: {
        Expr a = exprOf(op.operands[0]), b = exprOf(op.operands[1]);
        if (a.timeAverage != b.timeAverage && !a.constantOnly() && !b.constantOnly())
            return fail(op, "adds a time-averaged value to a per-step value; cannot map");
        if (integer_) { // (p << shift0) + (q << shift1): the coarser operand is shifted (executor.cpp)
            const double s0 = q_.values[size_t(op.operands[0])].scale, s1 = q_.values[size_t(op.operands[1])].scale;
            const double f = std::ldexp(1.0, int(std::llround(std::fabs(std::log2(s0 / s1)))));
            Expr& coarse = s0 > s1 ? a : b;
            for (auto& t : coarse.terms)
                t.scalar *= f;
            for (auto& x : coarse.bias)
                x *= f;
        }
        if (integer_ && (a.timeAverage || b.timeAverage)) { // one integer total per inference
            perInference(a);
            perInference(b);
        }
        Expr ra = remap(a, rt.shape, broadcastIndex(a.shape, rt.shape));
        Expr rb = remap(b, rt.shape, broadcastIndex(b.shape, rt.shape));
        for (auto& t : rb.terms)
            ra.terms.push_back(std::move(t));
        if (ra.bias.empty())
            ra.bias = rb.bias;
        else if (!rb.bias.empty())
            for (size_t i = 0; i < ra.bias.size(); ++i)
                ra.bias[i] += rb.bias[i];
        ra.timeAverage = a.timeAverage || b.timeAverage;
        ra.biasPerInference = a.biasPerInference || b.biasPerInference;
        return ra;
    }
    case ir::OpKind::Mul: {
        Expr a = exprOf(op.operands[0]), b = exprOf(op.operands[1]);
        if (!a.constantOnly() && !b.constantOnly())
            return product(op, a, b, false);
        if (a.constantOnly())
            std::swap(a, b);
        Expr ra = remap(a, rt.shape, broadcastIndex(a.shape, rt.shape));
        const std::vector<int32_t> bi = broadcastIndex(b.shape, rt.shape);
        std::vector<float> factor(bi.size(), 0.0f);
        for (size_t i = 0; i < bi.size(); ++i)
            factor[i] = b.bias.empty() ? 0.0f : float(b.bias[size_t(bi[i])]);
        for (auto& t : ra.terms) {
            if (t.mult.empty())
                t.mult.assign(factor.size(), 1.0f);
            for (size_t i = 0; i < factor.size(); ++i)
                t.mult[i] *= factor[i];
        }
        for (size_t i = 0; i < ra.bias.size(); ++i)
            ra.bias[i] *= factor[i];
        return ra;
    }
    case ir::OpKind::Scale: {
        Expr a = exprOf(op.operands[0]);
        const double f = integer_ ? 1.0 : op.attrs.getFloat("factor", 1.0); // integers: only the scale changes
        for (auto& t : a.terms)
            t.scalar *= f;
        for (auto& b : a.bias)
            b *= f;
        return a;
    }
    case ir::OpKind::BatchNorm: return batchNorm(op);
    case ir::OpKind::Flatten:
    case ir::OpKind::Reshape: {
        Expr a = exprOf(op.operands[0]);
        a.shape = rt.shape; // row-major order is unchanged
        return a;
    }
    case ir::OpKind::Permute: {
        Expr a = exprOf(op.operands[0]);
        return remap(a, rt.shape, permuteIndex(a.shape, op.attrs.getInts("perm")));
    }
    case ir::OpKind::Conv1d:
    case ir::OpKind::Conv2d:
    case ir::OpKind::Linear:
    case ir::OpKind::AvgPool2d:
    case ir::OpKind::Sum:
    case ir::OpKind::Mean:
    case ir::OpKind::MatMul: return weightOp(op);
    case ir::OpKind::MaxPool2d: return maxPool(op);
    case ir::OpKind::Delay: return delayed(op);
    case ir::OpKind::Custom:
        return fail(op, "custom op " + std::string(ir::opName(op)) +
                            " was not lowered: no backend maps custom ops (run lower-custom first; its plugin must "
                            "provide a lowering)");
    default: return fail(op, "op kind " + std::string(ir::opName(op)) + " has no neuromorphic mapping");
    }
}

Expr Extractor::materializeChecked(const ir::Op& op, const Expr& in, Population p, int featureAxis)
{
    if (in.timeAverage)
        return fail(op, "input is averaged over time; a neuron needs a per-step input");
    if (in.constantOnly())
        diags_.warning({}, opLabel(op), "neuron input does not depend on any spike source (constant drive)",
                       op.origin);
    const ir::Shape shape = in.shape;
    return popExpr(builder_.materialize(in, std::move(p), featureAxis), shape);
}

Expr Extractor::relay(const ir::Op& op, const Expr& in, const std::string& name, int spikeBits, int featureAxis)
{
    Population p = proto(PopulationKind::Relay, name, op, opIndexOf(op));
    p.neuron.model = "relay";
    p.neuron.vThreshold = spikeBits == 1 ? 1.0 : 0.0;
    p.spikeBits = spikeBits;
    if (integer_ && op.result != ir::kNoValue)
        p.fx.valueScale = p.fx.inputUnit = q_.values[size_t(op.result)].scale;
    if (spikeBits > 1 && gradedBits() <= 1)
        diags_.error({}, opLabel(op),
                     "needs a relay of graded values (" + name + "), but " + chip_->id + " has binary spikes",
                     op.origin);
    return materializeChecked(op, in, std::move(p), featureAxis);
}

Expr Extractor::batchNorm(const ir::Op& op)
{
    Expr a = exprOf(op.operands[0]);
    const ir::Tensor *mean = constant(op.operands[1]), *var = constant(op.operands[2]),
                     *gamma = constant(op.operands[3]), *beta = constant(op.operands[4]);
    if (!mean || !var || !gamma || !beta)
        return fail(op, "batch norm statistics must be constants");
    int64_t axis = op.attrs.getInt("axis", 0);
    if (axis < 0)
        axis += int64_t(a.shape.size());
    const double eps = op.attrs.getFloat("eps", 1e-5);
    const AxisSplit sp(a.shape, int(axis));
    const int64_t n = a.size();
    std::vector<float> scale(static_cast<size_t>(n)), shift(static_cast<size_t>(n));
    for (int64_t e = 0; e < n; ++e) {
        const int64_t c = sp.feature(e);
        const double s = gamma->at(c) / std::sqrt(var->at(c) + eps);
        scale[size_t(e)] = float(s);
        shift[size_t(e)] = float(beta->at(c) - mean->at(c) * s);
    }
    for (auto& t : a.terms) {
        if (t.mult.empty())
            t.mult.assign(size_t(n), 1.0f);
        for (int64_t e = 0; e < n; ++e)
            t.mult[size_t(e)] *= scale[size_t(e)];
    }
    if (a.bias.empty())
        a.bias.assign(size_t(n), 0.0);
    for (int64_t e = 0; e < n; ++e)
        a.bias[size_t(e)] = a.bias[size_t(e)] * scale[size_t(e)] + shift[size_t(e)];
    return a;
}

bool Extractor::relaySumsWanted(const Expr& x) const
{
    if (x.terms.size() < 2)
        return false;
    if (opt_.relaySums == "never")
        return false;
    if (opt_.relaySums == "always")
        return true;
    return gradedBits() > 1;
}

Expr Extractor::applyWeights(const ir::Op& op, ir::ValueId xv, Expr x, OpGeom g, const std::vector<double>& opBias)
{
    // Integer mode after a mean over time (Spikformer's head(x.mean(0))): the
    // executor adds the bias once to the integer sum over time, so the readout
    // adds it once per inference (Population::biasPerInference).
    if (integer_ && x.timeAverage)
        perInference(x);
    const ir::Type& rt = m_.typeOf(op.result);
    bool needRelay = g.coupling == Coupling::Full && !x.timeAverage && relaySumsWanted(x) &&
                     std::none_of(x.terms.begin(), x.terms.end(), [](const Term& t) { return bool(t.geom); });
    std::vector<std::vector<float>> perFeature(x.terms.size());
    const AxisSplit is(g.inShape, g.featureAxis);
    std::vector<Term> composed(x.terms.size());
    for (size_t ti = 0; ti < x.terms.size() && !needRelay; ++ti) {
        const Term& t = x.terms[ti];
        if (t.geom) {
            needRelay = !compose(t, g, composed[ti]);
            continue;
        }
        if (t.uniform())
            continue;
        std::vector<float> f(static_cast<size_t>(g.inFeatures()), std::nanf(""));
        for (size_t e = 0; e < t.mult.size() && !needRelay; ++e) {
            float& slot = f[size_t(is.feature(int64_t(e)))];
            if (std::isnan(slot))
                slot = t.mult[e];
            else if (slot != t.mult[e])
                needRelay = true;
        }
        perFeature[ti] = std::move(f);
    }
    if (needRelay) {
        if (x.timeAverage) {
            // A weight op after a pure mean over time (upstream Spikformer's
            // head(x.mean(0)) after the token mean): relay the per-step value
            // before the average instead; the mean of the relay is the same.
            const ir::Op& avg = m_.definingOp(xv);
            const bool pureTimeMean = avg.kind == ir::OpKind::Mean && avg.attrs.getBool("over_time") &&
                                      avg.attrs.getInts("axes").empty() && avg.operands.size() == 1;
            const Expr perStep = pureTimeMean ? exprOf(avg.operands[0]) : Expr{};
            if (!pureTimeMean || perStep.timeAverage)
                return fail(op, "needs a relay of a time-averaged value; cannot map");
            const ir::ValueId yv = avg.operands[0];
            Expr r = relay(m_.definingOp(yv), perStep, m_.value(yv).name, std::max(2, gradedBits()), g.featureAxis);
            exprs_[yv] = r;
            r.timeAverage = true;
            r.shape = x.shape;
            exprs_[xv] = r;
            return applyWeights(op, xv, std::move(r), std::move(g), opBias);
        }
        Expr r = relay(m_.definingOp(xv), x, m_.value(xv).name, std::max(2, gradedBits()), g.featureAxis);
        exprs_[xv] = r; // later users read the relay too
        return applyWeights(op, xv, std::move(r), std::move(g), opBias);
    }
    Expr out;
    out.shape = rt.shape;
    out.timeAverage = x.timeAverage;
    auto shared = std::make_shared<const OpGeom>(g);
    const int64_t outN = ir::numElements(g.outShape);
    for (size_t ti = 0; ti < x.terms.size(); ++ti) {
        const Term& t = x.terms[ti];
        if (composed[ti].geom) {
            out.terms.push_back(std::move(composed[ti]));
            continue;
        }
        Term n;
        n.pop = t.pop;
        n.delay = t.delay;
        n.backEdge = t.backEdge;
        n.delayOp = t.delayOp;
        n.opIn = t.index;
        n.index = iota32(outN);
        n.scalar = t.scalar;
        if (perFeature[ti].empty()) {
            n.geom = shared;
        } else {
            OpGeom gi = g;
            const int64_t taps = g.taps(), inPer = g.inFeatures() / g.groups;
            for (int64_t o = 0; o < g.outFeatures(); ++o)
                for (int64_t ii = 0; ii < (g.coupling == Coupling::Full ? inPer : 1); ++ii) {
                    const int64_t i = g.coupling == Coupling::Full ? (o / (g.outFeatures() / g.groups)) * inPer + ii
                                                                   : o;
                    const float f = std::isnan(perFeature[ti][size_t(i)]) ? 1.0f : perFeature[ti][size_t(i)];
                    const size_t base = size_t(g.coupling == Coupling::Full ? (o * inPer + ii) * taps : o * taps);
                    for (int64_t k = 0; k < taps; ++k)
                        gi.weights[base + size_t(k)] *= f;
                }
            n.geom = std::make_shared<const OpGeom>(std::move(gi));
        }
        out.terms.push_back(std::move(n));
    }
    std::vector<double> bias(static_cast<size_t>(outN), 0.0);
    bool anyBias = false;
    if (!x.bias.empty()) {
        bias = applyGeom(g, x.bias);
        anyBias = true;
    }
    if (!opBias.empty()) {
        const AxisSplit os(g.outShape, g.featureAxis);
        for (int64_t e = 0; e < outN; ++e)
            bias[size_t(e)] += opBias[size_t(os.feature(e))];
        anyBias = true;
    }
    if (anyBias)
        out.bias = std::move(bias);
    out.biasPerInference = integer_ && x.timeAverage;
    return out;
}

void Extractor::perInference(Expr& e) const
{
    if (e.biasPerInference)
        return;
    e.biasPerInference = true;
    if (!e.constantOnly()) // a per-step bias of a time-averaged sum is added T times
        for (auto& b : e.bias)
            b *= double(std::max<int64_t>(1, m_.timesteps));
}

bool Extractor::compose(const Term& t, const OpGeom& g, Term& out) const
{
    const OpGeom& prior = *t.geom;
    if (prior.coupling != Coupling::Diag || g.coupling != Coupling::Full || g.groups != 1 || !t.uniform())
        return false;
    // Each composed neuron reads every input of the reduction: when that
    // exceeds half a core's axons, a relay of the sums is cheaper (if the
    // chip can send graded spikes at all).
    if (chip_ && gradedBits() > 1 && prior.inFeatures() * prior.taps() > chip_->limits.fanInAxons / 2)
        return false;
    return composeReduceThenFull(t, g, out);
}

} // namespace detail

ExtractResult extractNetwork(const ir::Module& module, const ChipDescriptor* chip, const ExtractOptions& options)
{
    ExtractResult out;
    detail::Extractor ex(module, chip, options, out);
    ex.run();
    if (!out.diagnostics.hasErrors())
        detail::finishNetwork(out.network, module, chip, options, out.diagnostics);
    return out;
}

} // namespace stc::target

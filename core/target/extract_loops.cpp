// Recurrent loops in network extraction: delay ops (a delayed expression, or
// a back edge waiting for its value's population) and the fusion of a
// CubaLIF inside a loop into one CUBA compartment.
//
// A CubaLIF is two lif ops: the current stage (output = membrane, du = 4096,
// no reset: v_syn = sat(decay(v_syn, dv1) + (a << s1))) and the neuron
// (du = 4096, act_shift 0: v = decay(v, dv2) + v_syn, then threshold and
// reset). Loihi's CUBA compartment computes u = wrap(decay(u, du) + (a << s));
// v = decay(v, dv) + u in one neuron, so with du = dv1, s = s1 and dv = dv2 it
// holds u = v_syn exactly while neither wraps nor saturates, which the
// analysed input bound guarantees (membraneReach(current stage) < 2^23 - 1).
// Fused, the pair is one population and a loop through it costs one
// pipeline step instead of two (the NIR Braille RSynaptic's loop).
#include "target/extractor.h"

#include <algorithm>

namespace stc::target::detail {

Expr Extractor::delayed(const ir::Op& op)
{
    const ir::ValueId v = op.operands[0];
    const int k = int(op.attrs.getInt("steps", 1));
    const int32_t self = opIndexOf(op);
    const ir::Type& rt = m_.typeOf(op.result);
    if (m_.value(v).def > self) { // a back edge: the value's population comes later
        backEdgeOp_.emplace(v, self);
        Expr e;
        e.shape = rt.shape;
        Term t;
        t.index = iota32(ir::numElements(rt.shape));
        t.delay = k;
        t.backEdge = v;
        t.delayOp = self;
        e.terms.push_back(std::move(t));
        return e;
    }
    Expr e = exprOf(v);
    if (e.timeAverage)
        return fail(op, "delays a value averaged over time; cannot map");
    if (std::any_of(e.bias.begin(), e.bias.end(), [](double b) { return b != 0.0; })) {
        // The delayed value is 0 in its first k steps, its constant part
        // included: a relay of the value (bias in the relay) is delayed instead.
        e = relay(m_.definingOp(v), e, m_.value(v).name, std::max(2, gradedBits()));
        if (isFailed(v) || e.terms.empty())
            return fail(op, "the delayed value could not be relayed");
        exprs_[v] = e; // later users of the value read the relay too
    }
    for (Term& t : e.terms) {
        t.delay += k;
        t.delayOp = self;
    }
    return e;
}

void Extractor::resolveBackEdges(ir::ValueId v)
{
    const ir::Op& op = m_.definingOp(v);
    std::vector<std::pair<Term, int32_t>> waiting = builder_.takeDeferred(v);
    if (waiting.empty() || isFailed(v))
        return;
    const Expr& e = exprs_[v];
    const bool population = e.terms.size() == 1 && !e.terms[0].geom && e.terms[0].uniform() &&
                            e.terms[0].pop >= 0 && e.bias.empty() && !e.timeAverage;
    if (!population) {
        fail(m_.ops()[size_t(backEdgeOp_[v])],
             "not yet: a recurrent delay must read the output of a neuron layer; %" + m_.value(v).name + " is " +
                 std::string(ir::opName(op)) + " of several sources or with a constant part");
        return;
    }
    const Term& src = e.terms[0];
    for (auto& [t, dst] : waiting) {
        t.pop = src.pop;
        t.backEdge = ir::kNoValue;
        t.delay += src.delay;
        t.scalar *= src.scalar;
        std::vector<int32_t>& map = t.geom ? t.opIn : t.index; // elements of v -> neurons of the population
        for (int32_t& x : map)
            x = src.index[size_t(x)];
        builder_.addDeferred(t, dst);
    }
}

void Extractor::planCubaFusion()
{
    if (!integer_)
        return;
    const auto& ops = m_.ops();
    const size_t nv = m_.values().size();
    std::vector<int> uses(nv, 0);
    for (const ir::Op& op : ops)
        for (ir::ValueId v : op.operands)
            ++uses[size_t(v)];
    // Ops on a recurrent loop: reachable from a back-edge delay's result and
    // reaching the value it reads.
    std::vector<char> onLoop(ops.size(), 0);
    for (int32_t d = 0; d < int32_t(ops.size()); ++d) {
        const ir::Op& dop = ops[size_t(d)];
        if (dop.kind != ir::OpKind::Delay || m_.value(dop.operands[0]).def <= d)
            continue;
        const int32_t end = m_.value(dop.operands[0]).def;
        std::vector<char> from(nv, 0), to(nv, 0), fwd(ops.size(), 0);
        from[size_t(dop.result)] = 1;
        for (int32_t i = d + 1; i <= end; ++i) {
            const ir::Op& op = ops[size_t(i)];
            if (op.result != ir::kNoValue &&
                std::any_of(op.operands.begin(), op.operands.end(), [&](ir::ValueId v) { return from[size_t(v)]; }))
                from[size_t(op.result)] = fwd[size_t(i)] = 1;
        }
        to[size_t(dop.operands[0])] = 1;
        for (int32_t i = end; i > d; --i) {
            const ir::Op& op = ops[size_t(i)];
            if (op.result == ir::kNoValue || !to[size_t(op.result)])
                continue;
            onLoop[size_t(i)] = onLoop[size_t(i)] || fwd[size_t(i)];
            for (ir::ValueId v : op.operands)
                to[size_t(v)] = 1;
        }
    }
    for (int32_t i = 0; i < int32_t(ops.size()); ++i) {
        const ir::Op& mem = ops[size_t(i)];
        if (mem.kind != ir::OpKind::Lif || !onLoop[size_t(i)])
            continue;
        const ir::ValueId cur = mem.operands[0];
        const int32_t si = m_.value(cur).def;
        const ir::Op& syn = ops[size_t(si)];
        if (syn.kind != ir::OpKind::Lif || !onLoop[size_t(si)] || syn.attrs.getString("output", "spikes") != "membrane")
            continue;
        const fixedpoint::NeuronParams ps = fixedpoint::neuronParams(syn), pm = fixedpoint::neuronParams(mem);
        const fixedpoint::ValueQ& a = q_.values[size_t(syn.operands[0])];
        std::string why;
        if (uses[size_t(cur)] != 1)
            why = "the current is read by other ops too";
        else if (ps.reset != fixedpoint::Reset::None || ps.du != fixedpoint::kDecayOne)
            why = "the current stage resets or has a current decay of its own (q.du != 4096)";
        else if (pm.du != fixedpoint::kDecayOne || pm.actShift != 0)
            why = "the membrane stage has q.du != 4096 or q.act_shift != 0";
        else if (!a.known || !(fixedpoint::membraneReach(ps, a.bound, m_.timesteps) < double(fixedpoint::kStateMax)))
            why = "the current could saturate its 24-bit state (input bound " + std::to_string(a.bound) + ")";
        if (!why.empty()) {
            diags_.warning(mem.textLoc, opLabel(mem),
                           "the CubaLIF %" + m_.value(cur).name + " -> %" + m_.value(mem.result).name +
                               " on a recurrent loop is not fused into one CUBA compartment: " + why,
                           mem.origin);
            continue;
        }
        fixedpoint::NeuronParams f = pm;
        f.du = ps.dv;
        f.actShift = ps.actShift;
        fusedCurrent_[i] = si;
        fusedAway_.insert(si);
        fusedParams_[i] = f;
    }
}

} // namespace stc::target::detail

#include "interp/plan.h"

#include <algorithm>
#include <map>

namespace stc::interp::detail {

using ir::OpKind;

std::string describeOp(const ir::Module& m, int32_t opIndex)
{
    const ir::Op& op = m.ops()[size_t(opIndex)];
    std::string s = "op #" + std::to_string(opIndex) + " (";
    if (op.result >= 0 && size_t(op.result) < m.values().size())
        s += '%' + m.value(op.result).name + " = ";
    s += static_cast<int>(op.kind) < ir::kOpKindCount ? std::string(ir::opName(op)) : "<invalid op kind>";
    if (!op.origin.empty())
        s += " at " + op.origin;
    return s + ')';
}

namespace {

bool isAlias(const ir::Op& op)
{
    return op.kind == OpKind::Reshape || op.kind == OpKind::Flatten ||
           (op.kind == OpKind::Encode && op.attrs.getString("mode", "direct") == "direct");
}

// Structural checks and type re-inference of one op.
std::string checkOp(const ir::Module& m, int32_t i)
{
    const ir::Op& op = m.ops()[size_t(i)];
    const auto nvalues = static_cast<ir::ValueId>(m.values().size());
    for (ir::ValueId v : op.operands) {
        if (v < 0 || v >= nvalues)
            return "operand id " + std::to_string(v) + " does not exist";
        if (m.value(v).def < 0 || (m.value(v).def >= i && op.kind != OpKind::Delay))
            return "operand %" + m.value(v).name + " is not defined before its use";
    }
    if (op.kind == OpKind::Custom && !op.custom)
        return "custom op without a definition";
    const ir::OpDef& def = ir::opDefOf(op);
    if (def.hasResult) {
        if (op.result < 0 || op.result >= nvalues || m.value(op.result).def != i)
            return "result value is missing or not defined by this op";
    }
    if (op.kind == OpKind::Output)
        return {};
    if (op.kind == OpKind::Input) {
        if (m.typeOf(op.result).perStep())
            return "inputs must be time-invariant";
        return {};
    }
    if (op.kind == OpKind::Const) {
        if (!op.constant)
            return "const op without a tensor";
        if (op.constant->shape() != m.typeOf(op.result).shape)
            return "constant tensor shape [" + ir::shapeToString(op.constant->shape()) + "] differs from its type " +
                   ir::toString(m.typeOf(op.result));
        if (m.typeOf(op.result).perStep())
            return "constants must be time-invariant";
        return {};
    }
    if (auto e = ir::checkOpAttributes(op); !e.empty())
        return e;
    std::vector<ir::Type> types;
    for (ir::ValueId v : op.operands)
        types.push_back(m.typeOf(v));
    const ir::InferResult r = ir::inferOpType(op, types);
    if (!r.type)
        return r.error;
    const ir::Type& stored = m.typeOf(op.result);
    if (r.type->shape != stored.shape || r.type->time != stored.time)
        return "stored result type " + ir::toString(stored) + " does not match the operands, which give " +
               ir::toString(*r.type);
    return {};
}

std::string prepareOp(const ir::Module& m, const ir::Op& op, PlannedOp& p, const std::vector<ValueInfo>& values)
{
    auto shape = [&](size_t k) -> const ir::Shape& { return m.typeOf(op.operands[k]).shape; };
    const ir::Shape& out = m.typeOf(op.result).shape;
    auto notBatched = [&](size_t k, const char* what) -> std::string {
        if (k < op.operands.size() && values[size_t(op.operands[k])].batched)
            return std::string(what) + " %" + m.value(op.operands[k]).name +
                   " depends on the model input; it must be the same for every sample";
        return {};
    };
    switch (op.kind) {
    case OpKind::Encode:
        p.seed = static_cast<uint64_t>(op.attrs.getInt("seed", 0));
        return {};
    case OpKind::Conv1d:
    case OpKind::Conv2d: {
        if (auto e = notBatched(1, "conv weight"); !e.empty())
            return e;
        ConvState st;
        st.weightPerStep = values[size_t(op.operands[1])].phase == Phase::Loop;
        auto e = prepareConv(st, op.kind == OpKind::Conv1d, shape(0), shape(1), out, op.attrs);
        p.state = std::move(st);
        return e;
    }
    case OpKind::Linear: {
        if (auto e = notBatched(1, "linear weight"); !e.empty())
            return e;
        LinearState st;
        st.weightPerStep = values[size_t(op.operands[1])].phase == Phase::Loop;
        auto e = prepareLinear(st, shape(0), shape(1));
        p.state = std::move(st);
        return e;
    }
    case OpKind::BatchNorm: {
        for (size_t k = 1; k < 5; ++k)
            if (auto e = notBatched(k, "batchnorm statistic"); !e.empty())
                return e;
        BatchNormState st;
        auto e = prepareBatchNorm(st, shape(0), op.attrs);
        p.state = std::move(st);
        return e;
    }
    case OpKind::Lif: {
        LifState st;
        auto e = prepareLif(st.params, op.attrs);
        p.state = std::move(st);
        return e;
    }
    case OpKind::Add:
    case OpKind::Mul: {
        BinaryState st;
        auto e = prepareBinary(st, shape(0), shape(1), out);
        p.state = std::move(st);
        return e;
    }
    case OpKind::Scale: p.factor = static_cast<float>(op.attrs.getFloat("factor")); return {};
    case OpKind::MatMul: {
        MatMulState st;
        auto e = prepareMatMul(st, shape(0), shape(1));
        p.state = std::move(st);
        return e;
    }
    case OpKind::MaxPool2d:
    case OpKind::AvgPool2d: {
        PoolState st;
        auto e = preparePool(st, op.kind == OpKind::MaxPool2d, shape(0), out, op.attrs);
        p.state = std::move(st);
        return e;
    }
    case OpKind::Permute: {
        PermuteState st;
        auto e = preparePermute(st, shape(0), op.attrs);
        p.state = std::move(st);
        return e;
    }
    case OpKind::Mean:
    case OpKind::Sum: {
        ReduceState rs;
        auto e = prepareReduce(rs, op.kind == OpKind::Mean, shape(0), op.attrs);
        if (p.timeMean) {
            TimeMeanState st;
            st.reduce = std::move(rs);
            p.state = std::move(st);
        } else {
            p.state = std::move(rs);
        }
        return e;
    }
    case OpKind::Delay: {
        DelayState st;
        st.steps = op.attrs.getInt("steps");
        p.state = std::move(st);
        return {};
    }
    case OpKind::Custom: {
        ir::KernelSetup setup;
        for (ir::ValueId v : op.operands)
            setup.operands.push_back(m.typeOf(v));
        setup.result = m.typeOf(op.result);
        setup.attrs = &op.attrs;
        setup.timesteps = m.timesteps;
        std::string error;
        CustomState st;
        st.kernel = op.custom->createKernel(setup, &error);
        if (!st.kernel)
            return "custom op " + op.custom->name() + ": " +
                   (error.empty() ? std::string("its plugin provides no reference implementation") : error);
        st.inputs.resize(op.operands.size());
        p.state = std::move(st);
        return {};
    }
    default: return {};
    }
}

} // namespace

std::string buildPlan(const ir::Module& m, int64_t batch, Plan& plan)
{
    plan = Plan{};
    plan.batch = batch;
    if (m.timesteps < 1)
        return "module timesteps must be >= 1, got " + std::to_string(m.timesteps);
    const auto& ops = m.ops();
    plan.values.assign(m.values().size(), ValueInfo{});
    auto& values = plan.values;
    int32_t inputNo = 0;

    // 1. Validate, classify (phase, batched, storage) and prepare every op.
    for (int32_t i = 0; i < int32_t(ops.size()); ++i) {
        const ir::Op& op = ops[size_t(i)];
        if (auto e = checkOp(m, i); !e.empty())
            return describeOp(m, i) + ": " + e;
        if (op.kind == OpKind::Output)
            continue;
        ValueInfo& vi = values[size_t(op.result)];
        const ir::Type& type = m.typeOf(op.result);
        vi.elements = type.numElements();
        vi.root = op.result;
        PlannedOp p;
        p.op = i;
        p.kind = op.kind;
        p.result = op.result;
        bool anyPost = false;
        // A delay's operand may be classified only later (a back edge): its ring holds every sample.
        vi.batched = op.kind == OpKind::Delay;
        for (ir::ValueId v : op.operands) {
            vi.batched = vi.batched || values[size_t(v)].batched;
            anyPost = anyPost || values[size_t(v)].phase == Phase::Post;
        }
        if (op.kind == OpKind::Input) {
            vi.phase = Phase::Pre;
            vi.batched = true;
            vi.storage = Storage::Input;
            vi.index = inputNo++;
        } else if (op.kind == OpKind::Const) {
            vi.phase = Phase::Pre;
            if (op.constant->elem() == ir::ElemType::F32) {
                vi.storage = Storage::Const;
            } else {
                vi.storage = Storage::Converted;
                vi.index = int32_t(plan.converted.size());
                plan.converted.push_back(op.constant->toFloats());
            }
        } else {
            p.timeMean = op.kind == OpKind::Mean && op.attrs.getBool("over_time");
            if (type.perStep() || p.timeMean) {
                if (anyPost)
                    return describeOp(m, i) +
                           ": a per-step op cannot use a value computed after the time loop (a mean over time)";
                p.phase = Phase::Loop;
                vi.phase = p.timeMean ? Phase::Post : Phase::Loop;
            } else {
                p.phase = vi.phase = anyPost ? Phase::Post : Phase::Pre;
            }
            p.alias = isAlias(op);
            if (p.alias) {
                vi.storage = Storage::Alias;
                vi.root = values[size_t(op.operands[0])].root;
            } else {
                vi.storage = Storage::Slot;
            }
            if (auto e = prepareOp(m, op, p, values); !e.empty())
                return describeOp(m, i) + ": " + e;
        }
        auto& list = p.phase == Phase::Pre ? plan.pre : p.phase == Phase::Loop ? plan.loop : plan.post;
        if (p.timeMean)
            plan.timeMeans.push_back(list.size());
        if (op.kind == OpKind::Lif)
            plan.lifOps.push_back(list.size());
        if (op.kind == OpKind::Delay)
            plan.delayOps.push_back(list.size());
        list.push_back(std::move(p));
    }

    // 2. Liveness over the linear order pre | loop | (finalise means) | post.
    const int64_t loopStart = int64_t(plan.pre.size());
    const int64_t loopEnd = loopStart + int64_t(plan.loop.size()) - 1; // may be < loopStart
    const int64_t postStart = loopStart + int64_t(plan.loop.size()) + 1;
    std::vector<int64_t> start(values.size(), -1), end(values.size(), -1);
    std::vector<Phase> opPhase(ops.size(), Phase::Pre);
    std::vector<int64_t> opPos(ops.size(), -1);
    auto place = [&](const std::vector<PlannedOp>& list, int64_t base, Phase ph) {
        for (size_t k = 0; k < list.size(); ++k) {
            opPos[size_t(list[k].op)] = base + int64_t(k);
            opPhase[size_t(list[k].op)] = ph;
            const ir::ValueId r = list[k].result;
            start[size_t(r)] = list[k].timeMean ? loopStart : base + int64_t(k);
            end[size_t(r)] = list[k].timeMean ? std::max(loopEnd, start[size_t(r)]) : start[size_t(r)];
        }
    };
    place(plan.pre, 0, Phase::Pre);
    place(plan.loop, loopStart, Phase::Loop);
    place(plan.post, postStart, Phase::Post);
    for (size_t i = 0; i < ops.size(); ++i) {
        if (ops[i].kind == OpKind::Output)
            continue;
        for (ir::ValueId v : ops[i].operands) {
            const ir::ValueId r = values[size_t(v)].root;
            int64_t pos = opPos[i];
            // A value read inside the loop that is not recomputed each step must survive the whole loop;
            // a delay's operand is read after the step (into its ring), so it lives to the loop's end.
            if (opPhase[i] == Phase::Loop && (values[size_t(r)].phase != Phase::Loop || ops[i].kind == OpKind::Delay))
                pos = std::max(pos, loopEnd);
            end[size_t(r)] = std::max(end[size_t(r)], pos);
        }
    }

    // 3. Slots: greedy interval colouring in order of definition, best fit by size.
    std::vector<ir::ValueId> order;
    for (size_t v = 0; v < values.size(); ++v)
        if (values[v].storage == Storage::Slot)
            order.push_back(ir::ValueId(v));
    std::stable_sort(order.begin(), order.end(), [&](ir::ValueId a, ir::ValueId b) { return start[a] < start[b]; });
    std::vector<int64_t> slotEnd;
    for (ir::ValueId v : order) {
        ValueInfo& vi = values[size_t(v)];
        const int64_t need = (vi.batched ? batch : 1) * vi.elements;
        int32_t best = -1;
        for (int32_t s = 0; s < int32_t(slotEnd.size()); ++s) {
            if (slotEnd[size_t(s)] >= start[size_t(v)])
                continue;
            const int64_t have = plan.slotSizes[size_t(s)];
            if (best < 0) {
                best = s;
                continue;
            }
            const int64_t bestHave = plan.slotSizes[size_t(best)];
            // Prefer the smallest slot that fits, else the largest one (grown the least).
            const bool fits = have >= need, bestFits = bestHave >= need;
            if ((fits && (!bestFits || have < bestHave)) || (!fits && !bestFits && have > bestHave))
                best = s;
        }
        if (best < 0) {
            best = int32_t(slotEnd.size());
            slotEnd.push_back(-1);
            plan.slotSizes.push_back(0);
        }
        vi.slot = best;
        slotEnd[size_t(best)] = end[size_t(v)];
        plan.slotSizes[size_t(best)] = std::max(plan.slotSizes[size_t(best)], need);
    }
    return {};
}

} // namespace stc::interp::detail

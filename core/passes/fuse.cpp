// fuse: cross-layer fusion into neuron groups, the units the mapping places on
// a core. Annotates instead of rewriting (the Spike IR has no fused op kinds):
//   fuse.group (int) on every op of a group, fuse.role (string) on its members:
//   "synapse" (conv/linear: conv+bn+lif once bn is folded, linear+lif),
//   "view" (reshape/permute/flatten between synapses and neuron),
//   "neuron" (the lif), "residual-input" (an add of spike tensors whose users
//   are all synapses, possibly through views/means: the receiving synapses
//   take both spike streams, conv(a + b) = conv(a) + conv(b), so no add
//   compartment is needed), "pool-input" (avgpool before synapses: linear, so
//   exact to merge into the synaptic weights). Max pooling of spikes is not
//   linear and is not fused (it stays an OR stage of the producing group).
#include "passes/builtin_passes.h"
#include "passes/rewrite.h"

#include <functional>

namespace stc::passes {

namespace {

using ir::OpKind;

bool isLayer(OpKind k) { return k == OpKind::Conv1d || k == OpKind::Conv2d || k == OpKind::Linear; }

void runFuse(ir::Module& m, PassRun& run)
{
    for (auto& op : m.mutableOps()) { // idempotent: drop earlier annotations
        op.attrs.erase("fuse.group");
        op.attrs.erase("fuse.role");
    }
    const auto users = m.computeUsers();
    std::vector<int64_t> group(m.ops().size(), -1);
    auto tag = [&](int32_t i, int64_t g, const char* role) {
        group[size_t(i)] = g;
        ir::Op& op = m.mutableOps()[size_t(i)];
        op.attrs.set("fuse.group", g);
        op.attrs.set("fuse.role", std::string(role));
    };
    int64_t groups = 0, fusedOps = 0, residual = 0, pools = 0, maxPools = 0;
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        const ir::Op& op = m.ops()[size_t(i)];
        if (op.kind != OpKind::Lif)
            continue;
        const int64_t g = groups++;
        tag(i, g, "neuron");
        // Back through single-use views to the synaptic layer.
        ir::ValueId v = op.operands[0];
        while (true) {
            const int32_t d = m.value(v).def;
            const ir::Op& def = m.ops()[size_t(d)];
            if (singleUser(users, v) < 0 || group[size_t(d)] >= 0)
                break;
            if (isViewOp(def.kind)) {
                tag(d, g, "view");
                ++fusedOps;
                v = def.operands[0];
                continue;
            }
            if (isLayer(def.kind)) {
                tag(d, g, "synapse");
                ++fusedOps;
            }
            break;
        }
    }
    // Does every path from value v reach synaptic layers through views/means only?
    std::function<bool(ir::ValueId, int)> feedsSynapsesOnly = [&](ir::ValueId v, int depth) {
        if (depth > 16 || users[size_t(v)].empty())
            return false;
        for (int32_t u : users[size_t(v)]) {
            const ir::Op& op = m.ops()[size_t(u)];
            if (isLayer(op.kind) && op.operands[0] == v)
                continue;
            if ((isViewOp(op.kind) || (op.kind == OpKind::Mean && !op.attrs.getBool("over_time"))) &&
                feedsSynapsesOnly(op.result, depth + 1))
                continue;
            return false;
        }
        return true;
    };
    for (int32_t i = 0; i < int32_t(m.ops().size()); ++i) {
        const ir::Op& op = m.ops()[size_t(i)];
        if (op.kind == OpKind::Add && m.typeOf(op.result).perStep() && m.typeOf(op.result).elem != ir::ElemType::F32 &&
            feedsSynapsesOnly(op.result, 0)) {
            tag(i, -1, "residual-input");
            ++residual;
        } else if (op.kind == OpKind::AvgPool2d && feedsSynapsesOnly(op.result, 0)) {
            tag(i, -1, "pool-input");
            ++pools;
        } else if (op.kind == OpKind::MaxPool2d) {
            ++maxPools;
        }
    }
    m.attrs.set("fused", true);
    run.stats().set("neuron-groups", groups);
    run.stats().set("ops-fused", fusedOps + groups + residual + pools);
    run.stats().set("residual-adds-fused", residual);
    run.stats().set("avgpools-fused", pools);
    run.stats().set("maxpools-not-fused", maxPools);
}

} // namespace

PassDef makeFusePass()
{
    PassInfo info;
    info.name = "fuse";
    info.description = "group synapses+views+neuron, residual adds and avg pools into neuron groups (annotations)";
    info.needs = {prop::kBnFolded};
    info.provides = {prop::kFused};
    // Annotations only: no value is replaced, so back edges stay as they are. A delay is
    // neither a view nor a synapse, so no group reaches through one (the walk back from a
    // lif stops at it, and an add that feeds a delay is not a residual input).
    info.handlesDelay = true;
    return {std::move(info), runFuse};
}

} // namespace stc::passes

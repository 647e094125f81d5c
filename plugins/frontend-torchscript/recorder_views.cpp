// In-place writes: copy-on-write preservation of recorded data, and writes
// through views (`spike_seq[t] = spike` on a zeros_like buffer) recorded as
// pure select_scatter / slice_scatter ops on the viewed tensor.
#include "recorder_internal.h"

#include <torch/csrc/jit/runtime/operator.h>

#include <algorithm>

namespace stc::torchscript::detail {

// An op is about to write into tensors in place (copy_, add_, ...): replays
// and recorded data that refer to those tensors must keep the old contents.
void Recorder::preserveBeforeWrite(const Node* node, const std::vector<IValue>& stack)
{
    const auto* schema = node->maybeSchema();
    if (!schema)
        return;
    for (size_t i = 0; i < schema->arguments().size() && i < stack.size(); ++i) {
        const auto* alias = schema->arguments()[i].alias_info();
        if (!alias || !alias->isWrite() || !stack[i].isTensor() || !stack[i].toTensor().defined())
            continue;
        preserveTensor(stack[i].toTensor());
    }
}

void Recorder::preserveTensor(const at::Tensor& t)
{
    const c10::TensorImpl* impl = t.unsafeGetTensorImpl();
    at::Tensor before;
    if (auto it = storedRefs_.find(impl); it != storedRefs_.end()) {
        before = t.clone();
        for (const auto& [n, slot] : it->second)
            rec_.stacks[size_t(n)][slot] = before;
        storedRefs_.erase(it);
    }
    if (auto it = dyn_.find(impl); it != dyn_.end() && rec_.tensors[size_t(it->second)].defined() &&
                                   rec_.tensors[size_t(it->second)].unsafeGetTensorImpl() == impl)
        rec_.tensors[size_t(it->second)] = before.defined() ? before : t.clone();
}

// Remembers that the result of select/slice is a view of `base`.
void Recorder::noteView(const std::string& kind, const at::Tensor& base, const std::vector<const RtValue*>& ins,
                        const std::vector<IValue>& outs)
{
    if (outs.size() != 1 || !outs[0].isTensor() || !outs[0].toTensor().is_view() || ins.size() < 3)
        return;
    ViewLink link;
    link.view = outs[0].toTensor();
    link.base = base;
    const int64_t rank = base.dim();
    auto intOr = [&](size_t i, int64_t dflt) { return i < ins.size() && ins[i]->iv.isInt() ? ins[i]->iv.toInt() : dflt; };
    link.dim = intOr(1, 0);
    if (link.dim < 0)
        link.dim += rank;
    if (link.dim < 0 || link.dim >= rank)
        return;
    const int64_t size = base.size(link.dim);
    auto clampIndex = [&](int64_t i) { return std::clamp(i < 0 ? i + size : i, int64_t(0), size); };
    if (kind == "aten::select") {
        link.select = true;
        link.start = clampIndex(intOr(2, 0));
    } else {
        link.start = clampIndex(intOr(2, 0));
        link.end = clampIndex(intOr(3, size));
        link.step = intOr(4, 1);
    }
    views_[link.view.unsafeGetTensorImpl()] = std::move(link);
}

// For an in-place op about to write into a view: the chain of viewed tensors
// that the write changes, with their contents before the write.
std::vector<Recorder::PendingScatter> Recorder::viewWritesOf(const Node* node, const std::vector<IValue>& stack)
{
    std::vector<PendingScatter> out;
    const auto* schema = node->maybeSchema();
    if (!schema)
        return out;
    for (size_t i = 0; i < schema->arguments().size() && i < stack.size(); ++i) {
        const auto* alias = schema->arguments()[i].alias_info();
        if (!alias || !alias->isWrite() || !stack[i].isTensor() || !stack[i].toTensor().defined())
            continue;
        const c10::TensorImpl* impl = stack[i].toTensor().unsafeGetTensorImpl();
        for (auto it = views_.find(impl); it != views_.end() && out.size() < 16;
             it = views_.find(it->second.base.unsafeGetTensorImpl())) {
            PendingScatter p{it->second, it->second.base.clone(), kNoRef, {}};
            auto d = dyn_.find(it->second.base.unsafeGetTensorImpl());
            if (d != dyn_.end())
                p.before = d->second;
            else
                p.beforeStatic = staticTensor(p.beforeData);
            preserveTensor(it->second.base);
            out.push_back(std::move(p));
        }
    }
    return out;
}

// Records `base' = select_scatter(base, view)` (or slice_scatter): the new
// contents of a tensor written through a view, as a pure op.
void Recorder::recordScatter(PendingScatter& p, const std::string& path, const std::string& type, int32_t writer)
{
    const ViewLink& l = p.link;
    auto child = dyn_.find(l.view.unsafeGetTensorImpl());
    if (child == dyn_.end())
        return;
    static const auto findOp = [](const char* name, size_t args) -> std::shared_ptr<torch::jit::Operator> {
        for (const auto& op : torch::jit::getAllOperatorsFor(c10::Symbol::fromQualString(name)))
            if (op->schema().arguments().size() == args)
                return op;
        return nullptr;
    };
    static const auto selectScatter = findOp("aten::select_scatter", 4);
    static const auto sliceScatter = findOp("aten::slice_scatter", 6);
    const auto& op = l.select ? selectScatter : sliceScatter;
    if (!op)
        return;
    RecNode rn;
    rn.kind = l.select ? "aten::select_scatter" : "aten::slice_scatter";
    rn.modulePath = path;
    rn.moduleType = type;
    rn.loc = g_.nodes[size_t(writer)].loc;
    rn.source = g_.nodes[size_t(writer)].source;
    RecArg base;
    if (p.before != kNoRef) {
        base.kind = RecArg::Kind::Dyn;
        base.dyn = p.before;
    } else {
        base.kind = RecArg::Kind::Tensor;
        base.tensor = p.beforeStatic;
    }
    RecArg src;
    src.kind = RecArg::Kind::Dyn;
    src.dyn = child->second;
    // Dynamic slots are placeholders (a replay takes the recorded values).
    std::vector<IValue> stack{p.before != kNoRef ? at::empty({0}, p.beforeData.options()) : p.beforeData,
                              at::empty({0}, l.view.options())};
    rn.inputs = {base, src};
    auto addInt = [&](int64_t v) {
        RecArg a;
        a.kind = RecArg::Kind::Int;
        a.i = v;
        rn.inputs.push_back(a);
        stack.emplace_back(v);
    };
    addInt(l.dim);
    addInt(l.start);
    if (!l.select) {
        addInt(l.end);
        addInt(l.step);
    }
    const auto index = int32_t(g_.nodes.size());
    rn.outputs.push_back(outputArg(IValue(l.base), index, true));
    g_.nodes.push_back(std::move(rn));
    rec_.ops.push_back(op->getOperation());
    rec_.stacks.push_back(std::move(stack));
}

} // namespace stc::torchscript::detail

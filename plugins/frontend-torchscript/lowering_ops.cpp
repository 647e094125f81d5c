// One handler per ATen op: maps a recorded op (with the axis roles of its
// operands) to Spike IR ops.
#include "lowering_internal.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

namespace stc::torchscript {

namespace {

using K = AbsValue::Kind;
using ir::OpKind;

int64_t normDim(int64_t d, size_t rank) { return d < 0 ? d + int64_t(rank) : d; }

std::vector<int64_t> features(const Layout& l, const std::vector<int64_t>& shape)
{
    std::vector<int64_t> out;
    for (size_t i = 0; i < l.size(); ++i)
        if (l[i].role == Role::Feature)
            out.push_back(shape[i]);
    return out;
}

ir::IntList ilist(const std::vector<int64_t>& v) { return ir::IntList(v.begin(), v.end()); }

void identity(Lowerer& L)
{
    if (L.node->kind == "aten::copy_") {
        L.setOut(0, L.operand(1));
        return;
    }
    const auto outs = L.node->dynOutputs();
    if (!outs.empty() && L.g.values[size_t(outs[0])].dtype != DType::Float32) {
        L.unsupported(std::string("converts to ") + toString(L.g.values[size_t(outs[0])].dtype) +
                      "; Spike IR computes in float32");
        return;
    }
    L.setOut(0, L.operand(0));
}

void reshape(Lowerer& L)
{
    const AbsValue x = L.operand(0);
    if (!x.ok())
        return;
    const auto& inS = L.argShape(0);
    const auto& outS = L.outShape();
    if ((L.node->kind == "aten::unsqueeze" || L.node->kind == "aten::unsqueeze_") && outS.size() == inS.size() + 1 &&
        x.kind != K::Inv) {
        // A new leading size-1 axis of a per-step value, or one in front of
        // its batch/time axes (`spike.unsqueeze(0)` before concatenating the
        // steps), has no role; with batch 1 the generic plan takes it for the
        // batch and the batch axis for a feature. (A new axis between batch
        // and features, e.g. a channel for a 1-D pool, and invariant values
        // keep the generic plan, which the bundled models' IR was produced with.)
        const int64_t d = normDim(int64_t(L.argScalar(1).value_or(0)), outS.size());
        const auto stacking = [&](Role r) { return r == Role::Time || r == Role::Batch || r == Role::TimeBatch; };
        bool beforeFeatures =
            d == 0 || (d > 0 && d < int64_t(x.layout.size()) && stacking(x.layout[size_t(d)].role));
        for (int64_t i = 0; beforeFeatures && i < d; ++i)
            beforeFeatures = x.layout[size_t(i)].role != Role::Feature;
        if (beforeFeatures) {
            Layout lay = x.layout;
            lay.insert(lay.begin() + d, Axis{Role::Unit, -1});
            L.setOut(0, L.make(x, x.ir, lay));
            return;
        }
    }
    const ReshapePlan plan = planReshape(x.layout, inS, outS, {std::max<int64_t>(L.T, 1), L.B});
    if (!plan.error.empty()) {
        L.unsupported(plan.error + " ([" + ir::shapeToString(inS) + "] " + toString(x.layout) + " -> [" +
                      ir::shapeToString(outS) + "])");
        return;
    }
    AbsValue out = L.make(x, L.reshapeTo(x.ir, plan.featureShape), plan.out);
    if (x.kind == K::Seq && !hasTime(plan.out)) {
        if (L.T != 1) {
            L.unsupported("reshape loses the time axis");
            return;
        }
        out.kind = K::Step; // T == 1: the size-1 time axis was dropped
        out.step = 0;
    }
    L.setOut(0, out);
}

void permuteWith(Lowerer& L, std::vector<int64_t> dims)
{
    const AbsValue x = L.operand(0);
    if (!x.ok())
        return;
    Layout out;
    for (int64_t d : dims)
        out.push_back(x.layout[size_t(normDim(d, x.layout.size()))]);
    const auto old = renumberFeatures(out);
    bool ident = true;
    for (size_t i = 0; i < old.size(); ++i)
        ident = ident && old[i] == int64_t(i);
    ir::ValueId v = x.ir;
    if (!ident) {
        ir::Attributes a;
        a.set("perm", ilist(old));
        v = L.emit(OpKind::Permute, {x.ir}, a, "permute");
    }
    L.setOut(0, L.make(x, v, out));
}

void permute(Lowerer& L) { permuteWith(L, L.argInts(1).value_or(std::vector<int64_t>{})); }

void transpose(Lowerer& L)
{
    const size_t rank = L.argShape(0).size();
    std::vector<int64_t> dims(rank);
    for (size_t i = 0; i < rank; ++i)
        dims[i] = int64_t(i);
    const int64_t a = L.node->kind == "aten::t" ? 0 : normDim(int64_t(*L.argScalar(1)), rank);
    const int64_t b = L.node->kind == "aten::t" ? int64_t(rank) - 1 : normDim(int64_t(*L.argScalar(2)), rank);
    std::swap(dims[size_t(a)], dims[size_t(b)]);
    permuteWith(L, dims);
}

// x[..., i, ...] along one axis: a time step, or a size-1 axis.
AbsValue selectAxis(Lowerer& L, const AbsValue& x, int64_t dim, int64_t index)
{
    Layout out = x.layout;
    const Axis a = out[size_t(dim)];
    out.erase(out.begin() + dim);
    switch (a.role) {
    case Role::Time: {
        AbsValue s = L.make(x, x.ir, out);
        s.kind = K::Step;
        s.step = int32_t(index);
        return s;
    }
    case Role::Unit: return L.make(x, x.ir, out);
    case Role::Batch:
        if (L.B == 1)
            return L.make(x, x.ir, out);
        L.unsupported("selects single samples of the batch; Spike IR values are per sample");
        return AbsValue::error();
    case Role::TimeBatch:
        L.unsupported("indexes the merged time*batch axis");
        return AbsValue::error();
    case Role::Feature: break;
    }
    L.unsupported("indexes a feature axis (x[..., i]); Spike IR has no slicing op");
    return AbsValue::error();
}

void select(Lowerer& L)
{
    const AbsValue x = L.operand(0);
    if (!x.ok())
        return;
    const auto& s = L.argShape(0);
    const int64_t dim = normDim(int64_t(*L.argScalar(1)), s.size());
    int64_t index = int64_t(*L.argScalar(2));
    if (index < 0)
        index += s[size_t(dim)];
    L.setOut(0, selectAxis(L, x, dim, index));
}

void unbind(Lowerer& L)
{
    const AbsValue x = L.operand(0);
    if (!x.ok())
        return;
    const auto& s = L.argShape(0);
    const int64_t dim = normDim(L.argScalar(1).value_or(0), s.size());
    std::vector<AbsValue> items;
    for (int64_t i = 0; i < s[size_t(dim)]; ++i)
        items.push_back(selectAxis(L, x, dim, i));
    L.setOutList(0, items);
}

void slice(Lowerer& L)
{
    const AbsValue x = L.operand(0);
    if (!x.ok())
        return;
    if (L.argShape(0) == L.outShape()) { // x[:, :] and friends
        L.setOut(0, x);
        return;
    }
    const int64_t dim = normDim(int64_t(L.argScalar(1).value_or(0)), L.argShape(0).size());
    const Role r = x.layout[size_t(dim)].role;
    L.unsupported(r == Role::Time ? "uses only some of the time steps" : "slices a tensor; Spike IR has no slicing op");
}

// Items of a list argument (stack/cat), all dynamic.
std::optional<std::vector<AbsValue>> listItems(Lowerer& L, size_t i)
{
    std::vector<AbsValue> out;
    const RecArg& list = L.node->inputs[i];
    for (const RecArg& item : list.items) {
        if (!item.isDyn()) {
            L.unsupported("combines constants with values computed from the input");
            return std::nullopt;
        }
        out.push_back(L.materialize(L.value(item.dyn)));
        if (!out.back().ok())
            return std::nullopt;
    }
    return out;
}

// The items are the T time steps of one per-step value, or T copies of one
// invariant value; returns the per-step IR value.
std::optional<ir::ValueId> asTimeSequence(Lowerer& L, const std::vector<AbsValue>& items, const char* what)
{
    if (items.empty())
        return std::nullopt;
    const AbsValue& first = items[0];
    bool steps = first.kind == K::Step, copies = first.kind == K::Inv;
    for (size_t t = 0; t < items.size(); ++t) {
        steps = steps && items[t].kind == K::Step && items[t].ir == first.ir && items[t].step == int32_t(t) &&
                items[t].layout == first.layout;
        copies = copies && items[t].kind == K::Inv && items[t].ir == first.ir && items[t].layout == first.layout;
    }
    if (!steps && !copies) {
        L.unsupported(std::string(what) + " values that are not the time steps of one computation");
        return std::nullopt;
    }
    if (!L.requireTimesteps(int64_t(items.size()), std::string(what) + " over time"))
        return std::nullopt;
    if (steps)
        return first.ir;
    ir::Attributes enc;
    enc.set("mode", std::string("direct"));
    return L.emit(OpKind::Encode, {first.ir}, enc, "encode");
}

void stack(Lowerer& L)
{
    auto items = listItems(L, 0);
    if (!items)
        return;
    const size_t rank = items->empty() ? 0 : (*items)[0].layout.size();
    const int64_t dim = normDim(int64_t(L.argScalar(1).value_or(0)), rank + 1);
    auto seq = asTimeSequence(L, *items, "stacks");
    if (!seq)
        return;
    AbsValue out;
    out.kind = K::Seq;
    out.ir = *seq;
    out.layout = (*items)[0].layout;
    out.layout.insert(out.layout.begin() + dim, Axis{Role::Time, -1});
    L.setOut(0, out);
}

// In-place writes through views, recorded as select_scatter / slice_scatter
// (SpikingJelly's `spike_seq = zeros_like(x_seq); spike_seq[t] = spike`):
// once every index of the axis has been written, the result is the stack of
// the written values, whatever the tensor held before.
void scatter(Lowerer& L)
{
    const RecNode& n = *L.node;
    const auto& shape = L.outShape();
    const int64_t dim = normDim(int64_t(L.argScalar(2).value_or(0)), shape.size());
    if (n.kind == "aten::slice_scatter") {
        const int64_t start = int64_t(L.argScalar(3).value_or(0)), end = int64_t(L.argScalar(4).value_or(0));
        if (start == 0 && end >= shape[size_t(dim)] && int64_t(L.argScalar(5).value_or(1)) == 1 && L.argIsDyn(1) &&
            L.argShape(1) == shape) {
            L.setOut(0, L.operand(1)); // x[:] = y
            return;
        }
        L.unsupported("writes into a slice of a tensor in place (x[a:b] = y); Spike IR has no slicing op");
        return;
    }
    // The chain of writes into this tensor along `dim`, latest first.
    std::map<int64_t, ValueRef> written;
    for (const RecNode* cur = &n;;) {
        if (!cur->inputs[1].isDyn() || normDim(int64_t(cur->inputs[2].scalar()), shape.size()) != dim)
            break;
        written.emplace(int64_t(cur->inputs[3].scalar()), cur->inputs[1].dyn);
        const int32_t p = cur->inputs[0].isDyn() ? L.g.values[size_t(cur->inputs[0].dyn)].node : -1;
        if (p < 0 || L.g.nodes[size_t(p)].kind != n.kind)
            break;
        cur = &L.g.nodes[size_t(p)];
    }
    if (int64_t(written.size()) < shape[size_t(dim)]) {
        const ValueRef out = n.outputs[0].dyn;
        bool continued = false, readHalfWritten = false;
        for (int32_t u : L.users(out)) {
            if (!L.needed(u))
                continue; // e.g. the view the next write goes through
            const RecNode& un = L.g.nodes[size_t(u)];
            const bool next = un.kind == n.kind && un.inputs[0].isDyn() && un.inputs[0].dyn == out;
            continued = continued || next;
            readHalfWritten = readHalfWritten || !next;
        }
        if (!continued || readHalfWritten) // a later write completes it, or it is read half-written
            L.unsupported("writes into part of a tensor in place (x[i] = y) and reads it before every index of "
                          "the axis is written; only filling all time steps of a sequence is supported");
        return;
    }
    std::vector<AbsValue> items;
    for (const auto& [i, v] : written) {
        items.push_back(L.materialize(L.value(v)));
        if (!items.back().ok())
            return;
    }
    auto seq = asTimeSequence(L, items, "writes into the steps of a sequence");
    if (!seq)
        return;
    AbsValue out;
    out.kind = K::Seq;
    out.ir = *seq;
    out.layout = items[0].layout;
    out.layout.insert(out.layout.begin() + dim, Axis{Role::Time, -1});
    L.setOut(0, out);
}

void cat(Lowerer& L)
{
    auto items = listItems(L, 0);
    if (!items || items->empty())
        return;
    const size_t rank = (*items)[0].layout.size();
    const int64_t dim = normDim(int64_t(L.argScalar(1).value_or(0)), rank);
    if (items->size() == 1) {
        L.setOut(0, (*items)[0]);
        return;
    }
    // The T steps concatenated along the batch axis (merged T*B), or along a
    // size-1 axis without a role (SpikingJelly 0.0.0.0.12's multi-step
    // neurons: torch.cat([spike.unsqueeze(0) for each t], 0)).
    const Role role = (*items)[0].layout[size_t(dim)].role;
    if (role != Role::Batch && role != Role::Unit) {
        L.unsupported("concatenation (aten::cat) has no Spike IR op (axis " + std::to_string(dim) + " of " +
                      toString((*items)[0].layout) + ")");
        return;
    }
    auto seq = asTimeSequence(L, *items, "concatenates");
    if (!seq)
        return;
    AbsValue out;
    out.kind = K::Seq;
    out.ir = *seq;
    out.layout = (*items)[0].layout;
    out.layout[size_t(dim)] = {role == Role::Batch ? Role::TimeBatch : Role::Time, -1};
    L.setOut(0, out);
}

// repeat / expand: replicating the input over a new axis is the direct
// encoding over time.
void replicate(Lowerer& L)
{
    const AbsValue x = L.operand(0);
    if (!x.ok())
        return;
    const auto& inS = L.argShape(0);
    const auto& outS = L.outShape();
    Layout lay(outS.size() - inS.size(), Axis{Role::Unit, -1});
    lay.insert(lay.end(), x.layout.begin(), x.layout.end());
    std::vector<int64_t> in(outS.size() - inS.size(), 1);
    in.insert(in.end(), inS.begin(), inS.end());
    std::vector<size_t> changed;
    for (size_t i = 0; i < outS.size(); ++i)
        if (outS[i] != in[i])
            changed.push_back(i);
    if (changed.empty()) {
        L.setOut(0, L.make(x, x.ir, lay));
        return;
    }
    if (changed.size() != 1) {
        L.unsupported("replicates a tensor along several axes");
        return;
    }
    const size_t i = changed[0];
    const Role r = lay[i].role;
    if (r == Role::Feature) {
        // Broadcasting a size-1 feature axis: add zeros of the full shape.
        std::vector<int64_t> fs = features(lay, outS);
        const ir::ValueId zeros = L.constant(ir::Tensor(ir::ElemType::F32, fs), "zeros");
        L.setOut(0, L.make(x, L.emit(OpKind::Add, {x.ir, zeros}, {}, "expand"), lay));
        return;
    }
    if (x.kind != K::Inv || !(r == Role::Unit || r == Role::Batch)) {
        L.unsupported("replicates a value that already varies over time");
        return;
    }
    const int64_t factor = outS[i] / std::max<int64_t>(in[i], 1);
    if (!L.requireTimesteps(factor, "repeating the input over time"))
        return;
    ir::Attributes enc;
    enc.set("mode", std::string("direct"));
    AbsValue out;
    out.kind = K::Seq;
    out.ir = L.emit(OpKind::Encode, {x.ir}, enc, "encode");
    out.layout = lay;
    out.layout[i] = {r == Role::Batch && L.B > 1 ? Role::TimeBatch : Role::Time, -1};
    if (r == Role::Batch && L.B == 1)
        out.layout[i] = {Role::Time, -1};
    L.setOut(0, out);
}

// The leading axis is the batch (or time*batch) axis, then C and the spatial
// axes as IR features in order.
bool batchedFeatures(Lowerer& L, const AbsValue& x, size_t spatial)
{
    const Layout& l = x.layout;
    bool ok = l.size() == spatial + 2 && l[0].role != Role::Feature; // batch, time*batch (or time, B = 1)
    for (size_t i = 1; ok && i < l.size(); ++i)
        ok = l[i].role == Role::Feature && l[i].feature == int(i - 1);
    if (!ok)
        L.unsupported("expects [batch, C, ...spatial] with the channels as features, got layout " + toString(l));
    return ok;
}

std::vector<int64_t> intsOr(Lowerer& L, size_t i, std::vector<int64_t> def, size_t n)
{
    auto v = L.argInts(i);
    if (!v || v->empty())
        return def;
    if (v->size() == 1 && n > 1)
        v->assign(n, (*v)[0]);
    return *v;
}

void convolution(Lowerer& L)
{
    const AbsValue x = L.operand(0);
    if (!x.ok())
        return;
    const StaticTensorPtr w = L.argTensor(1);
    if (!w) {
        L.unsupported("convolution weights computed from the input");
        return;
    }
    const size_t spatial = w->shape.size() - 2;
    if (spatial != 1 && spatial != 2) {
        L.unsupported("only 1-D and 2-D convolutions exist in Spike IR");
        return;
    }
    if (!batchedFeatures(L, x, spatial))
        return;
    const std::string& k = L.node->kind;
    const bool full = k == "aten::_convolution" || k == "aten::convolution";
    if (full && L.node->inputs.size() > 6 && L.node->inputs[6].kind == RecArg::Kind::Bool && L.node->inputs[6].b) {
        L.unsupported("transposed convolution has no Spike IR op");
        return;
    }
    const size_t groupsArg = full ? 8 : 6;
    const std::vector<int64_t> ones(spatial, 1), zeros(spatial, 0);
    std::vector<int64_t> stride = intsOr(L, 3, ones, spatial), dilation = intsOr(L, 5, ones, spatial);
    std::vector<int64_t> padding = intsOr(L, 4, zeros, spatial);
    if (L.node->inputs.size() > 4 && L.node->inputs[4].kind == RecArg::Kind::String) {
        padding = zeros;
        if (L.node->inputs[4].s == "same")
            for (size_t i = 0; i < spatial; ++i) {
                const int64_t total = dilation[i] * (w->shape[2 + i] - 1);
                if (total % 2) {
                    L.unsupported("padding='same' with an even kernel pads asymmetrically");
                    return;
                }
                padding[i] = total / 2;
            }
    }
    ir::Attributes a;
    a.set("stride", ilist(stride));
    a.set("padding", ilist(padding));
    a.set("dilation", ilist(dilation));
    a.set("groups", int64_t(L.argScalar(groupsArg).value_or(1)));
    std::vector<ir::ValueId> ops{x.ir, L.constant(w)};
    if (const StaticTensorPtr b = L.argTensor(2))
        ops.push_back(L.constant(b));
    const ir::ValueId v = L.emit(spatial == 2 ? OpKind::Conv2d : OpKind::Conv1d, ops, a, "conv");
    L.setOut(0, L.make(x, v, x.layout));
}

bool lastAxisFeature(Lowerer& L, const Layout& l)
{
    if (!l.empty() && l.back().role == Role::Feature && l.back().feature == featureCount(l) - 1)
        return true;
    L.unsupported("the contracted axis is not the last feature axis (layout " + toString(l) + ")");
    return false;
}

void emitLinear(Lowerer& L, const AbsValue& x, ir::ValueId w, std::optional<ir::ValueId> b)
{
    std::vector<ir::ValueId> ops{x.ir, w};
    if (b)
        ops.push_back(*b);
    L.setOut(0, L.make(x, L.emit(OpKind::Linear, ops, {}, "linear"), x.layout));
}

ir::ValueId transposedConstant(Lowerer& L, const StaticTensor& t)
{
    const int64_t r = t.shape[0], c = t.shape[1];
    std::vector<float> out(size_t(r * c));
    const auto in = t.data->as<float>();
    for (int64_t i = 0; i < r; ++i)
        for (int64_t j = 0; j < c; ++j)
            out[size_t(j * r + i)] = in[size_t(i * c + j)];
    return L.constant(ir::Tensor::fromFloats({c, r}, std::move(out)), "weight_t");
}

void linear(Lowerer& L)
{
    const AbsValue x = L.operand(0);
    if (!x.ok() || !lastAxisFeature(L, x.layout))
        return;
    const StaticTensorPtr w = L.argTensor(1);
    if (!w || w->shape.size() != 2) {
        L.unsupported("linear weights computed from the input");
        return;
    }
    std::optional<ir::ValueId> b;
    if (const StaticTensorPtr bt = L.argTensor(2))
        b = L.constant(bt);
    emitLinear(L, x, L.constant(w), b);
}

void matmul(Lowerer& L)
{
    const bool da = L.argIsDyn(0), db = L.argIsDyn(1);
    if (da && !db) {
        const AbsValue x = L.operand(0);
        const StaticTensorPtr w = L.argTensor(1);
        if (!x.ok() || !lastAxisFeature(L, x.layout))
            return;
        if (!w || w->shape.size() != 2) {
            L.unsupported("matrix product with a constant that is not a matrix");
            return;
        }
        emitLinear(L, x, transposedConstant(L, *w), std::nullopt);
        return;
    }
    if (!da || !db) {
        L.unsupported("constant @ computed value has no Spike IR op (only x @ W)");
        return;
    }
    const AbsValue a = L.operand(0), b = L.operand(1);
    const AbsValue like = L.join({a, b});
    if (!like.ok())
        return;
    const auto &sa = L.argShape(0), &sb = L.argShape(1);
    if (sa.size() < 2 || sb.size() < 2) {
        L.unsupported("matrix-vector products are not supported");
        return;
    }
    auto lastTwo = [](const Layout& l) {
        const size_t n = l.size();
        const int f = featureCount(l);
        return l[n - 2].role == Role::Feature && l[n - 1].role == Role::Feature && l[n - 2].feature == f - 2 &&
               l[n - 1].feature == f - 1;
    };
    if (!lastTwo(a.layout) || !lastTwo(b.layout)) {
        L.unsupported("matrix product over time or batch axes (layouts " + toString(a.layout) + " @ " +
                      toString(b.layout) + ")");
        return;
    }
    Layout la(a.layout.begin(), a.layout.end() - 2), lb(b.layout.begin(), b.layout.end() - 2);
    std::vector<int64_t> ha(sa.begin(), sa.end() - 2), hb(sb.begin(), sb.end() - 2);
    BroadcastPlan plan = planBroadcast({&la, &lb}, {ha, hb});
    if (!plan.error.empty()) {
        L.unsupported("matrix product operands do not line up: " + plan.error);
        return;
    }
    auto shaped = [&](const AbsValue& v, const std::vector<int64_t>& lead, const std::vector<int64_t>& s) {
        std::vector<int64_t> want = lead;
        want.push_back(s[s.size() - 2]);
        want.push_back(s[s.size() - 1]);
        return L.reshapeTo(v.ir, want);
    };
    const ir::ValueId ia = shaped(a, plan.operandShapes[0], sa), ib = shaped(b, plan.operandShapes[1], sb);
    Layout out = plan.out;
    out.push_back({Role::Feature, 0});
    out.push_back({Role::Feature, 0});
    renumberFeatures(out);
    L.setOut(0, L.make(like, L.emit(OpKind::MatMul, {ia, ib}, {}, "matmul"), out));
}

void addmm(Lowerer& L)
{
    // addmm(bias, x, W^T, beta, alpha): what old traces record for Linear.
    const StaticTensorPtr bias = L.argTensor(0), wt = L.argTensor(2);
    const AbsValue x = L.operand(1);
    if (!x.ok())
        return;
    if (!wt || wt->shape.size() != 2 || L.argScalar(3).value_or(1) != 1 || L.argScalar(4).value_or(1) != 1) {
        L.unsupported("addmm other than bias + x @ W");
        return;
    }
    if (!lastAxisFeature(L, x.layout))
        return;
    std::optional<ir::ValueId> b;
    if (bias)
        b = L.constant(bias);
    emitLinear(L, x, transposedConstant(L, *wt), b);
}

void batchNorm(Lowerer& L)
{
    const AbsValue x = L.operand(0);
    if (!x.ok())
        return;
    if (x.layout.size() < 2 || x.layout[1].role != Role::Feature) {
        L.unsupported("batch norm whose channel axis is not a feature axis (layout " + toString(x.layout) + ")");
        return;
    }
    const StaticTensorPtr mean = L.argTensor(3), var = L.argTensor(4);
    const bool training = L.node->inputs.size() > 5 && L.node->inputs[5].kind == RecArg::Kind::Bool &&
                          L.node->inputs[5].b;
    if (!mean || !var || training) {
        L.unsupported("batch norm with batch statistics (training mode or no running stats)");
        return;
    }
    const int64_t c = mean->numel();
    auto orConst = [&](size_t i, float fill) {
        if (const StaticTensorPtr t = L.argTensor(i))
            return L.constant(t);
        return L.constant(ir::Tensor::fromFloats({c}, std::vector<float>(size_t(c), fill)),
                          fill == 0.0f ? "zeros" : "ones");
    };
    ir::Attributes a;
    a.set("eps", L.argScalar(7).value_or(1e-5));
    a.set("axis", int64_t(x.layout[1].feature));
    const ir::ValueId v = L.emit(OpKind::BatchNorm,
                                 {x.ir, L.constant(mean), L.constant(var), orConst(1, 1.0f), orConst(2, 0.0f)}, a,
                                 "batchnorm");
    L.setOut(0, L.make(x, v, x.layout));
}

} // namespace

void lowerPooling(Lowerer& L);      // lowering_pool.cpp
void lowerElementwise(Lowerer& L);  // lowering_arith.cpp
void lowerReduction(Lowerer& L);    // lowering_arith.cpp

const std::unordered_map<std::string, OpHandler>& opHandlers()
{
    static const std::unordered_map<std::string, OpHandler> table = [] {
        std::unordered_map<std::string, OpHandler> t;
        for (const char* k : {"aten::contiguous", "aten::detach", "aten::detach_", "aten::clone", "aten::dropout",
                              "aten::dropout_", "aten::feature_dropout", "aten::alpha_dropout",
                              "aten::feature_alpha_dropout", "aten::to", "aten::type_as", "aten::copy_",
                              "aten::float", "aten::_cast_Float", "aten::lift_fresh"})
            t[k] = identity;
        for (const char* k : {"aten::reshape", "aten::view", "aten::flatten", "aten::unflatten", "aten::squeeze",
                              "aten::unsqueeze", "aten::view_as", "aten::reshape_as", "aten::squeeze_",
                              "aten::unsqueeze_"})
            t[k] = reshape;
        t["aten::permute"] = permute;
        for (const char* k : {"aten::transpose", "aten::t", "aten::swapaxes", "aten::swapdims"})
            t[k] = transpose;
        t["aten::select"] = select;
        t["aten::unbind"] = unbind;
        t["aten::slice"] = slice;
        t["aten::stack"] = stack;
        t["aten::cat"] = cat;
        t["aten::select_scatter"] = scatter;
        t["aten::slice_scatter"] = scatter;
        t["aten::concat"] = cat;
        for (const char* k : {"aten::repeat", "aten::expand", "aten::expand_as"})
            t[k] = replicate;
        for (const char* k : {"aten::_convolution", "aten::convolution", "aten::conv1d", "aten::conv2d"})
            t[k] = convolution;
        t["aten::linear"] = linear;
        for (const char* k : {"aten::matmul", "aten::bmm", "aten::mm"})
            t[k] = matmul;
        t["aten::addmm"] = addmm;
        t["aten::batch_norm"] = batchNorm;
        for (const char* k : {"aten::max_pool2d", "aten::avg_pool2d", "aten::adaptive_avg_pool2d",
                              "aten::adaptive_max_pool2d", "aten::max_pool2d_with_indices", "aten::max_pool1d",
                              "aten::avg_pool1d", "aten::adaptive_avg_pool1d", "aten::adaptive_max_pool1d"})
            t[k] = lowerPooling;
        for (const char* k : {"aten::add", "aten::sub", "aten::rsub", "aten::mul", "aten::div", "aten::neg",
                              "aten::add_", "aten::sub_", "aten::mul_", "aten::div_", "aten::true_divide"})
            t[k] = lowerElementwise;
        for (const char* k : {"aten::mean", "aten::sum"})
            t[k] = lowerReduction;
        return t;
    }();
    return table;
}

} // namespace stc::torchscript

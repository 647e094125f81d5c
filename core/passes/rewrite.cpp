#include "passes/rewrite.h"

#include <cmath>

#include <stdexcept>

namespace stc::passes {

Rewriter::Rewriter(const ir::Module& source) : src_(source), map_(source.values().size(), ir::kNoValue)
{
    dst_.name = src_.name;
    dst_.timesteps = src_.timesteps;
    dst_.attrs = src_.attrs;
    for (const auto& v : src_.values())
        used_.insert(v.name);
}

ir::ValueId Rewriter::mapped(ir::ValueId v) const
{
    if (v < 0 || static_cast<size_t>(v) >= map_.size())
        return ir::kNoValue;
    return map_[static_cast<size_t>(v)];
}

void Rewriter::replace(ir::ValueId v, ir::ValueId newValue)
{
    map_.at(static_cast<size_t>(v)) = newValue;
    for (auto it = backEdges_.begin(); it != backEdges_.end();) {
        if (it->source == v) {
            dst_.mutableOps()[it->op].operands[it->operand] = newValue;
            it = backEdges_.erase(it);
        } else {
            ++it;
        }
    }
}

ir::ValueId Rewriter::copy(int32_t opIndex)
{
    const ir::Op& op = src_.ops()[static_cast<size_t>(opIndex)];
    ir::Op n = op;
    for (size_t k = 0; k < n.operands.size(); ++k) {
        ir::ValueId& o = n.operands[k];
        const ir::ValueId source = o;
        o = mapped(o);
        if (o == ir::kNoValue && op.kind == ir::OpKind::Delay && source >= 0 &&
            static_cast<size_t>(source) < map_.size() && src_.value(source).def >= opIndex)
            backEdges_.push_back({dst_.ops().size(), k, source});
        else if (o == ir::kNoValue)
            throw std::logic_error("rewriter: operand of op " + std::to_string(opIndex) + " not mapped");
    }
    ir::Type t = op.result != ir::kNoValue ? src_.typeOf(op.result) : ir::Type{};
    const std::string name = op.result != ir::kNoValue ? src_.value(op.result).name : std::string{};
    ir::ValueId r = dst_.append(std::move(n), std::move(t), name);
    if (op.result != ir::kNoValue)
        replace(op.result, r);
    return r;
}

ir::ValueId Rewriter::copyWith(int32_t opIndex, std::vector<ir::ValueId> newOperands, ir::Attributes attrs)
{
    const ir::Op& op = src_.ops()[static_cast<size_t>(opIndex)];
    std::string error;
    const std::string name = src_.value(op.result).name;
    ir::ValueId r = dst_.build(op.kind, std::move(newOperands), std::move(attrs), op.origin, name, &error);
    if (r == ir::kNoValue)
        throw std::logic_error("rewriter: cannot rebuild " + std::string(ir::opName(op.kind)) + " %" + name + ": " +
                               error);
    replace(op.result, r);
    return r;
}

ir::ValueId Rewriter::build(ir::OpKind kind, std::vector<ir::ValueId> operands, ir::Attributes attrs,
                            const std::string& origin, const std::string& nameHint)
{
    std::string error;
    ir::ValueId r = dst_.build(kind, std::move(operands), std::move(attrs), origin, uniqueName(nameHint), &error);
    if (r == ir::kNoValue)
        throw std::logic_error("rewriter: cannot build " + std::string(ir::opName(kind)) + " (" + nameHint +
                               "): " + error);
    return r;
}

ir::ValueId Rewriter::buildAs(ir::ValueId replaced, ir::OpKind kind, std::vector<ir::ValueId> operands,
                              ir::Attributes attrs, const std::string& origin)
{
    std::string error;
    const std::string& name = src_.value(replaced).name;
    ir::ValueId r = dst_.build(kind, std::move(operands), std::move(attrs), origin, name, &error);
    if (r == ir::kNoValue)
        throw std::logic_error("rewriter: cannot build " + std::string(ir::opName(kind)) + " %" + name + ": " + error);
    replace(replaced, r);
    return r;
}

ir::ValueId Rewriter::constant(ir::Tensor t, const std::string& nameHint, const std::string& origin)
{
    return dst_.addConst(std::move(t), uniqueName(nameHint), origin);
}

std::string Rewriter::uniqueName(const std::string& hint)
{
    const std::string base = hint.empty() ? "t" : hint;
    std::string name = base;
    for (int i = 1; used_.count(name); ++i)
        name = base + "." + std::to_string(i);
    used_.insert(name);
    return name;
}

ir::Module Rewriter::finish()
{
    if (!backEdges_.empty())
        throw std::logic_error("rewriter: the delay %" + dst_.value(dst_.ops()[backEdges_.front().op].result).name +
                               " reads %" + src_.value(backEdges_.front().source).name +
                               ", which the rewritten module no longer defines");
    return std::move(dst_);
}

int32_t firstDelayOp(const ir::Module& m)
{
    for (size_t i = 0; i < m.ops().size(); ++i)
        if (m.ops()[i].kind == ir::OpKind::Delay)
            return static_cast<int32_t>(i);
    return -1;
}

int64_t removeDeadOps(ir::Module& m, const std::function<bool(const ir::Op&)>& mayRemove)
{
    const auto& ops = m.ops();
    std::vector<bool> live(ops.size(), false);
    // Worklist marking: a delay's operand may be defined after it (a back edge).
    std::vector<size_t> work;
    for (size_t i = 0; i < ops.size(); ++i) {
        const ir::Op& op = ops[i];
        if (op.kind == ir::OpKind::Output || op.kind == ir::OpKind::Input || (mayRemove && !mayRemove(op))) {
            live[i] = true;
            work.push_back(i);
        }
    }
    while (!work.empty()) {
        const size_t i = work.back();
        work.pop_back();
        for (ir::ValueId v : ops[i].operands) {
            const auto d = static_cast<size_t>(m.value(v).def);
            if (!live[d]) {
                live[d] = true;
                work.push_back(d);
            }
        }
    }
    int64_t removed = 0;
    for (bool l : live)
        removed += l ? 0 : 1;
    if (removed == 0)
        return 0;
    Rewriter rw(m);
    for (size_t i = 0; i < ops.size(); ++i)
        if (live[i])
            rw.copy(static_cast<int32_t>(i));
    m = rw.finish();
    return removed;
}

int32_t singleUser(const std::vector<std::vector<int32_t>>& users, ir::ValueId v)
{
    const auto& u = users[static_cast<size_t>(v)];
    if (u.empty())
        return -1;
    for (int32_t x : u)
        if (x != u[0])
            return -1;
    return u[0];
}

bool isViewOp(ir::OpKind k)
{
    return k == ir::OpKind::Permute || k == ir::OpKind::Reshape || k == ir::OpKind::Flatten;
}

int64_t mapAxisThroughView(const ir::Module& m, const ir::Op& view, int64_t resultAxis)
{
    const ir::Shape& out = m.typeOf(view.result).shape;
    const ir::Shape& in = m.typeOf(view.operands[0]).shape;
    const auto rank = static_cast<int64_t>(out.size());
    if (resultAxis < 0)
        resultAxis += rank;
    if (resultAxis < 0 || resultAxis >= rank)
        return -1;
    if (view.kind == ir::OpKind::Permute) {
        int64_t p = view.attrs.getInts("perm").at(static_cast<size_t>(resultAxis));
        return p < 0 ? p + static_cast<int64_t>(in.size()) : p;
    }
    // Reshape/flatten (row-major): the channel index of an element is
    // (flat / inner) % C on both sides when size and inner stride agree.
    auto inner = [](const ir::Shape& s, int64_t axis) {
        int64_t n = 1;
        for (size_t i = static_cast<size_t>(axis) + 1; i < s.size(); ++i)
            n *= s[i];
        return n;
    };
    const int64_t c = out[static_cast<size_t>(resultAxis)];
    const int64_t stride = inner(out, resultAxis);
    for (int64_t b = 0; b < static_cast<int64_t>(in.size()); ++b)
        if (in[static_cast<size_t>(b)] == c && inner(in, b) == stride)
            return b;
    return -1;
}

const ir::Tensor* constantOf(const ir::Module& m, ir::ValueId v)
{
    const ir::Op& op = m.definingOp(v);
    return op.kind == ir::OpKind::Const ? op.constant.get() : nullptr;
}

bool isPowerOfTwo(double f)
{
    int e = 0;
    return f > 0.0 && std::isfinite(f) && std::frexp(f, &e) == 0.5;
}

} // namespace stc::passes

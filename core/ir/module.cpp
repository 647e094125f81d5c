#include "ir/module.h"

#include "ir/custom_op.h"

#include <algorithm>

namespace stc::ir {

bool Op::sameAs(const Op& o) const
{
    if (kind != o.kind || operands != o.operands || result != o.result || !(attrs == o.attrs) || origin != o.origin)
        return false;
    if (static_cast<bool>(constant) != static_cast<bool>(o.constant))
        return false;
    if (static_cast<bool>(custom) != static_cast<bool>(o.custom) || (custom && custom->name() != o.custom->name()))
        return false;
    return !constant || *constant == *o.constant;
}

ValueId Module::append(Op op, Type type, std::string resultName)
{
    const auto opIndex = static_cast<int32_t>(ops_.size());
    if (opDef(op.kind).hasResult) {
        const auto id = static_cast<ValueId>(values_.size());
        if (resultName.empty())
            resultName = freshName("");
        nameIndex_.emplace(resultName, id);
        values_.push_back({std::move(resultName), std::move(type), opIndex});
        op.result = id;
    } else {
        op.result = kNoValue;
    }
    ops_.push_back(std::move(op));
    return ops_.back().result;
}

ValueId Module::addConst(Tensor t, std::string name, std::string origin)
{
    Op op;
    op.kind = OpKind::Const;
    op.origin = std::move(origin);
    Type type{t.elem(), t.shape(), TimeKind::Invariant};
    op.constant = std::make_shared<const Tensor>(std::move(t));
    return append(std::move(op), std::move(type), std::move(name));
}

ValueId Module::addInput(Type type, std::string name)
{
    Op op;
    op.kind = OpKind::Input;
    return append(std::move(op), std::move(type), std::move(name));
}

void Module::addOutput(std::vector<ValueId> values)
{
    Op op;
    op.kind = OpKind::Output;
    op.operands = std::move(values);
    append(std::move(op), Type{});
}

ValueId Module::build(OpKind kind, std::vector<ValueId> operands, Attributes attrs, std::string origin,
                      std::string resultName, std::string* error)
{
    std::vector<Type> types;
    types.reserve(operands.size());
    for (ValueId v : operands)
        types.push_back(typeOf(v));
    InferResult r = inferType(kind, types, attrs);
    if (!r.type) {
        if (error)
            *error = r.error;
        return kNoValue;
    }
    Op op;
    op.kind = kind;
    op.operands = std::move(operands);
    op.attrs = std::move(attrs);
    op.origin = std::move(origin);
    return append(std::move(op), std::move(*r.type), std::move(resultName));
}

ValueId Module::buildCustom(std::shared_ptr<const CustomOpDef> def, std::vector<ValueId> operands, Attributes attrs,
                            std::string origin, std::string resultName, std::string* error)
{
    Op op;
    op.kind = OpKind::Custom;
    op.custom = std::move(def);
    op.operands = std::move(operands);
    op.attrs = std::move(attrs);
    op.origin = std::move(origin);
    std::vector<Type> types;
    types.reserve(op.operands.size());
    for (ValueId v : op.operands)
        types.push_back(typeOf(v));
    InferResult r = inferOpType(op, types);
    if (!r.type) {
        if (error)
            *error = r.error;
        return kNoValue;
    }
    return append(std::move(op), std::move(*r.type), std::move(resultName));
}

ValueId Module::findValue(const std::string& name) const
{
    auto it = nameIndex_.find(name);
    return it == nameIndex_.end() ? kNoValue : it->second;
}

void Module::renameValue(ValueId id, std::string name)
{
    auto& v = values_[static_cast<size_t>(id)];
    auto it = nameIndex_.find(v.name);
    if (it != nameIndex_.end() && it->second == id)
        nameIndex_.erase(it);
    v.name = std::move(name);
    nameIndex_[v.name] = id;
}

std::string Module::freshName(const std::string& base) const
{
    if (!base.empty() && !nameIndex_.count(base))
        return base;
    if (base.empty()) {
        // Numeric names: start at the value count (usually free) and remember
        // where the search ended; names are never reused, so this stays linear.
        nextFresh_ = std::max(nextFresh_, values_.size());
        while (nameIndex_.count(std::to_string(nextFresh_)))
            ++nextFresh_;
        return std::to_string(nextFresh_);
    }
    for (size_t i = 1;; ++i) {
        std::string candidate = base + "." + std::to_string(i);
        if (!nameIndex_.count(candidate))
            return candidate;
    }
}

std::vector<ValueId> Module::inputs() const
{
    std::vector<ValueId> out;
    for (const auto& op : ops_)
        if (op.kind == OpKind::Input)
            out.push_back(op.result);
    return out;
}

std::vector<ValueId> Module::outputs() const
{
    std::vector<ValueId> out;
    for (const auto& op : ops_)
        if (op.kind == OpKind::Output)
            out.insert(out.end(), op.operands.begin(), op.operands.end());
    return out;
}

std::vector<std::vector<int32_t>> Module::computeUsers() const
{
    std::vector<std::vector<int32_t>> users(values_.size());
    for (size_t i = 0; i < ops_.size(); ++i)
        for (ValueId v : ops_[i].operands)
            if (v >= 0 && static_cast<size_t>(v) < values_.size())
                users[static_cast<size_t>(v)].push_back(static_cast<int32_t>(i));
    return users;
}

bool Module::sameAs(const Module& o) const
{
    if (name != o.name || timesteps != o.timesteps || !(attrs == o.attrs) || values_ != o.values_ ||
        ops_.size() != o.ops_.size())
        return false;
    for (size_t i = 0; i < ops_.size(); ++i)
        if (!ops_[i].sameAs(o.ops_[i]))
            return false;
    return true;
}

int64_t parameterCount(const Module& m)
{
    int64_t n = 0;
    for (const auto& op : m.ops())
        if (op.kind == OpKind::Const && op.constant)
            n += op.constant->numElements();
    return n;
}

int64_t neuronCount(const Module& m)
{
    int64_t n = 0;
    for (const auto& op : m.ops())
        if (op.kind == OpKind::Lif)
            n += m.typeOf(op.result).numElements();
    return n;
}

} // namespace stc::ir

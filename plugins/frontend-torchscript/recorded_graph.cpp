#include "recorded_graph.h"

#include <algorithm>
#include <sstream>

namespace stc::torchscript {

const char* toString(DType t)
{
    switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Int64: return "int64";
    case DType::Int32: return "int32";
    case DType::Int16: return "int16";
    case DType::Int8: return "int8";
    case DType::UInt8: return "uint8";
    case DType::Bool: return "bool";
    case DType::Other: return "other";
    }
    return "?";
}

bool StaticTensor::uniform() const
{
    if (!data || data->numElements() == 0)
        return false;
    auto v = data->as<float>();
    return std::all_of(v.begin(), v.end(), [&](float x) { return x == v[0]; });
}

double StaticTensor::first() const { return data && data->numElements() ? data->as<float>()[0] : 0.0; }

int64_t StaticTensor::numel() const
{
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

bool RecArg::hasDyn() const
{
    if (kind == Kind::Dyn)
        return true;
    if (kind == Kind::List)
        return std::any_of(items.begin(), items.end(), [](const RecArg& a) { return a.hasDyn(); });
    return false;
}

void RecArg::collectDyn(std::vector<ValueRef>& out) const
{
    if (kind == Kind::Dyn)
        out.push_back(dyn);
    else if (kind == Kind::List)
        for (const auto& a : items)
            a.collectDyn(out);
}

namespace {
template <typename T> std::string joinList(const std::vector<T>& v)
{
    std::ostringstream os;
    os << '[';
    for (size_t i = 0; i < v.size(); ++i)
        os << (i ? "," : "") << v[i];
    os << ']';
    return os.str();
}
} // namespace

std::string RecArg::describe() const
{
    switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return b ? "True" : "False";
    case Kind::Int: return std::to_string(i);
    case Kind::Double: {
        std::ostringstream os;
        os << d;
        return os.str();
    }
    case Kind::String: return '"' + s + '"';
    case Kind::IntList: return joinList(ints);
    case Kind::DoubleList: return joinList(doubles);
    case Kind::Tensor: {
        std::string out = std::string("tensor<") + toString(tensor->dtype) + ">" + joinList(tensor->shape);
        if (tensor->numel() == 1) {
            std::ostringstream os;
            os << "{" << tensor->first() << "}";
            out += os.str();
        }
        return out;
    }
    case Kind::Dyn: return "%" + std::to_string(dyn);
    case Kind::List: {
        std::string out = "(";
        for (size_t k = 0; k < items.size(); ++k)
            out += (k ? ", " : "") + items[k].describe();
        return out + ")";
    }
    case Kind::Other: return "<" + s + ">";
    }
    return "?";
}

int64_t RecValue::numel() const
{
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

std::vector<ValueRef> RecNode::dynInputs() const
{
    std::vector<ValueRef> out;
    for (const auto& a : inputs)
        a.collectDyn(out);
    return out;
}

std::vector<ValueRef> RecNode::dynOutputs() const
{
    std::vector<ValueRef> out;
    for (const auto& a : outputs)
        a.collectDyn(out);
    return out;
}

std::string RecNode::where() const
{
    std::string out = modulePath.empty() ? "<root>" : modulePath;
    if (loc.known()) {
        std::string file = loc.file;
        if (auto slash = file.rfind('/'); slash != std::string::npos)
            file = file.substr(slash + 1);
        out += " (" + file + ":" + std::to_string(loc.line) + ")";
    }
    return out;
}

std::vector<std::vector<int32_t>> RecordedGraph::users() const
{
    std::vector<std::vector<int32_t>> u(values.size());
    for (size_t n = 0; n < nodes.size(); ++n)
        for (ValueRef v : nodes[n].dynInputs())
            if (u[size_t(v)].empty() || u[size_t(v)].back() != int32_t(n))
                u[size_t(v)].push_back(int32_t(n));
    return u;
}

std::string RecordedGraph::dump() const
{
    std::ostringstream os;
    os << "input %" << input << " " << joinList(inputShape) << "\n";
    for (size_t n = 0; n < nodes.size(); ++n) {
        const RecNode& node = nodes[n];
        os << "#" << n << " ";
        for (size_t k = 0; k < node.outputs.size(); ++k)
            os << (k ? ", " : "") << node.outputs[k].describe();
        os << " = " << node.kind << "(";
        for (size_t k = 0; k < node.inputs.size(); ++k)
            os << (k ? ", " : "") << node.inputs[k].describe();
        os << ")";
        for (ValueRef v : node.dynOutputs())
            os << " %" << v << ":" << joinList(values[size_t(v)].shape);
        os << "   @" << (node.modulePath.empty() ? "<root>" : node.modulePath);
        if (!node.source.empty())
            os << "  # " << node.source;
        os << "\n";
    }
    os << "return " << output.describe() << "\n";
    return os.str();
}

} // namespace stc::torchscript

// Helpers of the recorder and the replay of recorded nodes with LibTorch
// (neuron probing re-executes a neuron's ops on other data).
#include "recorder_internal.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

namespace stc::torchscript::detail {

using c10::IValue;
using torch::jit::Node;

DType dtypeOf(c10::ScalarType t)
{
    switch (t) {
    case c10::kFloat: return DType::Float32;
    case c10::kDouble: return DType::Float64;
    case c10::kHalf: return DType::Float16;
    case c10::kBFloat16: return DType::BFloat16;
    case c10::kLong: return DType::Int64;
    case c10::kInt: return DType::Int32;
    case c10::kShort: return DType::Int16;
    case c10::kChar: return DType::Int8;
    case c10::kByte: return DType::UInt8;
    case c10::kBool: return DType::Bool;
    default: return DType::Other;
    }
}

std::vector<float> toFloats(const at::Tensor& t, size_t stride)
{
    at::Tensor flat = t.detach().reshape({-1});
    if (stride > 1)
        flat = flat.slice(0, 0, flat.numel(), int64_t(stride));
    at::Tensor c = flat.to(at::kFloat).contiguous();
    const float* p = c.data_ptr<float>();
    return std::vector<float>(p, p + c.numel());
}

std::string firstLine(std::string s)
{
    if (auto nl = s.find('\n'); nl != std::string::npos)
        s = s.substr(0, nl);
    const auto b = s.find_first_not_of(" \t");
    s = b == std::string::npos ? "" : s.substr(b);
    if (s.size() > 100)
        s = s.substr(0, 97) + "...";
    return s;
}

// Traced graphs carry "file.py(12): forward" instead of code; show the code
// line from the original file when it is still there.
std::string lineFromDisk(const std::string& file, size_t line)
{
    static std::mutex mutex;
    static std::map<std::string, std::vector<std::string>> cache;
    std::lock_guard lock(mutex);
    auto it = cache.find(file);
    if (it == cache.end()) {
        std::vector<std::string> lines;
        std::ifstream in(file);
        for (std::string l; std::getline(in, l);)
            lines.push_back(l);
        it = cache.emplace(file, std::move(lines)).first;
    }
    return line >= 1 && line <= it->second.size() ? firstLine(it->second[line - 1]) : std::string();
}

void sourceOf(const Node* n, RecNode& rn)
{
    const auto& r = n->sourceRange();
    if (!r.source())
        return;
    auto orig = r.findSourceRangeThatGenerated();
    const torch::jit::SourceRange& use = orig ? *orig : r;
    if (auto flc = use.file_line_col()) {
        const auto& [file, line, col] = *flc;
        rn.loc = SourceLoc{file, int(line), int(col) + 1};
        // Traced ranges carry "file(line): function" rather than code.
        const auto& src = *use.source();
        const size_t lineIndex = src.lineno_for_offset(use.start());
        std::string text = firstLine(src.get_line(lineIndex).str());
        if (text.rfind(file + "(", 0) == 0)
            text = lineFromDisk(file, line);
        rn.source = file + ":" + std::to_string(line) + (text.empty() ? "" : ": " + text);
    }
}

const std::unordered_set<std::string>& containerOps()
{
    static const std::unordered_set<std::string> s = {
        "prim::ListConstruct", "prim::ListUnpack", "prim::TupleConstruct", "prim::TupleUnpack",
        "prim::TupleIndex", "prim::TupleSlice", "prim::unchecked_cast", "prim::DictConstruct",
        "prim::isinstance", "aten::append", "aten::extend", "aten::insert", "aten::_set_item",
        "aten::list", "aten::len", "aten::__is__", "aten::__isnot__", "aten::pop", "aten::copy",
        "aten::reverse", "aten::values", "aten::keys", "aten::items", "aten::get", "aten::__contains__",
        "prim::unchecked_unwrap_optional", "aten::format", "aten::str", "aten::warn", "prim::Print",
        "aten::dict", "aten::clear", "aten::__getitem__", "aten::slice", "aten::__not__"};
    return s;
}

// Ops whose result depends on the shape/type of a tensor but not its values.
const std::unordered_set<std::string>& shapeOnlyOps()
{
    static const std::unordered_set<std::string> s = {
        "aten::size", "aten::dim", "aten::numel", "aten::len", "prim::shape", "prim::dtype",
        "prim::device", "prim::layout", "prim::is_cuda", "prim::requires_grad", "aten::is_floating_point",
        "aten::is_contiguous", "aten::stride", "aten::zeros_like", "aten::ones_like", "aten::full_like",
        "aten::empty_like", "aten::new_zeros", "aten::new_ones", "aten::new_full", "aten::new_empty",
        "aten::_shape_as_tensor", "aten::sizes", "aten::element_size", "aten::is_complex"};
    return s;
}

bool metadataOnlyArg(const std::string& kind, size_t i)
{
    static const std::unordered_set<std::string> s = {"aten::to", "aten::type_as", "aten::expand_as",
                                                       "aten::view_as", "aten::reshape_as"};
    return i >= 1 && s.count(kind) != 0;
}

namespace {

// Rebuilds `iv` with dynamic entries substituted: fed data, else replayed
// data, else kept data (the stack holds placeholders for dynamic tensors).
IValue substitute(const IValue& iv, const RecArg& arg, int32_t node, int32_t& ordinal,
                  const std::unordered_map<ValueRef, at::Tensor>& values,
                  const std::map<std::pair<int32_t, int32_t>, const Feed*>& feeds,
                  const std::vector<RecValue>& meta, const std::vector<at::Tensor>& kept)
{
    if (arg.kind == RecArg::Kind::Dyn) {
        const int32_t ord = ordinal++;
        if (!iv.isTensor() || arg.dyn == kNoRef)
            return iv;
        auto f = feeds.find({node, ord});
        if (f != feeds.end()) {
            const auto& shape = meta[size_t(arg.dyn)].shape;
            auto t = torch::from_blob(const_cast<float*>(f->second->data.data()), shape, at::kFloat).clone();
            return t.to(iv.toTensor().scalar_type());
        }
        if (auto it = values.find(arg.dyn); it != values.end())
            return it->second;
        if (kept[size_t(arg.dyn)].defined())
            return kept[size_t(arg.dyn)];
        throw std::runtime_error("internal: recorded value %" + std::to_string(arg.dyn) +
                                 " is neither kept nor replayed");
    }
    if (arg.kind != RecArg::Kind::List || !arg.hasDyn())
        return iv;
    if (iv.isTensorList()) {
        c10::List<at::Tensor> out;
        auto in = iv.toTensorList();
        for (size_t i = 0; i < in.size(); ++i)
            out.push_back(substitute(in.get(i), arg.items[i], node, ordinal, values, feeds, meta, kept).toTensor());
        return out;
    }
    if (iv.isTuple()) {
        std::vector<IValue> out;
        const auto& el = iv.toTupleRef().elements();
        for (size_t i = 0; i < el.size(); ++i)
            out.push_back(substitute(el[i], arg.items[i], node, ordinal, values, feeds, meta, kept));
        return c10::ivalue::Tuple::create(std::move(out));
    }
    if (iv.isList()) {
        auto in = iv.toList();
        c10::impl::GenericList out(in.elementType());
        for (size_t i = 0; i < in.size(); ++i)
            out.push_back(substitute(in.get(i), arg.items[i], node, ordinal, values, feeds, meta, kept));
        return out;
    }
    return iv;
}

void collectOutputs(const IValue& iv, const RecArg& arg, std::unordered_map<ValueRef, at::Tensor>& values)
{
    if (arg.kind == RecArg::Kind::Dyn && iv.isTensor()) {
        values[arg.dyn] = iv.toTensor();
    } else if (arg.kind == RecArg::Kind::List) {
        std::vector<IValue> el;
        if (iv.isList())
            for (const IValue& e : iv.toListRef())
                el.push_back(e);
        else if (iv.isTuple())
            el = iv.toTupleRef().elements().vec();
        for (size_t i = 0; i < el.size() && i < arg.items.size(); ++i)
            collectOutputs(el[i], arg.items[i], values);
    }
}

} // namespace

void RecordingImpl::run(const std::vector<int32_t>& nodes, const FeedMap& feeds,
                        std::unordered_map<ValueRef, at::Tensor>& values) const
{
    // Producers of inputs that are neither fed, replayed nor kept (values of
    // elementwise ops), transitively: they run first, on recorded data.
    std::set<int32_t> all(nodes.begin(), nodes.end());
    std::vector<int32_t> work(nodes.begin(), nodes.end());
    while (!work.empty()) {
        const int32_t n = work.back();
        work.pop_back();
        const auto ins = graph.nodes[size_t(n)].dynInputs();
        for (size_t k = 0; k < ins.size(); ++k) {
            const ValueRef v = ins[k];
            if (v == kNoRef)
                continue;
            const RecValue& meta = graph.values[size_t(v)];
            if (feeds.count({n, int32_t(k)}) || meta.scalar || meta.node < 0 || all.count(meta.node) ||
                tensors[size_t(v)].defined())
                continue;
            all.insert(meta.node);
            work.push_back(meta.node);
        }
    }
    for (int32_t n : all) { // recorded order
        const RecNode& rn = graph.nodes[size_t(n)];
        std::vector<IValue> stack = stacks[size_t(n)];
        int32_t ordinal = 0;
        for (size_t i = 0; i < stack.size() && i < rn.inputs.size(); ++i)
            stack[i] = substitute(stack[i], rn.inputs[i], n, ordinal, values, feeds, graph.values, tensors);
        if (rn.mutates) // never write into kept data
            for (auto& s : stack)
                if (s.isTensor() && s.toTensor().defined())
                    s = s.toTensor().clone();
        ops[size_t(n)](stack);
        for (size_t i = 0; i < stack.size() && i < rn.outputs.size(); ++i)
            collectOutputs(stack[i], rn.outputs[i], values);
    }
}

std::vector<at::Tensor> RecordingImpl::materialize(const std::vector<ValueRef>& vs) const
{
    std::vector<int32_t> producers;
    for (ValueRef v : vs) {
        if (v == kNoRef)
            continue;
        const RecValue& meta = graph.values[size_t(v)];
        if (!tensors[size_t(v)].defined() && !meta.scalar && meta.node >= 0)
            producers.push_back(meta.node);
    }
    std::unordered_map<ValueRef, at::Tensor> values;
    if (!producers.empty()) {
        ThreadScope oneThread(1);
        std::sort(producers.begin(), producers.end());
        producers.erase(std::unique(producers.begin(), producers.end()), producers.end());
        run(producers, {}, values);
    }
    std::vector<at::Tensor> out;
    for (ValueRef v : vs) {
        auto it = values.find(v);
        out.push_back(it != values.end() ? it->second : v == kNoRef ? at::Tensor() : tensors[size_t(v)]);
    }
    return out;
}

std::vector<float> RecordingImpl::recorded(ValueRef v, size_t stride) const
{
    std::vector<std::vector<float>> out;
    return recorded({v}, stride, out, nullptr, nullptr) ? out[0] : std::vector<float>{};
}

bool RecordingImpl::recorded(const std::vector<ValueRef>& vs, size_t stride, std::vector<std::vector<float>>& out,
                             std::vector<int64_t>* nonzero, std::string* error) const
{
    out.clear();
    if (nonzero)
        nonzero->clear();
    try {
        for (const at::Tensor& t : materialize(vs)) {
            out.push_back(t.defined() ? toFloats(t, stride) : std::vector<float>{});
            if (nonzero)
                nonzero->push_back(t.defined() ? at::count_nonzero(t).item<int64_t>() : 0);
        }
    } catch (const std::exception& e) {
        if (error)
            *error = firstLine(e.what());
        return false;
    }
    return true;
}

bool RecordingImpl::replay(const std::vector<int32_t>& nodes, const std::vector<Feed>& feeds,
                           const std::vector<ValueRef>& want, std::vector<std::vector<float>>& out,
                           std::string* error, size_t stride)
{
    ThreadScope oneThread(1);
    std::unordered_map<ValueRef, at::Tensor> values;
    FeedMap feedMap;
    for (const Feed& f : feeds)
        feedMap[{f.node, f.ordinal}] = &f;
    try {
        run(nodes, feedMap, values);
        out.clear();
        for (ValueRef w : want) {
            auto it = values.find(w);
            out.push_back(it != values.end() ? toFloats(it->second, stride) : recorded(w, stride));
        }
    } catch (const std::exception& e) {
        if (error)
            *error = firstLine(e.what());
        return false;
    }
    return true;
}

std::string cleanTypeName(const std::string& qualified)
{
    std::string out;
    size_t start = 0;
    while (start <= qualified.size()) {
        size_t dot = qualified.find('.', start);
        if (dot == std::string::npos)
            dot = qualified.size();
        std::string part = qualified.substr(start, dot - start);
        if (part != "__torch__" && part.rfind("___torch_mangle_", 0) != 0 && !part.empty())
            out += (out.empty() ? "" : ".") + part;
        start = dot + 1;
    }
    return out;
}

} // namespace stc::torchscript::detail

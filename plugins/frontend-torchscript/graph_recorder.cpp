// The tracing interpreter: walks TorchScript graphs node by node, executes
// every node for real through LibTorch and records the nodes that depend on
// the model input. Dynamic tensors are identified by their TensorImpl, so they
// are tracked through lists, tuples, module attributes and in-place writes
// without modelling any of those.
#include "torch_internal.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace stc::torchscript::detail {

namespace {

using c10::IValue;
using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;
namespace prim = c10::prim;

struct Abort {}; // stops execution after a fatal diagnostic

struct RtValue {
    IValue iv;
    std::string path;        // module objects: path from the root module
    bool dynScalar = false;  // a number computed from input data
    ValueRef scalarRef = kNoRef;
};

struct Frame {
    std::string path;
    std::string typeName;
    int depth = 0;
};

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

std::vector<float> toFloats(const at::Tensor& t)
{
    at::Tensor c = t.detach().to(at::kFloat).contiguous();
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

class RecordingImpl final : public Recording {
public:
    torch::jit::Module module;               // keeps the graphs (Node*) alive
    std::vector<at::Tensor> tensors;         // per ValueRef; undefined for scalars
    std::vector<torch::jit::Operation> ops;  // per recorded node
    std::vector<std::vector<IValue>> stacks; // per recorded node: its inputs as executed

    bool replay(const std::vector<int32_t>& nodes, const std::vector<Feed>& feeds, const std::vector<ValueRef>& want,
                std::vector<std::vector<float>>& out, std::string* error) override;
    std::vector<float> recorded(ValueRef v) const override
    {
        const at::Tensor& t = tensors.at(size_t(v));
        return t.defined() ? toFloats(t) : std::vector<float>{};
    }
};

class Recorder {
public:
    Recorder(RecordingImpl& rec, const std::atomic<bool>* cancel, Diagnostics& diags)
        : rec_(rec), g_(rec.graph), cancel_(cancel), diags_(diags)
    {
    }

    void run(const torch::jit::Module& module, const at::Tensor& input);

private:
    using Env = std::unordered_map<const Value*, RtValue>;

    std::vector<RtValue> callGraph(torch::jit::Graph& graph, std::vector<RtValue> args, const Frame& frame);
    void runBlock(const Block* block, Env& env, const Frame& frame);
    void execNode(const Node* node, Env& env, const Frame& frame);
    void execGeneric(const Node* node, Env& env, const Frame& frame);
    void execCall(const Node* node, Env& env, const Frame& frame);
    void execLoop(const Node* node, Env& env, const Frame& frame);
    bool execStructural(const Node* node, Env& env);
    void preserveBeforeWrite(const Node* node, const std::vector<IValue>& stack);

    bool isDynamic(const IValue& v) const;
    RecArg toArg(const IValue& v, const RtValue* rt);
    RecArg outputArg(const IValue& v, int32_t node);
    StaticTensorPtr staticTensor(const at::Tensor& t);
    [[noreturn]] void fail(const Node* node, const Frame& frame, const std::string& message);
    void located(const Node* node, const Frame& frame, Diagnostic d);

    RecordingImpl& rec_;
    RecordedGraph& g_;
    const std::atomic<bool>* cancel_;
    Diagnostics& diags_;
    std::unordered_map<const c10::TensorImpl*, ValueRef> dyn_;
    std::unordered_map<const c10::TensorImpl*, std::pair<at::Tensor, StaticTensorPtr>> statics_;
    std::unordered_map<const c10::TensorImpl*, std::string> stateTensors_; // module buffers -> "path.name"
    std::unordered_map<const Node*, torch::jit::Operation> opCache_;
    // Tensors held by recorded input stacks: (node, slot), for copy-on-write.
    std::unordered_map<const c10::TensorImpl*, std::vector<std::pair<int32_t, size_t>>> storedRefs_;
    std::set<std::string> warned_;
    size_t executed_ = 0;
};

void Recorder::located(const Node* node, const Frame& frame, Diagnostic d)
{
    RecNode tmp;
    if (node)
        sourceOf(node, tmp);
    d.loc = tmp.loc.known() ? tmp.loc : SourceLoc{g_.modelFile, 0, 0};
    if (d.origin.empty())
        d.origin = frame.path;
    if (!tmp.source.empty())
        d.message += " [" + tmp.source + "]";
    diags_.add(std::move(d));
}

void Recorder::fail(const Node* node, const Frame& frame, const std::string& message)
{
    located(node, frame, {Severity::Error, {}, node ? node->kind().toQualString() : "", frame.path, message});
    throw Abort{};
}

bool Recorder::isDynamic(const IValue& v) const
{
    if (v.isTensor()) {
        const auto& t = v.toTensor();
        return t.defined() && dyn_.count(t.unsafeGetTensorImpl());
    }
    if (v.isList()) {
        for (const IValue& e : v.toListRef())
            if (isDynamic(e))
                return true;
        return false;
    }
    if (v.isTuple()) {
        for (const IValue& e : v.toTupleRef().elements())
            if (isDynamic(e))
                return true;
    }
    return false;
}

StaticTensorPtr Recorder::staticTensor(const at::Tensor& t)
{
    auto it = statics_.find(t.unsafeGetTensorImpl());
    if (it != statics_.end())
        return it->second.second;
    auto st = std::make_shared<StaticTensor>();
    st->dtype = dtypeOf(t.scalar_type());
    st->shape = t.sizes().vec();
    ir::Tensor data(ir::ElemType::F32, st->shape);
    if (t.numel() > 0) {
        at::Tensor c = t.detach().to(at::kFloat).contiguous();
        std::memcpy(data.mutableBytes().data(), c.data_ptr<float>(), size_t(c.numel()) * sizeof(float));
    }
    st->data = std::make_shared<const ir::Tensor>(std::move(data));
    statics_.emplace(t.unsafeGetTensorImpl(), std::make_pair(t, st));
    return st;
}

RecArg Recorder::toArg(const IValue& v, const RtValue* rt)
{
    RecArg a;
    using K = RecArg::Kind;
    if (rt && rt->dynScalar) {
        a.kind = K::Dyn;
        a.dyn = rt->scalarRef;
        return a;
    }
    if (v.isNone()) {
        a.kind = K::None;
    } else if (v.isTensor()) {
        const at::Tensor& t = v.toTensor();
        auto it = t.defined() ? dyn_.find(t.unsafeGetTensorImpl()) : dyn_.end();
        if (it != dyn_.end()) {
            a.kind = K::Dyn;
            a.dyn = it->second;
        } else if (t.defined()) {
            a.kind = K::Tensor;
            a.tensor = staticTensor(t);
        }
    } else if (v.isBool()) {
        a.kind = K::Bool;
        a.b = v.toBool();
    } else if (v.isInt()) {
        a.kind = K::Int;
        a.i = v.toInt();
    } else if (v.isDouble()) {
        a.kind = K::Double;
        a.d = v.toDouble();
    } else if (v.isString()) {
        a.kind = K::String;
        a.s = v.toStringRef();
    } else if (v.isIntList()) {
        a.kind = K::IntList;
        a.ints = v.toIntVector();
    } else if (v.isBoolList()) {
        a.kind = K::IntList;
        for (bool b : v.toBoolList())
            a.ints.push_back(b);
    } else if (v.isDoubleList()) {
        a.kind = K::DoubleList;
        a.doubles = v.toDoubleVector();
    } else if (v.isList()) {
        a.kind = K::List;
        for (const IValue& e : v.toListRef())
            a.items.push_back(toArg(e, nullptr));
    } else if (v.isTuple()) {
        a.kind = K::List;
        for (const IValue& e : v.toTupleRef().elements())
            a.items.push_back(toArg(e, nullptr));
    } else if (v.isDevice()) {
        a.kind = K::String;
        a.s = v.toDevice().str();
    } else {
        a.kind = K::Other;
        a.s = v.tagKind();
    }
    return a;
}

RecArg Recorder::outputArg(const IValue& v, int32_t node)
{
    RecArg a;
    using K = RecArg::Kind;
    if (v.isTensor() && v.toTensor().defined()) {
        const at::Tensor& t = v.toTensor();
        a.kind = K::Dyn;
        a.dyn = ValueRef(g_.values.size());
        g_.values.push_back({node, t.sizes().vec(), dtypeOf(t.scalar_type()), false});
        rec_.tensors.push_back(t);
        dyn_[t.unsafeGetTensorImpl()] = a.dyn;
    } else if (v.isList() || v.isTuple()) {
        a.kind = K::List;
        if (v.isList())
            for (const IValue& e : v.toListRef())
                a.items.push_back(outputArg(e, node));
        else
            for (const IValue& e : v.toTupleRef().elements())
                a.items.push_back(outputArg(e, node));
    } else if (v.isInt() || v.isDouble() || v.isBool()) {
        a.kind = K::Dyn;
        a.dyn = ValueRef(g_.values.size());
        g_.values.push_back({node, {}, v.isDouble() ? DType::Float64 : v.isBool() ? DType::Bool : DType::Int64, true});
        rec_.tensors.emplace_back();
    } else {
        a = toArg(v, nullptr);
    }
    return a;
}

void Recorder::run(const torch::jit::Module& module, const at::Tensor& input)
{
    auto method = module.find_method("forward");
    torch::jit::Graph& graph = *torch::jit::toGraphFunction(method->function()).graph();
    const auto& schema = method->function().getSchema();

    g_.input = 0;
    g_.inputShape = input.sizes().vec();
    g_.values.push_back({-1, input.sizes().vec(), DType::Float32, false});
    rec_.tensors.push_back(input);
    dyn_[input.unsafeGetTensorImpl()] = 0;

    std::vector<RtValue> args;
    args.push_back({module._ivalue(), "", false, kNoRef});
    args.push_back({input, "", false, kNoRef});
    for (size_t i = 2; i < schema.arguments().size(); ++i) {
        const auto& arg = schema.arguments()[i];
        if (!arg.default_value())
            fail(nullptr, {}, "forward takes " + std::to_string(schema.arguments().size() - 1) +
                                  " inputs; STC imports models with a single tensor input (argument '" + arg.name() +
                                  "' has no default)");
        args.push_back({*arg.default_value(), "", false, kNoRef});
    }
    Frame root{"", cleanTypeName(module.type()->name()->qualifiedName()), 0};
    std::vector<RtValue> outs = callGraph(graph, std::move(args), root);
    g_.output = outs.empty() ? RecArg{} : toArg(outs[0].iv, &outs[0]);
}

std::vector<RtValue> Recorder::callGraph(torch::jit::Graph& graph, std::vector<RtValue> args, const Frame& frame)
{
    if (frame.depth > 200)
        fail(nullptr, frame, "call depth exceeds 200 (recursive methods are not supported)");
    Env env;
    auto inputs = graph.inputs();
    if (inputs.size() != args.size())
        fail(nullptr, frame, "internal: call with " + std::to_string(args.size()) + " arguments, graph expects " +
                                 std::to_string(inputs.size()));
    for (size_t i = 0; i < inputs.size(); ++i)
        env[inputs[i]] = std::move(args[i]);
    runBlock(graph.block(), env, frame);
    std::vector<RtValue> outs;
    for (const Value* v : graph.outputs())
        outs.push_back(env.at(v));
    return outs;
}

void Recorder::runBlock(const Block* block, Env& env, const Frame& frame)
{
    for (const Node* node : block->nodes())
        execNode(node, env, frame);
}

void Recorder::execNode(const Node* node, Env& env, const Frame& frame)
{
    if (cancel_ && (++executed_ & 255) == 0 && cancel_->load()) {
        diags_.add({Severity::Error, {g_.modelFile, 0, 0}, "", "", "import cancelled"});
        throw Abort{};
    }
    const auto kind = node->kind();
    if (kind == prim::Constant) {
        const Value* out = node->output();
        if (out->type()->kind() == c10::TypeKind::FunctionType)
            env[out] = {};
        else
            env[out] = {*torch::jit::toIValue(out)};
        return;
    }
    if (kind == prim::GetAttr) {
        const RtValue& obj = env.at(node->input(0));
        const std::string& name = node->s(c10::attr::name);
        auto object = obj.iv.toObject();
        RtValue out{object->getAttr(name)};
        const bool isModule = object->type()->is_module();
        if (isModule) {
            const std::string full = obj.path.empty() ? name : obj.path + "." + name;
            if (out.iv.isObject())
                out.path = full;
            else if (out.iv.isTensor() && out.iv.toTensor().defined())
                stateTensors_.emplace(out.iv.toTensor().unsafeGetTensorImpl(), full);
        }
        env[node->output()] = std::move(out);
        return;
    }
    if (kind == prim::SetAttr) {
        const RtValue& obj = env.at(node->input(0));
        const RtValue& val = env.at(node->input(1));
        const std::string& name = node->s(c10::attr::name);
        if (isDynamic(val.iv) || val.dynScalar) {
            const std::string key = (obj.path.empty() ? "" : obj.path + ".") + name;
            if (warned_.count(key) == 0 && obj.iv.toObject()->type()->is_module())
                g_.stateWrites.push_back(key);
            if (warned_.insert(key).second)
                located(node, frame,
                        {Severity::Warning, {}, "prim::SetAttr", obj.path,
                         "forward stores a value computed from the input in attribute '" + name +
                             "' (state kept across calls); the import assumes every inference starts from the "
                             "state saved in the file, i.e. a freshly reset network"});
        }
        obj.iv.toObject()->setAttr(name, val.iv);
        return;
    }
    if (kind == prim::CallMethod || kind == prim::CallFunction) {
        execCall(node, env, frame);
        return;
    }
    if (kind == prim::If) {
        const RtValue& cond = env.at(node->input(0));
        if (cond.dynScalar)
            located(node, frame,
                    {Severity::Error, {}, "prim::If", frame.path,
                     "control flow depends on input data; Spike IR has no data-dependent branches"});
        const Block* b = node->blocks()[cond.iv.toBool() ? 0 : 1];
        runBlock(b, env, frame);
        for (size_t i = 0; i < node->outputs().size(); ++i)
            env[node->outputs()[i]] = env.at(b->outputs()[i]);
        return;
    }
    if (kind == prim::Loop) {
        execLoop(node, env, frame);
        return;
    }
    if (kind == prim::Uninitialized) {
        env[node->output()] = {};
        return;
    }
    if (kind == prim::Enter || kind == prim::Exit) {
        if (node->outputs().size() == 1)
            env[node->output()] = {};
        return;
    }
    if (kind == prim::RaiseException)
        fail(node, frame, "the model raised an exception while running on the example input");
    if (kind == prim::Closure || kind == prim::fork || kind == prim::PythonOp)
        fail(node, frame, std::string(kind.toQualString()) + " is not supported");
    if (execStructural(node, env))
        return;
    execGeneric(node, env, frame);
}

// Lists, tuples and dicts: the JIT interpreter has instructions for these
// rather than operators. Tensors pass through unchanged, so dynamic tensors
// keep their identity.
bool Recorder::execStructural(const Node* node, Env& env)
{
    const auto kind = node->kind();
    auto in = [&](size_t i) -> const RtValue& { return env.at(node->input(i)); };
    auto taint = [&]() {
        for (const Value* v : node->inputs())
            if (env.at(v).dynScalar)
                return true;
        return false;
    };
    auto set = [&](size_t i, IValue v, bool dynScalar) {
        RtValue out{std::move(v)};
        out.dynScalar = dynScalar;
        env[node->outputs()[i]] = std::move(out);
    };
    if (kind == prim::ListConstruct) {
        const auto& listType = node->output()->type()->expectRef<c10::ListType>();
        c10::impl::GenericList list(listType.getElementType());
        for (const Value* v : node->inputs())
            list.push_back(env.at(v).iv);
        set(0, IValue(std::move(list)), taint());
        return true;
    }
    if (kind == prim::TupleConstruct) {
        std::vector<IValue> el;
        for (const Value* v : node->inputs())
            el.push_back(env.at(v).iv);
        auto tupleType = node->output()->type()->cast<c10::TupleType>();
        IValue t = tupleType && tupleType->schema() ? IValue(c10::ivalue::Tuple::createNamed(std::move(el), tupleType))
                                                    : IValue(c10::ivalue::Tuple::create(std::move(el)));
        set(0, std::move(t), taint());
        return true;
    }
    if (kind == prim::TupleUnpack || kind == prim::ListUnpack) {
        const RtValue& src = in(0);
        std::vector<IValue> el;
        if (src.iv.isTuple())
            el = src.iv.toTupleRef().elements().vec();
        else
            for (const IValue& e : src.iv.toListRef())
                el.push_back(e);
        if (el.size() != node->outputs().size())
            return false;
        for (size_t i = 0; i < el.size(); ++i)
            set(i, el[i], src.dynScalar);
        return true;
    }
    if (kind == prim::TupleIndex) {
        const auto& el = in(0).iv.toTupleRef().elements();
        int64_t i = in(1).iv.toInt();
        if (i < 0)
            i += int64_t(el.size());
        set(0, el.at(size_t(i)), in(0).dynScalar);
        return true;
    }
    if (kind == prim::TupleSlice) {
        const auto& el = in(0).iv.toTupleRef().elements();
        const int64_t b = node->i(c10::attr::beg), e = node->i(c10::attr::end);
        std::vector<IValue> out(el.begin() + b, el.begin() + e);
        set(0, IValue(c10::ivalue::Tuple::create(std::move(out))), in(0).dynScalar);
        return true;
    }
    if (kind == prim::DictConstruct) {
        const auto& dictType = node->output()->type()->expectRef<c10::DictType>();
        c10::impl::GenericDict dict(dictType.getKeyType(), dictType.getValueType());
        for (size_t i = 0; i + 1 < node->inputs().size(); i += 2)
            dict.insert(in(i).iv, in(i + 1).iv);
        set(0, IValue(std::move(dict)), taint());
        return true;
    }
    if (kind == prim::unchecked_cast) {
        env[node->output()] = in(0);
        return true;
    }
    if (kind == prim::isinstance) {
        bool ok = false;
        const auto type = in(0).iv.type();
        for (const auto& t : node->tys(c10::attr::types))
            ok = ok || type->isSubtypeOf(*t);
        set(0, IValue(ok), false);
        return true;
    }
    return false;
}

void Recorder::execCall(const Node* node, Env& env, const Frame& frame)
{
    std::vector<RtValue> args;
    torch::jit::Function* fn = nullptr;
    Frame inner = frame;
    inner.depth++;
    if (node->kind() == prim::CallMethod) {
        const RtValue& self = env.at(node->input(0));
        auto object = self.iv.toObject();
        fn = &object->type()->getMethod(node->s(c10::attr::name));
        inner.path = self.path;
        inner.typeName = cleanTypeName(object->type()->name()->qualifiedName());
        for (const Value* in : node->inputs())
            args.push_back(env.at(in));
    } else {
        fn = node->input(0)->type()->expectRef<c10::FunctionType>().function();
        for (size_t i = 1; i < node->inputs().size(); ++i)
            args.push_back(env.at(node->input(i)));
    }
    auto& graph = *torch::jit::toGraphFunction(*fn).graph();
    std::vector<RtValue> outs = callGraph(graph, std::move(args), inner);
    for (size_t i = 0; i < node->outputs().size(); ++i)
        env[node->outputs()[i]] = std::move(outs[i]);
}

void Recorder::execLoop(const Node* node, Env& env, const Frame& frame)
{
    const RtValue& trip = env.at(node->input(0));
    const RtValue& cond0 = env.at(node->input(1));
    if (trip.dynScalar || cond0.dynScalar)
        located(node, frame,
                {Severity::Error, {}, "prim::Loop", frame.path,
                 "the number of loop iterations depends on input data; Spike IR needs a fixed trip count"});
    const int64_t maxTrip = trip.iv.toInt();
    bool cond = cond0.iv.toBool();
    const Block* body = node->blocks()[0];
    const size_t carried = node->inputs().size() - 2;
    std::vector<RtValue> state;
    for (size_t i = 0; i < carried; ++i)
        state.push_back(env.at(node->input(i + 2)));
    bool reported = false;
    for (int64_t it = 0; it < maxTrip && cond; ++it) {
        env[body->inputs()[0]] = {IValue(it)};
        for (size_t i = 0; i < carried; ++i)
            env[body->inputs()[i + 1]] = state[i];
        runBlock(body, env, frame);
        const RtValue& c = env.at(body->outputs()[0]);
        if (c.dynScalar && !reported) {
            reported = true;
            located(node, frame,
                    {Severity::Error, {}, "prim::Loop", frame.path,
                     "the loop condition depends on input data; Spike IR needs a fixed trip count"});
        }
        cond = c.iv.toBool();
        for (size_t i = 0; i < carried; ++i)
            state[i] = env.at(body->outputs()[i + 1]);
    }
    for (size_t i = 0; i < carried; ++i)
        env[node->outputs()[i]] = state[i];
}

void Recorder::execGeneric(const Node* node, Env& env, const Frame& frame)
{
    const std::string kind = node->kind().toQualString();
    std::vector<const RtValue*> ins;
    bool dynamic = false, taint = false;
    for (const Value* v : node->inputs()) {
        const RtValue& rt = env.at(v);
        ins.push_back(&rt);
        if (rt.dynScalar)
            (rt.scalarRef == kNoRef ? taint : dynamic) = true;
        else if (isDynamic(rt.iv))
            dynamic = true;
    }
    // aten::slice / __getitem__ are container ops on lists but tensor ops on tensors.
    const bool tensorOverload =
        (kind == "aten::slice" || kind == "aten::__getitem__") && !ins.empty() && ins[0]->iv.isTensor();
    const bool container = containerOps().count(kind) && !tensorOverload;
    const bool record = dynamic && !container && !shapeOnlyOps().count(kind);

    auto opIt = opCache_.find(node);
    if (opIt == opCache_.end()) {
        try {
            opIt = opCache_.emplace(node, node->getOperation()).first;
        } catch (const std::exception& e) {
            fail(node, frame, "no LibTorch implementation for " + kind + ": " + firstLine(e.what()));
        }
    }

    RecNode rn;
    std::vector<IValue> stack;
    stack.reserve(ins.size());
    for (const RtValue* rt : ins)
        stack.push_back(rt->iv);
    if (record) {
        rn.kind = kind;
        if (const auto* schema = node->maybeSchema()) {
            rn.schema = schema->overload_name();
            rn.mutates = schema->is_mutable();
            if (rn.mutates) {
                for (size_t i = 0; i < schema->arguments().size() && i < stack.size(); ++i) {
                    const auto* alias = schema->arguments()[i].alias_info();
                    if (!alias || !alias->isWrite() || !stack[i].isTensor())
                        continue;
                    auto st = stateTensors_.find(stack[i].toTensor().unsafeGetTensorImpl());
                    if (st != stateTensors_.end() && warned_.count(st->second) == 0)
                        g_.stateWrites.push_back(st->second);
                    if (st != stateTensors_.end() && warned_.insert(st->second).second)
                        located(node, frame,
                                {Severity::Warning, {}, kind, frame.path,
                                 "writes a value computed from the input into module state '" + st->second +
                                     "' (e.g. a membrane kept across calls); the import assumes every inference "
                                     "starts from the state saved in the file, i.e. a freshly reset network"});
                }
            }
        }
        rn.modulePath = frame.path;
        rn.moduleType = frame.typeName;
        sourceOf(node, rn);
        for (size_t i = 0; i < ins.size(); ++i)
            rn.inputs.push_back(toArg(ins[i]->iv, ins[i]));
    }
    std::vector<IValue> saved;
    if (record) {
        saved = stack;
        if (rn.mutates) // replay must not see the write of this very execution
            for (auto& s : saved)
                if (s.isTensor() && s.toTensor().defined())
                    s = s.toTensor().clone();
    }
    if (rn.mutates || (!record && kind.back() == '_'))
        preserveBeforeWrite(node, stack);
    try {
        opIt->second(stack);
    } catch (const std::exception& e) {
        fail(node, frame, "LibTorch failed executing " + kind + ": " + firstLine(e.what()));
    }
    if (stack.size() != node->outputs().size())
        fail(node, frame, "internal: " + kind + " produced " + std::to_string(stack.size()) + " outputs");

    if (!record) {
        for (size_t i = 0; i < stack.size(); ++i) {
            RtValue out{std::move(stack[i])};
            // Containers compare identities (`mem is None`), never tensor values;
            // only numbers already derived from input data taint their results.
            out.dynScalar = taint;
            env[node->outputs()[i]] = std::move(out);
        }
        return;
    }
    const auto index = int32_t(g_.nodes.size());
    for (size_t i = 0; i < stack.size(); ++i) {
        RecArg a = outputArg(stack[i], index);
        RtValue out{stack[i]};
        if (a.kind == RecArg::Kind::Dyn && g_.values[size_t(a.dyn)].scalar) {
            out.dynScalar = true;
            out.scalarRef = a.dyn;
        }
        rn.outputs.push_back(std::move(a));
        env[node->outputs()[i]] = std::move(out);
    }
    for (size_t i = 0; i < saved.size(); ++i)
        if (saved[i].isTensor() && saved[i].toTensor().defined())
            storedRefs_[saved[i].toTensor().unsafeGetTensorImpl()].push_back({index, i});
    g_.nodes.push_back(std::move(rn));
    rec_.ops.push_back(opIt->second);
    rec_.stacks.push_back(std::move(saved));
}

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
        const at::Tensor& t = stack[i].toTensor();
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
}

// Rebuilds `iv` with dynamic entries substituted, following the recorded arg.
IValue substitute(const IValue& iv, const RecArg& arg, int32_t node, int32_t& ordinal,
                  const std::unordered_map<ValueRef, at::Tensor>& values,
                  const std::map<std::pair<int32_t, int32_t>, const Feed*>& feeds,
                  const std::vector<RecValue>& meta)
{
    if (arg.kind == RecArg::Kind::Dyn) {
        const int32_t ord = ordinal++;
        if (!iv.isTensor())
            return iv;
        auto f = feeds.find({node, ord});
        if (f != feeds.end()) {
            const auto& shape = meta[size_t(arg.dyn)].shape;
            auto t = torch::from_blob(const_cast<float*>(f->second->data.data()), shape, at::kFloat).clone();
            return t.to(iv.toTensor().scalar_type());
        }
        auto it = values.find(arg.dyn);
        return it != values.end() ? IValue(it->second) : iv;
    }
    if (arg.kind != RecArg::Kind::List || !arg.hasDyn())
        return iv;
    if (iv.isTensorList()) {
        c10::List<at::Tensor> out;
        auto in = iv.toTensorList();
        for (size_t i = 0; i < in.size(); ++i)
            out.push_back(substitute(in.get(i), arg.items[i], node, ordinal, values, feeds, meta).toTensor());
        return out;
    }
    if (iv.isTuple()) {
        std::vector<IValue> out;
        const auto& el = iv.toTupleRef().elements();
        for (size_t i = 0; i < el.size(); ++i)
            out.push_back(substitute(el[i], arg.items[i], node, ordinal, values, feeds, meta));
        return c10::ivalue::Tuple::create(std::move(out));
    }
    if (iv.isList()) {
        auto in = iv.toList();
        c10::impl::GenericList out(in.elementType());
        for (size_t i = 0; i < in.size(); ++i)
            out.push_back(substitute(in.get(i), arg.items[i], node, ordinal, values, feeds, meta));
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

bool RecordingImpl::replay(const std::vector<int32_t>& nodes, const std::vector<Feed>& feeds,
                           const std::vector<ValueRef>& want, std::vector<std::vector<float>>& out,
                           std::string* error)
{
    ThreadScope oneThread(1);
    std::unordered_map<ValueRef, at::Tensor> values;
    std::map<std::pair<int32_t, int32_t>, const Feed*> feedMap;
    for (const Feed& f : feeds)
        feedMap[{f.node, f.ordinal}] = &f;
    try {
        for (int32_t n : nodes) {
            const RecNode& rn = graph.nodes[size_t(n)];
            std::vector<IValue> stack = stacks[size_t(n)];
            int32_t ordinal = 0;
            for (size_t i = 0; i < stack.size() && i < rn.inputs.size(); ++i)
                stack[i] = substitute(stack[i], rn.inputs[i], n, ordinal, values, feedMap, graph.values);
            if (rn.mutates)
                for (auto& s : stack)
                    if (s.isTensor() && s.toTensor().defined())
                        s = s.toTensor().clone();
            ops[size_t(n)](stack);
            for (size_t i = 0; i < stack.size() && i < rn.outputs.size(); ++i)
                collectOutputs(stack[i], rn.outputs[i], values);
        }
        out.clear();
        for (ValueRef w : want) {
            auto it = values.find(w);
            out.push_back(it != values.end() ? toFloats(it->second) : recorded(w));
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

std::unique_ptr<Recording> recordForward(const torch::jit::Module& module, const std::string& file,
                                         const at::Tensor& input, const std::atomic<bool>* cancel,
                                         Diagnostics& diags)
{
    auto rec = std::make_unique<RecordingImpl>();
    rec->module = module;
    rec->graph.modelFile = file;
    Recorder recorder(*rec, cancel, diags);
    try {
        torch::NoGradGuard noGrad;
        recorder.run(module, input);
    } catch (const Abort&) {
        return nullptr;
    } catch (const std::exception& e) {
        diags.add({Severity::Error, {file, 0, 0}, "", "", std::string("executing the model failed: ") + firstLine(e.what())});
        return nullptr;
    }
    return rec;
}

} // namespace stc::torchscript::detail

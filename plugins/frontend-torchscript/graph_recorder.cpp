// The tracing interpreter: walks TorchScript graphs node by node, executes
// every node for real through LibTorch and records the nodes that depend on
// the model input. Dynamic tensors are identified by their TensorImpl, so they
// are tracked through lists, tuples, module attributes and in-place writes
// without modelling any of those.
#include "recorder_internal.h"

#include "neuron_recognizer.h"

#include <torch/csrc/jit/api/function_impl.h>


namespace stc::torchscript::detail {

namespace prim = c10::prim;

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

RecArg Recorder::outputArg(const IValue& v, int32_t node, bool keep)
{
    RecArg a;
    using K = RecArg::Kind;
    if (v.isTensor() && v.toTensor().defined()) {
        const at::Tensor& t = v.toTensor();
        a.kind = K::Dyn;
        a.dyn = ValueRef(g_.values.size());
        g_.values.push_back({node, t.sizes().vec(), dtypeOf(t.scalar_type()), false});
        rec_.tensors.push_back(keep ? t : at::Tensor());
        addresses_.emplace_back(t.getIntrusivePtr());
        dyn_[t.unsafeGetTensorImpl()] = a.dyn;
    } else if (v.isList() || v.isTuple()) {
        a.kind = K::List;
        if (v.isList())
            for (const IValue& e : v.toListRef())
                a.items.push_back(outputArg(e, node, keep));
        else
            for (const IValue& e : v.toTupleRef().elements())
                a.items.push_back(outputArg(e, node, keep));
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

// What a recorded node's stack keeps of input `v` (argument `arg`) for
// replays: a dynamic tensor becomes an empty placeholder of its dtype (a
// replay takes the recorded value it refers to), a tensor used only for its
// dtype/shape (or overwritten) a data-less one of the same shape, a static
// tensor is kept (cloned for a node that writes in place, so that a replay
// does not see the write of this very execution). `original` says whether
// the result is `v` itself.
IValue Recorder::storedInput(const IValue& v, const RecArg& arg, bool mutates, bool& original)
{
    original = false;
    using K = RecArg::Kind;
    if (v.isTensor() && v.toTensor().defined()) {
        const at::Tensor& t = v.toTensor();
        if (arg.kind == K::Dyn && arg.dyn != kNoRef)
            return at::empty({0}, t.options());
        if (arg.kind == K::Other)
            return at::empty({}, t.options()).expand(t.sizes());
        if (mutates)
            return t.clone();
        original = true;
        return v;
    }
    if (arg.kind == K::List && arg.hasDyn()) {
        bool unused = false;
        if (v.isTensorList()) {
            c10::List<at::Tensor> out;
            auto in = v.toTensorList();
            for (size_t i = 0; i < in.size() && i < arg.items.size(); ++i)
                out.push_back(storedInput(in.get(i), arg.items[i], mutates, unused).toTensor());
            if (out.size() == in.size())
                return out;
        } else if (v.isTuple()) {
            const auto& el = v.toTupleRef().elements();
            std::vector<IValue> out;
            for (size_t i = 0; i < el.size() && i < arg.items.size(); ++i)
                out.push_back(storedInput(el[i], arg.items[i], mutates, unused));
            if (out.size() == el.size())
                return c10::ivalue::Tuple::create(std::move(out));
        } else if (v.isList()) {
            auto in = v.toList();
            c10::impl::GenericList out(in.elementType());
            for (size_t i = 0; i < in.size() && i < arg.items.size(); ++i)
                out.push_back(storedInput(in.get(i), arg.items[i], mutates, unused));
            if (out.size() == in.size())
                return out;
        }
    }
    original = true;
    return v;
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
    addresses_.emplace_back(input.getIntrusivePtr());
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
    for (const Value* v : node->inputs())
        ins.push_back(&env.at(v));
    // Arguments whose values are not used: `(v >= th).to(x_seq)` uses x_seq's
    // dtype only; `dst.copy_(src)` overwrites dst (when src is dynamic, dst's
    // old contents are no data dependence; a static src keeps dst recorded).
    auto ignored = [&](size_t i) {
        return metadataOnlyArg(kind, i) ||
               (kind == "aten::copy_" && i == 0 && ins.size() > 1 && isDynamic(ins[1]->iv));
    };
    bool dynamic = false, taint = false;
    for (size_t i = 0; i < ins.size(); ++i) {
        const RtValue& rt = *ins[i];
        if (ignored(i))
            continue;
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
        for (size_t i = 0; i < ins.size(); ++i) {
            if (ignored(i) && ins[i]->iv.isTensor()) {
                RecArg meta;
                meta.kind = RecArg::Kind::Other;
                meta.s = i == 0 ? "Tensor (overwritten)" : "Tensor (dtype/shape only)";
                rn.inputs.push_back(std::move(meta));
            } else {
                rn.inputs.push_back(toArg(ins[i]->iv, ins[i]));
            }
        }
    }
    std::vector<IValue> saved;
    std::vector<size_t> savedOriginals; // slots holding the very tensors executed on
    if (record) {
        saved.reserve(stack.size());
        for (size_t i = 0; i < stack.size(); ++i) {
            bool original = false;
            saved.push_back(i < rn.inputs.size() ? storedInput(stack[i], rn.inputs[i], rn.mutates, original)
                                                 : stack[i]);
            if (original && saved.back().isTensor() && saved.back().toTensor().defined())
                savedOriginals.push_back(i);
        }
    }
    // Writes into a view (`spike_seq[t] = spike`) change the viewed tensor too.
    std::vector<PendingScatter> scatters;
    if (record && rn.mutates)
        scatters = viewWritesOf(node, stack);
    if (rn.mutates || (!record && kind.back() == '_'))
        preserveBeforeWrite(node, stack);
    const IValue viewSource = tensorOverload || kind == "aten::select" ? stack[0] : IValue();
    try {
        if (!runSplitConvolution(kind, opIt->second, stack))
            opIt->second(stack);
    } catch (const std::exception& e) {
        fail(node, frame, "LibTorch failed executing " + kind + ": " + firstLine(e.what()));
    }
    if (stack.size() != node->outputs().size())
        fail(node, frame, "internal: " + kind + " produced " + std::to_string(stack.size()) + " outputs");
    if (viewSource.isTensor() && !taint)
        noteView(kind, viewSource.toTensor(), ins, stack);

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
    // Values of elementwise ops are recomputed on demand (RecordingImpl).
    const bool keep = !isElementwiseKind(kind);
    for (size_t i = 0; i < stack.size(); ++i) {
        RecArg a = outputArg(stack[i], index, keep);
        RtValue out{stack[i]};
        if (a.kind == RecArg::Kind::Dyn && g_.values[size_t(a.dyn)].scalar) {
            out.dynScalar = true;
            out.scalarRef = a.dyn;
        }
        rn.outputs.push_back(std::move(a));
        env[node->outputs()[i]] = std::move(out);
    }
    for (size_t i : savedOriginals)
        storedRefs_[saved[i].toTensor().unsafeGetTensorImpl()].push_back({index, i});
    g_.nodes.push_back(std::move(rn));
    rec_.ops.push_back(opIt->second);
    rec_.stacks.push_back(std::move(saved));
    for (PendingScatter& p : scatters)
        recordScatter(p, g_.nodes.back().modulePath, g_.nodes.back().moduleType, index);
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

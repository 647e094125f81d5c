#include "interp/interpreter.h"

#include "interp/plan.h"
#include "ir/verifier.h"

#include <cstring>
#include <exception>
#include <new>

namespace stc::interp {

using namespace detail;
using ir::OpKind;

namespace {

class Runner {
public:
    Runner(const ir::Module& m, const std::vector<InputBatch>& inputs, const RunOptions& opt, Plan& plan,
           RunResult& res)
        : m_(m), inputs_(inputs), opt_(opt), plan_(plan), res_(res), pool_(opt.threads)
    {
        // Reuse the calling thread's scratch buffers of earlier runs (unless a run is
        // nested in an observer of another run on this thread).
        if (!cacheBusy_) {
            scratch_.swap(cachedScratch_);
            cacheBusy_ = ownsCache_ = true;
        }
        scratch_.resize(size_t(pool_.size()));
        ex_.pool = &pool_;
        ex_.scratch = &scratch_;
    }

    ~Runner()
    {
        if (ownsCache_) {
            scratch_.resize(1); // keep the calling thread's buffers only
            cachedScratch_.swap(scratch_);
            cacheBusy_ = false;
        }
    }
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    void run();

private:
    static thread_local std::vector<Scratch> cachedScratch_;
    static thread_local bool cacheBusy_;
    bool ownsCache_ = false;

    In in(ir::ValueId v) const
    {
        const ValueInfo& vi = plan_.values[size_t(v)];
        return {ptr_[size_t(v)], vi.batched ? vi.elements : 0};
    }
    Out out(ir::ValueId v) const
    {
        const ValueInfo& vi = plan_.values[size_t(v)];
        return {ptr_[size_t(v)], vi.batched ? vi.elements : 0};
    }
    int64_t samples(ir::ValueId v) const { return plan_.values[size_t(v)].batched ? plan_.batch : 1; }
    const ir::Op& irOp(const PlannedOp& p) const { return m_.ops()[size_t(p.op)]; }
    ir::ValueId operand(const PlannedOp& p, size_t k) const { return irOp(p).operands[k]; }
    In optionalIn(const PlannedOp& p, size_t k) const
    {
        return k < irOp(p).operands.size() ? in(operand(p, k)) : In{};
    }

    void bindStorage();
    void setupOutputsAndStats();
    bool cancelled() const { return opt_.cancel && opt_.cancel->load(std::memory_order_relaxed); }
    void exec(PlannedOp& p, int t);
    void pushDelays(int t);
    void finished(const PlannedOp& p, int t);

    const ir::Module& m_;
    const std::vector<InputBatch>& inputs_;
    const RunOptions& opt_;
    Plan& plan_;
    RunResult& res_;
    ThreadPool pool_;
    std::vector<Scratch> scratch_;
    Exec ex_;
    std::vector<std::vector<float>> slots_;
    std::vector<float*> ptr_;
    std::vector<std::vector<size_t>> outputsOf_; // value -> indices into res_.outputs
    std::vector<float> observeTmp_;
};

thread_local std::vector<Scratch> Runner::cachedScratch_;
thread_local bool Runner::cacheBusy_ = false;

void Runner::bindStorage()
{
    slots_.resize(plan_.slotSizes.size());
    for (size_t s = 0; s < slots_.size(); ++s)
        slots_[s].assign(size_t(plan_.slotSizes[s]), 0.0f);
    ptr_.assign(plan_.values.size(), nullptr);
    // Values are visited in definition order, so an alias's root is bound first.
    for (const ir::Op& op : m_.ops()) {
        if (op.result < 0)
            continue;
        const ValueInfo& vi = plan_.values[size_t(op.result)];
        float*& p = ptr_[size_t(op.result)];
        switch (vi.storage) {
        case Storage::Slot: p = slots_[size_t(vi.slot)].data(); break;
        // Inputs and constants are only ever read: no kernel writes to a value it did not compute.
        case Storage::Input: p = const_cast<float*>(inputs_[size_t(vi.index)].data.data()); break;
        case Storage::Const: p = const_cast<float*>(op.constant->as<float>().data()); break;
        case Storage::Converted: p = plan_.converted[size_t(vi.index)].data(); break;
        case Storage::Alias: p = ptr_[size_t(vi.root)]; break;
        case Storage::None: break;
        }
    }
}

void Runner::setupOutputsAndStats()
{
    const std::vector<ir::ValueId> outs = m_.outputs();
    outputsOf_.assign(plan_.values.size(), {});
    res_.outputs.resize(outs.size());
    res_.outputShapes.resize(outs.size());
    for (size_t i = 0; i < outs.size(); ++i) {
        const ir::Type& t = m_.typeOf(outs[i]);
        ir::Shape shape{plan_.batch};
        if (t.perStep())
            shape.push_back(m_.timesteps);
        shape.insert(shape.end(), t.shape.begin(), t.shape.end());
        res_.outputs[i].assign(size_t(ir::numElements(shape)), 0.0f);
        res_.outputShapes[i] = std::move(shape);
        outputsOf_[size_t(outs[i])].push_back(i);
    }
    for (size_t idx : plan_.delayOps) {
        PlannedOp& p = plan_.loop[idx];
        auto& st = std::get<DelayState>(p.state);
        st.ring.assign(size_t(st.steps * samples(p.result) * plan_.values[size_t(p.result)].elements), 0.0f);
    }
    for (size_t idx : plan_.lifOps) {
        PlannedOp& p = plan_.loop[idx];
        auto& st = std::get<LifState>(p.state);
        const ValueInfo& vi = plan_.values[size_t(p.result)];
        st.v.assign(size_t(samples(p.result) * vi.elements), st.params.initial);
        st.statsIndex = res_.lif.size();
        LifStats s;
        s.value = p.result;
        s.name = m_.value(p.result).name;
        s.origin = irOp(p).origin;
        s.neuronsPerSample = vi.elements;
        s.spikesPerStep.assign(size_t(m_.timesteps), 0);
        if (opt_.perNeuronCounts)
            s.perNeuron.assign(size_t(vi.elements), 0);
        res_.lif.push_back(std::move(s));
    }
}

void Runner::exec(PlannedOp& p, int t)
{
    const ir::Op& op = irOp(p);
    if (p.alias || op.kind == OpKind::Input || op.kind == OpKind::Const)
        return;
    const ir::ValueId r = p.result;
    const int64_t nb = samples(r);
    const int64_t n = plan_.values[size_t(r)].elements;
    switch (op.kind) {
    case OpKind::Encode: runRateEncode(p.seed, t, in(operand(p, 0)), out(r), nb, n, ex_); break;
    case OpKind::Conv1d:
    case OpKind::Conv2d:
        runConv(std::get<ConvState>(p.state), in(operand(p, 0)), in(operand(p, 1)), optionalIn(p, 2), out(r), nb,
                ex_);
        break;
    case OpKind::Linear:
        runLinear(std::get<LinearState>(p.state), in(operand(p, 0)), in(operand(p, 1)), optionalIn(p, 2), out(r), nb,
                  ex_);
        break;
    case OpKind::BatchNorm:
        runBatchNorm(std::get<BatchNormState>(p.state), in(operand(p, 0)), in(operand(p, 1)).p,
                     in(operand(p, 2)).p, in(operand(p, 3)).p, in(operand(p, 4)).p, out(r), nb, ex_);
        break;
    case OpKind::Lif: {
        auto& st = std::get<LifState>(p.state);
        LifStats& stats = res_.lif[st.statsIndex];
        int64_t spikes = 0;
        const int64_t weight = plan_.values[size_t(r)].batched ? 1 : plan_.batch;
        runLif(st.params, in(operand(p, 0)), st.v.data(), out(r), nb, n, weight,
               stats.perNeuron.empty() ? nullptr : stats.perNeuron.data(), spikes, ex_);
        stats.spikesPerStep[size_t(t)] += spikes;
        stats.total += spikes;
        break;
    }
    case OpKind::Add:
        runAdd(std::get<BinaryState>(p.state), in(operand(p, 0)), in(operand(p, 1)), out(r), nb, ex_);
        break;
    case OpKind::Mul:
        runMul(std::get<BinaryState>(p.state), in(operand(p, 0)), in(operand(p, 1)), out(r), nb, ex_);
        break;
    case OpKind::Scale: runScale(p.factor, in(operand(p, 0)), out(r), nb, n, ex_); break;
    case OpKind::MatMul:
        runMatMul(std::get<MatMulState>(p.state), in(operand(p, 0)), in(operand(p, 1)), out(r), nb, ex_);
        break;
    case OpKind::MaxPool2d: runMaxPool(std::get<PoolState>(p.state), in(operand(p, 0)), out(r), nb, ex_); break;
    case OpKind::AvgPool2d: runAvgPool(std::get<PoolState>(p.state), in(operand(p, 0)), out(r), nb, ex_); break;
    case OpKind::Permute: runPermute(std::get<PermuteState>(p.state), in(operand(p, 0)), out(r), nb, ex_); break;
    case OpKind::Mean:
    case OpKind::Sum:
        if (p.timeMean) {
            auto& st = std::get<TimeMeanState>(p.state);
            if (st.reduce.identity) {
                accumulate(in(operand(p, 0)), out(r), nb, n, ex_);
            } else {
                float* tmp = grow(st.tmp, nb * n);
                runReduce(st.reduce, in(operand(p, 0)), Out{tmp, n}, nb, ex_);
                accumulate(In{tmp, n}, out(r), nb, n, ex_);
            }
        } else {
            runReduce(std::get<ReduceState>(p.state), in(operand(p, 0)), out(r), nb, ex_);
        }
        break;
    case OpKind::Delay: {
        auto& st = std::get<DelayState>(p.state);
        const size_t size = size_t(nb * n);
        std::memcpy(out(r).p, st.ring.data() + size_t(t % st.steps) * size, sizeof(float) * size);
        break;
    }
    case OpKind::Custom: {
        auto& st = std::get<CustomState>(p.state);
        for (size_t k = 0; k < st.inputs.size(); ++k) {
            const In x = in(operand(p, k));
            st.inputs[k] = {x.p, x.bstride};
        }
        st.kernel->step(t, nb, st.inputs, out(r).p);
        break;
    }
    default: break;
    }
}

// After step t: each delay's ring takes its operand's value of this step,
// which the delay outputs at step t + steps (the slot it read at step t).
void Runner::pushDelays(int t)
{
    for (size_t idx : plan_.delayOps) {
        PlannedOp& p = plan_.loop[idx];
        auto& st = std::get<DelayState>(p.state);
        const int64_t nb = samples(p.result), n = plan_.values[size_t(p.result)].elements;
        copyValue(in(operand(p, 0)), Out{st.ring.data() + size_t(t % st.steps) * size_t(nb * n), n}, nb, n);
    }
}

// After a value is available: feed the observer and copy module outputs.
void Runner::finished(const PlannedOp& p, int t)
{
    const ir::ValueId v = p.result;
    const ValueInfo& vi = plan_.values[size_t(v)];
    const int64_t n = vi.elements, batch = plan_.batch;
    const auto& outs = outputsOf_[size_t(v)];
    if (!outs.empty()) {
        const bool perStep = m_.typeOf(v).perStep();
        const int64_t steps = perStep ? m_.timesteps : 1, step = perStep ? t : 0;
        for (size_t o : outs) {
            float* dst = res_.outputs[o].data();
            for (int64_t b = 0; b < batch; ++b)
                std::memcpy(dst + (b * steps + step) * n, in(v).at(b), sizeof(float) * size_t(n));
        }
    }
    if (opt_.observe && p.kind != OpKind::Const) {
        const float* data = ptr_[size_t(v)];
        if (!vi.batched && batch > 1) {
            observeTmp_.resize(size_t(batch * n));
            copyValue(In{data, 0}, Out{observeTmp_.data(), n}, batch, n);
            data = observeTmp_.data();
        }
        opt_.observe(t, v, std::span<const float>(data, size_t(batch * n)));
    }
}

void Runner::run()
{
    bindStorage();
    setupOutputsAndStats();
    for (PlannedOp& p : plan_.pre) {
        if (cancelled()) {
            res_.cancelled = true;
            return;
        }
        exec(p, -1);
        finished(p, -1);
    }
    for (size_t idx : plan_.timeMeans) {
        const ir::ValueId r = plan_.loop[idx].result;
        std::fill_n(ptr_[size_t(r)], size_t(samples(r) * plan_.values[size_t(r)].elements), 0.0f);
    }
    for (int t = 0; t < int(m_.timesteps); ++t) {
        for (PlannedOp& p : plan_.loop) {
            if (cancelled()) {
                res_.cancelled = true;
                return;
            }
            exec(p, t);
            if (!p.timeMean)
                finished(p, t);
        }
        pushDelays(t);
    }
    for (size_t idx : plan_.timeMeans) {
        const PlannedOp& p = plan_.loop[idx];
        divideBy(out(p.result), static_cast<float>(m_.timesteps), samples(p.result),
                 plan_.values[size_t(p.result)].elements, ex_);
        finished(p, -1);
    }
    for (PlannedOp& p : plan_.post) {
        if (cancelled()) {
            res_.cancelled = true;
            return;
        }
        exec(p, -1);
        finished(p, -1);
    }
}

std::string checkInputs(const ir::Module& m, const std::vector<InputBatch>& inputs, int64_t& batch)
{
    const std::vector<ir::ValueId> ins = m.inputs();
    if (inputs.size() != ins.size())
        return "module has " + std::to_string(ins.size()) + " input(s), got " + std::to_string(inputs.size());
    batch = inputs.empty() ? 1 : inputs[0].batch;
    if (batch < 1)
        return "batch size must be >= 1, got " + std::to_string(batch);
    for (size_t i = 0; i < ins.size(); ++i) {
        const ir::Type& t = m.typeOf(ins[i]);
        const std::string what = "input " + std::to_string(i) + " (%" + m.value(ins[i]).name + ", " +
                                 ir::toString(t) + ")";
        if (inputs[i].batch != batch)
            return what + ": batch " + std::to_string(inputs[i].batch) + " differs from input 0's batch " +
                   std::to_string(batch);
        const int64_t want = batch * t.numElements();
        if (int64_t(inputs[i].data.size()) != want)
            return what + ": expected " + std::to_string(batch) + " x " + std::to_string(t.numElements()) + " = " +
                   std::to_string(want) + " floats, got " + std::to_string(inputs[i].data.size());
    }
    return {};
}

} // namespace

RunResult run(const ir::Module& module, const std::vector<InputBatch>& inputs, const RunOptions& options)
{
    RunResult res;
    try {
        // The IR's own verifier first (every problem located at its op), then the
        // interpreter's additional requirements in buildPlan.
        if (const Diagnostics d = ir::verify(module); d.hasErrors()) {
            res.error = "module does not verify: ";
            size_t shown = 0;
            for (const Diagnostic& item : d.items()) {
                if (item.severity != Severity::Error)
                    continue;
                if (shown++ == 3) {
                    res.error += "\n(" + std::to_string(d.errorCount() - 3) + " more errors)";
                    break;
                }
                res.error += (shown > 1 ? "\n" : "") + item.format();
            }
            return res;
        }
        // A quantized module's weights are integer mantissas whose scales live
        // in q.* annotations: read as floats they compute nonsense (8 % on the
        // bundled Spikformer). Its semantics are the fixed-point executor's.
        if (module.attrs.getBool("quantized")) {
            res.error = "the module is quantized (integer weights with q.* scales): the f32 interpreter cannot run "
                        "it; run it with the fixed-point reference executor (stc ir run --fixed-point), or run the "
                        "model before quantize";
            return res;
        }
        int64_t batch = 1;
        if (auto e = checkInputs(module, inputs, batch); !e.empty()) {
            res.error = e;
            return res;
        }
        Plan plan;
        if (auto e = buildPlan(module, batch, plan); !e.empty()) {
            res.error = e;
            return res;
        }
        Runner runner(module, inputs, options, plan, res);
        runner.run();
        if (res.cancelled) {
            res.outputs.clear();
            res.outputShapes.clear();
        }
    } catch (const std::bad_alloc&) {
        res = RunResult{};
        res.error = "out of memory (try a smaller batch)";
    } catch (const std::exception& e) {
        res = RunResult{};
        res.error = std::string("internal error: ") + e.what();
    }
    return res;
}

} // namespace stc::interp

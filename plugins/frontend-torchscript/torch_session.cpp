// Loading TorchScript archives (with clear errors for files that are not
// TorchScript) and running LibTorch's own forward as the reference.
#include "torch_internal.h"
#include "isolated_probe.h"

#include <ATen/Parallel.h>
#include <c10/core/CPUAllocator.h>
#include <caffe2/serialize/inline_container.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <malloc.h>
#include <unordered_set>

namespace stc::torchscript {

namespace {

std::string firstLine(const std::string& s)
{
    auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

const char* kExpected = "expected a TorchScript archive saved by torch.jit.save (of a torch.jit.trace'd or "
                        "torch.jit.script'ed module)";

// Explains why `path` cannot be loaded, looking at the bytes ourselves.
std::string classifyFailure(const std::string& path, const std::string& what)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return "cannot open the file";
    char head[4] = {0, 0, 0, 0};
    in.read(head, 4);
    const std::streamsize got = in.gcount();
    in.seekg(0, std::ios::end);
    const auto size = static_cast<long long>(in.tellg());
    if (size == 0)
        return "the file is empty; " + std::string(kExpected);
    const bool zip = got == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    if (!zip) {
        if (static_cast<unsigned char>(head[0]) == 0x80)
            return "this is a plain Python pickle (torch.save with the legacy format, e.g. a state_dict), not "
                   "TorchScript; " + std::string(kExpected);
        return "not a zip archive; " + std::string(kExpected);
    }
    try {
        caffe2::serialize::PyTorchStreamReader reader(path);
        bool code = false, data = false;
        for (const auto& r : reader.getAllRecords()) {
            if (r.rfind("code/", 0) == 0 || r == "constants.pkl")
                code = true;
            if (r == "data.pkl")
                data = true;
        }
        if (data && !code)
            return "this archive was written by torch.save (a pickled object such as a state_dict), not "
                   "torch.jit.save; it holds weights but no TorchScript code. " + std::string(kExpected);
    } catch (const std::exception& e) {
        return "the zip archive is truncated or corrupt (" + firstLine(e.what()) + "); " + kExpected;
    }
    return "LibTorch could not load it: " + firstLine(what);
}

int64_t ownParameters(const torch::jit::Module& m)
{
    int64_t n = 0;
    for (const auto& p : m.named_parameters(false))
        n += p.value.numel();
    for (const auto& b : m.named_buffers(false))
        n += b.value.numel();
    return n;
}

bool hasControlFlow(const torch::jit::Block* b)
{
    for (const auto* n : b->nodes()) {
        if (n->kind() == c10::prim::Loop || n->kind() == c10::prim::If)
            return true;
        for (const auto* sub : n->blocks())
            if (hasControlFlow(sub))
                return true;
    }
    return false;
}

void flattenOutputs(const c10::IValue& v, ForwardResult& out)
{
    if (v.isTensor()) {
        at::Tensor t = v.toTensor().detach().to(at::kFloat).contiguous();
        out.shapes.push_back(t.sizes().vec());
        out.data.emplace_back(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    } else if (v.isTuple()) {
        for (const auto& e : v.toTupleRef().elements())
            flattenOutputs(e, out);
    } else if (v.isList()) {
        for (const auto& e : v.toListRef())
            flattenOutputs(e, out);
    }
}

class TorchSessionImpl final : public TorchSession {
public:
    TorchSessionImpl(std::string path, torch::jit::Module m) : path_(std::move(path)), module_(std::move(m))
    {
        module_.eval();
        auto fwd = module_.find_method("forward");
        scripted_ = fwd && hasControlFlow(torch::jit::toGraphFunction(fwd->function()).graph()->block());
    }

    std::string path() const override { return path_; }
    bool scripted() const override { return scripted_; }

    std::vector<ModuleInfo> modules() const override
    {
        std::vector<ModuleInfo> out;
        for (const auto& nm : module_.named_modules())
            out.push_back({nm.name, detail::cleanTypeName(nm.value.type()->name()->qualifiedName()),
                           ownParameters(nm.value)});
        return out;
    }

    std::vector<std::vector<int64_t>> candidateInputShapes() const override
    {
        std::vector<std::vector<int64_t>> out;
        for (const auto& p : module_.named_parameters(true)) {
            const auto s = p.value.sizes();
            if (s.size() == 4) { // conv2d weight [O, C, kh, kw]
                for (int64_t hw : {28, 32, 34, 64, 128, 224})
                    out.push_back({1, s[1], hw, hw});
            } else if (s.size() == 3) { // conv1d weight [O, C, k]
                for (int64_t l : {64, 128, 256, 784})
                    out.push_back({1, s[1], l});
            } else if (s.size() == 2) { // linear weight [O, I]
                out.push_back({1, s[1]});
                const auto side = int64_t(std::lround(std::sqrt(double(s[1]))));
                if (side * side == s[1])
                    out.push_back({1, 1, side, side});
            } else {
                continue;
            }
            break;
        }
        for (auto s : std::vector<std::vector<int64_t>>{{1, 1, 28, 28}, {1, 3, 32, 32}, {1, 784}})
            if (std::find(out.begin(), out.end(), s) == out.end())
                out.push_back(s);
        return out;
    }

    std::string setTimesteps(int64_t T) override
    {
        for (const char* name : {"T", "timesteps", "time_steps", "num_steps", "n_steps", "time_step", "step"}) {
            if (module_.hasattr(name) && module_.attr(name).isInt()) {
                module_.setattr(name, T);
                return name;
            }
        }
        return {};
    }

    std::string resetState(const std::vector<std::string>& attrs) override
    {
        if (module_.find_method("reset")) {
            module_.run_method("reset");
            return "called the model's reset()";
        }
        std::string how;
        for (const std::string& path : attrs) {
            torch::jit::Module owner = module_;
            std::string rest = path;
            for (size_t dot; (dot = rest.find('.')) != std::string::npos;) {
                const std::string part = rest.substr(0, dot);
                if (!owner.hasattr(part) || !owner.attr(part).isModule())
                    break;
                owner = owner.attr(part).toModule();
                rest = rest.substr(dot + 1);
            }
            if (!owner.hasattr(rest) || !owner.attr(rest).isTensor())
                continue;
            double fill = 0.0;
            if (owner.hasattr("v_reset") && owner.attr("v_reset").isDouble())
                fill = owner.attr("v_reset").toDouble();
            torch::NoGradGuard noGrad;
            owner.attr(rest).toTensor().fill_(fill);
            how += (how.empty() ? "set " : ", ") + path + " = " + std::to_string(fill);
        }
        return how;
    }

    bool forward(const std::vector<int64_t>& shape, const std::vector<float>& input, ForwardResult& out,
                 Diagnostics& diags) override
    {
        try {
            torch::NoGradGuard noGrad;
            torch::jit::Module fresh = module_.deepcopy();
            fresh.eval();
            at::Tensor x = makeInput(shape, input);
            c10::IValue result = fresh.forward({x});
            out = {};
            flattenOutputs(result, out);
            if (out.data.empty()) {
                diags.add({Severity::Error, {path_, 0, 0}, "", "", "forward returned no tensor"});
                return false;
            }
            return true;
        } catch (const std::exception& e) {
            diags.add({Severity::Error, {path_, 0, 0}, "", "",
                       "running the model on an input of shape [" + shapeText(shape) +
                           "] failed: " + firstLine(e.what()) +
                           " (wrong --input-shape? the shape includes the batch dimension)"});
            return false;
        }
    }

    frontend::TimedForward timeForward(const std::vector<int64_t>& shape, const std::vector<float>& input, int runs,
                                       int threads) override
    {
        frontend::TimedForward t;
        t.batch = shape.empty() ? 0 : shape[0];
        const int before = at::get_num_threads();
        try {
            if (threads > 0)
                at::set_num_threads(threads);
            t.threads = at::get_num_threads();
            torch::NoGradGuard noGrad;
            torch::jit::Module fresh = module_.deepcopy();
            fresh.eval();
            const at::Tensor x = makeInput(shape, input);
            ForwardResult first;
            flattenOutputs(fresh.forward({x}), first); // warm-up (allocator, lazy init); its outputs are returned
            if (!first.data.empty())
                t.outputs = std::move(first.data[0]);
            // TorchScript's profiling executor records shapes on the first
            // call and optimizes the graph on the next: warm that up too, so
            // the timed runs are the steady state.
            fresh.forward({x});
            const std::clock_t c0 = std::clock();
            const auto w0 = std::chrono::steady_clock::now();
            for (int r = 0; r < runs; ++r)
                fresh.forward({x});
            t.wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
            t.cpuSeconds = double(std::clock() - c0) / CLOCKS_PER_SEC;
            t.runs = runs;
        } catch (const std::exception& e) {
            t.error = "forward on an input of shape [" + shapeText(shape) + "] failed: " + firstLine(e.what());
        }
        at::set_num_threads(before);
        return t;
    }

    std::unique_ptr<Recording> record(const std::vector<int64_t>& shape, const std::vector<float>& input,
                                      const std::atomic<bool>* cancel, Diagnostics& diags) override
    {
        torch::jit::Module fresh = module_.deepcopy();
        fresh.eval();
        return detail::recordForward(fresh, path_, makeInput(shape, input), cancel, diags);
    }

private:
    static std::string shapeText(const std::vector<int64_t>& s)
    {
        std::string out;
        for (size_t i = 0; i < s.size(); ++i)
            out += (i ? "," : "") + std::to_string(s[i]);
        return out;
    }
    static at::Tensor makeInput(const std::vector<int64_t>& shape, const std::vector<float>& input)
    {
        return torch::from_blob(const_cast<float*>(input.data()), shape, at::kFloat).clone();
    }

    std::string path_;
    torch::jit::Module module_;
    bool scripted_ = false;
};

// LibTorch trusts an archive's tensor metadata: a tensor whose sizes, strides
// and offset reach past its storage (a truncated or damaged data record) is
// read out of bounds by the first op that touches it (found by
// frontend_torchscript_fuzz: a segfault in Module::deepcopy). Returns what is
// wrong with the first such tensor, or "".
std::string tensorOutOfBounds(const std::string& what, const at::Tensor& t)
{
    if (!t.defined() || t.numel() == 0 || !t.has_storage())
        return {};
    int64_t last = t.storage_offset();
    if (last < 0)
        return what + ": negative storage offset " + std::to_string(last);
    for (int64_t d = 0; d < t.dim(); ++d) {
        if (t.stride(d) < 0)
            return what + ": negative stride in dimension " + std::to_string(d);
        last += (t.size(d) - 1) * t.stride(d);
    }
    const int64_t need = (last + 1) * int64_t(t.element_size());
    const int64_t have = int64_t(t.storage().nbytes());
    if (need > have)
        return what + " needs " + std::to_string(need) + " bytes of storage, the archive declares " +
               std::to_string(have);
    // LibTorch 1.13 sizes a storage from the pickle's declaration and fills it
    // from the data record without comparing the two: an empty or short
    // record leaves a null or short buffer behind a full-size storage. A
    // record is one CPU-allocator (posix_memalign) block, whose real size
    // glibc reports.
    const void* data = t.storage().data();
    if (!data)
        return what + ": its data record is missing or empty (" + std::to_string(need) + " bytes needed)";
    if (t.storage().data_ptr().get_deleter() == c10::GetCPUAllocator()->raw_deleter()) {
        const int64_t block = int64_t(malloc_usable_size(const_cast<void*>(data)));
        if (block < need)
            return what + ": its data record holds at most " + std::to_string(block) + " bytes, " +
                   std::to_string(need) + " needed";
    }
    return {};
}

// Every tensor reachable from the module object (attributes of modules and
// of other objects, lists, tuples, dicts), as deepcopy and forward reach them.
std::string damagedTensorIn(const c10::IValue& v, const std::string& where, std::unordered_set<const void*>& seen,
                            int depth)
{
    if (depth > 64)
        return {};
    if (v.isTensor())
        return tensorOutOfBounds("tensor '" + where + "'", v.toTensor());
    if (v.isObject()) {
        const auto obj = v.toObject();
        if (!seen.insert(obj.get()).second)
            return {};
        const auto type = obj->type();
        for (size_t i = 0; i < obj->slots().size(); ++i) {
            const std::string name = i < type->numAttributes() ? type->getAttributeName(i) : std::to_string(i);
            if (auto bad = damagedTensorIn(obj->getSlot(i), where.empty() ? name : where + "." + name, seen, depth + 1);
                !bad.empty())
                return bad;
        }
    } else if (v.isList()) {
        const auto list = v.toListRef();
        for (size_t i = 0; i < list.size(); ++i)
            if (auto bad = damagedTensorIn(list[i], where + "[" + std::to_string(i) + "]", seen, depth + 1); !bad.empty())
                return bad;
    } else if (v.isTuple()) {
        const auto& elements = v.toTupleRef().elements();
        for (size_t i = 0; i < elements.size(); ++i)
            if (auto bad = damagedTensorIn(elements[i], where + "[" + std::to_string(i) + "]", seen, depth + 1);
                !bad.empty())
                return bad;
    } else if (v.isGenericDict()) {
        for (const auto& entry : v.toGenericDict())
            if (auto bad = damagedTensorIn(entry.value(), where + "[..]", seen, depth + 1); !bad.empty())
                return bad;
    }
    return {};
}

std::string damagedTensor(const torch::jit::Module& m)
{
    std::unordered_set<const void*> seen;
    if (std::string bad = damagedTensorIn(m._ivalue(), "", seen, 0); !bad.empty())
        return bad;
    // Tensor constants of the code (constants/N records).
    for (const auto& sub : m.modules())
        for (const auto& method : sub.get_methods())
            for (const torch::jit::Node* n : method.graph()->nodes())
                if (n->kind() == torch::jit::prim::Constant && n->output()->type()->kind() == c10::TypeKind::TensorType)
                    if (auto v = torch::jit::toIValue(n->output()); v && v->isTensor())
                        if (std::string bad = tensorOutOfBounds("a tensor constant of " + method.name(), v->toTensor());
                            !bad.empty())
                            return bad;
    return {};
}

// Every source range the importer may look up later, resolved now.
void touchSourceRanges(const torch::jit::Block* b)
{
    for (const torch::jit::Node* n : b->nodes()) {
        const auto& r = n->sourceRange();
        if (r.source()) {
            const auto orig = r.findSourceRangeThatGenerated();
            const torch::jit::SourceRange& use = orig ? *orig : r;
            if (use.file_line_col() && use.source())
                (void)use.source()->get_line(use.source()->lineno_for_offset(use.start()));
        }
        for (const torch::jit::Block* inner : n->blocks())
            touchSourceRanges(inner);
    }
}

// What has crashed LibTorch 1.13 itself on damaged archives (a short
// constants/N record inside torch::jit::load; a damaged *.debug_pkl when a
// source range is looked up), done in a child process before the real load.
ProbeOutcome probeArchive(const std::string& path)
{
    return runIsolated(
        [&] {
            // libgomp is not fork-safe: an OpenMP region in a child of a process
            // that already ran one hangs. One intra-op thread keeps ATen out of them.
            at::set_num_threads(1);
            torch::jit::Module m = torch::jit::load(path, torch::kCPU);
            if (!damagedTensor(m).empty())
                return 1;
            for (const auto& sub : m.modules())
                for (const auto& method : sub.get_methods())
                    touchSourceRanges(method.graph()->block());
            return 0; // the module is destroyed on return: heap damage shows up in free()
        },
        std::chrono::seconds(60));
}

} // namespace

std::unique_ptr<TorchSession> TorchSession::open(const std::string& path, Diagnostics& diags, bool probeFirst)
{
    const SourceLoc loc{path, 0, 0};
    {
        std::ifstream probe(path, std::ios::binary);
        if (!probe) {
            diags.add({Severity::Error, loc, "", "", "cannot open the file (does it exist and is it readable?)"});
            return nullptr;
        }
    }
    if (const ProbeOutcome probe = probeFirst ? probeArchive(path) : ProbeOutcome{};
        probe.kind == ProbeOutcome::Kind::Crashed) {
        diags.add({Severity::Error, loc, "", "",
                   "the archive is damaged: LibTorch crashed reading it (" + probe.detail +
                       ", in a separate process; nothing was loaded). Save the model again; " + std::string(kExpected)});
        return nullptr;
    }
    // Passed or Failed: the load below runs (and reports an ordinary error
    // itself). TimedOut or Unavailable: no isolation was possible; load as before.
    torch::jit::Module module;
    try {
        module = torch::jit::load(path, torch::kCPU);
    } catch (const std::exception& e) {
        diags.add({Severity::Error, loc, "", "", classifyFailure(path, e.what())});
        return nullptr;
    }
    try {
        if (const std::string bad = damagedTensor(module); !bad.empty()) {
            diags.add({Severity::Error, loc, "", "",
                       "the archive is damaged: " + bad + " (a truncated or corrupted .pt; save it again)"});
            return nullptr;
        }
    } catch (const std::exception& e) {
        diags.add({Severity::Error, loc, "", "", "the archive is damaged: " + firstLine(e.what())});
        return nullptr;
    }
    if (!module.find_method("forward")) {
        diags.add({Severity::Error, loc, "", "",
                   "the TorchScript module has no forward method; " + std::string(kExpected)});
        return nullptr;
    }
    return std::make_unique<TorchSessionImpl>(path, std::move(module));
}

} // namespace stc::torchscript

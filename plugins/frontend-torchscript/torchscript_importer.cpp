// Import pipeline: load -> LibTorch forward (reference) -> recording ->
// neuron recognition -> lowering -> IR verification -> self-validation.
#include "torchscript_importer.h"

#include "lowering.h"
#include "neuron_recognizer.h"
#include "torch_session.h"
#include "validation.h"

#include "ir/verifier.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>

namespace stc::torchscript {

namespace {

std::string shapeText(const std::vector<int64_t>& s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); ++i)
        out += (i ? "," : "") + std::to_string(s[i]);
    return out;
}

int64_t product(const std::vector<int64_t>& s)
{
    int64_t n = 1;
    for (int64_t d : s)
        n *= d;
    return n;
}

std::vector<float> exampleInput(const std::vector<int64_t>& shape, unsigned seed = 20240607)
{
    std::vector<float> data(size_t(product(shape)));
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (float& x : data)
        x = u(rng);
    return data;
}

// An input that already carries a time axis (event data [B, T, ...]): forward
// moves input axis a >= 1, whose size is the neurons' number of steps, to the
// front (permute/transpose/movedim) or iterates over it (select/unbind).
// Spike IR inputs are time-invariant; say so where it happens.
void reportTimeAxisInput(const RecordedGraph& g, const NeuronAnalysis& na, Diagnostics& diags)
{
    int64_t T = 0;
    for (const auto& n : na.neurons)
        T = std::max(T, n.T);
    const auto& s = g.inputShape;
    if (T <= 1 || s.size() < 3)
        return;
    for (const RecNode& n : g.nodes) {
        if (n.inputs.empty() || !n.inputs[0].isDyn() || n.inputs[0].dyn != g.input)
            continue;
        int64_t axis = -1;
        auto arg = [&](size_t i) -> int64_t {
            if (i >= n.inputs.size() || n.inputs[i].kind != RecArg::Kind::Int)
                return -1;
            const int64_t d = n.inputs[i].i;
            return d < 0 ? d + int64_t(s.size()) : d;
        };
        if (n.kind == "aten::permute" && n.inputs.size() > 1 && !n.inputs[1].ints.empty())
            axis = n.inputs[1].ints[0];
        else if (n.kind == "aten::transpose" || n.kind == "aten::swapaxes" || n.kind == "aten::movedim")
            axis = arg(2) == 0 ? arg(1) : arg(1) == 0 ? arg(2) : -1;
        else if (n.kind == "aten::select" || n.kind == "aten::unbind")
            axis = arg(1);
        if (axis < 1 || axis >= int64_t(s.size()) || s[size_t(axis)] != T)
            continue;
        diags.add({Severity::Error, n.loc.known() ? n.loc : SourceLoc{g.modelFile, 0, 0}, n.kind,
                   n.modulePath.empty() ? "<root>" : n.modulePath,
                   "the model input carries a time axis: forward takes the " + std::to_string(T) +
                       " time steps of its neurons from input axis " + std::to_string(axis) + " (input [" +
                       shapeText(s) + "]); Spike IR inputs are time-invariant, so sequence/event inputs "
                       "([B, T, ...]) are not supported" +
                       (n.source.empty() ? "" : " [" + n.source + "]")});
        return;
    }
}

class TorchScriptImporter final : public frontend::Importer {
public:
    std::string name() const override { return "torchscript"; }
    std::vector<std::string> fileExtensions() const override { return {".pt", ".pth", ".ts"}; }

    frontend::ImportResult importFile(const std::string& path, const frontend::ImportOptions& options) override;
    frontend::ReferenceRun runReference(const std::string& path, const std::vector<int64_t>& inputShape,
                                        const std::vector<float>& input, Diagnostics& diags) override;
    frontend::TimedForward timeForward(const std::string& path, const std::vector<int64_t>& inputShape,
                                       const std::vector<float>& input, int runs, int threads) override
    {
        Diagnostics diags;
        auto session = TorchSession::open(path, diags);
        if (!session) {
            frontend::TimedForward t;
            t.error = diags.format();
            return t;
        }
        if (product(inputShape) != int64_t(input.size())) {
            frontend::TimedForward t;
            t.error = "input has " + std::to_string(input.size()) + " values, shape [" + shapeText(inputShape) +
                      "] needs " + std::to_string(product(inputShape));
            return t;
        }
        return session->timeForward(inputShape, input, runs, threads);
    }
};

void progress(const frontend::ImportOptions& o, double f, const std::string& what)
{
    if (o.progress)
        o.progress(f, what);
}

// Records forward with the given input shape, or with the first guessed shape
// that runs. If forward keeps state across calls, that state is reset and the
// recording repeated, so LibTorch and the import both start from a freshly
// reset network. Fills ref.inputShape / ref.input.
std::unique_ptr<Recording> recordModel(TorchSession& s, const frontend::ImportOptions& options,
                                       frontend::ReferenceRun& ref, Diagnostics& diags)
{
    const SourceLoc loc{s.path(), 0, 0};
    const bool given = !options.inputShape.empty();
    const auto shapes = given ? std::vector<std::vector<int64_t>>{options.inputShape} : s.candidateInputShapes();
    for (size_t k = 0; k < shapes.size(); ++k) {
        const auto& shape = shapes[k];
        if (product(shape) <= 0) {
            diags.add({Severity::Error, loc, "", "", "input shape [" + shapeText(shape) + "] has no elements"});
            return nullptr;
        }
        std::vector<float> input = given && !options.exampleInput.empty() ? options.exampleInput : exampleInput(shape);
        if (int64_t(input.size()) != product(shape)) {
            diags.add({Severity::Error, loc, "", "",
                       "example input has " + std::to_string(input.size()) + " values, input shape [" +
                           shapeText(shape) + "] needs " + std::to_string(product(shape))});
            return nullptr;
        }
        Diagnostics attempt;
        auto rec = s.record(shape, input, options.cancel, attempt);
        if (!rec) {
            if (given || k + 1 == shapes.size()) {
                diags.append(attempt);
                diags.add({Severity::Error, loc, "", "",
                           given ? "running the model on an input of shape [" + shapeText(shape) +
                                       "] failed (wrong --input-shape? the shape includes the batch dimension)"
                                 : "no input shape given and none of the guesses ran; pass --input-shape B,C,H,W"});
                return nullptr;
            }
            continue;
        }
        if (!given)
            diags.add({Severity::Note, loc, "", "",
                       "no input shape given; guessed [" + shapeText(shape) +
                           "] from the first layer's weights (use --input-shape to choose)"});
        ref.inputShape = shape;
        ref.input = std::move(input);
        if (!rec->graph.stateWrites.empty()) {
            const std::string how = s.resetState(rec->graph.stateWrites);
            if (!how.empty()) {
                diags.add({Severity::Note, loc, "", "",
                           "the model keeps state across calls; " + how +
                               " so that LibTorch and the import start from a fresh state"});
                attempt = Diagnostics{};
                rec = s.record(ref.inputShape, ref.input, options.cancel, attempt);
            }
        }
        diags.append(attempt);
        return rec;
    }
    return nullptr;
}

bool callerChoseInput(const frontend::ImportOptions& o) { return !o.exampleInput.empty(); }

constexpr unsigned kTieRetries = 2;

// The model outputs as LibTorch computed them in the recording.
void takeRecordedOutputs(const Recording& rec, frontend::ReferenceRun& ref)
{
    std::vector<ValueRef> outs;
    rec.graph.output.collectDyn(outs);
    for (ValueRef v : outs) {
        ref.outputs.push_back(rec.recorded(v));
        ref.outputShapes.push_back(rec.graph.values[size_t(v)].shape);
    }
}

// LibTorch's outputs and per-neuron spike totals on a fresh random input
// (seed) of the recorded shape.
bool referenceOn(TorchSession& s, const frontend::ImportOptions& options, const std::vector<int64_t>& shape,
                 unsigned seed, frontend::ReferenceRun& ref)
{
    frontend::ImportOptions again;
    again.inputShape = shape;
    again.exampleInput = exampleInput(shape, seed);
    again.cancel = options.cancel;
    Diagnostics quiet;
    auto rec = recordModel(s, again, ref, quiet);
    if (!rec)
        return false;
    for (const auto& n : recognizeNeurons(rec->graph, *rec, quiet).neurons)
        ref.spikeCounts[n.path] = n.spikeTotal;
    takeRecordedOutputs(*rec, ref);
    return true;
}

frontend::ImportResult TorchScriptImporter::importFile(const std::string& path, const frontend::ImportOptions& options)
{
    const auto start = std::chrono::steady_clock::now();
    frontend::ImportResult result;
    Diagnostics& diags = result.diagnostics;
    auto finish = [&]() -> frontend::ImportResult {
        result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (diags.hasErrors())
            result.module.reset();
        return std::move(result);
    };
    progress(options, 0.0, "loading " + path);
    auto session = TorchSession::open(path, diags, !options.callerIsolatesCrashes);
    if (!session)
        return finish();
    const SourceLoc loc{path, 0, 0};
    if (options.timesteps > 0) {
        const std::string attr = session->setTimesteps(options.timesteps);
        if (!attr.empty())
            diags.add({Severity::Note, loc, "", "",
                       "set the model attribute '" + attr + "' to " + std::to_string(options.timesteps)});
    }
    // One LibTorch execution, node by node, is both the recording and the
    // reference (tests also compare with torch::jit's own forward).
    progress(options, 0.1, "running and recording the model in LibTorch");
    auto rec = recordModel(*session, options, result.reference, diags);
    if (!rec)
        return finish();
    const RecordedGraph& g = rec->graph;
    takeRecordedOutputs(*rec, result.reference);

    progress(options, 0.5, "recognizing spiking neurons");
    const NeuronAnalysis neurons = recognizeNeurons(g, *rec, diags);
    for (const auto& n : neurons.neurons) {
        result.reference.spikeCounts[n.path] = n.spikeTotal;
        if (n.ok)
            diags.add({Severity::Note, n.loc.known() ? n.loc : loc, "lif", n.path,
                       "recognized " + n.params.describe() + " over " + std::to_string(n.T) + " steps" +
                           (n.className.empty() ? "" : " (class " + n.className + ")")});
    }
    progress(options, 0.6, "lowering to Spike IR");
    LoweringResult lowered = lowerRecording(g, neurons, options.timesteps, diags);
    if (diags.hasErrors())
        reportTimeAxisInput(g, neurons, diags);

    // Modules with weights that never ran (e.g. Spikformer's unused norms).
    std::set<std::string> ran;
    for (const auto& node : g.nodes)
        ran.insert(node.modulePath);
    for (const auto& mod : session->modules()) {
        if (mod.parameters == 0 || mod.path.empty())
            continue;
        bool used = false;
        for (const auto& p : ran)
            used = used || p == mod.path || p.rfind(mod.path + ".", 0) == 0;
        if (!used)
            diags.add({Severity::Note, loc, "", mod.path,
                       "module " + mod.path + " (" + mod.className + ") is never called on the input; dropped"});
    }
    if (!lowered.module || diags.hasErrors())
        return finish();

    ir::Module& m = *lowered.module;
    m.attrs.set("source", path);
    m.attrs.set("frontend", std::string("torchscript"));
    m.attrs.set("input_shape", ir::IntList(result.reference.inputShape.begin(), result.reference.inputShape.end()));
    Diagnostics verify = ir::verify(m);
    if (verify.hasErrors()) {
        for (auto d : verify.items()) {
            d.message = "internal: the imported module does not verify: " + d.message;
            diags.add(std::move(d));
        }
        return finish();
    }
    progress(options, 0.8, "validating against LibTorch");
    Diagnostics check;
    ValidationReport report = validateImport(m, lowered, result.reference, check);
    std::string tieNote;
    if (!report.ok && !report.firstDivergingNeuron.empty() && !callerChoseInput(options)) {
        // Rare: the example input put a membrane on its threshold to within
        // rounding. Validate on fresh random inputs instead.
        auto n = std::find_if(neurons.neurons.begin(), neurons.neurons.end(),
                              [&](const NeuronInstance& x) { return x.path == report.firstDivergingNeuron; });
        const double margin = n == neurons.neurons.end() ? -1.0 : thresholdMargin(*n, *rec);
        if (n != neurons.neurons.end() && isRoundingTie(margin, n->params)) {
            char buf[320];
            std::snprintf(buf, sizeof buf,
                          "the example input drove neuron %s to within %.3g of its threshold %g in LibTorch, a "
                          "float rounding tie (LibTorch's BLAS and the interpreter sum in different orders)",
                          n->path.c_str(), margin, n->params.vThreshold);
            tieNote = buf;
            rec.reset(); // the next recording replaces it
            for (unsigned seed = 1; seed <= kTieRetries; ++seed) {
                Diagnostics again;
                frontend::ReferenceRun ref;
                if (!referenceOn(*session, options, result.reference.inputShape, seed, ref))
                    break;
                ValidationReport r = validateImport(m, lowered, ref, again);
                if (r.ok) {
                    tieNote += "; validated on fresh random input " + std::to_string(seed) + " instead";
                    check = std::move(again);
                    report = r;
                    result.reference = std::move(ref);
                    break;
                }
            }
        }
    }
    diags.append(check);
    if (report.ok) {
        char err[32];
        std::snprintf(err, sizeof err, "%.3g", report.maxAbsError);
        if (!tieNote.empty())
            diags.add({Severity::Note, loc, "lif", "", tieNote});
        diags.add({Severity::Note, loc, "", "",
                   std::string("validated against LibTorch on ") + (tieNote.empty() ? "the example" : "a fresh") +
                       " input: max abs error " + err + ", spike counts identical (" +
                       std::to_string(result.reference.spikeCounts.size()) + " neurons)"});
    } else if (!tieNote.empty()) {
        diags.add({Severity::Note, loc, "lif", "",
                   tieNote + "; " + std::to_string(kTieRetries) + " fresh inputs did not validate either"});
    }
    result.module = std::move(m);
    progress(options, 1.0, "done");
    return finish();
}

frontend::ReferenceRun TorchScriptImporter::runReference(const std::string& path, const std::vector<int64_t>& inputShape,
                                                         const std::vector<float>& input, Diagnostics& diags)
{
    frontend::ReferenceRun ref;
    auto session = TorchSession::open(path, diags);
    if (!session)
        return ref;
    frontend::ImportOptions options;
    options.inputShape = inputShape;
    options.exampleInput = input;
    // Spike counts need the neurons: record (resetting kept state) and recognize.
    Diagnostics quiet;
    auto rec = recordModel(*session, options, ref, quiet);
    if (!rec) {
        diags.append(quiet);
        return ref;
    }
    for (const auto& n : recognizeNeurons(rec->graph, *rec, quiet).neurons)
        ref.spikeCounts[n.path] = n.spikeTotal;
    // The outputs come from LibTorch's own forward (torch::jit).
    ForwardResult fwd;
    if (session->forward(ref.inputShape, ref.input, fwd, diags)) {
        ref.outputShapes = fwd.shapes;
        ref.outputs = fwd.data;
    }
    return ref;
}

} // namespace

std::unique_ptr<frontend::Importer> makeTorchScriptImporter() { return std::make_unique<TorchScriptImporter>(); }

} // namespace stc::torchscript

// stc import / stc inspect: the TorchScript frontend (loaded lazily through
// the plugin host) and a layer summary of a model.
#include "cli_args.h"
#include "crash_guard.h"
#include "commands.h"
#include "model_input.h"
#include "plugin_host.h"

#include "interp/interpreter.h"
#include "ir/ir_io.h"
#include "ir/module.h"

#include <QString>

#include <cstdio>
#include <map>
#include <random>

namespace stc::cli {

namespace {

// Imports a .pt through the frontend plugin; diagnostics go to stderr.
std::optional<frontend::ImportResult> importModel(const std::string& path, const frontend::ImportOptions& options,
                                                  const char* command, bool verbose = false)
{
    QString error;
    frontend::Importer* importer = plugins::PluginHost::instance().importerFor(QString::fromStdString(path), &error);
    if (!importer) {
        std::fprintf(stderr, "stc %s: %s\n", command, qPrintable(error));
        return std::nullopt;
    }
    frontend::ImportOptions isolated = options;
    isolateImport(std::string("stc ") + command, path, *importer, isolated);
    frontend::ImportResult r = importer->importFile(path, isolated);
    reportImportDone();
    for (const auto& d : r.diagnostics.items())
        if (d.severity != Severity::Note || !r.module || verbose)
            std::fprintf(stderr, "%s\n", d.format().c_str());
    return r;
}

std::string human(double v)
{
    char buf[32];
    if (v >= 1e9)
        std::snprintf(buf, sizeof buf, "%.2f G", v / 1e9);
    else if (v >= 1e6)
        std::snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
    else if (v >= 1e3)
        std::snprintf(buf, sizeof buf, "%.1f k", v / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
}

// Multiply-accumulates of one evaluation (one step for per-step ops).
double macsOf(const ir::Module& m, const ir::Op& op)
{
    const double out = double(m.typeOf(op.result).numElements());
    switch (op.kind) {
    case ir::OpKind::Conv1d:
    case ir::OpKind::Conv2d: {
        const auto& w = m.typeOf(op.operands[1]).shape;
        double k = 1;
        for (size_t i = 1; i < w.size(); ++i)
            k *= double(w[i]);
        return out * k;
    }
    case ir::OpKind::Linear: return out * double(m.typeOf(op.operands[1]).shape[1]);
    case ir::OpKind::MatMul: {
        const auto& a = m.typeOf(op.operands[0]).shape;
        return out * double(a.back());
    }
    default: return 0;
    }
}

// The lif whose spikes reach `v` through shape-only ops (pools, reshapes).
ir::ValueId spikeSource(const ir::Module& m, ir::ValueId v)
{
    for (int guard = 0; guard < 64 && v != ir::kNoValue; ++guard) {
        const ir::Op& op = m.definingOp(v);
        switch (op.kind) {
        case ir::OpKind::Lif: return op.attrs.getString("output", "spikes") == "spikes" ? v : ir::kNoValue;
        case ir::OpKind::MaxPool2d:
        case ir::OpKind::Flatten:
        case ir::OpKind::Reshape:
        case ir::OpKind::Permute: v = op.operands[0]; break;
        default: return ir::kNoValue;
        }
    }
    return ir::kNoValue;
}

// Layers, shapes, parameters, neurons and synaptic operations. `spikes`
// (lif name -> total spikes over `batch` samples) comes from a run; without
// it only the dense estimate is shown.
void printSummary(const ir::Module& m, const std::map<std::string, int64_t>& spikes, int64_t batch,
                  const std::string& spikeSourceText)
{
    const int64_t T = m.timesteps;
    std::printf("%-36s %-10s %-24s %10s\n", "layer", "op", "output", "params");
    double dense = 0, sops = 0, macsNonSpiking = 0;
    bool allKnown = true;
    std::map<ir::ValueId, double> rate; // lif -> firing rate
    for (const auto& op : m.ops()) {
        if (op.kind == ir::OpKind::Lif) {
            auto it = spikes.find(m.value(op.result).name);
            const double n = double(m.typeOf(op.result).numElements()) * double(T) * double(batch);
            if (it != spikes.end() && n > 0)
                rate[op.result] = double(it->second) / n;
        }
    }
    for (const auto& op : m.ops()) {
        if (op.kind == ir::OpKind::Const || op.kind == ir::OpKind::Output)
            continue;
        int64_t params = 0;
        for (ir::ValueId v : op.operands)
            if (m.definingOp(v).kind == ir::OpKind::Const)
                params += m.typeOf(v).numElements();
        std::string kind(ir::opName(op));
        if (op.kind == ir::OpKind::Lif)
            kind = op.attrs.getString("neuron", "lif");
        std::printf("%-36s %-10s %-24s %10s\n", ("%" + m.value(op.result).name).c_str(), kind.c_str(),
                    ir::toString(m.typeOf(op.result)).c_str(), params ? human(double(params)).c_str() : "");
        const double macs = macsOf(m, op) * (m.typeOf(op.result).perStep() ? double(T) : 1.0);
        if (macs == 0)
            continue;
        dense += macs;
        const ir::ValueId src = spikeSource(m, op.operands[0]);
        if (src == ir::kNoValue) {
            macsNonSpiking += macs; // e.g. the first layer on analog input, attention products
        } else if (auto it = rate.find(src); it != rate.end()) {
            sops += it->second * macs;
        } else {
            allKnown = false;
            sops += macs;
        }
    }
    std::printf("\ntime steps: %lld\nparameters: %s\nspiking neurons: %s per step\n", static_cast<long long>(T),
                human(double(ir::parameterCount(m))).c_str(), human(double(ir::neuronCount(m))).c_str());
    std::printf("dense MACs per inference: %s\n", human(dense).c_str());
    if (!rate.empty() && allKnown)
        std::printf("synaptic ops per inference: %s spike-driven (firing rates from %s) + %s MACs on non-spike "
                    "inputs\n",
                    human(sops).c_str(), spikeSourceText.c_str(), human(macsNonSpiking).c_str());
    else
        std::printf("synaptic ops per inference: %s (dense estimate; no spike counts available)\n",
                    human(dense).c_str());
}

} // namespace

int runImportCommand(const Args& argsIn)
{
    Args args = argsIn;
    bool bad = false;
    const auto shape = takeInputShape(args, "import", bad);
    const auto out = takeOption(args, "--output", "-o");
    const auto steps = takeOption(args, "--timesteps");
    const bool verbose = takeFlag(args, "--verbose") || takeFlag(args, "-v");
    if (bad || reportUnknownOptions(args, "import"))
        return 2;
    if (args.size() != 1 || !out) {
        std::fprintf(stderr, "usage: stc import MODEL.pt -o OUT.sir [--input-shape 1,1,28,28] [--timesteps T] "
                             "[--verbose]\n");
        return 2;
    }
    frontend::ImportOptions options;
    if (shape)
        options.inputShape = *shape;
    if (steps) {
        options.timesteps = std::atoll(steps->c_str());
        if (options.timesteps <= 0) {
            std::fprintf(stderr, "stc import: --timesteps needs a positive number\n");
            return 2;
        }
    }
    auto r = importModel(args[0], options, "import", verbose);
    if (!r || !r->module)
        return 1;
    const Diagnostics saved = ir::saveModule(*r->module, *out);
    if (saved.hasErrors()) {
        std::fprintf(stderr, "%s", saved.format().c_str());
        return 1;
    }
    std::printf("imported %s -> %s: %zu ops, T = %lld, %s neurons per step, %s parameters (%.2f s, validated "
                "against LibTorch)\n",
                args[0].c_str(), out->c_str(), r->module->ops().size(), static_cast<long long>(r->module->timesteps),
                human(double(ir::neuronCount(*r->module))).c_str(),
                human(double(ir::parameterCount(*r->module))).c_str(), r->seconds);
    // The self-validation summary (max abs logits error, spike counts).
    for (const auto& d : r->diagnostics.items())
        if (d.severity == Severity::Note && d.message.rfind("validated against LibTorch", 0) == 0)
            std::printf("%s\n", d.message.c_str());
    return 0;
}

int runInspectCommand(const Args& argsIn)
{
    Args args = argsIn;
    bool bad = false;
    const auto shape = takeInputShape(args, "inspect", bad);
    if (bad || reportUnknownOptions(args, "inspect"))
        return 2;
    if (args.size() != 1) {
        std::fprintf(stderr, "usage: stc inspect MODEL.pt|MODEL.sir [--input-shape 1,1,28,28]\n");
        return 2;
    }
    const std::string& path = args[0];
    if (path.size() > 4 && path.ends_with(".sir")) {
        ir::LoadResult in = ir::loadModule(path, sirLoadOptions());
        if (!in.ok()) {
            std::fprintf(stderr, "%s", in.diagnostics.format().c_str());
            return 1;
        }
        const ir::Module& m = *in.module;
        // Firing rates from the reference interpreter on a uniform random input.
        std::vector<interp::InputBatch> inputs;
        std::mt19937 rng(1);
        std::uniform_real_distribution<float> u(0.0f, 1.0f);
        for (ir::ValueId v : m.inputs()) {
            interp::InputBatch b{1, std::vector<float>(size_t(m.typeOf(v).numElements()))};
            for (float& x : b.data)
                x = u(rng);
            inputs.push_back(std::move(b));
        }
        const interp::RunResult run = interp::run(m, inputs);
        std::map<std::string, int64_t> spikes;
        for (const auto& s : run.lif)
            spikes[s.name] = s.total;
        std::printf("model: %s (Spike IR)\n\n", path.c_str());
        printSummary(m, spikes, 1, "the reference interpreter on a random U[0,1) input");
        return 0;
    }
    frontend::ImportOptions options;
    if (shape)
        options.inputShape = *shape;
    auto r = importModel(path, options, "inspect");
    if (!r || !r->module)
        return 1;
    std::string in;
    for (size_t i = 0; i < r->reference.inputShape.size(); ++i)
        in += (i ? "," : "") + std::to_string(r->reference.inputShape[i]);
    std::printf("model: %s (TorchScript, input [%s])\n\n", path.c_str(), in.c_str());
    const int64_t batch = r->reference.inputShape.empty() ? 1 : r->reference.inputShape[0];
    printSummary(*r->module, r->reference.spikeCounts, batch, "a LibTorch run on the example input");
    return 0;
}

} // namespace stc::cli

// stc ir verify|print|run — Spike IR text files.
#include "cli_args.h"
#include "commands.h"

#include "data/fashion_mnist.h"
#include "fixedpoint/executor.h"
#include "interp/interpreter.h"
#include "ir/ir_io.h"
#include "ir/printer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "model_input.h"
#include "util/number_file.h"

namespace stc::cli {

namespace {

std::optional<ir::Module> loadOrReport(const std::string& path, bool verify = true)
{
    ir::LoadResult r = ir::loadModule(path, sirLoadOptions(verify));
    if (!r.diagnostics.empty())
        std::fputs(r.diagnostics.format().c_str(), stderr);
    if (!r.ok())
        return std::nullopt;
    return std::move(r.module);
}


int argmax(std::span<const float> v)
{
    return int(std::max_element(v.begin(), v.end()) - v.begin());
}

int verifyCommand(Args args)
{
    if (args.size() != 1) {
        std::fprintf(stderr, "usage: stc ir verify FILE.sir\n");
        return 2;
    }
    auto m = loadOrReport(args[0]);
    if (!m)
        return 1;
    std::printf("%s: ok (module @%s, %zu ops, T=%lld, %lld parameters, %lld neurons per step)\n", args[0].c_str(),
                m->name.c_str(), m->ops().size(), (long long)m->timesteps, (long long)ir::parameterCount(*m),
                (long long)ir::neuronCount(*m));
    return 0;
}

int printCommand(Args args)
{
    ir::PrintOptions opts;
    opts.elideConstants = takeFlag(args, "--elide");
    if (reportUnknownOptions(args, "ir print") || args.size() != 1) {
        std::fprintf(stderr, "usage: stc ir print FILE.sir [--elide]\n");
        return 2;
    }
    auto m = loadOrReport(args[0], /*verify=*/false);
    if (!m)
        return 1;
    std::fputs(ir::printModule(*m, opts).c_str(), stdout);
    return 0;
}

int runCommand(Args args)
{
    const auto inputPath = takeOption(args, "--input");
    const auto dataset = takeOption(args, "--dataset");
    const auto indexText = takeOption(args, "--index");
    const auto limitText = takeOption(args, "--limit");
    const auto threadsText = takeOption(args, "--threads");
    const bool json = takeFlag(args, "--json");
    bool fixedPoint = takeFlag(args, "--fixed-point");
    if (reportUnknownOptions(args, "ir run") || args.size() != 1 || (inputPath && dataset)) {
        std::fprintf(stderr, "usage: stc ir run FILE.sir [--input FILE | --dataset fashion-mnist [--index N] "
                             "[--limit N]] [--threads N] [--fixed-point] [--json]\n");
        return 2;
    }
    auto m = loadOrReport(args[0]);
    if (!m)
        return 1;
    // A quantized module has only integer semantics: run it on the fixed-point
    // reference executor even without --fixed-point.
    if (!fixedPoint && m->attrs.getBool("quantized")) {
        std::fprintf(stderr, "stc ir run: %s is quantized: running the fixed-point reference executor\n",
                     args[0].c_str());
        fixedPoint = true;
    }
    if (fixedPoint && !m->attrs.getBool("quantized")) {
        std::fprintf(stderr, "stc ir run: %s is not quantized; --fixed-point runs the integer model the quantize "
                             "pass writes (stc opt FILE.sir -p \"%s\" -o Q.sir)\n",
                     args[0].c_str(), "fold-bn,canonicalize,dce,quantize{bits=8}");
        return 1;
    }
    const auto inputs = m->inputs();
    if (inputs.size() != 1) {
        std::fprintf(stderr, "stc ir run: the module has %zu inputs; only single-input modules are supported\n",
                     inputs.size());
        return 1;
    }
    const int64_t sampleSize = m->typeOf(inputs[0]).numElements();

    interp::InputBatch batch;
    std::vector<uint8_t> labels;
    if (dataset) {
        if (*dataset != "fashion-mnist") {
            std::fprintf(stderr, "stc ir run: unknown dataset '%s' (available: fashion-mnist)\n", dataset->c_str());
            return 2;
        }
        const int64_t index = indexText ? std::stoll(*indexText) : 0;
        const int64_t limit = limitText ? std::stoll(*limitText) : 1;
        auto set = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), index + limit);
        if (!set.ok()) {
            std::fprintf(stderr, "stc ir run: %s\n", set.error.c_str());
            return 1;
        }
        if (set.value.sampleSize() != sampleSize || index + limit > set.value.count || index < 0 || limit < 1) {
            std::fprintf(stderr, "stc ir run: dataset samples have %lld values, the module input %s has %lld (or "
                                 "index/limit out of range)\n",
                         (long long)set.value.sampleSize(), ir::toString(m->typeOf(inputs[0])).c_str(),
                         (long long)sampleSize);
            return 1;
        }
        batch.batch = limit;
        batch.data = set.value.batch(index, limit);
        labels.assign(set.value.labels.begin() + index, set.value.labels.begin() + index + limit);
    } else if (inputPath) {
        std::string error;
        if (!util::readNumberFile(*inputPath, batch.data, error)) {
            std::fprintf(stderr, "stc ir run: %s\n", error.c_str());
            return 1;
        }
        if (batch.data.empty() || batch.data.size() % size_t(sampleSize)) {
            std::fprintf(stderr, "stc ir run: %s has %zu values, expected a multiple of %lld (input %s)\n",
                         inputPath->c_str(), batch.data.size(), (long long)sampleSize,
                         ir::toString(m->typeOf(inputs[0])).c_str());
            return 1;
        }
        batch.batch = int64_t(batch.data.size()) / sampleSize;
    } else {
        std::fprintf(stderr, "stc ir run: give --input FILE or --dataset fashion-mnist\n");
        return 2;
    }

    // Either engine's results: outputs and spikes per neuron layer.
    struct LayerSpikes {
        std::string name;
        int64_t total = 0, neuronsPerSample = 0;
        std::vector<int64_t> perStep; // f32 interpreter only
    };
    std::vector<float> out;
    std::vector<LayerSpikes> layers;
    const int threads = threadsText ? std::stoi(*threadsText) : 0;
    const auto start = std::chrono::steady_clock::now();
    if (fixedPoint) {
        fixedpoint::RunOptions opts;
        opts.threads = std::max(1, threads);
        fixedpoint::RunResult r = fixedpoint::run(*m, {batch}, opts);
        if (!r.ok()) {
            std::fprintf(stderr, "stc ir run: %s\n", r.error.empty() ? "cancelled" : r.error.c_str());
            return 1;
        }
        out = std::move(r.outputs[0]);
        for (const auto& s : r.lif)
            layers.push_back({s.name, s.total, s.neuronsPerSample, {}});
    } else {
        interp::RunOptions opts;
        opts.threads = threads;
        interp::RunResult r = interp::run(*m, {batch}, opts);
        if (!r.ok()) {
            std::fprintf(stderr, "stc ir run: %s\n", r.error.c_str());
            return 1;
        }
        out = std::move(r.outputs[0]);
        for (const auto& s : r.lif)
            layers.push_back({s.name, s.total, s.neuronsPerSample, s.spikesPerStep});
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const int64_t classes = int64_t(out.size()) / batch.batch;
    int64_t correct = 0;
    for (int64_t b = 0; b < batch.batch; ++b)
        if (!labels.empty() && argmax(std::span(out).subspan(size_t(b * classes), size_t(classes))) == labels[size_t(b)])
            ++correct;

    if (json) {
        nlohmann::json j;
        j["batch"] = batch.batch;
        j["outputs"] = out;
        j["milliseconds"] = ms;
        j["engine"] = fixedPoint ? "fixed-point" : "f32";
        for (const auto& s : layers) {
            j["spikes"][s.name] = {{"total", s.total}, {"neurons", s.neuronsPerSample}};
            if (!fixedPoint)
                j["spikes"][s.name]["per_step"] = s.perStep;
        }
        if (!labels.empty())
            j["accuracy"] = double(correct) / double(batch.batch);
        std::printf("%s\n", j.dump(1).c_str());
        return 0;
    }
    std::printf("ran %lld sample(s) of @%s (T=%lld) in %.1f ms (%s)\n", (long long)batch.batch, m->name.c_str(),
                (long long)m->timesteps, ms,
                fixedPoint ? "fixed-point reference executor: what the chip simulator must equal" : "f32 interpreter");
    if (batch.batch <= 4) {
        for (int64_t b = 0; b < batch.batch; ++b) {
            auto row = std::span(out).subspan(size_t(b * classes), size_t(classes));
            std::printf("sample %lld: predicted class %d", (long long)b, argmax(row));
            if (!labels.empty())
                std::printf(" (label %d)", labels[size_t(b)]);
            std::printf("\n  outputs:");
            for (float v : row)
                std::printf(" %.6g", v);
            std::printf("\n");
        }
    }
    if (!labels.empty())
        std::printf("accuracy: %lld / %lld = %.2f %%\n", (long long)correct, (long long)batch.batch,
                    100.0 * double(correct) / double(batch.batch));
    std::printf("spikes per neuron layer (total over samples and time steps; firing rate):\n");
    for (const auto& s : layers) {
        const double rate = double(s.total) / double(s.neuronsPerSample * m->timesteps * batch.batch);
        std::printf("  %-32s %10lld  %6.2f %%\n", s.name.c_str(), (long long)s.total, 100.0 * rate);
    }
    return 0;
}

} // namespace

int runIrCommand(const Args& all)
{
    if (all.empty()) {
        std::fprintf(stderr, "usage: stc ir verify|print|run FILE.sir ... (stc ir --help)\n");
        return 2;
    }
    Args rest(all.begin() + 1, all.end());
    if (all[0] == "verify")
        return verifyCommand(rest);
    if (all[0] == "print")
        return printCommand(rest);
    if (all[0] == "run")
        return runCommand(rest);
    std::fprintf(stderr, "stc ir: unknown subcommand '%s' (verify, print, run)\n", all[0].c_str());
    return 2;
}

} // namespace stc::cli

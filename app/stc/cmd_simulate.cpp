// stc simulate / stc profile: run a deployment package in the built-in
// bit-accurate simulator (core/sim), report accuracy, events and the energy /
// latency ledger.
#include "cli_args.h"
#include "commands.h"

#include "data/fashion_mnist.h"
#include "ir/ir_io.h"
#include "sim/ledger.h"
#include "sim/simulator.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "model_input.h"
#include "util/number_file.h"
#include "project_cli.h"
#include "simulate_mpi.h"
#include "store/convert.h"

namespace stc::cli {

namespace {

constexpr const char* kSimUsage =
    "usage: stc simulate PKG.stcpkg (--input FILE | --dataset fashion-mnist) [--limit N] [--trace OUT.bin]\n"
    "                    [--threads N] [--batch N] [--schedule package|latency|throughput] [--json]\n"
    "                    [--project FILE.stcproj [--run COMPILE_RUN_ID]]\n"
    "  FILE: numbers (JSON array or whitespace/comma separated), a multiple of the package's input size\n"
    "  --batch: samples a host thread runs together, core-major: each slice of a core runs all steps of the\n"
    "           N samples before the next (default 16); results are the same for any N; with --trace the\n"
    "           records of a batch come slice by slice, not in step order\n"
    "  --project: record the ledger (and the top-1 with --dataset) in the project, linked to compile run\n"
    "             --run, or to the newest compile run that wrote this package\n";
// Samples per core-major pass of `stc simulate` (sim::Order::CoreMajor, the default of
// Parallel::Samples): 16 measured 10 % less CPU time than 1 on the bundled model and 20 % less
// on the 4-384 model, for 37 MB more memory on the bundled model (docs/performance.md, session 10).
constexpr int kDefaultBatch = 16;
constexpr const char* kProfileUsage =
    "usage: stc profile PKG.stcpkg [--input FILE | --dataset fashion-mnist] [--limit N] [--mode latency|throughput]\n"
    "                   [--rows N] [--json]\n"
    "  default input: the first 16 Fashion-MNIST test images (28x28 packages); otherwise give --input\n";


// Inputs of a run: either explicit values or a data set with labels.
struct Inputs {
    std::vector<float> values;
    std::vector<uint8_t> labels;
    int64_t samples = 0;
};

// Returns 0 on success, else the exit code (message printed).
int loadInputs(const char* cmd, const sim::SimProgram& prog, const std::optional<std::string>& inputPath,
               const std::optional<std::string>& dataset, int64_t limit, Inputs& out)
{
    const int64_t size = prog.inputSize();
    if (inputPath) {
        std::string error;
        if (!util::readNumberFile(*inputPath, out.values, error)) {
            std::fprintf(stderr, "stc %s: %s\n", cmd, error.c_str());
            return 1;
        }
        if (size <= 0 || out.values.empty() || out.values.size() % size_t(size)) {
            std::fprintf(stderr, "stc %s: %s has %zu values, expected a multiple of %lld (the package's input size)\n",
                         cmd, inputPath->c_str(), out.values.size(), (long long)size);
            return 1;
        }
        out.samples = int64_t(out.values.size()) / size;
        if (limit > 0 && limit < out.samples) {
            out.samples = limit;
            out.values.resize(size_t(limit * size));
        }
        return 0;
    }
    if (*dataset != "fashion-mnist") {
        std::fprintf(stderr, "stc %s: unknown data set '%s' (known: fashion-mnist)\n", cmd, dataset->c_str());
        return 2;
    }
    auto set = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), limit > 0 ? limit : -1);
    if (!set.ok()) {
        std::fprintf(stderr, "stc %s: %s\n", cmd, set.error.c_str());
        return 1;
    }
    if (set.value.sampleSize() != size) {
        std::fprintf(stderr, "stc %s: Fashion-MNIST images have %lld values, the package's input has %lld\n", cmd,
                     (long long)set.value.sampleSize(), (long long)size);
        return 1;
    }
    out.values = std::move(set.value.pixels);
    out.labels = std::move(set.value.labels);
    out.samples = set.value.count;
    return 0;
}

std::optional<int64_t> parseCount(const std::optional<std::string>& s, const char* cmd, const char* what)
{
    if (!s)
        return int64_t(-1);
    try {
        size_t used = 0;
        const long long v = std::stoll(*s, &used);
        if (used == s->size() && v > 0)
            return int64_t(v);
    } catch (...) {
    }
    std::fprintf(stderr, "stc %s: %s needs a positive integer, got '%s'\n", cmd, what, s->c_str());
    return std::nullopt;
}

std::string traceHeader(const sim::SimProgram& prog)
{
    nlohmann::json h;
    h["model"] = prog.model;
    h["chip"] = prog.chipId;
    h["timesteps"] = prog.timesteps;
    h["pipeline_depth"] = prog.depth;
    nlohmann::json pops = nlohmann::json::array();
    for (const auto& p : prog.populations)
        pops.push_back({{"name", p.name}, {"kind", sim::toString(p.kind)}, {"first_id", p.firstId},
                        {"size", p.size}, {"shape", p.shape}, {"phase", p.phase}});
    h["populations"] = pops;
    return h.dump();
}

} // namespace

int runSimulateCommand(const Args& argsIn)
{
    Args args = argsIn;
    const auto inputPath = takeOption(args, "--input");
    const auto dataset = takeOption(args, "--dataset");
    const auto limitText = takeOption(args, "--limit");
    const auto tracePath = takeOption(args, "--trace");
    const auto threadsText = takeOption(args, "--threads");
    const auto batchText = takeOption(args, "--batch");
    const auto scheduleText = takeOption(args, "--schedule");
    const bool json = takeFlag(args, "--json");
    const auto projectPath = takeOption(args, "--project");
    const auto runText = takeOption(args, "--run");
    if (reportUnknownOptions(args, "simulate"))
        return 2;
    if (args.size() != 1 || bool(inputPath) == bool(dataset)) {
        std::fprintf(stderr, "%s", kSimUsage);
        return 2;
    }
    const auto limit = parseCount(limitText, "simulate", "--limit");
    const auto threads = parseCount(threadsText, "simulate", "--threads");
    const auto runId = parseCount(runText, "simulate", "--run");
    const auto batch = parseCount(batchText, "simulate", "--batch");
    if (!limit || !threads || !runId || !batch)
        return 2;
    if (runText && !projectPath) {
        std::fprintf(stderr, "stc simulate: --run needs --project\n");
        return 2;
    }
    sim::SimOptions opt;
    opt.threads = *threads > 0 ? int(*threads) : 0;
    opt.batch = *batch > 0 ? int(std::min<int64_t>(*batch, 1024)) : kDefaultBatch;
    if (scheduleText) {
        if (*scheduleText == "latency")
            opt.schedule = sim::Schedule::Latency;
        else if (*scheduleText == "throughput")
            opt.schedule = sim::Schedule::Throughput;
        else if (*scheduleText != "package") {
            std::fprintf(stderr, "stc simulate: --schedule is package, latency or throughput\n");
            return 2;
        }
    }
    sim::ProgramLoad load = sim::loadProgram(args[0]);
    if (!load.ok()) {
        std::fprintf(stderr, "stc simulate: %s: %s\n", args[0].c_str(), load.error.c_str());
        return 1;
    }
    const sim::SimProgram& prog = *load.program;
    const MpiSession mpi;
    if (mpi.active() && (tracePath || !dataset)) {
        if (mpi.rank() == 0)
            std::fprintf(stderr, "stc simulate: under MPI give --dataset and no --trace (each rank simulates a "
                                 "slice of the data set)\n");
        return 2;
    }
    Inputs in;
    if (int rc = loadInputs("simulate", prog, inputPath, dataset, *limit, in))
        return rc;
    if (mpi.active()) { // this rank's contiguous slice
        const auto [first, last] = rankSlice(mpi, in.samples);
        const size_t size = size_t(prog.inputSize());
        in.values = std::vector<float>(in.values.begin() + std::ptrdiff_t(size_t(first) * size),
                                       in.values.begin() + std::ptrdiff_t(size_t(last) * size));
        in.labels = std::vector<uint8_t>(in.labels.begin() + first, in.labels.begin() + last);
        in.samples = last - first;
    }
    sim::TraceFile trace;
    if (tracePath) {
        std::string err;
        if (!trace.open(*tracePath, traceHeader(prog), &err)) {
            std::fprintf(stderr, "stc simulate: %s\n", err.c_str());
            return 1;
        }
        opt.trace = &trace;
    }
    if (!json && in.samples >= 100 && mpi.rank() == 0)
        opt.progress = [](int64_t done, int64_t total) {
            if (done % 500 == 0 || done == total)
                std::fprintf(stderr, "\r%lld / %lld", (long long)done, (long long)total);
        };
    sim::SimResult r = sim::simulate(prog, in.values, in.samples, opt);
    if (opt.progress)
        std::fprintf(stderr, "\n");
    int64_t correct = 0;
    std::vector<int> predicted;
    for (int64_t s = 0; r.ok() && s < r.samples; ++s) {
        const std::vector<float> o = sim::sampleOutputs(prog, r, s);
        const int p = int(std::max_element(o.begin(), o.end()) - o.begin());
        predicted.push_back(p);
        if (!in.labels.empty() && p == int(in.labels[size_t(s)]))
            ++correct;
    }
    if (mpi.active()) {
        if (!r.ok())
            std::fprintf(stderr, "stc simulate: rank %d: %s\n", mpi.rank(), r.cancelled ? "cancelled" : r.error.c_str());
        bool failed = false;
        if (!gatherSimulation(mpi, r, predicted, correct, &failed)) {
            if (mpi.rank() == 0 && !r.error.empty())
                std::fprintf(stderr, "stc simulate: %s\n", r.error.c_str());
            return failed ? 1 : 0;
        }
    }
    if (!r.ok()) {
        std::fprintf(stderr, "stc simulate: %s\n", r.cancelled ? "cancelled" : r.error.c_str());
        return 1;
    }
    const sim::Ledger l = sim::buildLedger(prog, r.counters);
    const sim::EventCounts e = r.counters.total();
    const double seconds = std::max(1e-9, r.seconds);
    int64_t simRunId = 0, accuracyRunId = 0;
    if (projectPath) {
        std::optional<store::AccuracyResult> accuracy;
        if (!in.labels.empty())
            accuracy = store::AccuracyResult{*dataset, "test", 0, r.samples, correct, store::EvalPath::ChipSim,
                                             r.seconds};
        simRunId = recordSimulationRun(*projectPath, args[0], std::max<int64_t>(0, *runId), prog.chipId,
                                       store::toSimulationLedger(l, r.seconds), accuracy, &accuracyRunId);
        if (!simRunId)
            return 1;
    }
    if (json) {
        nlohmann::json j;
        j["package"] = args[0];
        j["model"] = prog.model;
        j["chip"] = {{"id", prog.chipId}, {"projected", prog.projectedChip}};
        j["samples"] = r.samples;
        if (!in.labels.empty())
            j["accuracy"] = double(correct) / double(std::max<int64_t>(1, r.samples));
        j["predicted"] = r.samples <= 100 ? nlohmann::json(predicted) : nlohmann::json(nullptr);
        if (r.samples <= 16 && !r.outputs.empty()) { // (not gathered from MPI ranks)
            nlohmann::json outs = nlohmann::json::array();
            for (int64_t s = 0; s < r.samples; ++s)
                outs.push_back(sim::sampleOutputs(prog, r, s));
            j["outputs"] = outs;
        }
        j["seconds"] = r.seconds;
        j["inferences_per_second"] = double(r.samples) / seconds;
        j["synaptic_events_per_second"] = double(e.synapticOps) / seconds;
        j["threads"] = r.threads;
        j["batch"] = r.batch;
        j["mpi_ranks"] = mpi.size();
        j["parallel"] = sim::toString(r.parallel);
        j["order"] = sim::toString(r.order);
        j["schedule"] = sim::toString(r.schedule);
        j["per_inference"] = {{"synaptic_ops", l.perInference.synapticOps}, {"spikes", l.perInference.spikes},
                              {"messages", l.perInference.messages},
                              {"energy_pj", l.totalPj()},
                              {"latency_ns", l.latency.latencyModeNs},
                              {"throughput_interval_ns", l.latency.throughputIntervalNs},
                              {"label", l.label()}};
        if (tracePath)
            j["trace"] = {{"path", *tracePath}, {"records", trace.written()}};
        if (projectPath)
            j["project"] = {{"path", *projectPath}, {"simulation_run", simRunId},
                            {"accuracy_run", accuracyRunId ? nlohmann::json(accuracyRunId) : nlohmann::json(nullptr)}};
        std::printf("%s\n", j.dump(1).c_str());
        return 0;
    }
    std::printf("package   %s (model %s, chip %s%s)\n", args[0].c_str(), prog.model.c_str(), prog.chipId.c_str(),
                prog.projectedChip ? ", PROJECTED" : "");
    std::printf("samples   %lld in %.3f s (%.1f inferences/s, %.3g synaptic events/s, %d thread(s), %s, %s%s%s)\n",
                (long long)r.samples, r.seconds, double(r.samples) / seconds, double(e.synapticOps) / seconds,
                r.threads, sim::toString(r.parallel), sim::toString(r.order), r.batch > 1 ? (", batch " + std::to_string(r.batch)).c_str() : "",
                mpi.active() ? (", " + std::to_string(mpi.size()) + " MPI ranks").c_str() : "");
    if (!in.labels.empty())
        std::printf("accuracy  %.2f %% (%lld / %lld)\n", 100.0 * double(correct) / double(std::max<int64_t>(1, r.samples)),
                    (long long)correct, (long long)r.samples);
    else
        for (int64_t s = 0; s < r.samples && s < 20; ++s)
            std::printf("sample %lld: class %d\n", (long long)s, predicted[size_t(s)]);
    std::printf("events    per inference: %lld synaptic ops, %lld spikes, %lld messages, %lld hops\n",
                (long long)l.perInference.synapticOps, (long long)l.perInference.spikes,
                (long long)l.perInference.messages, (long long)(l.perInference.hopsEw + l.perInference.hopsNs));
    std::printf("energy    %.4f uJ per inference, latency %.3f us  [%s; `stc profile` for the ledger]\n",
                l.totalPj() * 1e-6, l.latency.latencyModeNs * 1e-3, l.label().c_str());
    if (tracePath)
        std::printf("trace     %s (%llu spike records)\n", tracePath->c_str(), (unsigned long long)trace.written());
    if (projectPath)
        std::printf("project   %s (simulation run %lld%s)\n", projectPath->c_str(), (long long)simRunId,
                    accuracyRunId ? (", accuracy run " + std::to_string(accuracyRunId)).c_str() : "");
    return 0;
}

int runProfileCommand(const Args& argsIn)
{
    Args args = argsIn;
    const auto inputPath = takeOption(args, "--input");
    auto dataset = takeOption(args, "--dataset");
    const auto limitText = takeOption(args, "--limit");
    const auto mode = takeOption(args, "--mode");
    const auto rowsText = takeOption(args, "--rows");
    const bool json = takeFlag(args, "--json");
    if (reportUnknownOptions(args, "profile"))
        return 2;
    if (args.size() != 1 || (inputPath && dataset)) {
        std::fprintf(stderr, "%s", kProfileUsage);
        return 2;
    }
    if (mode && *mode != "latency" && *mode != "throughput") {
        std::fprintf(stderr, "stc profile: --mode is latency or throughput\n");
        return 2;
    }
    const auto limit = parseCount(limitText, "profile", "--limit");
    const auto rows = parseCount(rowsText, "profile", "--rows");
    if (!limit || !rows)
        return 2;
    sim::ProgramLoad load = sim::loadProgram(args[0]);
    if (!load.ok()) {
        std::fprintf(stderr, "stc profile: %s: %s\n", args[0].c_str(), load.error.c_str());
        return 1;
    }
    const sim::SimProgram& prog = *load.program;
    if (!inputPath && !dataset) {
        if (prog.inputSize() != 28 * 28) {
            std::fprintf(stderr, "stc profile: the package's input has %lld values; give --input FILE\n",
                         (long long)prog.inputSize());
            return 2;
        }
        dataset = "fashion-mnist";
    }
    Inputs in;
    if (int rc = loadInputs("profile", prog, inputPath, dataset, *limit > 0 ? *limit : 16, in))
        return rc;
    const sim::SimResult r = sim::simulate(prog, in.values, in.samples);
    if (!r.ok()) {
        std::fprintf(stderr, "stc profile: %s\n", r.error.c_str());
        return 1;
    }
    const sim::Ledger l = sim::buildLedger(prog, r.counters, mode.value_or(""));
    if (json)
        std::printf("%s\n", sim::ledgerJson(l).c_str());
    else
        std::printf("%s", sim::formatLedger(l, *rows > 0 ? int(*rows) : 12).c_str());
    return 0;
}

} // namespace stc::cli

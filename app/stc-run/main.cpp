// stc-run: the minimal headless runner for a deployment package on an edge
// host. No Qt, no LibTorch, no plugins: core/sim's bit-accurate simulator on
// the package's self-contained manifest (the chip descriptor travels in it).
//   stc-run PKG.stcpkg --input FILE [--threads N] [--json]
//   stc-run --bundle PKG.stcpkg OUT_DIR   (a directory with stc-run, the package and run.sh)
#include "sim/ledger.h"
#include "sim/simulator.h"
#include "util/number_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#ifndef STC_VERSION
#define STC_VERSION "dev"
#endif

namespace fs = std::filesystem;
using namespace stc;

namespace {

constexpr const char* kUsage =
    "usage: stc-run PKG.stcpkg --input FILE [--threads N] [--json]\n"
    "       stc-run --bundle PKG.stcpkg OUT_DIR\n"
    "  FILE: numbers (JSON array or whitespace/comma separated), one or more samples of the package's input size\n"
    "  --bundle writes OUT_DIR/{stc-run, package/, run.sh, README.txt}: copy the directory to the edge host and\n"
    "           run ./run.sh --input FILE there\n";

int bundle(const std::string& package, const std::string& out)
{
    std::error_code ec;
    if (!fs::exists(fs::path(package) / "manifest.json")) {
        std::fprintf(stderr, "stc-run: %s is not a deployment package (no manifest.json)\n", package.c_str());
        return 1;
    }
    if (fs::exists(out)) {
        std::fprintf(stderr, "stc-run: %s exists; give a new directory\n", out.c_str());
        return 1;
    }
    // Check the package loads before shipping it.
    const sim::ProgramLoad load = sim::loadProgram(package);
    if (!load.ok()) {
        std::fprintf(stderr, "stc-run: %s: %s\n", package.c_str(), load.error.c_str());
        return 1;
    }
    fs::create_directories(out, ec);
    fs::copy(package, fs::path(out) / "package", fs::copy_options::recursive, ec);
    if (!ec)
        fs::copy_file(fs::read_symlink("/proc/self/exe", ec), fs::path(out) / "stc-run", ec);
    if (ec) {
        std::fprintf(stderr, "stc-run: writing %s: %s\n", out.c_str(), ec.message().c_str());
        fs::remove_all(out);
        return 1;
    }
    {
        std::ofstream run(fs::path(out) / "run.sh");
        run << "#!/bin/sh\n# Runs the bundled deployment package: ./run.sh --input FILE [--json]\n"
               "here=$(dirname \"$0\")\nexec \"$here/stc-run\" \"$here/package\" \"$@\"\n";
        std::ofstream readme(fs::path(out) / "README.txt");
        readme << "Deployment bundle made by stc-run " << STC_VERSION << "\n\nmodel   " << load.program->model
               << "\nchip    " << load.program->chipId << (load.program->projectedChip ? " (PROJECTED chip)" : "")
               << "\ninput   " << load.program->inputSize() << " numbers per sample\n\n"
               << "./run.sh --input samples.json [--json]\n\nstc-run needs no Qt and no LibTorch; `ldd stc-run` "
                  "lists the shared libraries it uses.\n";
    }
    fs::permissions(fs::path(out) / "run.sh", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                                  fs::perms::others_read | fs::perms::others_exec);
    std::printf("bundle    %s (stc-run, package/ with %zu core(s), run.sh, README.txt)\n", out.c_str(),
                load.program->cores.size());
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::fprintf(args.empty() ? stderr : stdout, "%s", kUsage);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        std::printf("stc-run %s\n", STC_VERSION);
        return 0;
    }
    if (args[0] == "--bundle") {
        if (args.size() != 3) {
            std::fprintf(stderr, "%s", kUsage);
            return 2;
        }
        return bundle(args[1], args[2]);
    }
    std::string package, input;
    int threads = 0;
    bool json = false;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--input" && i + 1 < args.size())
            input = args[++i];
        else if (args[i] == "--threads" && i + 1 < args.size())
            threads = std::atoi(args[++i].c_str());
        else if (args[i] == "--json")
            json = true;
        else if (package.empty() && args[i].rfind("--", 0) != 0)
            package = args[i];
        else {
            std::fprintf(stderr, "stc-run: unexpected argument '%s'\n%s", args[i].c_str(), kUsage);
            return 2;
        }
    }
    if (package.empty() || input.empty()) {
        std::fprintf(stderr, "%s", kUsage);
        return 2;
    }
    const sim::ProgramLoad load = sim::loadProgram(package);
    if (!load.ok()) {
        std::fprintf(stderr, "stc-run: %s: %s\n", package.c_str(), load.error.c_str());
        return 1;
    }
    const sim::SimProgram& prog = *load.program;
    std::vector<float> values;
    std::string error;
    if (!util::readNumberFile(input, values, error)) {
        std::fprintf(stderr, "stc-run: %s\n", error.c_str());
        return 1;
    }
    const int64_t size = prog.inputSize();
    if (size <= 0 || values.empty() || values.size() % size_t(size)) {
        std::fprintf(stderr, "stc-run: %s has %zu numbers, expected a multiple of %lld (the package's input size)\n",
                     input.c_str(), values.size(), (long long)size);
        return 1;
    }
    const int64_t samples = int64_t(values.size()) / size;
    sim::SimOptions opt;
    opt.threads = threads;
    const sim::SimResult r = sim::simulate(prog, values, samples, opt);
    if (!r.ok()) {
        std::fprintf(stderr, "stc-run: %s\n", r.cancelled ? "cancelled" : r.error.c_str());
        return 1;
    }
    const sim::Ledger l = sim::buildLedger(prog, r.counters);
    nlohmann::json outs = nlohmann::json::array(), predicted = nlohmann::json::array();
    for (int64_t s = 0; s < samples; ++s) {
        const std::vector<float> o = sim::sampleOutputs(prog, r, s);
        const int c = int(std::max_element(o.begin(), o.end()) - o.begin());
        predicted.push_back(c);
        outs.push_back(o);
        if (!json)
            std::printf("sample %lld: class %d\n", (long long)s, c);
    }
    if (json) {
        nlohmann::json j{{"package", package},   {"model", prog.model}, {"chip", prog.chipId},
                         {"projected_chip", prog.projectedChip}, {"samples", samples}, {"predicted", predicted},
                         {"outputs", outs},
                         {"per_inference", {{"energy_pj", l.totalPj()}, {"latency_ns", l.latency.latencyModeNs},
                                            {"label", l.label()}}}};
        std::printf("%s\n", j.dump(1).c_str());
    } else {
        std::printf("energy    %.4f uJ per inference, latency %.3f us  [%s, chip %s]\n", l.totalPj() * 1e-6,
                    l.latency.latencyModeNs * 1e-3, l.label().c_str(), prog.chipId.c_str());
    }
    return 0;
}

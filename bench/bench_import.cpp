// Import time of a Spikformer-4-384-shaped model (9.3 M parameters, T = 4,
// random weights) through the TorchScript frontend plugin, as the CLI does it.
//   bench_import [MODEL.pt] [--out bench/results/import.json] [--runs N (5)]
// Without MODEL.pt the model is generated once (not committed, ~37 MB) by
//   /usr/bin/python3 tools/models/gen_spikformer_4_384.py <build>/bench/spikformer_4_384.traced.pt
// Target: < 2 s per import on 2 cores (plugin load excluded, reported apart).
#include "host_info.h"
#include "plugin_host.h"

#include <QCoreApplication>
#include <QString>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#ifndef STC_SOURCE_RESOURCE_DIR
#define STC_SOURCE_RESOURCE_DIR "resources"
#endif

namespace {

using stc::bench::loadAverage;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

long minorFaults()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const std::filesystem::path repo = std::filesystem::path(STC_SOURCE_RESOURCE_DIR).parent_path();
    std::string model, out = (repo / "bench" / "results" / "import.json").string();
    int runs = 5;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--out" && i + 1 < argc)
            out = argv[++i];
        else if (a == "--runs" && i + 1 < argc)
            runs = std::max(1, std::atoi(argv[++i]));
        else
            model = a;
    }
    if (model.empty()) {
        model = (std::filesystem::path(QCoreApplication::applicationDirPath().toStdString()) / ".." / "bench" /
                 "spikformer_4_384.traced.pt")
                    .lexically_normal()
                    .string();
        if (!std::filesystem::exists(model)) {
            std::filesystem::create_directories(std::filesystem::path(model).parent_path());
            const std::string cmd = "/usr/bin/python3 " + (repo / "tools" / "models" / "gen_spikformer_4_384.py").string() +
                                    " " + model;
            std::fprintf(stderr, "generating %s\n", model.c_str());
            if (std::system(cmd.c_str()) != 0 || !std::filesystem::exists(model)) {
                std::fprintf(stderr, "bench_import: could not generate the model (%s)\n", cmd.c_str());
                return 1;
            }
        }
    }

    const double loadBefore = loadAverage();
    const auto t0 = Clock::now();
    QString error;
    stc::frontend::Importer* importer =
        stc::plugins::PluginHost::instance().importerFor(QString::fromStdString(model), &error);
    if (!importer) {
        std::fprintf(stderr, "bench_import: %s\n", qPrintable(error));
        return 1;
    }
    const double pluginLoad = since(t0);

    stc::frontend::ImportOptions options;
    options.inputShape = {1, 3, 32, 32};
    std::vector<double> totals;
    std::vector<long> faults; // minor page faults (first touches of fresh memory) per import
    std::map<std::string, std::vector<double>> phases;
    int64_t params = 0, ops = 0, T = 0;
    for (int r = 0; r < runs; ++r) {
        std::vector<std::pair<std::string, Clock::time_point>> marks;
        options.progress = [&](double, const std::string& what) { marks.emplace_back(what, Clock::now()); };
        const long faults0 = minorFaults();
        const auto start = Clock::now();
        stc::frontend::ImportResult res = importer->importFile(model, options);
        const double total = since(start);
        faults.push_back(minorFaults() - faults0);
        if (!res.module) {
            std::fprintf(stderr, "%s", res.diagnostics.format().c_str());
            return 1;
        }
        totals.push_back(total);
        marks.emplace_back("end", Clock::now());
        for (size_t i = 0; i + 1 < marks.size(); ++i) {
            std::string name = marks[i].first;
            if (name.rfind("loading", 0) == 0)
                name = "loading";
            phases[name].push_back(std::chrono::duration<double>(marks[i + 1].second - marks[i].second).count());
        }
        params = stc::ir::parameterCount(*res.module);
        ops = int64_t(res.module->ops().size());
        T = res.module->timesteps;
        std::fprintf(stderr, "run %d: %.3f s\n", r + 1, total);
    }
    const double loadAfter = loadAverage();
    const std::vector<double> inOrder = totals;
    std::sort(totals.begin(), totals.end());
    const double median = totals[totals.size() / 2];
    std::filesystem::create_directories(std::filesystem::path(out).parent_path());
    std::ofstream json(out);
    json << "{\n  \"benchmark\": \"import\",\n  \"model\": \"" << std::filesystem::path(model).filename().string()
         << "\",\n  \"parameters\": " << params << ",\n  \"ir_ops\": " << ops << ",\n  \"timesteps\": " << T
         << ",\n  \"host_cores\": " << std::thread::hardware_concurrency() << ",\n  \"blas_library\": \""
         << stc::bench::blasLibrary() << "\""
         << ",\n  \"load_average_1min_before\": " << loadBefore << ",\n  \"load_average_1min_after\": " << loadAfter
         << ",\n  \"plugin_load_seconds\": " << pluginLoad << ",\n  \"import_seconds_median\": " << median
         << ",\n  \"import_seconds_min\": " << totals.front() << ",\n  \"import_seconds_max\": " << totals.back()
         << ",\n  \"import_seconds_runs\": [";
    for (size_t i = 0; i < inOrder.size(); ++i)
        json << (i ? ", " : "") << inOrder[i];
    std::sort(faults.begin(), faults.end());
    json << "],\n  \"page_faults_per_import_median\": " << faults[faults.size() / 2]
         << ",\n  \"runs\": " << totals.size() << ",\n  \"target_seconds\": 2.0,\n  \"phases_median_seconds\": {";
    bool first = true;
    for (auto& [name, v] : phases) {
        std::sort(v.begin(), v.end());
        json << (first ? "\n" : ",\n") << "    \"" << name << "\": " << v[v.size() / 2];
        first = false;
    }
    json << "\n  }\n}\n";
    std::printf("import of %s (%lld parameters, T=%lld): median %.3f s over %zu runs (plugin load %.3f s) -> %s\n",
                model.c_str(), static_cast<long long>(params), static_cast<long long>(T), median, totals.size(),
                pluginLoad, out.c_str());
    return 0;
}

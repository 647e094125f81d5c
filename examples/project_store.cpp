// Project store (.stcproj): record a model, two compiled configurations and
// what the chip simulator measured on them, read the trade-off back, and see
// the store's errors. docs/api-guide.md, "Projects".
//   example_project_store MODEL.sir OUT.stcproj   (exit 77 = skipped: no Fashion-MNIST)
#include "data/fashion_mnist.h"
#include "ir/ir_io.h"
#include "sim/ledger.h"
#include "sim/simulator.h"
#include "store/convert.h"
#include "store/project.h"
#include "target/compile.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

using namespace stc;
namespace fs = std::filesystem;

namespace {

// Compiles with `bits`-bit weights, simulates `images` on the package and
// records the three runs (compile, accuracy, simulation) in one transaction.
void compileAndMeasure(store::Project& project, const ir::Module& module, int bits, const data::ImageSet& images)
{
    const auto t0 = std::chrono::steady_clock::now();
    target::CompileRequest request;
    request.chip = "loihi3";
    request.pipeline = "fold-bn,canonicalize,dce,quantize{bits=" + std::to_string(bits) + "},schedule-time";
    const target::CompileOutput compiled = target::compileModule(module, request);
    if (!compiled.ok())
        throw std::runtime_error(compiled.error);
    store::CompileResult result;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    store::setMapping(result, compiled.session->mapping, compiled.estimate);

    const sim::ProgramLoad program = sim::buildProgram(compiled.package);
    const sim::SimResult run = sim::simulate(*program.program, images.pixels, images.count);
    if (!run.ok())
        throw std::runtime_error(run.error);
    int64_t correct = 0;
    for (int64_t s = 0; s < images.count; ++s) {
        const std::vector<float> out = sim::sampleOutputs(*program.program, run, s);
        correct += int64_t(std::max_element(out.begin(), out.end()) - out.begin()) == images.labels[size_t(s)];
    }
    const sim::Ledger ledger = sim::buildLedger(*program.program, run.counters);

    project.transaction([&] {
        store::RunMeta meta;
        meta.chip = request.chip;
        meta.pipeline = compiled.pipeline;
        meta.params["bits"] = std::to_string(bits);
        const int64_t compileRun = project.addCompileRun(meta, result);
        store::RunMeta measured;
        measured.chip = request.chip;
        measured.compileRunId = compileRun; // links the measurements to the configuration
        project.addAccuracyRun(measured, {"fashion-mnist", "test", 0, images.count, correct,
                                          store::EvalPath::ChipSim, run.seconds});
        project.addSimulationRun(measured, store::toSimulationLedger(ledger, run.seconds));
    });
}

// store::Error messages name the file; print them without this machine's directories.
std::string withoutDirs(std::string message, const std::string& path)
{
    for (size_t at; (at = message.find(path)) != std::string::npos;)
        message.replace(at, path.size(), fs::path(path).filename().string());
    return message;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: example_project_store MODEL.sir OUT.stcproj\n");
        return 2;
    }
    const std::string modelPath = argv[1], path = argv[2];
    const ir::LoadResult loaded = ir::loadModule(modelPath);
    if (!loaded.ok()) {
        std::fprintf(stderr, "%s", loaded.diagnostics.format().c_str());
        return 1;
    }
    const auto images = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), 16);
    if (!images.ok()) {
        std::printf("skipped: %s\n", images.error.c_str());
        return 77;
    }
    fs::remove(path); // this example's own output from a previous run: create() never overwrites

    try {
        {
            store::ProjectInfo info;
            info.name = "convsnn";
            info.chip = "loihi3";
            store::Project project = store::Project::create(path, info);
            project.setModel(store::describeModelFile(modelPath, {1, 1, 28, 28}, loaded.module->timesteps));
            project.savePipeline("default", target::kDefaultCompilePipeline);
            for (int bits : {8, 4})
                compileAndMeasure(project, *loaded.module, bits, images.value);
        } // the connection closes here

        // Read it back: another connection, read-only (as the IDE's Explorer does).
        const store::Project project = store::Project::open(path, store::OpenMode::ReadOnly);
        const store::ProjectInfo info = project.info();
        std::printf("project %s: chip %s, schema %d, model %s (%s, sha256 %.12s...)\n", info.name.c_str(),
                    info.chip.c_str(), info.schemaVersion, fs::path(info.model->path).filename().c_str(),
                    info.model->format.c_str(), info.model->sha256.c_str());
        std::printf("pipelines: %zu, runs: %zu\n", project.pipelines().size(), project.listRuns().size());
        for (const store::ConfigPoint& c : project.configurations())
            std::printf("  run %lld  bits %s  %lld cores  estimate %.2f uJ  simulated %.2f uJ  top-1 %lld/%lld\n",
                        (long long)c.meta.id, c.meta.params.at("bits").c_str(), (long long)c.compile.coresUsed,
                        c.compile.energyPj * 1e-6, c.simEnergyPj.value_or(0) * 1e-6,
                        (long long)c.accuracy->correct, (long long)c.accuracy->samples);
        std::printf("Pareto front (simulated energy vs top-1): runs");
        for (const store::ConfigPoint& c : project.paretoFront(store::Metric::SimEnergyPj, store::Metric::Accuracy))
            std::printf(" %lld", (long long)c.meta.id);
        std::printf("\n");
    } catch (const std::exception& e) { // store::Error, or a failed compile
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }

    // Every failure is a store::Error with a kind; the file is left as it was.
    auto attempt = [&](const char* what, auto&& fn) {
        try {
            fn();
            std::printf("%s: no error\n", what);
        } catch (const store::Error& e) {
            std::printf("%s: %s: %s\n", what, store::toString(e.kind()),
                        withoutDirs(withoutDirs(e.what(), path), modelPath).c_str());
        }
    };
    attempt("create over it", [&] { store::Project::create(path, {}); });
    attempt("write read-only", [&] { store::Project::open(path, store::OpenMode::ReadOnly).addSweep("x"); });
    attempt("open a .sir", [&] { store::Project::open(modelPath); });
    return 0;
}

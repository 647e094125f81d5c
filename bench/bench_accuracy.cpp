// Accuracy of the bundled Fashion-MNIST Spikformer through the compiler:
// float (f32 interpreter) vs fold-bn,fuse,quantize{bits=N} in the fixed-point
// reference path, at 8/6/4 bits and with 25/50/75 % magnitude pruning, on the
// Fashion-MNIST test set. Writes bench/results/accuracy.json.
//
// usage: bench_accuracy [MODEL.sir|MODEL.pt] [--limit N] [--calibration N] [--threads N] [--out FILE]
#include "data/fashion_mnist.h"
#include "ir/ir_io.h"
#include "passes/calibration.h"
#include "passes/evaluate.h"
#include "passes/runner.h"
#include "plugin_host.h"

#include <QCoreApplication>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

using namespace stc;

namespace {

std::optional<ir::Module> loadModel(const std::string& path)
{
    if (path.size() > 4 && path.substr(path.size() - 4) == ".sir") {
        auto r = ir::loadModule(path);
        if (!r.ok()) {
            std::fprintf(stderr, "%s", r.diagnostics.format().c_str());
            return std::nullopt;
        }
        return std::move(*r.module);
    }
    QString err;
    auto* importer = plugins::PluginHost::instance().importerFor(QString::fromStdString(path), &err);
    if (!importer) {
        std::fprintf(stderr, "bench_accuracy: %s\n", err.toStdString().c_str());
        return std::nullopt;
    }
    frontend::ImportOptions opt;
    opt.inputShape = {1, 1, 28, 28};
    auto r = importer->importFile(path, opt);
    if (!r.module) {
        std::fprintf(stderr, "%s", r.diagnostics.format().c_str());
        return std::nullopt;
    }
    return std::move(*r.module);
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const std::string res = STC_SOURCE_RESOURCE_DIR;
    std::string model = res + "/models/spikformer_fmnist.sir";
    if (!std::filesystem::exists(model))
        model = res + "/models/spikformer_fmnist.pt";
    int64_t limit = 10000, calib = 256;
    int threads = 0;
    std::string out = std::string(STC_SOURCE_RESOURCE_DIR) + "/../bench/results/accuracy.json";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--limit")
            limit = std::stoll(next());
        else if (a == "--calibration")
            calib = std::stoll(next());
        else if (a == "--threads")
            threads = std::stoi(next());
        else if (a == "--out")
            out = next();
        else
            model = a;
    }
    auto m = loadModel(model);
    if (!m)
        return 1;
    auto test = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), limit);
    auto train = data::loadFashionMnist(data::Split::Train, data::defaultFashionMnistDir(), calib);
    if (!test.ok() || !train.ok()) {
        std::fprintf(stderr, "bench_accuracy: %s%s\n", test.error.c_str(), train.error.c_str());
        return 1;
    }
    auto trainSet = std::make_shared<data::ImageSet>(std::move(train.value));
    const passes::PassRegistry reg = passes::makeBuiltinRegistry();

    struct Config {
        std::string name, pipeline;
        passes::ExecPath path;
    };
    const std::vector<Config> configs = {
        {"float", "", passes::ExecPath::Float},
        {"int8", "fold-bn,fuse,quantize{bits=8}", passes::ExecPath::FixedPoint},
        {"int6", "fold-bn,fuse,quantize{bits=6}", passes::ExecPath::FixedPoint},
        {"int4", "fold-bn,fuse,quantize{bits=4}", passes::ExecPath::FixedPoint},
        {"int8-per-layer", "fold-bn,fuse,quantize{bits=8 per-channel=false}", passes::ExecPath::FixedPoint},
        {"int4-rebalanced", "fold-bn,fuse,quantize{bits=4 rebalance=true}", passes::ExecPath::FixedPoint},
        {"prune25-float", "fold-bn,prune{sparsity=0.25}", passes::ExecPath::Float},
        {"prune50-float", "fold-bn,prune{sparsity=0.5}", passes::ExecPath::Float},
        {"prune75-float", "fold-bn,prune{sparsity=0.75}", passes::ExecPath::Float},
        {"prune25-int8", "fold-bn,prune{sparsity=0.25},fuse,quantize{bits=8}", passes::ExecPath::FixedPoint},
        {"prune50-int8", "fold-bn,prune{sparsity=0.5},fuse,quantize{bits=8}", passes::ExecPath::FixedPoint},
        {"prune75-int8", "fold-bn,prune{sparsity=0.75},fuse,quantize{bits=8}", passes::ExecPath::FixedPoint},
    };
    nlohmann::json results = nlohmann::json::array();
    double floatAcc = 0.0;
    std::vector<int32_t> floatPred;
    std::printf("| configuration | pipeline | path | top-1 (%%) | vs float (pp) | agreement with float (%%) | notes |\n"
                "| --- | --- | --- | --- | --- | --- | --- |\n");
    for (const auto& c : configs) {
        ir::Module compiled = *m;
        nlohmann::json stats = nlohmann::json::object();
        if (!c.pipeline.empty()) {
            Diagnostics d;
            auto p = passes::parsePipeline(c.pipeline, reg, d);
            passes::CompileContext ctx;
            ctx.calibration = passes::imageSetCalibration(trainSet);
            auto r = passes::runPipeline(*m, *p, reg, ctx);
            if (!r.ok()) {
                std::fprintf(stderr, "%s: %s\n", c.name.c_str(), r.allDiagnostics().format().c_str());
                return 1;
            }
            compiled = std::move(r.module);
            for (const auto& rec : r.records)
                for (const auto& s : rec.stats.items())
                    stats[rec.pass + "." + s.name] = std::holds_alternative<int64_t>(s.value)
                                                        ? nlohmann::json(std::get<int64_t>(s.value))
                                                        : nlohmann::json(std::get<double>(s.value));
        }
        auto e = passes::evaluateTop1(compiled, test.value, c.path, 0, test.value.count, threads);
        if (!e.error.empty()) {
            std::fprintf(stderr, "%s: %s\n", c.name.c_str(), e.error.c_str());
            return 1;
        }
        if (c.name == "float") {
            floatAcc = e.accuracy();
            floatPred = e.predictions;
        }
        int64_t agree = 0;
        for (size_t i = 0; i < e.predictions.size() && i < floatPred.size(); ++i)
            agree += e.predictions[i] == floatPred[i];
        const double delta = 100.0 * (e.accuracy() - floatAcc);
        const double sparsity = stats.value("prune.sparsity-achieved", 0.0);
        std::printf("| %s | `%s` | %s | %.2f | %+.2f | %.2f | %s |\n", c.name.c_str(),
                    c.pipeline.empty() ? "(none)" : c.pipeline.c_str(),
                    c.path == passes::ExecPath::Float ? "f32" : "fixed-point", 100.0 * e.accuracy(), delta,
                    100.0 * double(agree) / double(e.images),
                    sparsity > 0 ? ("sparsity " + std::to_string(int(sparsity * 1000) / 10.0).substr(0, 4) + " %").c_str()
                                 : "");
        std::fflush(stdout);
        results.push_back({{"name", c.name},
                           {"pipeline", c.pipeline},
                           {"path", c.path == passes::ExecPath::Float ? "f32-interpreter" : "fixed-point"},
                           {"images", e.images},
                           {"correct", e.correct},
                           {"top1", e.accuracy()},
                           {"delta_pp_vs_float", delta},
                           {"agreement_with_float", double(agree) / double(e.images)},
                           {"seconds", e.seconds},
                           {"statistics", stats}});
    }
    nlohmann::json doc = {{"model", model},
                          {"dataset", "fashion-mnist test"},
                          {"images", test.value.count},
                          {"calibration_images", trainSet->count},
                          {"calibration_source", "first images of the fashion-mnist training split"},
                          {"results", results}};
    std::filesystem::create_directories(std::filesystem::path(out).parent_path());
    std::ofstream(out) << doc.dump(2) << "\n";
    std::fprintf(stderr, "wrote %s\n", out.c_str());
    return 0;
}

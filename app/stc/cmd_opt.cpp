// stc opt: run a pass pipeline on a Spike IR file. stc passes: list the passes.
#include "model_input.h"
#include "cli_args.h"
#include "commands.h"

#include "data/fashion_mnist.h"
#include "ir/ir_io.h"
#include "ir/printer.h"
#include "passes/calibration.h"
#include "passes/instruments.h"
#include "passes/runner.h"

#include <cstdio>
#include <memory>

namespace stc::cli {

namespace {

// Prints each pass's IR after it ran (MLIR's --print-after-all).
class PrintAfterInstrument : public passes::Instrument {
public:
    std::string name() const override { return "print-after-all"; }
    void afterPass(const passes::PassEvent& e, const ir::Module& m, passes::PassRecord&) override
    {
        std::fprintf(stderr, "// -----// IR Dump After %s (position %d) //----- //\n%s\n", e.entry.pass.c_str(),
                     e.entryIndex + 1, ir::printModule(m, {true}).c_str());
    }
};

void printDiagnostics(const Diagnostics& d, const std::string& pipelineText)
{
    for (const auto& item : d.items()) {
        std::fprintf(stderr, "%s\n", item.format().c_str());
        if (item.loc.file.empty() && item.loc.line == 1 && item.loc.col > 0 && !pipelineText.empty())
            std::fprintf(stderr, "  %s\n  %*s^\n", pipelineText.c_str(), item.loc.col - 1, "");
    }
}

} // namespace

int runOptCommand(const Args& argsIn)
{
    Args args = argsIn;
    const auto pipelineText = takeOption(args, "--pipeline", "-p");
    const auto out = takeOption(args, "--output", "-o");
    const auto reproDir = takeOption(args, "--reproducer-dir");
    const auto calib = takeOption(args, "--calibration");
    const bool printAfterAll = takeFlag(args, "--print-after-all");
    const bool timePasses = takeFlag(args, "--time-passes");
    const bool verifyEach = takeFlag(args, "--verify-each");
    const bool stats = takeFlag(args, "--stats");
    if (reportUnknownOptions(args, "opt"))
        return 2;
    if (args.size() != 1 || !pipelineText) {
        std::fprintf(stderr, "usage: stc opt IN.sir -p \"<pipeline>\" [-o OUT.sir] [--print-after-all] [--time-passes] "
                             "[--verify-each] [--stats] [--reproducer-dir DIR] [--calibration fashion-mnist[:N]]\n");
        return 2;
    }
    const passes::PassRegistry registry = passes::makeBuiltinRegistry();
    Diagnostics pd;
    auto pipeline = passes::parsePipeline(*pipelineText, registry, pd);
    if (!pipeline) {
        printDiagnostics(pd, *pipelineText);
        return 1;
    }
    ir::LoadResult in = ir::loadModule(args[0], sirLoadOptions());
    if (!in.ok()) {
        std::fprintf(stderr, "%s", in.diagnostics.format().c_str());
        return 1;
    }

    passes::CompileContext ctx;
    ctx.reproducerDir = reproDir.value_or("");
    if (calib) {
        const std::string name = calib->substr(0, calib->find(':'));
        const int64_t limit = calib->find(':') == std::string::npos ? 1000 : std::stoll(calib->substr(calib->find(':') + 1));
        if (name != "fashion-mnist") {
            std::fprintf(stderr, "stc opt: unknown calibration data set '%s' (known: fashion-mnist)\n", name.c_str());
            return 2;
        }
        auto calibration = fashionMnistCalibration("stc opt", limit);
        if (!calibration)
            return 1;
        ctx.calibration = std::move(*calibration);
    }
    auto timing = std::make_shared<passes::TimingInstrument>();
    auto statistics = std::make_shared<passes::StatisticsInstrument>();
    if (verifyEach)
        ctx.instruments.push_back(std::make_shared<passes::VerifyEachInstrument>(ctx.reproducerDir));
    if (printAfterAll)
        ctx.instruments.push_back(std::make_shared<PrintAfterInstrument>());
    if (timePasses)
        ctx.instruments.push_back(timing);
    if (stats)
        ctx.instruments.push_back(statistics);

    passes::RunResult r = passes::runPipeline(*in.module, *pipeline, registry, ctx);
    printDiagnostics(r.allDiagnostics(), *pipelineText);
    if (timePasses)
        std::fprintf(stderr, "%s", timing->report().c_str());
    if (stats)
        std::fprintf(stderr, "%s", statistics->report().c_str());
    if (!r.ok()) {
        for (const auto& rec : r.records)
            if (rec.status == passes::PassStatus::Failed || rec.status == passes::PassStatus::Cancelled)
                std::fprintf(stderr, "stc opt: pass %s (position %d) %s\n", rec.pass.c_str(), rec.entryIndex + 1,
                             passes::toString(rec.status));
        return 1;
    }
    if (!out) {
        std::printf("%s", ir::printModule(r.module).c_str());
        return 0;
    }
    Diagnostics saved = ir::saveModule(r.module, *out);
    if (saved.hasErrors()) {
        std::fprintf(stderr, "%s", saved.format().c_str());
        return 1;
    }
    return 0;
}

int runPassesCommand(const Args& argsIn)
{
    Args args = argsIn;
    if (reportUnknownOptions(args, "passes"))
        return 2;
    const passes::PassRegistry registry = passes::makeBuiltinRegistry();
    for (const auto& def : registry.passes()) {
        const passes::PassInfo& info = def.info;
        std::printf("%-16s %s%s\n", info.name.c_str(), info.description.c_str(),
                    info.kind == passes::PassKind::Analysis ? " [analysis]" : "");
        for (const auto& o : info.options) {
            std::string type = passes::toString(o.type);
            if (o.type == passes::OptionType::Enum) {
                type.clear();
                for (const auto& c : o.choices)
                    type += (type.empty() ? "" : "|") + c;
            }
            std::string range;
            if (o.min || o.max) {
                auto num = [&](double d) {
                    return o.type == passes::OptionType::Int ? std::to_string(int64_t(d))
                                                             : passes::formatOptionValue(d);
                };
                range = " in [" + (o.min ? num(*o.min) : std::string("-inf")) + ", " +
                        (o.max ? num(*o.max) : std::string("inf")) + "]";
            }
            std::printf("    %-20s %s = %s%s  %s\n", o.name.c_str(), type.c_str(),
                        passes::formatOptionValue(o.defaultValue).c_str(), range.c_str(), o.doc.c_str());
        }
        auto list = [](const std::vector<std::string>& v) {
            std::string s;
            for (const auto& x : v)
                s += (s.empty() ? "" : ", ") + x;
            return s;
        };
        if (!info.needs.empty())
            std::printf("    needs: %s\n", list(info.needs).c_str());
        if (!info.provides.empty())
            std::printf("    provides: %s\n", list(info.provides).c_str());
        if (!info.invalidates.empty())
            std::printf("    invalidates: %s\n", list(info.invalidates).c_str());
    }
    std::printf("\nproperties:\n");
    for (const auto& p : registry.properties())
        std::printf("  %-18s %s\n", p.name.c_str(), p.doc.c_str());
    std::printf("\npipeline syntax: pass{opt=value ...},-disabled-pass,...  e.g. "
                "\"fold-bn,fuse,quantize{bits=8 per-channel=true}\"\n");
    return 0;
}

} // namespace stc::cli

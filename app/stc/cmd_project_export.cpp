// stc project export: rebuilds the package of a recorded compile run and
// writes it with its provenance (provenance.json inside the package). The
// model file must still hash to the recorded SHA-256 and the chip descriptor
// must be the recorded one; the recompile must reproduce the recorded mapping
// and estimate. Anything else is refused and nothing is left behind.
#include "cli_args.h"
#include "compile_package.h"
#include "model_input.h"
#include "project_cli.h"

#include "store/provenance.h"
#include "target/chip_descriptor.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace stc::cli {

namespace {

constexpr const char* kUsage = "usage: stc project export FILE.stcproj --run COMPILE_RUN_ID -o OUT.stcpkg\n";

bool writeText(const std::string& path, const std::string& text)
{
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    return bool(f.flush());
}

int refuse(const std::string& why)
{
    std::fprintf(stderr, "stc project export: %s\n", why.c_str());
    return 1;
}

} // namespace

int runProjectExport(const Args& argsIn)
{
    Args args = argsIn;
    const auto runText = takeOption(args, "--run");
    const auto out = takeOption(args, "--output", "-o");
    if (reportUnknownOptions(args, "project export"))
        return 2;
    const auto runIds = runText ? parseIntList(*runText) : std::nullopt;
    if (args.size() != 1 || !out || !runIds || runIds->size() != 1 || (*runIds)[0] < 1) {
        std::fprintf(stderr, "%s", kUsage);
        return 2;
    }
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(*out, ec)))
        return refuse(*out + ": already exists; not overwritten");
    store::Provenance prov;
    try {
        const store::Project p = openProjectForReading(args[0], "stc project export");
        prov = store::provenanceOf(p, (*runIds)[0]);
        store::verifyModelFile(prov);
    } catch (const store::Error& e) {
        return refuse(e.what());
    }
    const target::DescriptorLoad chip = target::findChip(prov.chip);
    if (!chip.chip)
        return refuse("chip '" + prov.chip + "' of compile run " + std::to_string(prov.compileRunId) +
                      " is not available:\n" + chip.diagnostics.format());
    if (const std::string why = store::chipDescriptorMismatch(prov, chip.chip->sourceText); !why.empty())
        return refuse(why);

    const auto module = loadModelFile("stc project export", prov.model.path, prov.model.inputShape);
    if (!module)
        return refuse("the recorded model file no longer imports");
    PackageRequest request;
    request.chip = prov.chip;
    request.pipeline = prov.pipeline;
    if (auto it = prov.params.find("calibration"); it != prov.params.end())
        request.calibration = it->second;
    request.output = *out;
    const PackageOutcome done = compileToPackage("stc project export", *module, request);
    if (done.exitCode != 0) {
        std::filesystem::remove_all(*out, ec);
        return refuse("recompiling run " + std::to_string(prov.compileRunId) + " failed; nothing exported");
    }
    if (done.pipeline != prov.pipeline || !store::reproductionMismatch(prov, done.record).empty()) {
        std::filesystem::remove_all(*out, ec);
        const std::string diff = done.pipeline != prov.pipeline ? "pipeline '" + done.pipeline + "' instead of '" +
                                                                      prov.pipeline + "'"
                                                                : store::reproductionMismatch(prov, done.record);
        return refuse("the recompile did not reproduce compile run " + std::to_string(prov.compileRunId) + ": " +
                      diff + "; nothing exported");
    }
    const std::string provenancePath = (std::filesystem::path(*out) / "provenance.json").string();
    if (!writeText(provenancePath, store::provenanceJson(prov))) {
        std::filesystem::remove_all(*out, ec);
        return refuse(provenancePath + ": cannot write");
    }
    std::printf("exported    compile run %lld of %s\n", (long long)prov.compileRunId, prov.project.c_str());
    std::printf("model       %s (sha256 %s, verified)\n", prov.model.path.c_str(), prov.model.sha256.c_str());
    std::printf("chip        %s (descriptor sha256 %s)\n", prov.chip.c_str(),
                prov.chipSha256.empty() ? "not recorded: run predates schema 2" : prov.chipSha256.c_str());
    std::printf("pipeline    %s\n", prov.pipeline.c_str());
    std::printf("reproduced  %lld cores, %s, %s per inference (estimates, as recorded)\n",
                (long long)done.record.coresUsed, metricText(store::Metric::EnergyPj, done.record.energyPj).c_str(),
                metricText(store::Metric::LatencyNs, done.record.latencyNs).c_str());
    std::printf("package     %s (%zu core blobs) with provenance.json\n", out->c_str(), done.cores);
    return 0;
}

} // namespace stc::cli

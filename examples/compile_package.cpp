// Map a model onto a chip (partition / place / route as passes) and write a
// deployment package. docs/api-guide.md, "Compile: map and package".
//   example_compile_package MODEL.sir OUT.stcpkg
#include "ir/ir_io.h"
#include "passes/runner.h"
#include "target/backend.h"
#include "target/compile.h"
#include "target/cost_model.h"
#include "target/package.h"
#include "target/target_passes.h"

#include <cstdio>
#include <memory>
#include <string>

using namespace stc;

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: example_compile_package MODEL.sir OUT.stcpkg\n");
        return 2;
    }
    const ir::LoadResult loaded = ir::loadModule(argv[1]);
    if (!loaded.ok()) {
        std::fprintf(stderr, "%s", loaded.diagnostics.format().c_str());
        return 1;
    }

    // The mapping passes fill a TargetSession that the caller owns (shared
    // with the registry entries, so it outlives the run).
    auto session = std::make_shared<target::TargetSession>();
    passes::PassRegistry registry = passes::makeBuiltinRegistry();
    target::registerTargetPasses(registry, session);
    const std::string text = std::string(target::kDefaultCompilePipeline) +
                             ",partition{chip=loihi3 chips=1},place{seed=1},route";
    Diagnostics diags;
    const auto pipeline = passes::parsePipeline(text, registry, diags);
    if (!pipeline) {
        std::fprintf(stderr, "%s", diags.format().c_str());
        return 1;
    }
    passes::CompileContext ctx;
    ctx.target = "loihi3";
    const passes::RunResult run = passes::runPipeline(*loaded.module, *pipeline, registry, ctx);
    // Warnings and errors of every pass, located (here: loihi3 is a projection).
    std::printf("%s", run.allDiagnostics().format().c_str());
    if (!run.ok() || !session->routed) {
        std::fprintf(stderr, "compile failed: %s\n", passes::toString(run.status));
        return 1;
    }

    const target::ChipDescriptor& chip = *session->chip;
    const target::Network& net = session->network;
    const target::Mapping& mapping = session->mapping;
    std::printf("network: %zu populations, %lld neurons, %lld synapses, T = %lld\n", net.populations.size(),
                (long long)net.neuronCount(), (long long)net.synapseCount(), (long long)net.timesteps);
    std::printf("mapping: %zu cores on %d chip(s) of %s, fits: %s, %zu routes\n", mapping.cores.size(),
                mapping.chipsUsed, chip.id.c_str(), mapping.fits ? "yes" : "no", mapping.routes.size());
    for (const target::CoreAssignment& core : mapping.cores) {
        std::printf("  chip %d tile (%d,%d) core %d:", core.coord.chip, core.coord.tileX, core.coord.tileY,
                    core.coord.core);
        for (int32_t s : core.slices)
            std::printf(" %%%s[%lld]", net.populations[size_t(mapping.slices[size_t(s)].pop)].name.c_str(),
                        (long long)mapping.slices[size_t(s)].neurons());
        std::printf("  (binding %s %.0f %%)\n", target::toString(core.utilization.binding),
                    100 * core.utilization.bindingValue());
    }
    // The cost model's estimate (assumed firing rates; the simulator measures).
    const target::Estimate estimate = target::estimateCost(net, mapping, chip);
    std::printf("estimate: %.3f uJ, %.2f us per inference [ESTIMATE%s]\n", estimate.totalPj() * 1e-6,
                estimate.latencyNs * 1e-3, estimate.projectedChip ? ", PROJECTED" : "");

    // Encode and write the package directory (what `stc compile -o` writes for Loihi chips).
    std::string listing, error;
    if (!target::emitLoihiPackage(net, mapping, chip, text, argv[2], &listing, &error)) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    const std::optional<target::Package> package = target::readPackage(argv[2], &error);
    if (!package) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    std::printf("package: %s, %zu core blobs, %zu populations, %zu projections, weights %d bits\n",
                package->format.c_str(), package->cores.size(), package->populations.size(),
                package->projections.size(), package->weightBits);

    // The same in one call: compileModule runs the default pipeline plus
    // partition/place/route and builds the package in memory.
    target::CompileRequest request;
    request.chip = "loihi3";
    const target::CompileOutput one = target::compileModule(*loaded.module, request);
    std::printf("compileModule: %s, same package as written: %s\n", one.ok() ? "ok" : one.error.c_str(),
                one.ok() && one.package == *package ? "yes" : "no");
    return one.ok() && one.package == *package ? 0 : 1;
}

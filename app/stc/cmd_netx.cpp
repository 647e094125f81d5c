// stc export-netx: the lava-dl netx network description (docs/netx.md).
#include "cli_args.h"
#include "commands.h"
#include "model_input.h"

#include "interop/hdf5_tree.h"
#include "interop/netx_export.h"

#include <cstdio>

namespace stc::cli {

int runExportNetxCommand(const Args& argsIn)
{
    Args args = argsIn;
    const auto out = takeOption(args, "--output", "-o");
    const auto pipelineText = takeOption(args, "--pipeline", "-p");
    bool badShape = false;
    const auto inputShape = takeInputShape(args, "export-netx", badShape);
    if (badShape || reportUnknownOptions(args, "export-netx"))
        return 2;
    if (args.size() != 1 || !out) {
        std::fprintf(stderr, "usage: stc export-netx MODEL.sir|MODEL.pt -o OUT.net [-p PIPELINE] "
                             "[--input-shape 1,1,28,28]\n");
        return 2;
    }
    if (!interop::hdf5TreeAvailable()) {
        std::fprintf(stderr, "stc export-netx: lava-dl netx files are not available in this build: HDF5 not found "
                             "when it was configured (install libhdf5-dev and reconfigure)\n");
        return 1;
    }
    auto module = loadModelWithPipeline("stc export-netx", args[0], inputShape.value_or(std::vector<int64_t>{}),
                                        pipelineText);
    if (!module)
        return 1;
    interop::NetxExportResult r = interop::exportToNetx(*module);
    std::fprintf(stderr, "%s", r.diagnostics.format().c_str());
    if (!r.network) {
        std::fprintf(stderr, "stc export-netx: %zu op(s) netx cannot express; nothing written\n",
                     r.diagnostics.errorCount());
        return 1;
    }
    Diagnostics saved = interop::writeHdf5Tree(interop::netxToHdf5(*r.network), *out, "lava-dl netx");
    if (saved.hasErrors()) {
        std::fprintf(stderr, "%s", saved.format().c_str());
        return 1;
    }
    const interop::NetxNetwork& n = *r.network;
    std::printf("wrote %s: %zu netx layers (T = %lld)\n", out->c_str(), n.layers.size(),
                static_cast<long long>(n.timesteps));
    std::printf("  #  type     shape          weight scale  vThMant  iDecay vDecay  max weight rounding  from\n");
    for (size_t i = 0; i < n.layers.size(); ++i) {
        const interop::NetxLayer& l = n.layers[i];
        char th[16] = "-", id[16] = "-", vd[16] = "-";
        if (l.neuron) {
            std::snprintf(th, sizeof th, "%lld", static_cast<long long>(l.neuron->vThMant));
            std::snprintf(id, sizeof id, "%lld", static_cast<long long>(l.neuron->iDecay));
            std::snprintf(vd, sizeof vd, "%lld", static_cast<long long>(l.neuron->vDecay));
        }
        std::printf("  %-2zu %-8s %-14s %12.4g  %7s  %6s %6s  %19.3g  %s\n", i, l.type.c_str(),
                    ("[" + ir::shapeToString(l.shape) + "]").c_str(), l.scale, th, id, vd, l.weightRoundingError,
                    l.source.c_str());
    }
    std::printf("input: feed graded spikes round(x * 2^%lld) (hdf5.Network(..., input_message_bits=8))\n",
                static_cast<long long>(n.inputExp));
    std::printf("output: %s\n", n.readout.c_str());
    return 0;
}

} // namespace stc::cli

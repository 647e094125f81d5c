// stc — the Spike-Transformer Compiler command line. Thin: subcommands call core/.
#include "commands.h"
#include "crash_guard.h"
#include "mpi_session.h"
#include "plugin_host.h"

#include <QCoreApplication>
#include <cstdio>
#include <cstring>

namespace stc::cli {

const std::vector<Command>& allCommands()
{
    static const std::vector<Command> commands = {
        {"ir", "work with Spike IR text files (.sir)",
         "stc ir verify FILE.sir            check a file, print located errors\n"
         "stc ir print FILE.sir [--elide]   parse and print in canonical form\n"
         "stc ir run FILE.sir [--input FILE|--dataset fashion-mnist [--index N] [--limit N]] [--threads N]\n"
         "                   [--fixed-point] [--json]\n"
         "                                  run the f32 reference interpreter; a quantized module (or\n"
         "                                  --fixed-point) runs on the integer reference the chip simulator equals",
         runIrCommand},
        {"import", "import a TorchScript model (.pt) into Spike IR",
         "stc import MODEL.pt -o OUT.sir [--input-shape 1,1,28,28] [--timesteps T] [--verbose]", runImportCommand},
        {"inspect", "summarize a model: layers, shapes, parameters, neurons, synaptic ops",
         "stc inspect MODEL.pt|MODEL.sir [--input-shape ...]", runInspectCommand},
        {"opt", "run a pass pipeline over Spike IR",
         "stc opt IN.sir -p PIPELINE -o OUT.sir [--print-after-all] [--time-passes] [--verify-each] [--stats]",
         runOptCommand},
        {"passes", "list the registered passes with descriptions and options", "stc passes", runPassesCommand},
        {"compile", "compile a model for a neuromorphic chip into a deployment package",
         "stc compile MODEL.pt|MODEL.sir --chip loihi3 [--chips N] [-p PIPELINE] [--objective min-cores|balanced|latency]\n"
         "            [--seed S] [--calibration fashion-mnist[:N]] [--input-shape 1,1,28,28] -o OUT.stcpkg\n"
         "            [--project FILE.stcproj] [--time-passes]\n"
         "  --time-passes prints each pass's wall time, partition, place and route included\n"
         "  --calibration measures firing rates for the mapping and the energy estimate (without it they are assumed)",
         runCompileCommand},
        {"targets", "list the chips (descriptors) and backend plugins this stc can compile for",
         "stc targets [--json]\n"
         "  chips come from $STC_CHIP_PATH, <resources>/chips and the descriptors backend plugins ship;\n"
         "  `stc compile --chip ID` packages through the backend whose metadata lists ID",
         runTargetsCommand},
        {"sweep", "sweep bits x sparsity x T x threshold scale x chips: accuracy vs estimated energy, Pareto front",
         "stc sweep MODEL.pt|MODEL.sir [--bits 8,6,4] [--sparsity 0,0.25,0.5] [--timesteps 2,4] [--threshold-scale 1,1.25]\n"
         "          [--chips 1,2] [--strategy grid|random|halving] [--samples K] [--seed S] [--accuracy-budget A]\n"
         "          [--eta 2] [--first-images N] [--no-resume] [--chip loihi3|none] [--limit N] [--calibration N]\n"
         "          [--threads N] [--prune-mode magnitude|channel|head] [--input-shape 1,1,28,28] [--project OUT.stcproj]\n"
         "  random: K configurations drawn from the grid; halving: the lowest-energy one with top-1 >= A;\n"
         "  with --project, configurations measured there before are reused",
         runSweepCommand},
        {"advise", "propose pass options predicted to cut energy or latency at equal accuracy (fitted on a project's runs)",
         "stc advise FILE.stcproj [--objective energy|latency] [--tolerance PP] [--baseline RUN] [--proposals N]\n"
         "           [--apply K] [--threads N] [--calibration N] [--json]",
         runAdviseCommand},
        {"project", "project files: model versions, run history, compare, Pareto front, deploy tags, export with provenance",
         "stc project new FILE.stcproj [--name N] [--chip loihi3] [--notes TEXT] [--model MODEL.pt|MODEL.sir] [--input-shape 1,1,28,28]\n"
         "stc project add FILE.stcproj MODEL.pt|MODEL.sir [--input-shape 1,1,28,28]\n"
         "stc project info FILE.stcproj\n"
         "stc project runs FILE.stcproj [--kind compile|accuracy|simulation] [--sweep ID] [--limit N]\n"
         "stc project compare FILE.stcproj [--models ID,ID | --runs ID,ID,...] [--json]\n"
         "stc project pareto FILE.stcproj [--x energy] [--y accuracy] [--sweep ID]\n"
         "stc project export FILE.stcproj --run COMPILE_RUN_ID -o OUT.stcpkg\n"
         "stc project deploy FILE.stcproj --run COMPILE_RUN_ID [--tag deployed] [--note TEXT] [--remove]\n"
         "stc project tags FILE.stcproj [--run ID]",
         runProjectCommand},
        {"simulate", "run a deployment package in the bit-accurate simulator: outputs, accuracy, events, trace",
         "stc simulate PKG.stcpkg (--input FILE | --dataset fashion-mnist) [--limit N] [--trace OUT.bin]\n"
         "             [--threads N] [--schedule package|latency|throughput] [--json] [--project FILE [--run ID]]\n"
         "  under mpirun/srun, each rank simulates a slice of the data set and rank 0 reports the totals",
         runSimulateCommand},
        {"profile", "simulate a package and print its energy/latency ledger and bottlenecks",
         "stc profile PKG.stcpkg [--input FILE | --dataset fashion-mnist] [--limit N] [--mode latency|throughput]\n"
         "            [--rows N] [--json]",
         runProfileCommand},
        {"export-nir", "export a model to NIR (HDF5), the interchange format of snnTorch, Norse, Sinabs, Lava-DL, ...",
         "stc export-nir MODEL.sir|MODEL.pt -o OUT.nir [-p PIPELINE] [--dt SECONDS] [--input-shape 1,1,28,28]\n"
         "  -p runs passes first (e.g. \"fold-bn,canonicalize,dce\"); --dt is the seconds per time step (1e-4)",
         runExportNirCommand},
        {"import-nir", "import a NIR graph (HDF5) into Spike IR",
         "stc import-nir FILE.nir -o OUT.sir [--timesteps T] [--dt SECONDS]\n"
         "  T and dt default to the values stc wrote into the file; other tools' files need --timesteps",
         runImportNirCommand},
        {"export-netx", "export a model to lava-dl netx (HDF5), the network description lava-dl runs on Loihi",
         "stc export-netx MODEL.sir|MODEL.pt -o OUT.net [-p PIPELINE] [--input-shape 1,1,28,28]\n"
         "  -p runs passes first (e.g. \"fold-bn,canonicalize,dce\"); dense/conv + CUBA layers only (docs/netx.md)",
         runExportNetxCommand},
    };
    return commands;
}

} // namespace stc::cli

namespace {

void printHelp()
{
    std::printf("stc %s — Spike-Transformer Compiler\n\nusage: stc <command> [args]\n\ncommands:\n", STC_VERSION);
    for (const auto& c : stc::cli::allCommands())
        std::printf("  %-10s %s\n", c.name, c.summary);
    std::printf("\n`stc <command> --help` shows a command's usage.\n");
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv); // plugin lookup needs the executable path
    QCoreApplication::setApplicationName("stc");
    QCoreApplication::setApplicationVersion(STC_VERSION);
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
        printHelp();
        return argc < 2 ? 2 : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("stc %s (%s)\n", STC_VERSION,
                    stc::cli::MpiSession::builtWithMpi() ? "with MPI: mpirun -np N stc sweep ... splits sweeps"
                                                          : "without MPI");
        return 0;
    }
    for (const auto& c : stc::cli::allCommands()) {
        if (std::strcmp(argv[1], c.name) != 0)
            continue;
        stc::cli::Args args(argv + 2, argv + argc);
        for (const auto& a : args)
            if (a == "--help" || a == "-h") {
                std::printf("%s — %s\n\n%s\n", c.name, c.summary, c.usage);
                return 0;
            }
        // Descriptors shipped by backend plugins join the chip search path.
        stc::plugins::PluginHost::instance().registerChipDescriptors();
        const int code = c.run(args);
        stc::cli::endIsolatedChild(code); // a crash-isolated child ends here, without the teardown
        return code;
    }
    std::fprintf(stderr, "stc: unknown command '%s'\n\n", argv[1]);
    printHelp();
    return 2;
}

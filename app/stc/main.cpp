// stc — the Spike-Transformer Compiler command line. Thin: subcommands call core/.
#include "commands.h"

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
         "stc ir run FILE.sir [--input FILE|--dataset fashion-mnist --index N] [--batch B]\n"
         "                                  run the f32 reference interpreter",
         runIrCommand},
        {"import", "import a TorchScript model (.pt) into Spike IR",
         "stc import MODEL.pt -o OUT.sir [--input-shape 1,1,28,28] [--timesteps T]", runImportCommand},
        {"inspect", "summarize a model: layers, shapes, parameters, neurons, synaptic ops",
         "stc inspect MODEL.pt|MODEL.sir [--input-shape ...]", runInspectCommand},
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
        std::printf("stc %s\n", STC_VERSION);
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
        return c.run(args);
    }
    std::fprintf(stderr, "stc: unknown command '%s'\n\n", argv[1]);
    printHelp();
    return 2;
}

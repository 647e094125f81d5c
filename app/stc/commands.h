// Subcommands of `stc`. Each takes the arguments after its name and returns
// the process exit code (0 ok, 1 failure reported on stderr, 2 usage error).
#pragma once

#include <string>
#include <vector>

namespace stc::cli {

using Args = std::vector<std::string>;

struct Command {
    const char* name;
    const char* summary;
    const char* usage;
    int (*run)(const Args& args);
};

// Declared here, defined in cmd_*.cpp.
int runIrCommand(const Args& args);       // stc ir verify|print|run ...
int runImportCommand(const Args& args);   // stc import model.pt -o model.sir
int runInspectCommand(const Args& args);  // stc inspect model.pt|model.sir
int runOptCommand(const Args& args);      // stc opt in.sir -p PIPELINE -o out.sir
int runPassesCommand(const Args& args);   // stc passes
int runCompileCommand(const Args& args);  // stc compile model --chip loihi3 -o out.stcpkg
int runTargetsCommand(const Args& args);  // stc targets [--json]
int runAdviseCommand(const Args& args);   // stc advise p.stcproj [--apply 1]
int runSweepCommand(const Args& args);    // stc sweep model --bits 8,4 --sparsity 0,0.5 --project p.stcproj
int runProjectCommand(const Args& args);  // stc project info|runs|pareto p.stcproj
int runSimulateCommand(const Args& args); // stc simulate pkg --input FILE | --dataset fashion-mnist
int runProfileCommand(const Args& args);  // stc profile pkg [--json]
int runExportNirCommand(const Args& args); // stc export-nir model -o out.nir
int runImportNirCommand(const Args& args); // stc import-nir in.nir -o out.sir
int runExportNetxCommand(const Args& args); // stc export-netx model -o out.net

const std::vector<Command>& allCommands();

} // namespace stc::cli

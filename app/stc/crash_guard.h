// Crash isolation for the CLI's model imports.
//
// LibTorch 1.13 crashes on some damaged archives. The importer can guard its
// load itself (a probe load in a child process, then the real load: what the
// IDE uses, at the price of a second load, ≈ 0.4 s for a 9 M-parameter model).
// A CLI command instead forks once before the import: the child runs the rest
// of the command (import, compile, writing files) and the parent only waits,
// turning a child killed by a signal into a located error and passing any
// other exit status through. The importer then skips its probe.
#pragma once

#include <string>

namespace stc::cli {

// In the parent: never returns. In the child, returns true (the import may
// skip its own probe). Returns false when no isolation is possible or wanted
// (already isolated, under an MPI launcher, fork failed): the command goes on
// in this process as before. `reader` names what reads the file in the crash
// message ("LibTorch").
bool runRestIsolated(const std::string& command, const std::string& modelPath, const std::string& reader);

// The child says what it is doing, so that a crash report can name it
// (`runRestIsolated`'s parent reports the last stage). No-op elsewhere.
void reportImportStage(const std::string& what);
// The import finished; a crash from here on is reported as a bug in STC.
void reportImportDone();
// In a crash-isolated child: flushes the standard streams and exits with
// `code` at once. Destructors and plugin unloading (LibTorch's static
// destructors; ≈ 0.2 s after compiling a 9 M-parameter model) are skipped, as
// compilers do at exit: the process owns no file or lock they would release.
// No-op elsewhere.
void endIsolatedChild(int code);

} // namespace stc::cli

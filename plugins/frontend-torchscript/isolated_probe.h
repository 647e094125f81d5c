// Runs a risky check in a forked child process, so that a crash inside a
// library (LibTorch 1.13 crashes on some damaged archives, docs/reliability.md)
// becomes an error instead of killing the IDE or the CLI.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace stc::torchscript {

struct ProbeOutcome {
    enum class Kind {
        Passed,      // the probe returned 0
        Failed,      // the probe returned non-zero (it hit an ordinary, catchable error)
        Crashed,     // the child died from a signal (detail: which)
        TimedOut,    // killed after the timeout (e.g. a lock held in the parent at fork time)
        Unavailable, // fork() failed
    };
    Kind kind = Kind::Unavailable;
    std::string detail;
};

// `probe` runs in the child only; its return value is the child's exit code.
// The child's stdout and stderr go to /dev/null and it writes no core file.
ProbeOutcome runIsolated(const std::function<int()>& probe, std::chrono::milliseconds timeout);

} // namespace stc::torchscript

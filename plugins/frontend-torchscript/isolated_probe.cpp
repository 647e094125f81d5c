#include "isolated_probe.h"

#include <csignal>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace stc::torchscript {

ProbeOutcome runIsolated(const std::function<int()>& probe, std::chrono::milliseconds timeout)
{
    ProbeOutcome out;
    const pid_t pid = fork();
    if (pid < 0) {
        out.detail = std::strerror(errno);
        return out;
    }
    if (pid == 0) {
        const rlimit noCore{0, 0};
        setrlimit(RLIMIT_CORE, &noCore);
        if (const int null = open("/dev/null", O_WRONLY); null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        int code = 1;
        try {
            code = probe();
        } catch (...) {
            code = 1;
        }
        _exit(code); // no atexit handlers or static destructors of the parent's state
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds(200);
    int status = 0;
    for (;;) {
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            out.kind = ProbeOutcome::Kind::Unavailable;
            out.detail = std::strerror(errno);
            return out;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            out.kind = ProbeOutcome::Kind::TimedOut;
            return out;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(20000));
    }
    if (WIFSIGNALED(status)) {
        out.kind = ProbeOutcome::Kind::Crashed;
        const int sig = WTERMSIG(status);
        const char* name = sigabbrev_np(sig);
        out.detail = std::string("signal ") + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
        return out;
    }
    out.kind = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ProbeOutcome::Kind::Passed : ProbeOutcome::Kind::Failed;
    return out;
}

} // namespace stc::torchscript

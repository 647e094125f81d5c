#include "crash_guard.h"

#include "mpi_session.h"

#include "util/diagnostics.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace stc::cli {

namespace {

int stageFd = -1;      // the child's end of the stage pipe
bool isolated = false; // this process already runs under a guard

void sendLine(const std::string& line)
{
    if (stageFd < 0)
        return;
    std::string text = line;
    for (char& c : text)
        if (c == '\n')
            c = ' ';
    text += '\n';
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = write(stageFd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; // the parent is gone: PR_SET_PDEATHSIG ends this process
        done += size_t(n);
    }
}

std::string signalText(int sig)
{
    const char* name = sigabbrev_np(sig);
    return "signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
}

// The last complete line the child sent ("" when none).
std::string lastLine(const std::string& all)
{
    std::string last, line;
    for (char c : all) {
        if (c != '\n') {
            line += c;
            continue;
        }
        last = line;
        line.clear();
    }
    return last;
}

[[noreturn]] void waitAndExit(pid_t child, int fd, const std::string& command, const std::string& path,
                              const std::string& reader)
{
    std::string received;
    char buf[4096];
    for (;;) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0)
            received.append(buf, size_t(n));
        else if (n == 0 || errno != EINTR)
            break;
    }
    close(fd);
    int status = 0;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR)
            _exit(1);
    if (WIFEXITED(status))
        _exit(WEXITSTATUS(status));
    const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGPIPE || sig == SIGQUIT) {
        std::signal(sig, SIG_DFL); // the user (or a pipe) ended it: end the same way
        std::raise(sig);
        _exit(128 + sig);
    }
    const std::string last = lastLine(received);
    std::string message, file = path;
    if (last == "done") {
        message = command + " crashed (" + signalText(sig) + ") after importing the model; this is a bug in STC, " +
                  "please report it with the model. Files it was writing may be incomplete";
    } else if (last.empty() || last.starts_with("loading ")) {
        message = "the archive is damaged: " + reader + " crashed reading it (" + signalText(sig) +
                  ", in a separate process; nothing was written). Save the model again";
        if (!last.empty())
            file = last.substr(8); // a command that imports several models names the one it was loading
    } else {
        message = reader + " crashed while " + last + " (" + signalText(sig) +
                  ", in a separate process; nothing was written): the file may be damaged (save it again), " +
                  "otherwise please report it with the model";
    }
    if (sig == SIGKILL)
        message += " (SIGKILL: out of memory?)";
    std::fprintf(stderr, "%s\n", Diagnostic{Severity::Error, {file, 0, 0}, "", "", message}.format().c_str());
    _exit(1);
}

} // namespace

bool runRestIsolated(const std::string& command, const std::string& modelPath, const std::string& reader)
{
    if (isolated)
        return true;
    if (MpiSession::launchedByMpi())
        return false; // forking under MPI is not portable: the importer probes instead
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return false;
    std::fflush(stdout); // or buffered output would be written twice
    std::fflush(stderr);
    const pid_t parent = getpid();
    const pid_t child = fork();
    if (child < 0) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (child == 0) {
        close(fds[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL); // a killed parent (a test's timeout) ends the work too
        if (getppid() != parent)
            _exit(1);
        stageFd = fds[1];
        isolated = true;
        return true;
    }
    close(fds[1]);
    waitAndExit(child, fds[0], command, modelPath, reader);
}

void reportImportStage(const std::string& what) { sendLine(what); }

void reportImportDone() { sendLine("done"); }

void endIsolatedChild(int code)
{
    if (!isolated)
        return;
    std::cout.flush();
    std::cerr.flush();
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(code);
}

} // namespace stc::cli

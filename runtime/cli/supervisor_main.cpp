// runtime/cli/supervisor_main.cpp — berth-supervisor --socket PATH [--idle-exit SECONDS]: one
// per node, started by berthd when nothing answers on its socket, or by systemd's socket
// activation (berth-supervisor.socket passes the listening socket as fd 3). It creates and execs
// containers on the agent's behalf, so it is their parent: it reaps them, writes their exit
// records and drains their logs (runtime/supervisor.cpp). With --idle-exit it exits 0 once it has
// had nothing to supervise for that long (runtime/supervisor_idle.cpp); the next request starts
// a new one.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include "base/sd_listen.hpp"
#include "runtime/runtime.hpp"

namespace {

constexpr const char* usage = "usage: berth-supervisor --socket PATH [--idle-exit SECONDS]\n";

// Whole seconds, 0 .. a day: a typo must not become "never" or "at once".
bool parse_seconds(const std::string& text, long& out)
{
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
        text.size() > 6)
        return false;
    out = std::strtol(text.c_str(), nullptr, 10);
    return out <= 86400;
}

} // namespace

int main(int argc, char** argv)
{
    if (auto r = berth::runtime::reexec_protected(argv); !r) {
        std::fprintf(stderr, "berth-supervisor: %s\n", r.error().message().c_str());
        return 1;
    }
    berth::runtime::SupervisorSettings settings;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        long seconds = 0;
        if (arg == "--socket" && i + 1 < argc) {
            settings.socket_path = argv[++i];
        } else if (arg == "--idle-exit" && i + 1 < argc) {
            if (!parse_seconds(argv[++i], seconds)) {
                std::fprintf(stderr,
                             "berth-supervisor: --idle-exit %s is not a number of "
                             "seconds from 0 (never) to 86400\n",
                             argv[i]);
                return 2;
            }
            settings.idle_exit = std::chrono::seconds(seconds);
        } else {
            std::fputs(usage, stderr);
            return 2;
        }
    }
    if (settings.socket_path.empty()) {
        std::fprintf(stderr, "berth-supervisor: --socket is required\n");
        return 2;
    }
    // Socket activation: the listening socket is fd 3 (berth-supervisor.socket). Read before any
    // thread starts (it unsets LISTEN_*, so the containers never see them).
    auto passed = berth::notify::listen_fds();
    if (!passed || passed->size() > 1) {
        std::fprintf(stderr, "berth-supervisor: %s\n",
                     passed ? "expected one socket from the service manager (LISTEN_FDS)"
                            : passed.error().message().c_str());
        return 2;
    }
    if (passed->size() == 1)
        settings.inherited = std::move(passed->front());
    // A watcher (the agent) that went away must not kill us with SIGPIPE. umask 022: what we
    // make for containers (cgroups, mount points) gets the usual modes, and the socket is never
    // writable (connectable) by others between its bind and its chmod 0600.
    ::signal(SIGPIPE, SIG_IGN);
    ::umask(022);
    // Subreaper: what an exec'd process leaves behind (in a container without a pid namespace)
    // lands here instead of on pid 1, and is reaped here, never a zombie. SIGCHLD is blocked
    // before any thread starts so that it queues for the loop's signalfd (containers and hooks
    // reset their signal mask before exec).
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        std::perror("berth-supervisor: PR_SET_CHILD_SUBREAPER, continuing without");
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &chld, nullptr);
    auto r = berth::runtime::run_supervisor(std::move(settings));
    if (r)
        return 0; // left idle: nothing to supervise
    std::fprintf(stderr, "berth-supervisor: %s\n", r.error().message().c_str());
    return 1;
}

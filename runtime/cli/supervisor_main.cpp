// runtime/cli/supervisor_main.cpp — berth-supervisor --socket PATH: one per node, started once
// (by systemd or the agent's unit) and left running across agent restarts. It creates and execs
// containers on the agent's behalf, so it is their parent: it reaps them, writes their exit
// records and drains their logs (runtime/supervisor.cpp).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <cstdio>
#include <string>
#include "runtime/runtime.hpp"

int main(int argc, char** argv)
{
    if (auto r = berth::runtime::reexec_protected(argv); !r) {
        std::fprintf(stderr, "berth-supervisor: %s\n", r.error().message().c_str());
        return 1;
    }
    std::string socket;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--socket" && i + 1 < argc)
            socket = argv[++i];
        else {
            std::fprintf(stderr, "usage: berth-supervisor --socket PATH\n");
            return 2;
        }
    }
    if (socket.empty()) {
        std::fprintf(stderr, "berth-supervisor: --socket is required\n");
        return 2;
    }
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
    auto r = berth::runtime::run_supervisor(socket);
    std::fprintf(stderr, "berth-supervisor: %s\n", r ? "stopped" : r.error().message().c_str());
    return 1;
}

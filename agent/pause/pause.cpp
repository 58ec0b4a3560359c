// agent/pause/pause.cpp — berth-pause: the process that holds a pidMode "task" task's pid
// namespace. A pid namespace ends with its PID 1 (the kernel then SIGKILLs every process in it),
// so PID 1 must be a process that is none of the task's containers: this one, started by berthd
// as a runtime container of its own (agent/daemon/task_pid.cpp). It waits, reaps the orphans
// the kernel hands it as the namespace's init, and exits on SIGTERM or SIGINT. Linked statically
// (agent/pause/meson.build): it runs alone in an empty read-only rootfs.
#include <signal.h>
#include <sys/wait.h>
#include <initializer_list>

namespace {

// Never runs (the signals are blocked and taken by sigwait), but the kernel drops a signal to a
// pid namespace's init that has only the default action for it (but SIGKILL and SIGSTOP from
// outside the namespace): with a handler, SIGTERM from berthd or from a container counts.
void ignore(int /*signal*/)
{
}

} // namespace

int main()
{
    sigset_t wanted;
    ::sigemptyset(&wanted);
    for (const int sig : {SIGTERM, SIGINT, SIGCHLD}) {
        ::sigaddset(&wanted, sig);
        struct sigaction action {};
        action.sa_handler = ignore;
        ::sigaction(sig, &action, nullptr);
    }
    ::sigprocmask(SIG_BLOCK, &wanted, nullptr);
    for (;;) {
        int sig = 0;
        if (::sigwait(&wanted, &sig) != 0)
            continue;
        if (sig != SIGCHLD)
            return 0;
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
    }
}

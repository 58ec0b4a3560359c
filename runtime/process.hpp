// runtime/process.hpp — internal: processes the runtime starts, and the parent's side of the
// sync socket. A Child is held by pidfd so its pid cannot be recycled under us; until released
// it is killed and reaped when the Child goes away (a create that failed midway).
#pragma once
#include <sys/types.h>
#include "base/fd.hpp"
#include "base/result.hpp"
#include "runtime/child_plan.hpp"

namespace berth::runtime {

class Child {
public:
    Child() = default;
    Child(pid_t pid, Fd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
    Child(Child&& other) noexcept;
    Child& operator=(Child&& other) noexcept;
    ~Child();                              // still ours: SIGKILL and reap
    static Result<Child> adopt(pid_t pid); // pidfd_open

    pid_t pid() const { return pid_; }
    int pidfd() const { return pidfd_.get(); }
    bool valid() const { return pid_ > 0; }
    // The process lives on without us (a created container): nothing is killed or reaped.
    void release();
    // Like release, but hands over the pidfd instead of closing it: the new owner (a handle, the
    // supervisor) watches and reaps the process with no pidfd_open that could fail (EMFILE) and
    // leave it unwatched.
    Fd take_pidfd();
    // Waits for the exit (EINTR retried): the exit code, or 128+signal.
    Result<int> wait();
    Result<void> signal(int sig) const;

private:
    void kill_and_reap() noexcept;
    pid_t pid_ = 0;
    Fd pidfd_;
};

// Connects to the caller's console socket (runc's --console-socket): the pty master goes there.
Result<Fd> connect_console(const std::string& path);

Result<void> send_sync(int fd, SyncType type, int a = 0);
// Receives one message; EOF is an error "child exited during setup".
Result<SyncMessage> receive_sync(int fd);

// Waits for child to exit, sending it every signal read from signal_fd (the caller's signalfd;
// -1: none). A failure the child reports on sync (its exec failed) becomes the error; EOF there
// means the exec happened. Returns the exit code or 128+signal. program and cwd: what the child
// execs and where, named in the error (describe_process_failure).
Result<int> wait_foreground(Child& child, Fd& sync, std::string_view program, int signal_fd,
                            std::string_view cwd = "/");

// A failure the child reported while applying a ProcessPlan, naming what it failed on: the cwd
// for chdir ("chdir to cwd '/nonexist'"), the program for exec, the hook for startContainer.
Error describe_process_failure(const SyncMessage& m, std::string_view program,
                               std::string_view cwd);

// preserve_fds must fit this process's RLIMIT_NOFILE (and a fixed cap): 3 + count must not wrap,
// and marking the fds must not take forever. EINVAL naming the limit otherwise.
Result<void> check_preserve_fds(unsigned count);

// 128+signal or the exit code, as a shell reports it.
int decode_wait_status(int status);

} // namespace berth::runtime

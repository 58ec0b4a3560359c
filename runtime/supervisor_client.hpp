// runtime/supervisor_client.hpp — internal: the library's side of berth-supervisor's socket.
// One request per connection (SOCK_SEQPACKET): a JSON message plus the caller's stdio fds; the
// answer is JSON plus the process's pidfd and the read end of its exit pipe (SCM_RIGHTS).
#pragma once
#include <string>
#include "base/fd.hpp"
#include "runtime/runtime.hpp"

namespace berth::runtime {

struct Supervised {
    pid_t pid = 0;
    Fd pidfd;   // opened by the supervisor (the parent) before it reaped; invalid: gone
    Fd exit_fd; // readable (EOF) once the supervisor wrote the exit record, or died
};

Result<Supervised> supervised_create(const Options& options, const CreateOptions& co);
Result<Supervised> supervised_exec(const Options& options, const std::string& id,
                                   const ExecOptions& eo);
// The init (exec_pid 0) or an exec'd process of a container the supervisor is (or was) the
// parent of. Alive but started by a supervisor before it: re-adopted (exit_unknown at its end).
// Ended: the exit pipe comes back closed; the record is on disk or not at all. An exec_pid no
// supervisor exec'd there: ENOENT.
Result<Supervised> supervised_watch(const Options& options, const std::string& id,
                                    pid_t exec_pid = 0);

} // namespace berth::runtime

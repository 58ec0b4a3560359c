// runtime/seccomp.hpp — internal to runtime/: a validated Seccomp spec compiled to a classic BPF
// program in the parent, loaded in the child with one raw system call.
//
// The split keeps libseccomp (which allocates) out of the code between clone() and execve():
// compile_seccomp() runs in the parent; load_seccomp() is async-signal-safe.
#pragma once
#include <linux/filter.h>
#include <sys/types.h>
#include <string>
#include <vector>
#include "base/result.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

struct SeccompProgram {
    std::vector<struct sock_filter> filter;
    unsigned flags = 0;          // SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER)
    bool needs_listener = false; // SCMP_ACT_NOTIFY rules: loading returns a listener fd
};

// Builds the filter with libseccomp for the native architecture plus spec.architectures.
// Syscall names: a name libseccomp knows for some architecture is added (libseccomp skips the
// architectures that lack it); a name it knows for none is an Error naming it. runc instead
// skips unknown names with a warning; berth refuses them so a typo never silently allows or
// denies something. Rules whose action equals the default action are skipped (libseccomp
// refuses them, and they change nothing).
Result<SeccompProgram> compile_seccomp(const Seccomp& spec);

// Child side, async-signal-safe, no allocation: seccomp(SECCOMP_SET_MODE_FILTER, flags, prog).
// The caller must have set no_new_privs first (or hold CAP_SYS_ADMIN). Returns 0, or the
// listener fd when program.needs_listener, or -1 with errno set.
int load_seccomp(const SeccompProgram& program) noexcept;

// Parent side of linux.seccomp.listenerPath (runtime/seccomp_listener.cpp): after the child's
// SyncType::Seccomp message, receives the listener fd it sends next on sync_fd, sends it with
// the ContainerProcessState JSON to listenerPath, and answers SeccompDone.
Result<void> forward_seccomp_listener(int sync_fd, const Seccomp& seccomp, pid_t pid,
                                      const std::string& state_json);
// {"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"}: what runc sends.
std::string container_process_state(const Seccomp& seccomp, pid_t pid,
                                    const std::string& state_json);

} // namespace berth::runtime

// runtime/runtime.hpp — the only header other directories include from runtime/.
//
// runtime/ turns an OCI bundle into a running container with no other runtime underneath:
// namespaces, rootfs and mounts, process attributes, seccomp, capabilities, cgroups (through
// cgroups/), hooks, and the OCI lifecycle (creating -> created -> running -> stopped). State
// lives in <root>/<id>/state.json, written atomically, so any later process (the CLI's next
// verb, or a restarted agent calling recover()) sees every container this host has. The
// berth-runtime CLI calls the id-keyed verbs below; a long-lived daemon (the agent) uses the
// handles of runtime/handles.hpp (included at the end): Container, ProcessHandle, exit records,
// recover(), and berth-supervisor as the reaper (the reaping rule is written there). Runs as
// root on the host.
//
// Errors: one errno per condition on every verb, so callers branch on Error::code:
//   ENOENT  no container with that id (every verb that takes one);
//   EEXIST  create: the id is taken;
//   EBUSY   the verb does not apply in the container's status: start when not created, exec
//           and pause when not running, resume when not paused, kill when stopped, delete
//           without force when not stopped ("container is stopped, not running");
//   EINVAL  bad input: an invalid id, bundle or config.json, options that do not fit (a terminal
//           without a console socket, an fd to pass that is not open, too many fds).
// Anything else is a system call's own errno, passed through with context (EPERM, ENOSPC...).
// Verbs on one container are serialized by its lock (create, start, kill, pause, resume,
// delete); different containers may be handled from any number of threads at once. The
// library changes no process-wide state of its caller: no signal mask, dumpable or subreaper
// flag, cwd, umask or environment; and no fd of the caller reaches a container but the stdio
// and the fds it passes on purpose (preserve_fds, pass_fds).
#pragma once
#include <sys/types.h>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include "base/result.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

struct Options {
    std::string root = "/run/berth"; // state directory, as runc's --root
    bool systemd_cgroup = false;     // cgroupsPath is "slice:prefix:name" (runc's form)
    // berth's cgroup root: an empty or relative cgroupsPath is placed below it, and an absolute
    // one (or a systemd slice:prefix:name) must lie inside it, unless cgroups_outside_root is
    // set: a bundle pointing at "/system.slice" would otherwise put its limits on the host's
    // services. The CLI takes it from --cgroup-root, $BERTH_CGROUP_ROOT, or the subtree systemd
    // delegated to it (cgroups::own_delegated_root).
    std::string cgroup_root = "/berth";
    bool cgroups_outside_root = false;
    // fsync state.json and the frozen config.json (and their directory) at every write, so the
    // state survives power loss: for a state root on disk that must outlive a reboot (an agent's
    // records). Off for /run (tmpfs), where containers and state end together and each write
    // would cost two fsyncs (about 18 ms on the CI machine's disk).
    bool durable_state = false;
    // Failures that do not fail the call (a poststart or poststop hook that failed: the OCI
    // spec says "log a warning" and go on). The library never logs; it hands them here. Empty:
    // dropped.
    std::function<void(const Error&)> warn;
    // berth-supervisor's unix socket (runtime/supervisor/): Container::create and exec go through
    // it, so it is the parent and reaper of the container's processes and holds their logs.
    // Empty: in-process, the caller is the parent (the CLI). See handles.hpp, the reaping rule.
    std::string supervisor_socket;
    // Starts berth-supervisor when nothing answers there (it runs only while it has something to
    // supervise, runtime/supervisor_idle.cpp): a request whose connect fails with ENOENT or
    // ECONNREFUSED, or that was reset before the supervisor read it (it was leaving), calls this
    // and is sent once more. berthd passes its ensure_supervisor. Empty: the error is returned.
    std::function<Result<void>()> start_supervisor;
};

// Creating: create is still running (or died midway: then Stopped, and delete removes it).
enum class Status { Creating, Created, Running, Paused, Stopped };
std::string_view status_name(Status status); // "created", ... as runc prints them

// What `state` prints (OCI state plus runc's extra fields).
struct State {
    std::string oci_version;
    std::string id;
    Status status = Status::Stopped;
    pid_t pid = 0;      // 0 once stopped
    std::string bundle; // absolute
    std::string rootfs; // absolute
    std::chrono::system_clock::time_point created;
    std::string owner; // "" (root)
    std::map<std::string, std::string> annotations;
};
std::string state_to_json(const State& state); // OCI state JSON, as hooks get on stdin

struct CreateOptions {
    std::string id;
    std::string bundle = ".";
    std::string console_socket; // AF_UNIX path; the pty master is sent there (SCM_RIGHTS)
    std::string pid_file;
    bool no_pivot = false; // MS_MOVE + chroot instead of pivot_root (ramfs roots only)
    bool no_new_keyring = false;
    unsigned preserve_fds = 0; // fds 3..3+N-1 are passed to the container
    // More fds for the container, by mapping: pass_fds[i] becomes fd 3 + preserve_fds + i. No
    // other fd of the caller reaches the container (its stage closes all but these first).
    std::vector<int> pass_fds;
    // The container's stdio; -1 inherits the caller's (as runc does). For tests and the agent.
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
    // Supervised only: stdout/stderr go to pipes the supervisor drains into this file in
    // Docker's json-file format, rotated at log_max_bytes keeping log_max_files files. Empty:
    // the std*_fd above (passed to the supervisor) are used.
    std::string log_path;
    std::uint64_t log_max_bytes = std::uint64_t{10} * 1024 * 1024;
    unsigned log_max_files = 3;
    // Supervised only, instead of log_path: each line to journald (Docker's journald driver:
    // MESSAGE, PRIORITY 6/3, partial-line fields) with these "NAME=value" fields on every entry
    // (journald's field names: [A-Z0-9_], not starting with '_'). Never blocks the container:
    // what journald cannot take is buffered boundedly, then dropped and counted.
    bool log_journald = false;
    std::vector<std::string> log_fields;
    // run in the foreground: a signalfd of the caller's (which blocks those signals); each
    // signal read from it is sent to the container's init. The library never changes a signal
    // mask or the subreaper flag: that is the caller's (the CLI's) business.
    int signal_fd = -1;
};

// create: sets everything up and leaves the container's process waiting before exec.
Result<State> create(const Options& options, const CreateOptions& co);
// start: lets a created container exec its process; runs poststart hooks.
Result<void> start(const Options& options, const std::string& id);
// run = create + start; with detach=false, waits and returns the process's exit status
// (128+signal when killed), forwarding what co.signal_fd collects, and deletes the container.
Result<int> run(const Options& options, const CreateOptions& co, bool detach);
Result<State> state(const Options& options, const std::string& id);
Result<std::vector<State>> list(const Options& options);
// kill: sends sig to the init process, or to every process in the container with all=true.
Result<void> kill(const Options& options, const std::string& id, int sig, bool all);
// remove: refuses a running container unless force (then SIGKILL and wait); runs poststop
// hooks; removes the cgroup and state. Also cleans up what a failed create left behind. A
// cgroup berth adopted (it existed before create) keeps its other processes and directory:
// only the container's own processes are killed (all of its pid namespace; without one, the
// init and its descendants). Cgroups of other containers nested below are never touched.
Result<void> remove(const Options& options, const std::string& id, bool force);
Result<void> pause(const Options& options, const std::string& id);
Result<void> resume(const Options& options, const std::string& id);
Result<std::vector<pid_t>> processes(const Options& options, const std::string& id);
Result<cgroups::Stats> stats(const Options& options, const std::string& id);

struct ExecOptions {
    Process process;
    std::string console_socket;
    std::string pid_file;
    bool detach = false;
    unsigned preserve_fds = 0;
    std::vector<int> pass_fds;                         // as in CreateOptions
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1; // -1 inherits the caller's
    int signal_fd = -1; // foreground: signals read from it go to the process (CreateOptions)
};
// exec: runs another process inside a running container's namespaces, cgroup and security
// profile. Foreground: returns its exit status. Detached: returns 0 once it is exec'd.
Result<int> exec(const Options& options, const std::string& id, const ExecOptions& eo);

// The container's cgroup path, the one rule: the spec's linux.cgroupsPath (systemd form when
// options.systemd_cgroup) resolved against options.cgroup_root and checked to stay inside it.
// EPERM naming both paths when it is outside and that was not allowed; EINVAL for a bad path.
Result<std::string> cgroup_path_for(const Options& options, std::string_view cgroups_path,
                                    std::string_view id);
// The config.json frozen when the container was created (what exec's defaults come from).
Result<Spec> stored_config(const Options& options, const std::string& id);

// CVE-2019-5736 class defence: makes sure this process runs from a binary nothing can write,
// so that a container binary with "#!/proc/self/exe" cannot reach (and overwrite) the runtime on
// the host through /proc/<pid>/exe. Returns at once when the binary already is on a read-only
// mount (or a sealed memfd); otherwise copies it into a sealed memfd and re-executes that (runc
// and crun do the same), returning only on failure. Programs that create or enter containers
// call it first in main(). A long-lived caller (the agent) pays this once, at its start.
Result<void> reexec_protected(char** argv);
bool running_protected();
// berth-runtime's variant (runtime/exe_remap.cpp): the same protection without the second
// exec where it can: the binary's mappings are moved onto a detached read-only bind of it and
// /proc/self/exe pointed there (prctl PR_SET_MM_EXE_FILE); otherwise reexec_protected(argv).
// Call it first in main(), before any thread starts.
Result<void> protect_running_binary(char** argv);

} // namespace berth::runtime

#include "runtime/handles.hpp"

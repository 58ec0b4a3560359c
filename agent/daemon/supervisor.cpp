// agent/daemon/supervisor.cpp — berth-supervisor, the parent and reaper of every container,
// must outlive berthd (containers keep running and their exits keep being recorded while the
// agent is down). If nothing answers on its socket, berthd starts one: double-forked so it is
// nobody's child here, in a session of its own, stdio on /dev/null. Its pid goes to
// <runtime_dir>/supervisor.pid (tests and uninstall stop it by pid), then its start time and the
// boot id, so that a pid the kernel later gives to another process (another node's supervisor
// in a runtime dir that outlived a reboot or a crash) is never taken for it. The check-and-spawn
// runs under an flock on <runtime_dir>/supervisor.lock, so concurrent callers never start two. The
// forked child only calls async-signal-safe functions: this runs from any thread, whenever a
// request finds no supervisor (runtime::Options::start_supervisor). The supervisor exits when it
// has been idle for BERTH_SUPERVISOR_IDLE_EXIT, under the same lock (removing its socket and pid
// file first, runtime/supervisor_idle.cpp), so a check here never sees a half-gone one.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <cstring>
#include <filesystem>
#include <thread>
#include "agent/daemon/build_paths.hpp"
#include "agent/daemon/helper_binary.hpp"
#include "agent/daemon/internal.hpp"
#include "agent/daemon/proc_stats.hpp"
#include "base/fd.hpp"
#include "base/files.hpp"
#include "base/log.hpp"
#include "base/unix_datagram.hpp"

namespace berth::daemon {
namespace {

bool answers(const std::string& socket_path)
{
    const Fd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    const auto address = unix_path_address(socket_path);
    if (!s.valid() || !address)
        return false;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockaddr API
    return ::connect(s.get(), reinterpret_cast<const sockaddr*>(&address->addr), address->length) ==
           0;
}

std::string find_binary(const std::string& configured)
{
    if (!configured.empty())
        return configured;
    return find_helper_binary({"berth-supervisor"},
                              {BERTH_SUPERVISOR_INSTALL_PATH, BERTH_SUPERVISOR_BUILD_PATH});
}

// fork, setsid, fork again; the middle child writes the grandchild's pid to pid_fd and exits.
// The supervisor gets stdio on /dev/null and no other fd of berthd's: it is spawned whenever a
// request finds none, long after berthd opened its listeners, and Asio's sockets are not
// close-on-exec (a supervisor holding the API socket would keep the port bound after berthd
// exits, and a restarted berthd could not listen).
Result<void> spawn(const std::string& binary, const std::string& socket_path,
                   const std::string& idle_exit, int pid_fd)
{
    rlimit files{};
    const int max_fd = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < 65536
                           ? static_cast<int>(files.rlim_cur)
                           : 65536;
    const pid_t middle = ::fork();
    if (middle < 0)
        return Error::from_errno("fork");
    if (middle == 0) {
        ::setsid();
        const pid_t child = ::fork();
        if (child == 0) {
            sigset_t none; // berthd blocks SIGTERM/SIGINT for its sigwait; the supervisor must not
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            const int null = ::open("/dev/null", O_RDWR);
            ::dup2(null, 0);
            ::dup2(null, 1);
            ::dup2(null, 2);
            if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0) // before 5.9: one by one
                for (int fd = 3; fd < max_fd; ++fd)
                    ::close(fd);
            ::execl(binary.c_str(), binary.c_str(), "--socket", socket_path.c_str(), "--idle-exit",
                    idle_exit.c_str(), nullptr);
            ::_exit(127);
        }
        // No allocation after fork: other threads may exist (a re-spawn from rewatch).
        char text[16];
        std::size_t n = sizeof text;
        text[--n] = '\n';
        for (auto v = static_cast<unsigned long>(child > 0 ? child : 0); n > 0;) {
            text[--n] = static_cast<char>('0' + v % 10);
            v /= 10;
            if (v == 0)
                break;
        }
        (void)!::write(pid_fd, text + n, sizeof text - n);
        ::_exit(child > 0 ? 0 : 1);
    }
    int status = 0;
    ::waitpid(middle, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return Error::with_code(ECHILD, "spawn ", quoted(binary));
    return {};
}

std::string boot_id()
{
    auto text = read_file("/proc/sys/kernel/random/boot_id");
    return text ? std::string(trim(*text)) : std::string();
}

// A previous supervisor of this runtime dir that is still alive: its pid file names a live
// process called berth-supervisor that started when the file says, in this boot (a file
// without start time and boot id, from an older berthd, is checked by name only). It may be
// hung, but a second one must not start beside it.
std::optional<long> live_recorded(const Paths& paths)
{
    const auto text = read_file(paths.supervisor_pid());
    if (!text)
        return std::nullopt;
    const auto record = parse_pid_record(*text);
    if (!record)
        return std::nullopt;
    const long pid = record->pid;
    const auto comm = read_file(cat("/proc/", pid, "/comm"));
    if (!comm || comm->rfind("berth-superviso", 0) != 0) // comm is cut at 15 characters
        return std::nullopt;
    const auto stat = read_file(cat("/proc/", pid, "/stat"));
    const auto close = stat ? stat->rfind(") ") : std::string::npos;
    if (close == std::string::npos || stat->substr(close + 2, 1) == "Z")
        return std::nullopt;
    // The boot id is compared only when this boot's can be read: an unreadable one must not make
    // a live supervisor look gone (a second one would be started beside it).
    const std::string boot = record->start_time ? boot_id() : std::string();
    if (record->start_time && ((!boot.empty() && record->boot_id != boot) ||
                               proc_start_time(*stat) != record->start_time))
        return std::nullopt; // the pid was reused: the recorded supervisor is gone
    return pid;
}

// Adds the new supervisor's start time and the boot id to its pid file (the forked child could
// write only the pid: it must not allocate). Failing leaves the pid alone, checked by name.
void complete_pid_record(const Paths& paths)
{
    const auto text = read_file(paths.supervisor_pid());
    auto record = text ? parse_pid_record(*text) : std::nullopt;
    if (!record)
        return;
    const auto stat = read_file(cat("/proc/", record->pid, "/stat"));
    record->start_time = stat ? proc_start_time(*stat) : std::nullopt;
    record->boot_id = boot_id();
    if (!record->start_time || record->boot_id.empty())
        return;
    if (auto r = write_file_durable(paths.supervisor_pid(), pid_record_text(*record), 0600); !r)
        log::warn("cannot record berth-supervisor's start time, continuing",
                  {{"error", r.error().message()}});
}

} // namespace

Result<void> ensure_supervisor(const Options& options, const Paths& paths)
{
    const auto socket_path = paths.supervisor_socket();
    if (answers(socket_path))
        return {};
    // Exactly one supervisor per runtime dir: whoever holds this lock checks, spawns and waits
    // for the socket; a concurrent caller (another thread's rewatch, a second berthd) waits for
    // the lock and then finds the socket answering. flock locks the open file description, so
    // threads of one process exclude each other too; the lock goes with the fd (or a crash).
    const auto lock_path = paths.runtime_dir + "/supervisor.lock";
    const Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock.valid())
        return Error::from_errno("open ", quoted(lock_path));
    while (::flock(lock.get(), LOCK_EX) != 0)
        if (errno != EINTR)
            return Error::from_errno("flock ", quoted(lock_path));
    if (answers(socket_path))
        return {};
    if (const auto pid = live_recorded(paths))
        return Error::with_code(EBUSY, "berth-supervisor pid ", *pid, " is alive but does not ",
                                "answer on ", quoted(socket_path), ": not starting a second one");
    if (!options.spawn_supervisor)
        return Error::with_code(ECONNREFUSED, "berth-supervisor: nothing listens on ",
                                quoted(socket_path));
    const auto binary = find_binary(options.supervisor_binary);
    if (binary.empty())
        return Error::with_code(ENOENT, "berth-supervisor: not found next to berthd nor at ",
                                BERTH_SUPERVISOR_INSTALL_PATH);
    std::error_code ec;
    std::filesystem::remove(socket_path, ec); // a dead one's socket file
    const Fd pid_file(
        ::open(paths.supervisor_pid().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!pid_file.valid())
        return Error::from_errno("open ", quoted(paths.supervisor_pid()));
    // Whole seconds, rounded up ("500ms" is 1 s): 0 only when configured so (never).
    const auto idle = std::chrono::ceil<std::chrono::seconds>(options.config.supervisor_idle_exit);
    if (auto r = spawn(binary, socket_path, std::to_string(idle.count()), pid_file.get()); !r)
        return r;
    complete_pid_record(paths);
    for (int i = 0; i < 500; ++i) { // up to 5 s
        if (answers(socket_path)) {
            log::info("started berth-supervisor", {{"socket", socket_path}});
            return {};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Error::with_code(ETIMEDOUT, quoted(binary), " did not open ", quoted(socket_path));
}

Result<void> ensure_supervisor_in(const Options& options, const std::string& runtime_dir)
{
    return ensure_supervisor(options, Paths{"", runtime_dir});
}

} // namespace berth::daemon

// runtime/supervisor_internal.hpp — berth-supervisor's loop, shared by its two files:
// supervisor.cpp (requests, create, exec, reaping) and supervisor_watch.cpp (watchers, and the
// re-adoption of what a supervisor before this one started). Internal to runtime/.
#pragma once

#include <sys/types.h>
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <nlohmann/json.hpp>
#include "base/fd.hpp"
#include "base/result.hpp"
#include "runtime/log_pump.hpp"
#include "runtime/runtime.hpp"

namespace berth::runtime::supervisor_detail {

using nlohmann::json;

struct Watched {
    pid_t pid = 0;
    Fd pidfd;
    std::string record_path, cgroup_path;
    bool durable = false;
    std::vector<Fd> exit_writers;       // one per watcher: a byte, then closed, once recorded
    std::string init_of;                // the container id when this is its init
    std::uint64_t oom_kills_before = 0; // the cgroup's OOM kills when we took it on
    bool foreign = false;               // re-adopted after a restart: not our child, no waitid
    std::string marker_path;            // an exec'd process's exec-<pid>.json (exec_marker.hpp)
};

// Signals one watcher: readable at once, whoever else still holds the write end.
void notify(Fd& writer);
Result<std::array<Fd, 2>> make_pipe(int flags);
// True once the process behind pidfd has ended (it need not be our child).
bool has_ended(int pidfd);

// Where the supervisor listens and when it leaves (runtime/supervisor_idle.cpp).
struct Listening {
    std::string socket_path;
    bool activated = false; // the socket came from the service manager: never unlinked here
    std::chrono::seconds idle_exit{0};
    // Self-listening: the socket file bind() made. The path is renamed or unlinked only while
    // it is still this file (a socket unit started meanwhile may have bound its own there).
    dev_t socket_dev = 0;
    ino_t socket_ino = 0;
};

class Supervisor {
public:
    Supervisor(Fd listener, Listening listening)
        : listener_(std::move(listener)), listening_(std::move(listening))
    {
    }
    // Returns (success) only when it left idle (Listening::idle_exit).
    Result<void> run();

private:
    Result<void> add(int fd);
    void handle_connection(Fd conn);
    Result<std::pair<json, std::vector<Fd>>> serve(const json& request, std::vector<Fd>& fds);
    Result<std::pair<json, std::vector<Fd>>> serve_create(const json& request,
                                                          std::vector<Fd>& fds);
    Result<std::pair<json, std::vector<Fd>>> serve_exec(const json& request, std::vector<Fd>& fds);
    Result<std::pair<json, std::vector<Fd>>> serve_watch(const json& request);
    Result<std::pair<json, std::vector<Fd>>> watch_exec(const Options& options,
                                                        const std::string& id, pid_t pid);
    std::optional<Result<std::pair<json, std::vector<Fd>>>>
    watch_known(const std::string& record_path, std::array<Fd, 2>& exit_pipe);
    Result<std::pair<json, std::vector<Fd>>> adopt(pid_t pid, Fd pidfd, Watched w);
    Result<std::pair<json, std::vector<Fd>>> readopt(const std::string& id, Fd pidfd, Watched w);
    void reattach(const Options& options, const std::string& id, pid_t pid);
    void reap(int pidfd);
    void reap_orphans();
    // supervisor_idle.cpp: the idle exit.
    bool idle();
    int idle_timeout_ms();
    bool idle_check();
    bool leave();
    bool serve_backlog();
    void restore_socket_path();

    // Declared first so that it is closed last: held from the exit decision until every other
    // descriptor (the listener above all) is closed.
    Fd exit_lock_;
    Fd listener_, epoll_, sigchld_;
    Listening listening_;
    std::optional<std::chrono::steady_clock::time_point> idle_since_;
    std::map<int, Watched> watched_; // by pidfd
    LogPump pump_;
};

} // namespace berth::runtime::supervisor_detail

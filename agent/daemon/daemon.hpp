// agent/daemon/daemon.hpp — berthd's core: one event loop (Boost.Asio io_context on one thread)
// composing the task engine (agent/engine), the durable store (agent/store), images (image/),
// task networks (net/) and containers (runtime/, through berth-supervisor). It implements the
// API's ControlPlane: RunTask admits a task against the host's capacity, writes it to the store
// and drives an engine::Task; every engine snapshot is persisted before the actions it returned
// are performed. Blocking library calls (pull, rootfs mount, create/start/exec/remove, net
// add/remove) run on a two-thread worker pool (pulls and image leases on a pool of their own)
// and come back to the loop as engine events; a
// container's exit is an asio wait on its ProcessHandle::wait_fd(). No thread per container.
// open() restores what a previous berthd left: unfinished tasks from the store, containers
// re-adopted through runtime::recover(), task networks through net recover(). Destroying the
// Daemon leaves every task running (berthd stops; containers do not). Runs as root on the host.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include "agent/api/api.hpp"
#include "agent/config/config.hpp"
#include "agent/daemon/reload.hpp"
#include "base/result.hpp"

namespace berth::daemon {

struct Options {
    config::Config config;
    // berth-supervisor is spawned (detached, own session) when nothing listens on
    // <runtime_dir>/supervisor.sock; false: it must already run.
    bool spawn_supervisor = true;
    std::string supervisor_binary; // "" : next to /proc/self/exe, else the build-time path
    std::string account_id = "000000000000";
    // api::load_metadata_key()'s key: every container gets ECS_CONTAINER_METADATA_URI_V4 (and
    // _URI) with its id under it, and 169.254.170.2 is DNATed to config.metadata_listen.
    // Empty: neither (tests that serve no metadata).
    std::string metadata_key;
    // Called on the loop once the node is idle again (every task STOPPED, no removal under way),
    // a second after it became so: berthd returns its freed heap then (agent/berthd/memory.cpp).
    // Empty: nothing is called.
    std::function<void()> on_idle;
};

class Daemon : public api::ControlPlane {
public:
    // Opens the store, image store, network and runtime under the configured directories,
    // makes sure berth-supervisor runs, and restores the tasks a previous berthd left.
    static Result<std::unique_ptr<Daemon>> open(Options options);
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    ~Daemon() override; // stop(); tasks keep running

    // Runs the loop on the calling thread until stop() (which any thread may call).
    void run();
    void stop();
    api::NodeInfo node_info() const; // what the introspection server shows (/v1/metadata)

    // berthd's systemd side (watchdog.cpp, reload.cpp, drain.cpp). Every `interval`, a no-op
    // goes through the container worker pool; when it is back on the loop, alive(tasks RUNNING,
    // tasks unfinished) runs there. A stuck loop or pool stops the calls (the watchdog's cue).
    void start_heartbeat(std::chrono::milliseconds interval,
                         std::function<void(std::size_t, std::size_t)> alive);
    // Applies the live keys of `fresh` (reload.hpp) on the loop; says which changed keys were
    // applied and which need a restart. Any thread.
    Result<ReloadPlan> reconfigure(const config::Config& fresh);
    // Stops every task, cleans each up once STOPPED, then makes run() return. Any thread.
    void drain();

    Result<api::RunTaskResult> run_task(const api::RunTaskRequest& request) override;
    Result<std::optional<store::Task>> stop_task(const api::StopTaskRequest& request) override;
    Result<std::vector<store::Task>> describe_tasks(const std::string& cluster,
                                                    const std::vector<std::string>& arns) override;
    Result<std::vector<store::Task>> list_tasks(const store::TaskFilter& filter) override;
    // metadata_detail.cpp: ImageID and lifecycle times; one statistics sample (its file reads
    // on the calling thread).
    Result<std::vector<api::ContainerDetail>>
    container_details(const std::string& task_arn) override;
    Result<std::optional<api::ContainerSample>>
    container_sample(const std::string& task_arn, const std::string& container) override;

    struct Impl;

private:
    explicit Daemon(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace berth::daemon

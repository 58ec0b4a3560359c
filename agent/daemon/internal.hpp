// agent/daemon/internal.hpp — the Daemon's state, shared by its .cpp files. Everything here is
// owned by the loop thread except what the comments say: workers get copies or shared_ptrs, and
// net::Network (not thread-safe) is used under network_mutex.
#pragma once
#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <string>
#include <vector>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include "agent/daemon/daemon.hpp"
#include "agent/daemon/lifecycle.hpp"
#include "agent/daemon/page_resource.hpp"
#include "agent/daemon/pure.hpp"
#include "agent/engine/pulls.hpp"
#include "image/image.hpp"
#include "runtime/runtime.hpp"

namespace berth::daemon {

namespace asio = boost::asio;

struct ContainerRuntime {
    std::string runtime_id;
    std::optional<image::ImageRecord> image{};
    std::shared_ptr<runtime::Container> container{};         // shared with workers (start, exec)
    std::unique_ptr<asio::posix::stream_descriptor> watch{}; // the init's wait_fd (a dup)
    bool leased = false;
};

struct TaskEntry {
    store::Task record;
    taskdef::TaskDefinition def;
    std::optional<engine::Task> engine;
    std::optional<net::TaskInfo> network;
    std::vector<ContainerRuntime> containers; // in def.containers order
    std::unique_ptr<asio::system_timer> timer;
    bool stored = false; // the store holds this record and engine snapshot (the last persist)
};

// A STOPPED task waiting out its cleanup wait (ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION, 3 h by
// default), kept as this compact record instead of its TaskEntry (about 8 kB of heap each; see
// stopped.cpp). Everything else of it (statuses, exit codes, times, containers' names and
// runtime ids) is in the store, whose engine_state stays non-empty until the cleanup is done.
// Allocated from Impl::stopped_pool only (the allocator travels with each string and vector),
// on pages of their own (page_resource.hpp), never among the loop's other allocations.
struct StoppedContainer {
    std::pmr::string image_id; // the metadata endpoint's ImageID ("": never pulled)
    bool made = false;         // the runtime had it: /stats samples its cgroup until removal
    bool leased = false;       // its image lease is released by the cleanup
};
struct StoppedTask {
    engine::Time cleanup_at{};
    bool own_netns = false; // bridge or awsvpc: /stats shows the task netns's counters
    std::pmr::vector<StoppedContainer> containers; // in the record's containers order
};

// A finished task's container still to remove (cleanup.cpp): the runtime's container, then its
// kept rootfs (only once the container is gone), its bundle and logs, then its image lease.
struct Leftover {
    std::string runtime_id;
    std::shared_ptr<runtime::Container> container{}; // null: removed by id (ENOENT is done)
    bool leased = false;
    std::string log_path, bundle_dir;
    bool done = false;
};

// A finished task whose removal has not completed. Its last engine snapshot stays in the store
// (engine_state not empty) until every Leftover is gone, so a crash in between resumes the
// cleanup at restore (the engine's Cleanup timer is then already due).
struct Cleanup {
    store::Task record;
    std::vector<Leftover> containers;
    int attempts = 0;
    std::unique_ptr<asio::system_timer> retry{};
};

struct Paths {
    std::string state_dir, runtime_dir;
    std::string db() const { return state_dir + "/berth.db"; }
    std::string images() const { return state_dir + "/images"; }
    std::string logs() const { return state_dir + "/logs"; }
    std::string volumes() const { return state_dir + "/volumes"; }
    std::string net() const { return runtime_dir + "/net"; }
    std::string containers() const { return runtime_dir + "/containers"; }
    std::string bundles() const { return runtime_dir + "/bundles"; }
    std::string tasks() const { return runtime_dir + "/tasks"; } // task_ipc.hpp
    std::string supervisor_socket() const { return runtime_dir + "/supervisor.sock"; }
    std::string supervisor_pid() const { return runtime_dir + "/supervisor.pid"; }
};

// pull_options.cpp: BERTH_REGISTRY_CA_FILE readable. An unreadable one would fail every pull
// from the registries it is for, task by task: start and reload refuse it instead.
Result<void> check_registry_files(const config::Config& config);

// supervisor.cpp: berth-supervisor answers on its socket, spawned if need be.
Result<void> ensure_supervisor(const Options& options, const Paths& paths);

struct Daemon::Impl {
    Impl(Options o, Paths p, store::Store s, image::Store i, net::Network n, runtime::Options r,
         engine::HostCapacity capacity)
        : options(std::move(o)), paths(std::move(p)), store(std::move(s)), images(std::move(i)),
          network(std::move(n)), rt(std::move(r)), ledger(std::move(capacity))
    {
        // On demand (it exits when idle): any thread may need it, one spawn at a time.
        rt.start_supervisor = [this]() -> Result<void> {
            const std::lock_guard lock(supervisor_mutex);
            return ensure_supervisor(options, paths);
        };
    }
    Options options;
    Paths paths;
    store::Store store;
    image::Store images;
    net::Network network;
    std::mutex network_mutex;    // workers call network under it
    std::mutex supervisor_mutex; // ensure_supervisor from workers (rewatch)
    runtime::Options rt;
    engine::Ledger ledger;
    engine::PullQueue pulls{2};
    api::NodeInfo node;
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    asio::thread_pool workers{2}; // container steps, task networks, housekeeping
    // Health probes have their own lane: a probe may hang up to its timeout (60 s), and a few
    // hanging ones on `workers` would hold up every create and start and the watchdog's
    // heartbeat (watchdog.cpp), which then kills a healthy berthd.
    asio::thread_pool probe_workers{2};
    // Pulls have their own threads: two slow pulls must not hold up every create, start,
    // remove and probe of every task. Image leases (they take the image store's gc lock, which
    // a cleanup on a worker may hold for long) run there too, in order, on one strand: never on
    // the loop, and a container's release never overtakes its take.
    asio::thread_pool pull_workers{2};
    asio::strand<asio::thread_pool::executor_type> lease_strand{
        asio::make_strand(pull_workers.get_executor())};
    // Image cleanup's own lane (one thread): a long gc (it walks and deletes snapshots) must
    // never hold a container worker while creates, starts and removals wait.
    asio::thread_pool cleanup_worker{1};
    std::map<std::string, std::unique_ptr<TaskEntry>> tasks;  // unfinished, by ARN
    std::map<std::string, std::unique_ptr<Cleanup>> cleanups; // finished, being removed
    // STOPPED tasks waiting for their cleanup, compact (stopped.cpp); by ARN. The pool (small
    // blocks only: a larger one comes straight from the pages) goes back to the system whenever
    // the last of them leaves. Declared in this order: the map is destroyed first.
    PageResource stopped_pages;
    std::pmr::unsynchronized_pool_resource stopped_pool{{0, 512}, &stopped_pages};
    std::pmr::map<std::pmr::string, StoppedTask, std::less<>> stopped_tasks{&stopped_pool};
    std::unique_ptr<asio::system_timer> stopped_timer;               // at the earliest cleanup_at
    std::unique_ptr<asio::system_timer> firewall_timer, image_timer; // housekeeping.cpp
    std::unique_ptr<asio::steady_timer> idle_timer;                  // idle.cpp: a relative settle
    Lifecycle lifecycle; // watchdog.cpp, reload.cpp, drain.cpp: berthd's systemd side
    // housekeeping.cpp: readable on any nftables commit (net::RulesetWatch), so a firewall
    // reload is repaired at once; the 5 s poll stays as the fallback.
    std::optional<net::RulesetWatch> ruleset_watch;
    std::unique_ptr<asio::posix::stream_descriptor> ruleset_events;

    // Runs work on a worker; its result comes back to done on the loop.
    template <class Work, class Done>
    void offload(Work work, Done done)
    {
        offload_on(workers.get_executor(), std::move(work), std::move(done));
    }
    template <class Executor, class Work, class Done>
    void offload_on(const Executor& executor, Work work, Done done)
    {
        asio::post(executor, [this, work = std::move(work), done = std::move(done)]() mutable {
            auto result = std::make_shared<decltype(work())>(work());
            asio::post(io,
                       [result, done = std::move(done)]() mutable { done(std::move(*result)); });
        });
    }
    // Image leases, off the loop, in order (see lease_strand); a failure is logged.
    void take_lease(const std::string& name, const std::string& reference);
    void release_lease(const std::string& name);
    // Runs f on the loop and waits for its answer (the API's io thread).
    template <class T>
    Result<T> on_loop(std::function<Result<T>()> f);

    // drive.cpp: engine calls, persistence, timers.
    TaskEntry* find(const std::string& arn);
    void apply(TaskEntry& task, const std::vector<engine::Action>& actions);
    void deliver(const std::string& arn, const engine::Event& event);
    Result<void> persist(TaskEntry& task); // the engine snapshot and record to the store
    // A STOPPED task's reservation, pull waits and never-used image leases (idempotent).
    void release_holds(TaskEntry& task);
    void arm_timer(TaskEntry& task);
    // actions.cpp
    void perform(TaskEntry& task, const engine::Action& action);
    void provision(TaskEntry& task);
    void deprovision(TaskEntry& task);
    // Removes a task network and task cgroup the engine does not know it has (a late Provision
    // answer).
    void undo_provision(const std::string& arn);
    void start_pull(const std::string& image);
    // containers.cpp
    void container_action(TaskEntry& task, std::size_t index, const engine::Action& action);
    void create(TaskEntry& task, std::size_t index);
    void start(TaskEntry& task, std::size_t index);
    void probe(TaskEntry& task, std::size_t index, engine::Duration timeout);
    void remove(TaskEntry& task, std::size_t index);
    // Removes a container (and its kept rootfs) no task holds any more (a late Create answer,
    // or one found at restore that no stored task owns).
    void discard(const std::shared_ptr<runtime::Container>& container);
    // cleanup.cpp: a finished task's containers removed, retried until they are, then the
    // task written finished (engine_state "") and forgotten.
    void begin_cleanup(TaskEntry& task);
    void run_cleanup(const std::string& arn);
    void finish_cleanup(const std::string& arn); // writes it finished, once its leases are gone
    void retry_cleanup(Cleanup& job);
    // stopped.cpp: a STOPPED task with nothing left in flight becomes a StoppedTask (posted by
    // apply(): its caller may still hold the entry); its cleanup starts at cleanup_at (or now,
    // when draining) from the store's record.
    void compact(const std::string& arn);
    void arm_stopped_timer();
    void clean_up_stopped(engine::Time now, bool all);
    void begin_stopped_cleanup(const std::string& arn);
    Leftover leftover_of(const TaskEntry& task, std::size_t index) const;
    void watch_exit(TaskEntry& task, std::size_t index);
    // A live container whose supervisor died: a new one watches it (Container::load).
    void rewatch(const std::string& arn, std::size_t index);
    // idle.cpp: whether every task is STOPPED and no removal runs; if so, options.on_idle is
    // (re)scheduled a settle time from now.
    bool idle() const;
    void note_if_idle();
    // control.cpp
    Result<api::RunTaskResult> admit(const api::RunTaskRequest& request);
    Result<std::optional<store::Task>> stop(const api::StopTaskRequest& request);
    std::unique_ptr<TaskEntry> new_task(const api::RunTaskRequest& request,
                                        const taskdef::TaskDefinition& def);
    // idempotency.cpp: the answer of an earlier RunTask with this clientToken (nullopt: none,
    // or expired), or ConflictException (EEXIST, bad_input) for another request.
    std::optional<Result<api::RunTaskResult>> replay(const api::RunTaskRequest& request);
    // housekeeping.cpp: periodic firewall-reload repair and image cleanup, armed after restore.
    void start_housekeeping();
    void arm_firewall_check();
    void arm_ruleset_watch();
    void check_firewall(std::function<void()> then);
    void arm_image_cleanup();
    // watchdog.cpp, reload.cpp, drain.cpp
    void beat();
    ReloadPlan reconfigure(const config::Config& fresh);
    void begin_drain();
    void drain_step();
    void settle_then_stop();
    // restore.cpp
    Result<void> restore();
    Result<std::unique_ptr<TaskEntry>> entry_for(store::Task record);
    // What no unfinished task owns: containers, then pidMode/ipcMode task namespaces, then task
    // cgroups (both by task id), on one worker.
    void remove_unowned(const std::vector<Leftover>& containers,
                        const std::vector<std::string>& task_namespaces,
                        const std::vector<std::string>& task_cgroups);
};

// How long a RunTask clientToken is remembered (idempotency.cpp says why 24 hours). Expired
// tokens are deleted with the next token written (Store::put_new_tasks) and at each start.
inline constexpr std::int64_t client_token_lifetime_s = std::int64_t{24} * 3600;

engine::Time now_ms();
std::int64_t now_s();
// The metadata endpoint's ImageID of an image's config digest ("sha256:..." added if bare).
std::string image_id(const std::string& config_digest);

// The ControlPlane's hand-over (control.cpp, metadata_detail.cpp): f runs on the loop, the
// calling thread (the API's or the metadata server's) waits for its answer, at most 30 s.
template <class T>
Result<T> Daemon::Impl::on_loop(std::function<Result<T>()> f)
{
    constexpr auto answer_timeout = std::chrono::seconds(30);
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto answer = promise->get_future();
    asio::post(io, [promise, f = std::move(f)] { promise->set_value(f()); });
    // Waited for in slices: once the loop has stopped (berthd shutting down) the call is never
    // answered, and an API or metadata thread waiting the full 30 s would stall the joins in
    // main() for as long.
    const auto deadline = std::chrono::steady_clock::now() + answer_timeout;
    while (answer.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
        if (io.stopped())
            return Error::with_code(ECANCELED, "berthd is stopping");
        if (std::chrono::steady_clock::now() >= deadline)
            return Error::with_code(ETIMEDOUT, "the task engine did not answer within 30 s");
    }
    return answer.get();
}

} // namespace berth::daemon

#define BOOST_TEST_MODULE daemon
// agent/daemon's pure pieces: RunTask overrides, the engine state as stored JSON, a task
// definition as the engine spec, admission demand and task cgroup limits, and the store record
// refreshed from the engine's state (statuses, exit codes, timestamps, networkBindings).
#include <stdlib.h>
#include <filesystem>
#include <fstream>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "agent/daemon/pure.hpp"
#include "base/strings.hpp"

using namespace berth;
using namespace berth::daemon;
using nlohmann::json;

namespace {

// The failure text of a Result, "" for a success (Boost evaluates messages eagerly).
template <class R>
std::string why(const R& r)
{
    return r ? std::string() : r.error().message();
}

taskdef::TaskDefinition definition()
{
    auto def = taskdef::parse_task_definition_text(R"({
        "family": "web", "networkMode": "bridge",
        "containerDefinitions": [
          {"name": "app", "image": "busybox", "memory": 128, "cpu": 256,
           "command": ["httpd"], "environment": [{"name": "A", "value": "1"}],
           "portMappings": [{"containerPort": 80, "hostPort": 0},
                            {"containerPort": 53, "hostPort": 5353, "protocol": "udp"}],
           "stopTimeout": 5},
          {"name": "side", "image": "busybox", "memoryReservation": 32, "essential": false,
           "dependsOn": [{"containerName": "app", "condition": "START"}]}]})");
    BOOST_TEST_REQUIRE(def.has_value(), why(def));
    return *def;
}

} // namespace

BOOST_AUTO_TEST_SUITE(overrides)

BOOST_AUTO_TEST_CASE(container_overrides_replace_command_and_merge_environment_by_name)
{
    auto def = definition();
    auto r = apply_overrides(def, R"({"containerOverrides": [{"name": "app",
        "command": ["sleep", "1"], "environment": [{"name": "A", "value": "2"},
        {"name": "B", "value": "3"}], "memory": 256, "cpu": 512}], "memory": "1024"})");
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    const auto& app = def.containers[0];
    BOOST_TEST((app.command == std::vector<std::string>{"sleep", "1"}));
    BOOST_TEST(app.environment.size() == 2U);
    BOOST_TEST(app.environment[0].value == "2");
    BOOST_TEST(app.environment[1].name == "B");
    BOOST_TEST(*app.memory == 256);
    BOOST_TEST(*app.cpu == 512);
    BOOST_TEST(*def.memory == 1024);
}

BOOST_AUTO_TEST_CASE(unsupported_overrides_are_refused_by_name)
{
    auto def = definition();
    auto r = apply_overrides(def, R"({"taskRoleArn": "arn:aws:iam::1:role/x"})");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().bad_input);
    BOOST_TEST(r.error().message() == "overrides.taskRoleArn: not supported by berth");
    r = apply_overrides(def,
                        R"({"containerOverrides": [{"name": "app", "environmentFiles": []}]})");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message() ==
               "overrides.containerOverrides[0].environmentFiles: not supported by berth");
}

BOOST_AUTO_TEST_CASE(an_override_naming_no_container_or_with_a_bad_value_is_refused)
{
    auto def = definition();
    auto r = apply_overrides(def, R"({"containerOverrides": [{"name": "nope"}]})");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message().find("\"nope\" is no container") != std::string::npos);
    r = apply_overrides(def, R"({"containerOverrides": [{"name": "app", "memory": "lots"}]})");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message().find("overrides.containerOverrides[0].memory") == 0U);
    r = apply_overrides(def, "[]");
    BOOST_TEST(!r.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(create_options_of_a_container)

BOOST_AUTO_TEST_CASE(log_max_size_and_max_file_reach_the_runtime_create_options)
{
    auto def = taskdef::parse_task_definition_text(R"({
        "family": "logs", "containerDefinitions": [
          {"name": "app", "image": "busybox", "memory": 16, "logConfiguration":
            {"logDriver": "json-file", "options": {"max-size": "1k", "max-file": "2"}}},
          {"name": "plain", "image": "busybox", "memory": 16}]})");
    BOOST_TEST_REQUIRE(def.has_value(), why(def));
    auto co = create_options(*def, "app", "t1-app", "/b/t1-app", "/logs/t1/app.log");
    BOOST_TEST_REQUIRE(co.has_value(), why(co));
    BOOST_TEST(co->id == "t1-app");
    BOOST_TEST(co->bundle == "/b/t1-app");
    BOOST_TEST(co->log_path == "/logs/t1/app.log");
    BOOST_TEST(co->log_max_bytes == 1024u);
    BOOST_TEST(co->log_max_files == 2u);
    // Without logConfiguration the runtime's defaults stay.
    co = create_options(*def, "plain", "t1-plain", "/b", "/l");
    BOOST_TEST_REQUIRE(co.has_value(), why(co));
    const runtime::CreateOptions defaults;
    BOOST_TEST(co->log_max_bytes == defaults.log_max_bytes);
    BOOST_TEST(co->log_max_files == defaults.log_max_files);
    co = create_options(*def, "nope", "x", "/b", "/l");
    BOOST_TEST_REQUIRE(!co.has_value());
    BOOST_TEST(co.error().message().find("'nope'") != std::string::npos, co.error().message());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(conversions)

BOOST_AUTO_TEST_CASE(the_engine_state_reads_back_as_it_was_written)
{
    engine::TaskState s;
    s.known = engine::TaskStatus::Running;
    s.desired = engine::TaskStatus::Stopped;
    s.stop_code = engine::StopCode::UserInitiated;
    s.stopped_reason = "bye \"now\"";
    s.provisioned = true;
    s.stopped_at = engine::Time(1234);
    engine::ContainerState c;
    c.known = engine::ContainerStatus::Stopped;
    c.exit_code = 137;
    c.reason = "killed";
    c.health = engine::HealthStatus::Unhealthy;
    c.started_at = engine::Time(99);
    c.failed_probes = 2;
    c.exists = true;
    s.containers = {c, engine::ContainerState{}};
    auto back = state_from_json(state_to_json(s));
    BOOST_TEST_REQUIRE(back.has_value(), why(back));
    BOOST_TEST(state_to_json(*back) == state_to_json(s));
    BOOST_TEST(back->containers[0].exit_code.value_or(0) == 137);
    BOOST_TEST(!back->containers[1].exit_code.has_value());
}

BOOST_AUTO_TEST_CASE(a_damaged_engine_state_is_an_error_naming_the_field)
{
    BOOST_TEST(!state_from_json("").has_value());
    auto r = state_from_json(R"({"known": 99, "desired": 0, "stop_code": 0, "containers": []})");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message().find("known") != std::string::npos);
    r = state_from_json(R"({"known": 0, "desired": 0, "stop_code": 0})");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message().find("containers") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_definition_becomes_the_engine_spec_and_its_demand)
{
    const auto def = definition();
    config::Config config;
    const auto spec = task_spec(def, "arn:aws:ecs:r:1:task/c/abc", config);
    BOOST_TEST(spec.containers.size() == 2U);
    BOOST_TEST(!spec.containers[1].essential);
    BOOST_TEST(spec.containers[1].depends_on.at(0).container == "app");
    BOOST_TEST(spec.containers[0].stop_timeout->count() == 5000);
    BOOST_TEST(spec.cleanup_wait.count() == config.task_cleanup_wait.count());
    const auto demand = task_demand(def);
    BOOST_TEST(demand.memory_mib == 160U); // 128 hard + 32 reservation
    BOOST_TEST(demand.cpu_units == 256U);
    BOOST_TEST(demand.tcp_ports.empty()); // dynamic
    BOOST_TEST((demand.udp_ports == std::vector<std::uint16_t>{5353}));
    const auto ports = port_mappings(def);
    BOOST_TEST(ports.size() == 2U);
    BOOST_TEST(ports[0].host_port == 0);
    BOOST_TEST(task_id_of("arn:aws:ecs:r:1:task/c/abc") == "abc");
    BOOST_TEST(runtime_id_of("arn:aws:ecs:r:1:task/c/abc", "app") == "abc-app");
}

// Audit 17, gap 5: task-level cpu and memory are limits of the task's own cgroup, as the ECS
// agent sets them (ECS_ENABLE_TASK_CPU_MEM_LIMIT), not only admission figures.
BOOST_AUTO_TEST_CASE(task_cpu_and_memory_become_the_limits_of_the_tasks_cgroup)
{
    auto def = definition();                             // containers: app (cpu 256), side (no cpu)
    BOOST_TEST(!task_cgroup_resources(def).has_value()); // no task cpu/memory: no task cgroup

    def.memory = 512;
    auto only_memory = task_cgroup_resources(def);
    BOOST_TEST_REQUIRE(only_memory.has_value());
    BOOST_TEST_REQUIRE(only_memory->memory.has_value());
    BOOST_TEST((only_memory->memory->limit == std::int64_t{512} * 1024 * 1024));
    BOOST_TEST_REQUIRE(only_memory->cpu.has_value());
    // No task cpu: the weight its containers had side by side (256 + the minimum 2), no quota.
    BOOST_TEST((only_memory->cpu->shares == std::optional<std::uint64_t>(258U)));
    BOOST_TEST(!only_memory->cpu->quota.has_value());

    def.cpu = 512; // half a CPU: 50 ms of every 100 ms
    auto both = task_cgroup_resources(def);
    BOOST_TEST_REQUIRE(both.has_value());
    BOOST_TEST((both->cpu->quota == std::optional<std::int64_t>(50000)));
    BOOST_TEST((both->cpu->period == std::optional<std::uint64_t>(100000U)));
    BOOST_TEST(!both->cpu->shares.has_value());
    BOOST_TEST((both->memory->limit == std::int64_t{512} * 1024 * 1024));

    def.memory.reset();
    def.cpu = 196608; // the largest task cpu (192 vCPU): 192 CPUs' worth of each period
    auto only_cpu = task_cgroup_resources(def);
    BOOST_TEST_REQUIRE(only_cpu.has_value());
    BOOST_TEST(!only_cpu->memory.has_value());
    BOOST_TEST((only_cpu->cpu->quota == std::optional<std::int64_t>(19200000)));
    def.cpu = 128; // the smallest: 12.5 ms, above the kernel's 1 ms minimum quota
    BOOST_TEST((task_cgroup_resources(def)->cpu->quota == std::optional<std::int64_t>(12500)));
}

BOOST_AUTO_TEST_CASE(the_record_follows_the_engine_state_and_keeps_first_timestamps)
{
    store::Task record;
    record.containers.resize(2);
    engine::TaskState s;
    s.known = engine::TaskStatus::Running;
    s.containers.resize(2);
    s.containers[0].known = engine::ContainerStatus::Running;
    update_record(record, s, 100);
    BOOST_TEST(record.last_status == "RUNNING");
    BOOST_TEST(record.started_at == 100);
    BOOST_TEST(record.containers[0].last_status == "RUNNING");
    BOOST_TEST(record.containers[1].last_status == "PENDING");
    s.known = engine::TaskStatus::Stopped;
    s.desired = engine::TaskStatus::Stopped;
    s.stop_code = engine::StopCode::EssentialContainerExited;
    s.containers[0].known = engine::ContainerStatus::Stopped;
    s.containers[0].exit_code = 3;
    update_record(record, s, 200);
    BOOST_TEST(record.started_at == 100);
    BOOST_TEST(record.stopped_at == 200);
    BOOST_TEST(record.stopping_at == 200);
    BOOST_TEST(record.stop_code == "EssentialContainerExited");
    BOOST_TEST(record.containers[0].exit_code.value_or(0) == 3);
}

BOOST_AUTO_TEST_CASE(network_bindings_show_the_host_ports_net_chose)
{
    const auto def = definition();
    net::PortMapping tcp{80, 61005, net::Protocol::Tcp, ""};
    net::PortMapping udp{53, 5353, net::Protocol::Udp, ""};
    const auto bindings = json::parse(network_bindings_json(def.containers[0], {tcp, udp}));
    BOOST_TEST_REQUIRE(bindings.size() == 2U);
    BOOST_TEST(bindings[0]["hostPort"] == 61005);
    BOOST_TEST(bindings[0]["protocol"] == "tcp");
    BOOST_TEST(bindings[1]["protocol"] == "udp");
    BOOST_TEST(bindings[0]["bindIP"] == "0.0.0.0");
    const auto interfaces = json::parse(network_interfaces_json("abc", "10.213.0.5"));
    BOOST_TEST(interfaces[0]["privateIpv4Address"] == "10.213.0.5");
}

BOOST_AUTO_TEST_CASE(an_exit_the_supervisor_could_not_learn_is_137_not_success)
{
    runtime::ExitRecord unknown;
    unknown.exit_unknown = true; // exit_code 0, signal 0: status() would say success
    unknown.finished_ns = 1'700'000'000'000'000'000; // a re-adopting supervisor saw it end
    const auto report = exit_report(unknown);
    BOOST_TEST(report.code == 137);
    BOOST_TEST(report.reason == "exit status unknown (its supervisor was restarted)");
    // Issue 17: ended while no supervisor ran (finished_ns 0): the reason says so, not a restart.
    unknown.finished_ns = 0;
    BOOST_TEST(exit_report(unknown).code == 137);
    BOOST_TEST(exit_report(unknown).reason ==
               "exit status unknown (no supervisor was running when it ended)");

    runtime::ExitRecord killed;
    killed.signal = 9;
    killed.oom_killed = true;
    BOOST_TEST(exit_report(killed).code == 137);
    BOOST_TEST(exit_report(killed).reason.find("OutOfMemoryError") == 0U);

    // Issue 17: re-adopted by a restarted supervisor (or ended with none) and its cgroup counted
    // an OOM kill: still OutOfMemoryError, not "unknown".
    runtime::ExitRecord unknown_oom;
    unknown_oom.exit_unknown = true;
    unknown_oom.oom_killed = true;
    BOOST_TEST(exit_report(unknown_oom).code == 137);
    BOOST_TEST(exit_report(unknown_oom).reason ==
               "OutOfMemoryError: Container killed due to memory usage");

    runtime::ExitRecord ok;
    ok.exit_code = 3;
    BOOST_TEST(exit_report(ok).code == 3);
    BOOST_TEST(exit_report(ok).reason.empty());
}

BOOST_AUTO_TEST_CASE(answers_the_engine_timed_out_are_told_from_timely_ones)
{
    using engine::EventKind;
    const auto spec = task_spec(definition(), "arn:aws:ecs:r:1:task/c/abc", config::Config{});
    const engine::Time t0{1'000'000};
    const engine::Time late = t0 + std::chrono::hours(24); // past every action's deadline
    auto ev = [](EventKind kind, std::string container = {}) {
        return engine::Event{kind, std::move(container), 0, false, {}};
    };

    // Provision timed out, then its answer: the engine ignores it, the daemon undoes it.
    auto a = engine::Task::create(spec);
    BOOST_TEST_REQUIRE(a.has_value(), why(a));
    (void)a->begin(t0);
    (void)a->on_timer(late);
    (void)a->handle(ev(EventKind::Provisioned), late);
    BOOST_TEST(late_provisioned(a->state()));

    // Timely Provisioned and Created; Start timed out, then Started.
    auto b = engine::Task::create(spec);
    BOOST_TEST_REQUIRE(b.has_value(), why(b));
    (void)b->begin(t0);
    (void)b->handle(ev(EventKind::Provisioned), t0);
    BOOST_TEST(!late_provisioned(b->state()));
    (void)b->handle(ev(EventKind::PullDone, "app"), t0);
    (void)b->handle(ev(EventKind::PullDone, "side"), t0);
    (void)b->handle(ev(EventKind::Created, "app"), t0);
    BOOST_TEST(!late_created(b->state(), 0));
    (void)b->on_timer(late);
    (void)b->handle(ev(EventKind::Started, "app"), late);
    BOOST_TEST(late_started(b->state(), 0));

    // Create timed out, then Created; and a timely Started is not late.
    auto c = engine::Task::create(spec);
    BOOST_TEST_REQUIRE(c.has_value(), why(c));
    (void)c->begin(t0);
    (void)c->handle(ev(EventKind::Provisioned), t0);
    (void)c->handle(ev(EventKind::PullDone, "app"), t0);
    (void)c->handle(ev(EventKind::PullDone, "side"), t0);
    (void)c->on_timer(late);
    (void)c->handle(ev(EventKind::Created, "app"), late);
    BOOST_TEST(late_created(c->state(), 0));

    auto d = engine::Task::create(spec);
    BOOST_TEST_REQUIRE(d.has_value(), why(d));
    (void)d->begin(t0);
    (void)d->handle(ev(EventKind::Provisioned), t0);
    (void)d->handle(ev(EventKind::PullDone, "app"), t0);
    (void)d->handle(ev(EventKind::PullDone, "side"), t0);
    (void)d->handle(ev(EventKind::Created, "app"), t0);
    (void)d->handle(ev(EventKind::Started, "app"), t0);
    BOOST_TEST(!late_started(d->state(), 0));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(one_container_port_mapped_to_two_host_ports_reports_each_binding)
{
    taskdef::ContainerDefinition web;
    web.name = "web";
    taskdef::PortMapping dynamic;
    dynamic.container_port = 80;
    taskdef::PortMapping fixed;
    fixed.container_port = 80;
    fixed.host_port = 8080;
    web.port_mappings = {dynamic, fixed};
    net::PortMapping first{80, 61007, net::Protocol::Tcp, ""};
    net::PortMapping second{80, 8080, net::Protocol::Tcp, ""};
    const auto bindings = json::parse(network_bindings_json(web, {first, second}));
    BOOST_TEST_REQUIRE(bindings.size() == 2U, bindings.dump());
    BOOST_TEST(bindings[0]["hostPort"] == 61007);
    BOOST_TEST(bindings[1]["hostPort"] == 8080);
    // Out of order (not net's order): still each its own, paired by the fixed host port.
    const auto unordered = json::parse(network_bindings_json(
        web, {second, first, net::PortMapping{53, 53, net::Protocol::Udp, ""}}));
    BOOST_TEST_REQUIRE(unordered.size() == 2U, unordered.dump());
    BOOST_TEST(unordered[0]["hostPort"] == 61007);
    BOOST_TEST(unordered[1]["hostPort"] == 8080);
}

BOOST_AUTO_TEST_SUITE(task_logs)

BOOST_AUTO_TEST_CASE(a_log_and_every_rotated_file_of_it_are_recognised_by_name)
{
    BOOST_TEST(is_log_file_of("app.log", "app.log"));
    BOOST_TEST(is_log_file_of("app.log.1", "app.log"));
    BOOST_TEST(is_log_file_of("app.log.9", "app.log"));
    BOOST_TEST(is_log_file_of("app.log.10", "app.log"));
    BOOST_TEST(is_log_file_of("app.log.999", "app.log"));
    BOOST_TEST(!is_log_file_of("app.log.", "app.log"));
    BOOST_TEST(!is_log_file_of("app.log.1x", "app.log"));
    BOOST_TEST(!is_log_file_of("app.logx", "app.log"));
    BOOST_TEST(!is_log_file_of("app.log.tmp", "app.log"));
    BOOST_TEST(!is_log_file_of("side.log", "app.log"));
    BOOST_TEST(!is_log_file_of("app.lo", "app.log"));
}

BOOST_AUTO_TEST_CASE(removing_a_containers_logs_removes_its_rotated_files_past_nine_only)
{
    char base_template[] = "/tmp/berth-daemon-logs-XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(base_template) != nullptr);
    const std::string base = base_template;
    const std::string task_dir = base + "/task-1";
    std::filesystem::create_directories(task_dir);
    const auto touch = [](const std::string& path) { std::ofstream(path) << "x\n"; };
    touch(task_dir + "/app.log");
    touch(task_dir + "/side.log");
    for (int i = 1; i < 20; ++i)
        touch(cat(task_dir, "/app.log.", i));

    remove_logs(task_dir + "/app.log");
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::directory_iterator(task_dir))
        left.push_back(e.path().filename().string());
    BOOST_TEST((left == std::vector<std::string>{"side.log"}), "other container's log kept");

    remove_logs(task_dir + "/side.log"); // the directory is the task cleanup's to remove
    BOOST_TEST(std::filesystem::is_empty(task_dir));
    std::filesystem::remove_all(base);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(namespace_fields)

BOOST_AUTO_TEST_CASE(a_pid_mode_task_pause_id_is_never_a_containers_runtime_id)
{
    const std::string task = "0123456789abcdef0123456789abcdef";
    BOOST_TEST(pause_id_of(task) == task + ".pause");
    BOOST_TEST(task_of_pause(pause_id_of(task)) == task);
    // Every container's runtime id, even of a container named "pause", is not a pause's.
    BOOST_TEST(
        task_of_pause(runtime_id_of("arn:aws:ecs:local:0:task/default/" + task, "pause")).empty());
    BOOST_TEST(task_of_pause(".pause").empty());
    BOOST_TEST(task_of_pause(task).empty());
}

// Issue 17: at restore, of the child cgroups of berthd's cgroup root only task cgroups of tasks
// no longer unfinished are removed: never a container's, a pause's, nor a name berthd never made.
BOOST_AUTO_TEST_CASE(only_task_cgroups_of_no_unfinished_task_are_stale)
{
    const std::string gone = "0123456789abcdef0123456789abcdef";
    const std::string kept = "fedcba9876543210fedcba9876543210";
    const std::string arn = "arn:aws:ecs:local:0:task/default/" + gone;
    BOOST_TEST(is_task_id(gone));
    BOOST_TEST(is_task_id(task_id_of(arn)));
    BOOST_TEST(!is_task_id(runtime_id_of(arn, "web")));
    BOOST_TEST(!is_task_id(pause_id_of(gone)));
    BOOST_TEST(!is_task_id("0123456789ABCDEF0123456789ABCDEF")); // not RunTask's shape
    BOOST_TEST(!is_task_id(gone.substr(1)));
    BOOST_TEST(!is_task_id("agent"));
    const std::vector<std::string> children = {
        gone,    kept,     runtime_id_of(arn, "web"), pause_id_of(gone), pause_id_of(kept),
        "agent", "stray-1"};
    BOOST_TEST((stale_task_cgroups(children, {kept}) == std::vector<std::string>{gone}));
    BOOST_TEST(stale_task_cgroups(children, {kept, gone}).empty());
    BOOST_TEST(stale_task_cgroups({}, {}).empty());
}

BOOST_AUTO_TEST_CASE(a_task_wants_an_init_when_any_container_enables_it)
{
    auto def = definition();
    BOOST_TEST(!wants_init(def));
    def.containers[1].linux_parameters.emplace();
    BOOST_TEST(!wants_init(def)); // linuxParameters without initProcessEnabled
    def.containers[1].linux_parameters->init_process_enabled = false;
    BOOST_TEST(!wants_init(def));
    def.containers[1].linux_parameters->init_process_enabled = true;
    BOOST_TEST(wants_init(def));
    BOOST_TEST(!wants_init(def.containers[0]));
    BOOST_TEST(wants_init(def.containers[1]));
    const auto detail = missing_init_detail("/opt/tini");
    BOOST_TEST(detail.find("initProcessEnabled") != std::string::npos, detail);
    BOOST_TEST(detail.find("/opt/tini") != std::string::npos, detail);
    BOOST_TEST(detail.find("BERTH_INIT_PATH") != std::string::npos, detail);
}

BOOST_AUTO_TEST_SUITE_END()

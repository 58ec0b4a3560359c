// agent/daemon/reload.cpp — SIGHUP: the configuration read again and what is safe applied on the
// loop. plan_reload compares key by key; Daemon::reconfigure applies the live keys: the log level
// (base/log), image cleanup (its timer re-armed with the new interval, or left to lapse when
// disabled), and the values copied into every TaskSpec made from then on (timeouts, cleanup
// wait); BERTH_INIT_PATH for RunTasks and creates from then on; the registry keys for pulls
// started from then on. Tasks already running keep the values they started with, as across a
// restart.
#include "agent/daemon/reload.hpp"
#include <cerrno>
#include <future>
#include <utility>
#include "agent/daemon/internal.hpp"
#include "base/log.hpp"

namespace berth::daemon {
namespace {

using config::Config;

struct KeyRule {
    std::string_view name;
    bool live;
    bool (*same)(const Config& a, const Config& b);
};

bool same_range(const std::optional<config::PortRange>& a,
                const std::optional<config::PortRange>& b)
{
    if (a.has_value() != b.has_value())
        return false;
    return !a || (a->first == b->first && a->last == b->last);
}

// One row per key of config::known_keys(); `live` says whether reload applies it.
const std::vector<KeyRule>& rules()
{
    // clang-format off
    static const std::vector<KeyRule> table = {
        {"ECS_CLUSTER", false, [](const Config& a, const Config& b) { return a.cluster == b.cluster; }},
        {"ECS_DYNAMIC_HOST_PORT_RANGE", false, [](const Config& a, const Config& b) { return same_range(a.dynamic_host_port_range, b.dynamic_host_port_range); }},
        {"ECS_RESERVED_PORTS", false, [](const Config& a, const Config& b) { return a.reserved_ports == b.reserved_ports; }},
        {"ECS_RESERVED_PORTS_UDP", false, [](const Config& a, const Config& b) { return a.reserved_ports_udp == b.reserved_ports_udp; }},
        {"ECS_RESERVED_MEMORY", false, [](const Config& a, const Config& b) { return a.reserved_memory_mib == b.reserved_memory_mib; }},
        {"ECS_CONTAINER_STOP_TIMEOUT", true, [](const Config& a, const Config& b) { return a.container_stop_timeout == b.container_stop_timeout; }},
        {"ECS_CONTAINER_START_TIMEOUT", true, [](const Config& a, const Config& b) { return a.container_start_timeout == b.container_start_timeout; }},
        {"ECS_CONTAINER_CREATE_TIMEOUT", true, [](const Config& a, const Config& b) { return a.container_create_timeout == b.container_create_timeout; }},
        {"ECS_IMAGE_PULL_TIMEOUT", true, [](const Config& a, const Config& b) { return a.image_pull_timeout == b.image_pull_timeout; }},
        {"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION", true, [](const Config& a, const Config& b) { return a.task_cleanup_wait == b.task_cleanup_wait; }},
        {"ECS_IMAGE_CLEANUP_INTERVAL", true, [](const Config& a, const Config& b) { return a.image_cleanup_interval == b.image_cleanup_interval; }},
        {"ECS_IMAGE_MINIMUM_CLEANUP_AGE", true, [](const Config& a, const Config& b) { return a.image_minimum_cleanup_age == b.image_minimum_cleanup_age; }},
        {"ECS_NUM_IMAGES_DELETE_PER_CYCLE", true, [](const Config& a, const Config& b) { return a.images_deleted_per_cycle == b.images_deleted_per_cycle; }},
        {"ECS_DISABLE_IMAGE_CLEANUP", true, [](const Config& a, const Config& b) { return a.image_cleanup_disabled == b.image_cleanup_disabled; }},
        {"ECS_LOGLEVEL", true, [](const Config& a, const Config& b) { return a.log_level == b.log_level; }},
        {"ECS_ENABLE_TASK_CPU_MEM_LIMIT", false, [](const Config& a, const Config& b) { return a.task_cpu_mem_limit == b.task_cpu_mem_limit; }},
        {"BERTH_API_LISTEN", false, [](const Config& a, const Config& b) { return a.api_listen == b.api_listen; }},
        {"BERTH_INTROSPECTION_LISTEN", false, [](const Config& a, const Config& b) { return a.introspection_listen == b.introspection_listen; }},
        {"BERTH_METADATA_LISTEN", false, [](const Config& a, const Config& b) { return a.metadata_listen == b.metadata_listen; }},
        {"BERTH_STATE_DIR", false, [](const Config& a, const Config& b) { return a.state_dir == b.state_dir; }},
        {"BERTH_RUNTIME_DIR", false, [](const Config& a, const Config& b) { return a.runtime_dir == b.runtime_dir; }},
        {"BERTH_REGION", false, [](const Config& a, const Config& b) { return a.region == b.region; }},
        {"BERTH_CGROUP_ROOT", false, [](const Config& a, const Config& b) { return a.cgroup_root == b.cgroup_root; }},
        {"BERTH_BRIDGE", false, [](const Config& a, const Config& b) { return a.bridge == b.bridge; }},
        {"BERTH_SUBNET", false, [](const Config& a, const Config& b) { return a.subnet == b.subnet; }},
        {"BERTH_SUBNET6", false, [](const Config& a, const Config& b) { return a.subnet6 == b.subnet6; }},
        {"BERTH_API_ACCESS_KEY_ID", false, [](const Config& a, const Config& b) { return a.api_access_key_id == b.api_access_key_id; }},
        {"BERTH_API_SECRET_ACCESS_KEY", false, [](const Config& a, const Config& b) { return a.api_secret_access_key == b.api_secret_access_key; }},
        {"BERTH_STOP_TASKS_ON_SHUTDOWN", true, [](const Config& a, const Config& b) { return a.stop_tasks_on_shutdown == b.stop_tasks_on_shutdown; }},
        {"BERTH_SUPERVISOR_IDLE_EXIT", false, [](const Config& a, const Config& b) { return a.supervisor_idle_exit == b.supervisor_idle_exit; }},
        {"BERTH_INIT_PATH", true, [](const Config& a, const Config& b) { return a.init_path == b.init_path; }},
        {"BERTH_REGISTRY_PLAIN_HTTP", true, [](const Config& a, const Config& b) { return a.registry_plain_http == b.registry_plain_http; }},
        {"BERTH_REGISTRY_CA_FILE", true, [](const Config& a, const Config& b) { return a.registry_ca_file == b.registry_ca_file; }},
        {"BERTH_REGISTRY_MIRRORS", true, [](const Config& a, const Config& b) { return a.registry_mirrors == b.registry_mirrors; }},
        {"BERTH_DOCKER_CONFIG", true, [](const Config& a, const Config& b) { return a.docker_config == b.docker_config; }},
        {"ECS_ENGINE_AUTH_TYPE", true, [](const Config& a, const Config& b) { return a.engine_auth_type == b.engine_auth_type; }},
        {"ECS_ENGINE_AUTH_DATA", true, [](const Config& a, const Config& b) { return a.engine_auth_data == b.engine_auth_data; }},
    };
    // clang-format on
    return table;
}

} // namespace

ReloadPlan plan_reload(const config::Config& current, const config::Config& fresh)
{
    ReloadPlan plan;
    for (const auto& rule : rules())
        if (!rule.same(current, fresh))
            (rule.live ? plan.live : plan.restart).emplace_back(rule.name);
    return plan;
}

config::Config apply_live(const config::Config& current, const config::Config& fresh)
{
    Config c = current;
    c.container_stop_timeout = fresh.container_stop_timeout;
    c.container_start_timeout = fresh.container_start_timeout;
    c.container_create_timeout = fresh.container_create_timeout;
    c.image_pull_timeout = fresh.image_pull_timeout;
    c.task_cleanup_wait = fresh.task_cleanup_wait;
    c.image_cleanup_interval = fresh.image_cleanup_interval;
    c.image_minimum_cleanup_age = fresh.image_minimum_cleanup_age;
    c.images_deleted_per_cycle = fresh.images_deleted_per_cycle;
    c.image_cleanup_disabled = fresh.image_cleanup_disabled;
    c.log_level = fresh.log_level;
    c.stop_tasks_on_shutdown = fresh.stop_tasks_on_shutdown;
    c.init_path = fresh.init_path;
    c.registry_plain_http = fresh.registry_plain_http;
    c.registry_ca_file = fresh.registry_ca_file;
    c.registry_mirrors = fresh.registry_mirrors;
    c.docker_config = fresh.docker_config;
    c.engine_auth_type = fresh.engine_auth_type;
    c.engine_auth_data = fresh.engine_auth_data;
    return c;
}

std::vector<std::string_view> reload_classified_keys()
{
    std::vector<std::string_view> out;
    for (const auto& rule : rules())
        out.push_back(rule.name);
    return out;
}

Result<ReloadPlan> Daemon::reconfigure(const config::Config& fresh)
{
    // What start refuses, a reload refuses too (the configuration then stays as it was).
    if (auto r = check_registry_files(fresh); !r)
        return r.error();
    // On the loop, as everything that touches options.config; a loop that does not answer
    // leaves the configuration as it was (the watchdog deals with such a loop).
    auto promise = std::make_shared<std::promise<ReloadPlan>>();
    auto answer = promise->get_future();
    auto handoff = std::make_shared<ReloadHandoff>();
    asio::post(impl_->io, [this, promise, handoff, fresh] {
        if (!handoff->take()) {
            log::warn("a reload given up after 30 s reached the task engine: not applied (send "
                      "SIGHUP again to apply the file)");
            return;
        }
        promise->set_value(impl_->reconfigure(fresh));
    });
    if (answer.wait_for(std::chrono::seconds(30)) != std::future_status::ready &&
        handoff->abandon())
        return Error::with_code(ETIMEDOUT, "the task engine did not answer within 30 s; this "
                                           "reload is abandoned and will not be applied");
    // Answered, or taken by the loop just now: it is being applied, wait for its plan.
    return answer.get();
}

ReloadPlan Daemon::Impl::reconfigure(const config::Config& fresh)
{
    auto plan = plan_reload(options.config, fresh);
    const bool cleanup_changed =
        options.config.image_cleanup_interval != fresh.image_cleanup_interval ||
        options.config.image_cleanup_disabled != fresh.image_cleanup_disabled;
    options.config = apply_live(options.config, fresh);
    log::set_level(options.config.log_level);
    // A disabled cleanup lapses: arm_image_cleanup does not re-arm it (a run already on a
    // worker finishes). Otherwise the wait starts again with the new interval.
    if (cleanup_changed && !options.config.image_cleanup_disabled) {
        if (!image_timer)
            image_timer = std::make_unique<asio::system_timer>(io);
        arm_image_cleanup();
    } else if (cleanup_changed && image_timer) {
        image_timer->cancel();
    }
    return plan;
}

} // namespace berth::daemon

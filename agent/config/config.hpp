// agent/config/config.hpp — berthd's configuration: /etc/berth/berth.conf in the ecs.config
// KEY=VALUE style (# comments, blank lines, optional "double" or 'single' quotes around a
// value), every key overridable by an environment variable of the same name. ECS_* names keep
// the ECS agent's meaning; BERTH_* are berth's own. Durations are written as Go's
// time.ParseDuration reads them ("3h", "90s", "1h30m", "500ms"). An unknown key, a key set twice
// or a malformed value is an error naming the file, the line and the key (EINVAL, bad_input);
// nothing is silently ignored except unknown ECS_* variables in the environment, which belong to
// the real ECS agent's namespace. docs/CONFIGURATION.md documents every key.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>
#include "base/log.hpp"
#include "base/result.hpp"

namespace berth::config {

using Duration = std::chrono::milliseconds;

inline constexpr const char* default_path = "/etc/berth/berth.conf";
inline constexpr std::size_t max_file_bytes = std::size_t{64} * 1024;

struct PortRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
};

struct Config {
    // ECS_* (the ECS agent's names and defaults)
    std::string cluster = "default";                    // ECS_CLUSTER
    std::optional<PortRange> dynamic_host_port_range;   // ECS_DYNAMIC_HOST_PORT_RANGE
    Duration task_cleanup_wait = std::chrono::hours(3); // ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION
    Duration image_cleanup_interval = std::chrono::minutes(30); // ECS_IMAGE_CLEANUP_INTERVAL
    Duration image_minimum_cleanup_age = std::chrono::hours(1); // ECS_IMAGE_MINIMUM_CLEANUP_AGE
    bool image_cleanup_disabled = false;                        // ECS_DISABLE_IMAGE_CLEANUP
    unsigned images_deleted_per_cycle = 5;                      // ECS_NUM_IMAGES_DELETE_PER_CYCLE
    log::Level log_level = log::Level::Info;                    // ECS_LOGLEVEL
    std::set<std::uint16_t> reserved_ports{22, 2375, 2376, 51678, 51679}; // + ECS_RESERVED_PORTS
    std::set<std::uint16_t> reserved_ports_udp;                           // ECS_RESERVED_PORTS_UDP
    std::uint64_t reserved_memory_mib = 0;                                // ECS_RESERVED_MEMORY
    Duration container_stop_timeout = std::chrono::seconds(30);  // ECS_CONTAINER_STOP_TIMEOUT
    Duration container_start_timeout = std::chrono::minutes(3);  // ECS_CONTAINER_START_TIMEOUT
    Duration container_create_timeout = std::chrono::minutes(4); // ECS_CONTAINER_CREATE_TIMEOUT
    Duration image_pull_timeout = std::chrono::hours(2);         // ECS_IMAGE_PULL_TIMEOUT
    // A task with task-level cpu/memory gets a cgroup of its own holding its containers' cgroups,
    // limited to them (agent/daemon/task_cgroup.cpp). false: they only count for admission.
    bool task_cpu_mem_limit = true; // ECS_ENABLE_TASK_CPU_MEM_LIMIT
    // BERTH_* (berth's own)
    std::string api_listen = "127.0.0.1:51680";           // BERTH_API_LISTEN
    std::string introspection_listen = "127.0.0.1:51678"; // BERTH_INTROSPECTION_LISTEN
    std::string metadata_listen = "127.0.0.1:51679";      // BERTH_METADATA_LISTEN (IPv4)
    std::string state_dir = "/var/lib/berth";             // BERTH_STATE_DIR
    std::string runtime_dir = "/run/berth"; // BERTH_RUNTIME_DIR (berthd.sock lives here)
    std::string region = "us-east-1";       // BERTH_REGION (ARNs, SigV4 scope)
    std::string cgroup_root = "/berth";     // BERTH_CGROUP_ROOT (containers' cgroups below it)
    std::string bridge = "berth0";          // BERTH_BRIDGE (net checks the name at start)
    std::string subnet = "10.213.0.0/16";   // BERTH_SUBNET (net checks the CIDR at start)
    std::string subnet6;                    // BERTH_SUBNET6: dual stack when set
    std::string api_access_key_id;          // BERTH_API_ACCESS_KEY_ID
    std::string api_secret_access_key;      // BERTH_API_SECRET_ACCESS_KEY
    // SIGTERM stops every task (SIGTERM, stopTimeout, SIGKILL, cleanup) before berthd exits:
    // decommissioning a node. false: berthd exits at once and the tasks keep running (upgrade).
    bool stop_tasks_on_shutdown = false; // BERTH_STOP_TASKS_ON_SHUTDOWN
    // A berth-supervisor berthd starts exits after this long with nothing to supervise (no
    // container, no request, no log in flight); the next create or exec starts one again. 0:
    // it never exits (berthd.service's socket-activated supervisor has its own, in its unit).
    Duration supervisor_idle_exit = std::chrono::seconds(30); // BERTH_SUPERVISOR_IDLE_EXIT
    // The static init bound in as /sbin/docker-init for linuxParameters.initProcessEnabled, as
    // Docker's docker-init: Debian's tini package's static binary.
    std::string init_path = "/usr/bin/tini-static"; // BERTH_INIT_PATH
    // Registries (agent/config/registry_keys.cpp): what Docker's daemon.json says for the ECS
    // agent's Docker, here for berth's own pulls. Pulls started after a reload use the new ones.
    // Hosts (host[:port], exactly) spoken to over plain http; loopback always is.
    std::vector<std::string> registry_plain_http; // BERTH_REGISTRY_PLAIN_HTTP, a JSON array
    std::string registry_ca_file;                 // BERTH_REGISTRY_CA_FILE: PEM CAs for TLS
    // Registry domain -> mirror hosts tried first, in order (BERTH_REGISTRY_MIRRORS, a JSON
    // object: {"docker.io": ["mirror.internal:5000"]}).
    std::map<std::string, std::vector<std::string>> registry_mirrors;
    // Where registry credentials come from: a Docker config.json (BERTH_DOCKER_CONFIG; default
    // $DOCKER_CONFIG/config.json, else ~/.docker/config.json), consulted after the ECS agent's
    // ECS_ENGINE_AUTH_TYPE ("docker" or "dockercfg") and ECS_ENGINE_AUTH_DATA (a JSON object of
    // registry -> {"username","password"} or {"auth"}), kept here as the auths object's text.
    std::string docker_config;    // BERTH_DOCKER_CONFIG
    std::string engine_auth_type; // ECS_ENGINE_AUTH_TYPE
    std::string engine_auth_data; // ECS_ENGINE_AUTH_DATA (a secret: never logged)
};

// The variables that matter to berth: ECS_* and BERTH_* entries of an environ-style array.
using Environment = std::map<std::string, std::string, std::less<>>;
Environment environment_from(char** envp);

// `text` is the file's content, `origin` its name for messages. Keys set in `env` override the
// file's; the result is checked as a whole (credentials come in pairs).
Result<Config> parse(std::string_view text, std::string_view origin, const Environment& env);
// Reads `path` (at most max_file_bytes); a missing file gives the defaults unless must_exist.
Result<Config> load(const std::string& path, const Environment& env, bool must_exist);

// Go's time.ParseDuration, to whole milliseconds (finer parts are dropped): "1h30m", "1.5s",
// "-2m", "0". EINVAL naming the text when malformed or beyond ±292 years.
Result<Duration> parse_duration(std::string_view text);

// Every key berth reads, in documentation order (docs/CONFIGURATION.md lists the same).
const std::vector<std::string_view>& known_keys();

} // namespace berth::config

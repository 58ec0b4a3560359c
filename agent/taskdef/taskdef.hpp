// agent/taskdef/taskdef.hpp — the only header other directories include from agent/taskdef/.
//
// taskdef/ owns ECS task definitions: the RegisterTaskDefinition request (what `aws ecs
// register-task-definition --cli-input-json` sends) becomes a validated TaskDefinition, every
// field type-checked and every cross-field rule ECS applies checked, and a TaskDefinition goes
// back out in the DescribeTaskDefinition shape. A field berth does not support is refused by name
// ("containerDefinitions[1].firelensConfiguration: not supported by berth"), never ignored; every
// error names its JSON path and is Error::invalid (EINVAL, bad_input), which the API reports as a
// ClientException. build_spec() turns one container of a task into an OCI runtime::Spec in memory,
// with the image config merged the way Docker merges it. Pure data in, data out: the only files
// read are environment files and the rootfs's /etc/passwd and /etc/group (build_spec).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <nlohmann/json_fwd.hpp>
#include "base/result.hpp"
#include "runtime/spec.hpp"

namespace berth::taskdef {

enum class NetworkMode { Bridge, Awsvpc, Host, None };
enum class NamespaceMode { Private, Host, Task, None }; // pidMode/ipcMode; None: ipcMode only
enum class Protocol { Tcp, Udp };
enum class Condition { Start, Complete, Success, Healthy };
enum class LogDriver { JsonFile, Journald }; // what berth-supervisor writes (runtime.hpp)
enum class VolumeScope { Task, Shared };

struct KeyValue {
    std::string name, value;
};
struct EnvironmentFile {
    std::string path; // "value": an absolute local path ending in .env ("type": "file")
};
struct PortMapping {
    std::uint16_t container_port = 0;
    std::optional<std::uint16_t> host_port; // absent or 0: dynamic (bridge only)
    Protocol protocol = Protocol::Tcp;
    std::string name;
};
struct MountPoint {
    std::string source_volume, container_path;
    bool read_only = false;
};
struct VolumeFrom {
    std::string source_container;
    bool read_only = false;
};
struct Dependency {
    std::string container_name;
    Condition condition = Condition::Start;
};
struct HealthCheck {
    std::vector<std::string> command;            // "CMD", args... or "CMD-SHELL", "shell text"
    int interval = 30, timeout = 5, retries = 3; // seconds, seconds, count (ECS defaults)
    std::optional<int> start_period;             // seconds
};
struct Ulimit {
    std::string name; // ECS name: "nofile", "core", ...
    std::int64_t soft = 0, hard = 0;
};
struct Tmpfs {
    std::string container_path;
    std::uint32_t size_mib = 0;
    std::vector<std::string> mount_options;
};
struct DeviceMapping {
    std::string host_path, container_path; // container_path defaults to host_path
    std::vector<std::string> permissions;  // "read", "write", "mknod"; empty = all
};
struct LinuxParameters {
    std::vector<std::string> cap_add, cap_drop; // ECS names without CAP_: "SYS_ADMIN", "ALL"
    std::optional<bool> init_process_enabled;
    std::vector<Tmpfs> tmpfs;
    std::optional<std::uint32_t> shared_memory_size; // MiB
    std::vector<DeviceMapping> devices;
};
struct LogConfiguration {
    LogDriver driver = LogDriver::JsonFile;
    std::map<std::string, std::string> options;
};

struct ContainerDefinition {
    std::string name, image;
    std::optional<int> cpu;                        // CPU units (1024 = one CPU)
    std::optional<int> memory, memory_reservation; // MiB: hard and soft limit
    std::optional<bool> essential;                 // ECS default: true (see is_essential)
    std::vector<std::string> entry_point, command;
    std::vector<KeyValue> environment;
    std::vector<EnvironmentFile> environment_files;
    std::vector<PortMapping> port_mappings;
    std::vector<MountPoint> mount_points;
    std::vector<VolumeFrom> volumes_from;
    std::vector<Dependency> depends_on;
    std::optional<HealthCheck> health_check;
    std::optional<int> start_timeout, stop_timeout; // seconds
    std::string user, working_directory, hostname;
    std::optional<bool> readonly_root_filesystem, privileged;
    std::vector<Ulimit> ulimits;
    std::optional<LinuxParameters> linux_parameters;
    std::map<std::string, std::string> docker_labels;
    std::optional<LogConfiguration> log_configuration;

    bool is_essential() const { return essential.value_or(true); }
};

struct DockerVolume {
    VolumeScope scope = VolumeScope::Task;
    std::optional<bool> autoprovision; // shared scope only
    std::string driver = "local";      // the only driver berth has
    std::map<std::string, std::string> driver_opts, labels;
};
struct Volume {
    std::string name;
    std::optional<std::string> host_source_path; // "host": {"sourcePath"}: a bind mount
    std::optional<DockerVolume> docker;          // a named volume berth makes
    // Neither: an empty task-scoped volume (ECS's "host": {} without sourcePath).
};
struct Tag {
    std::string key, value;
};

struct TaskDefinition {
    std::string family;
    std::vector<ContainerDefinition> containers;
    std::optional<int> cpu;                  // CPU units, from "256" or "1 vcpu"
    std::optional<int> memory;               // MiB, from "512" or "0.5 GB"
    std::optional<NetworkMode> network_mode; // unset: bridge (see network())
    std::vector<Volume> volumes;
    NamespaceMode pid_mode = NamespaceMode::Private, ipc_mode = NamespaceMode::Private;
    std::vector<std::string> requires_compatibilities; // "EC2", "EXTERNAL"
    std::vector<Tag> tags;
    // Set by the API when registered (DescribeTaskDefinition fields), never by a request.
    int revision = 0;
    std::string arn, status; // status "ACTIVE" / "INACTIVE"; "" before registration
    std::optional<double> registered_at, deregistered_at; // epoch seconds

    NetworkMode network() const { return network_mode.value_or(NetworkMode::Bridge); }
    const ContainerDefinition* find(std::string_view container_name) const;
};

// Task definition JSON larger than this is refused (ECS caps the request at 64 KiB).
inline constexpr std::size_t max_task_definition_bytes = std::size_t{1} << 20;

// The RegisterTaskDefinition request body. Server fields (revision, taskDefinitionArn, status...)
// are refused there. tags are kept in TaskDefinition::tags.
Result<TaskDefinition> parse_task_definition(const nlohmann::json& register_request);
// The same from text (a file for `berth run-task`, fuzz input): size-capped, never throws.
Result<TaskDefinition> parse_task_definition_text(std::string_view register_request_text);
// The same for a definition the agent stored when it was registered (restore): what an older
// berth accepted and this one refuses at registration is read leniently, each such change a line
// of `warnings`. Today that is a journald logConfiguration with options journald does not take
// (an earlier berth read journald as json-file): those options are dropped.
Result<TaskDefinition> parse_stored_task_definition_text(std::string_view register_request_text,
                                                         std::vector<std::string>& warnings);
// A DescribeTaskDefinition "taskDefinition" object (to_json's output): for the agent's store.
Result<TaskDefinition> from_json(const nlohmann::json& described);
// The DescribeTaskDefinition "taskDefinition" object, with ECS's defaults filled in.
nlohmann::json to_json(const TaskDefinition& task);

// A container's json-file log rotation from its logConfiguration options: max-size (Docker's
// size syntax: bytes or 10k / 20m / 1g, binary multiples) and max-file (a count). Each is unset
// when the container does not say (the runtime's defaults apply). Errors name the option.
struct LogRotation {
    std::optional<std::uint64_t> max_bytes;
    std::optional<unsigned> max_files;
};
Result<LogRotation> log_rotation(const ContainerDefinition& container);

// logDriver journald: Docker's log tag template ({{.ID}}, {{.FullID}}, {{.Name}},
// {{.ImageName}}, {{.DaemonName}}; others refused by name) and the journal fields of one
// container, as Docker's journald driver sets them: CONTAINER_ID and CONTAINER_ID_FULL (the
// runtime id, berth's DockerId), CONTAINER_NAME (the ECS name, as berthd's own journal lines say
// it), CONTAINER_TAG and SYSLOG_IDENTIFIER (the tag, default {{.ID}}), IMAGE_NAME; the task's
// TASK_ARN, TASK_ID, TASK_FAMILY, TASK_REVISION, ECS_CLUSTER; then what the options labels,
// labels-regex, env and env-regex pick, keys upper-cased with '_' for other characters.
struct LogTagValues {
    std::string id, full_id, name, image_name, daemon_name;
};
Result<std::string> expand_log_tag(std::string_view text, const LogTagValues& values);
struct JournaldContext {
    std::string task_arn, cluster, family, revision, runtime_id;
    std::vector<std::string> env;              // the process's environment, "KEY=value"
    std::map<std::string, std::string> labels; // the container's labels (image, docker, ECS)
};
// "NAME=value" each. Errors name the container and the option.
Result<std::vector<std::string>> journald_fields(const ContainerDefinition& container,
                                                 const JournaldContext& context);

// ---- One container -> an OCI spec ----

// What an image's config contributes (the "config" object of the OCI image config blob).
struct ImageRunConfig {
    std::vector<std::string> env, entrypoint, cmd; // env: "KEY=value"
    std::string user, working_dir;
    std::vector<std::string> exposed_ports; // "80/tcp"
    std::map<std::string, std::string> labels;
};
// The image config blob (its "config" object); absent fields are empty. Never throws.
Result<ImageRunConfig> parse_image_run_config(std::string_view image_config_json);

struct SpecInputs {
    std::string rootfs; // the container's root on the host (image::Rootfs::path())
    // Host directory of each volume the container uses (its own mountPoints and volumesFrom):
    // host.sourcePath for bind volumes, the directory the agent made for the others.
    std::map<std::string, std::string> volume_paths;
    std::string netns_path;     // bridge, awsvpc: the task's network namespace (required)
    std::string pid_ns_path;    // pidMode task: the task's namespace (required then)
    std::string ipc_ns_path;    // ipcMode task: likewise
    std::string shared_shm_dir; // ipcMode task: the task's /dev/shm; host: default /dev/shm
    std::string hostname;       // when the definition has none (not used in host mode)
    std::string cgroups_path;   // linux.cgroupsPath
    std::string init_path;      // a static init (tini-static) for initProcessEnabled; "" = none
    std::vector<std::string> extra_env; // "KEY=value" the agent adds (ECS_CONTAINER_METADATA_URI)
};

// Builds the spec of container `container_name` of `task`. Errors name the container and field.
Result<runtime::Spec> build_spec(const TaskDefinition& task, std::string_view container_name,
                                 const ImageRunConfig& image, const SpecInputs& inputs);

// Pieces of build_spec, public for tests and the engine.
inline constexpr std::size_t max_environment_file_bytes = std::size_t{1} << 20;
// KEY=VALUE lines; blank lines and lines starting with '#' skipped. Errors name file and line.
Result<std::vector<KeyValue>> read_environment_file(const std::string& path);
// Docker's user forms ("", "uid", "uid:gid", "name", "name:group", "uid:group") resolved against
// <rootfs>/etc/passwd and /etc/group, read with every symlink kept inside the rootfs. Supplementary
// groups from /etc/group as Docker adds them. `home` gets the passwd home ("/" if none).
Result<runtime::User> resolve_user(const std::string& rootfs, std::string_view user,
                                   std::string* home = nullptr);

} // namespace berth::taskdef

// tests/unit/taskdef_test.cpp — parse_task_definition, from_json and to_json: every field berth
// takes, the refusals by name, the ECS ranges, and the rules between fields.
#define BOOST_TEST_MODULE taskdef
#include <fstream>
#include <sstream>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "agent/taskdef/taskdef.hpp"
#include "tests/unit/source_tree.hpp"

using nlohmann::json;
using namespace berth::taskdef;
using berth::cat;

namespace {

template <class R>
std::string why(const R& r)
{
    return r.has_value() ? std::string() : r.error().message();
}

json minimal()
{
    return json::parse(R"({"family": "web", "containerDefinitions": [
        {"name": "web", "image": "busybox", "memory": 64}]})");
}

// A request with `patch` (a JSON merge patch) applied to minimal().
json with(const char* patch)
{
    json j = minimal();
    j.merge_patch(json::parse(patch));
    return j;
}

// minimal() whose first container has `patch` merged in.
json container_with(const char* patch)
{
    json j = minimal();
    j["containerDefinitions"][0].merge_patch(json::parse(patch));
    return j;
}

// Refused with an EINVAL bad-input error whose message contains `text`.
void refused(const json& request, const std::string& text)
{
    auto r = parse_task_definition(request);
    BOOST_TEST_REQUIRE(!r.has_value(), "accepted: " << request.dump());
    BOOST_TEST(r.error().code == EINVAL);
    BOOST_TEST(r.error().bad_input);
    BOOST_TEST(r.error().message().find(text) != std::string::npos,
               "'" << r.error().message() << "' lacks '" << text << "'");
}

TaskDefinition accepted(const json& request)
{
    auto r = parse_task_definition(request);
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    return *r;
}

std::string read_example(const std::string& name)
{
    std::ifstream in(berth::test::source_path("examples/" + name));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

BOOST_AUTO_TEST_SUITE(fields)

BOOST_AUTO_TEST_CASE(a_minimal_definition_gets_ecs_defaults)
{
    auto t = accepted(minimal());
    BOOST_TEST(t.family == "web");
    BOOST_TEST(t.containers.size() == 1u);
    BOOST_TEST(t.containers[0].is_essential());
    BOOST_TEST((t.network() == NetworkMode::Bridge));
    BOOST_TEST(*t.containers[0].memory == 64);
}

BOOST_AUTO_TEST_CASE(every_supported_container_field_is_read)
{
    auto t = accepted(
        json::parse(R"({"family": "f", "volumes": [{"name": "v", "host": {"sourcePath": "/srv"}}],
      "containerDefinitions": [{"name": "a", "image": "docker.io/library/busybox:1.36",
        "cpu": 128, "memory": 100, "memoryReservation": 50, "essential": true,
        "entryPoint": ["/bin/sh", "-c"], "command": ["echo hi"],
        "environment": [{"name": "A", "value": "1"}, {"name": "B"}],
        "environmentFiles": [{"value": "/etc/berth/a.env", "type": "file"}],
        "portMappings": [{"containerPort": 80, "hostPort": 0, "protocol": "udp", "name": "p80"}],
        "mountPoints": [{"sourceVolume": "v", "containerPath": "/data", "readOnly": true}],
        "volumesFrom": [{"sourceContainer": "b", "readOnly": true}],
        "dependsOn": [{"containerName": "b", "condition": "HEALTHY"}],
        "startTimeout": 30, "stopTimeout": 20, "user": "nobody:nogroup",
        "workingDirectory": "/work", "readonlyRootFilesystem": true, "privileged": false,
        "ulimits": [{"name": "memlock", "softLimit": -1, "hardLimit": -1}],
        "linuxParameters": {"capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]},
          "initProcessEnabled": true, "sharedMemorySize": 128,
          "tmpfs": [{"containerPath": "/run", "size": 16, "mountOptions": ["nosuid", "mode=1777"]}],
          "devices": [{"hostPath": "/dev/fuse", "permissions": ["read", "write"]}]},
        "hostname": "a-host", "dockerLabels": {"k": "v"},
        "logConfiguration": {"logDriver": "json-file",
                             "options": {"max-size": "20m", "max-file": "4"}}},
       {"name": "b", "image": "busybox", "memory": 10, "essential": false,
        "healthCheck": {"command": ["CMD", "true"]}}]})"));
    const auto& a = t.containers[0];
    BOOST_TEST(*a.cpu == 128);
    BOOST_TEST(*a.memory_reservation == 50);
    BOOST_TEST(a.entry_point.size() == 2u);
    BOOST_TEST(a.environment[1].value == "");
    BOOST_TEST(a.environment_files[0].path == "/etc/berth/a.env");
    BOOST_TEST((a.port_mappings[0].protocol == Protocol::Udp));
    BOOST_TEST(*a.port_mappings[0].host_port == 0);
    BOOST_TEST(a.mount_points[0].read_only);
    BOOST_TEST(a.volumes_from[0].source_container == "b");
    BOOST_TEST((a.depends_on[0].condition == Condition::Healthy));
    BOOST_TEST(*a.stop_timeout == 20);
    BOOST_TEST(a.user == "nobody:nogroup");
    BOOST_TEST(a.ulimits[0].soft == -1);
    BOOST_TEST(a.linux_parameters->cap_add[0] == "SYS_PTRACE");
    BOOST_TEST(*a.linux_parameters->shared_memory_size == 128u);
    BOOST_TEST(a.linux_parameters->tmpfs[0].size_mib == 16u);
    BOOST_TEST(a.linux_parameters->devices[0].container_path == "/dev/fuse");
    BOOST_TEST((a.log_configuration->driver == LogDriver::JsonFile));
    BOOST_TEST(a.log_configuration->options.at("max-size") == "20m");
    BOOST_TEST(a.docker_labels.at("k") == "v");
    const auto& h = *t.containers[1].health_check;
    BOOST_TEST(h.interval == 30);
    BOOST_TEST(h.timeout == 5);
    BOOST_TEST(h.retries == 3);
    BOOST_TEST(!h.start_period);
}

BOOST_AUTO_TEST_CASE(task_cpu_and_memory_take_the_ecs_string_forms)
{
    auto t = accepted(with(R"({"cpu": "1 vcpu", "memory": "0.5 GB"})"));
    BOOST_TEST(*t.cpu == 1024);
    BOOST_TEST(*t.memory == 512);
    BOOST_TEST(*accepted(with(R"({"cpu": "256", "memory": "1GB"})")).cpu == 256);
    BOOST_TEST(*accepted(with(R"({"cpu": "0.25 vCPU", "memory": "128"})")).cpu == 256);
    BOOST_TEST(*accepted(with(R"({"cpu": "0.125 vcpu", "memory": "0.125GB"})")).cpu == 128);
    BOOST_TEST(*accepted(with(R"({"cpu": "0.125 vcpu", "memory": "0.125GB"})")).memory == 128);
    BOOST_TEST(*accepted(with(R"({"cpu": " 2 VCPU ", "memory": "256.0"})")).cpu == 2048);
    refused(with(R"({"cpu": "1.0001 vcpu"})"), "cpu: '1.0001 vcpu' is not a whole number");
    refused(with(R"({"cpu": "64"})"), "cpu: '64' is out of range");
    refused(with(R"({"cpu": "two"})"), "cpu: 'two' is not CPU units");
    refused(with(R"({"memory": "1 TB"})"), "memory: '1 TB' is not MiB");
    refused(with(R"({"memory": 512})"), "memory: expected a string");
}

BOOST_AUTO_TEST_CASE(network_and_namespace_modes_are_read)
{
    for (auto [text, mode] : {std::pair{"bridge", NetworkMode::Bridge},
                              {"awsvpc", NetworkMode::Awsvpc},
                              {"host", NetworkMode::Host},
                              {"none", NetworkMode::None}}) {
        auto t = accepted(with(cat(R"({"networkMode": ")", text, R"("})").c_str()));
        BOOST_TEST((t.network() == mode));
    }
    auto t = accepted(with(R"({"pidMode": "task", "ipcMode": "host"})"));
    BOOST_TEST((t.pid_mode == NamespaceMode::Task));
    BOOST_TEST((t.ipc_mode == NamespaceMode::Host));
    BOOST_TEST((accepted(with(R"({"ipcMode": "none"})")).ipc_mode == NamespaceMode::None));
    refused(with(R"({"networkMode": "nat"})"), "networkMode: 'nat' is not bridge");
    refused(with(R"({"pidMode": "none"})"), "pidMode: 'none' is not 'host' or 'task'");
}

BOOST_AUTO_TEST_CASE(volumes_are_host_binds_or_task_and_shared_named_volumes)
{
    auto t = accepted(with(R"({"volumes": [{"name": "a", "host": {"sourcePath": "/srv/a"}},
        {"name": "b"}, {"name": "c", "dockerVolumeConfiguration": {"scope": "shared",
         "autoprovision": true, "driver": "local", "labels": {"x": "y"}}},
        {"name": "d", "dockerVolumeConfiguration": {"scope": "task"}}]})"));
    BOOST_TEST(*t.volumes[0].host_source_path == "/srv/a");
    BOOST_TEST(!t.volumes[1].host_source_path);
    BOOST_TEST(!t.volumes[1].docker);
    BOOST_TEST((t.volumes[2].docker->scope == VolumeScope::Shared));
    BOOST_TEST((t.volumes[3].docker->scope == VolumeScope::Task));
    refused(
        with(R"({"volumes": [{"name": "a", "dockerVolumeConfiguration": {"driver": "rexray"}}]})"),
        "volumes[0].dockerVolumeConfiguration.driver: 'rexray' not supported by berth");
    refused(
        with(
            R"({"volumes": [{"name": "a", "dockerVolumeConfiguration": {"scope": "task", "autoprovision": true}}]})"),
        "autoprovision: only with scope 'shared'");
    refused(
        with(
            R"({"volumes": [{"name": "a", "dockerVolumeConfiguration": {"driverOpts": {"type": "nfs"}}}]})"),
        "volumes[0].dockerVolumeConfiguration.driverOpts: not supported by berth");
    refused(
        with(R"({"volumes": [{"name": "a", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}]})"),
        "volumes[0].efsVolumeConfiguration: not supported by berth");
    refused(with(R"({"volumes": [{"name": "a", "host": {"sourcePath": "rel"}}]})"),
            "volumes[0].host.sourcePath: 'rel' is not an absolute path");
    refused(
        with(
            R"({"volumes": [{"name": "a", "host": {"sourcePath": "/x"}, "dockerVolumeConfiguration": {}}]})"),
        "cannot be given with host.sourcePath");
    refused(with(R"({"volumes": [{"name": "a b"}]})"), "volumes[0].name: 'a b' is not");
    refused(with(R"({"volumes": [{"name": "a"}, {"name": "a"}]})"),
            "volumes[1].name: 'a' is already");
}

BOOST_AUTO_TEST_CASE(json_file_max_size_and_max_file_become_the_log_rotation)
{
    auto t = accepted(container_with(
        R"({"logConfiguration": {"logDriver": "json-file", "options": {"max-size": "1k", "max-file": "2"}}})"));
    auto r = log_rotation(t.containers[0]);
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    BOOST_TEST(*r->max_bytes == 1024u);
    BOOST_TEST(*r->max_files == 2u);
    for (const auto& [text, bytes] : std::vector<std::pair<std::string, std::uint64_t>>{
             {"512", 512}, {"20m", 20u << 20}, {"1g", std::uint64_t{1} << 30}, {"3K", 3072}}) {
        t = accepted(container_with(json{
            {"logConfiguration", {{"logDriver", "json-file"}, {"options", {{"max-size", text}}}}}}
                                        .dump()
                                        .c_str()));
        r = log_rotation(t.containers[0]);
        BOOST_TEST_REQUIRE(r.has_value(), why(r));
        BOOST_TEST(*r->max_bytes == bytes, text);
        BOOST_TEST(!r->max_files);
    }
    // No logConfiguration, or no options: nothing set, the runtime's defaults apply.
    r = log_rotation(accepted(minimal()).containers[0]);
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    BOOST_TEST((!r->max_bytes && !r->max_files));
    // A definition built by hand (not parsed) is still checked, naming the option.
    ContainerDefinition c;
    c.name = "web";
    c.log_configuration = LogConfiguration{LogDriver::JsonFile, {{"max-size", "5t"}}};
    r = log_rotation(c);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message().find("web: logConfiguration.options.max-size: '5t'") !=
                   std::string::npos,
               r.error().message());
}

BOOST_AUTO_TEST_CASE(tags_and_compatibilities_are_kept)
{
    auto t = accepted(with(
        R"({"tags": [{"key": "team", "value": "x"}], "requiresCompatibilities": ["EC2", "EXTERNAL"]})"));
    BOOST_TEST(t.tags[0].key == "team");
    BOOST_TEST(t.requires_compatibilities.size() == 2u);
    refused(with(R"({"requiresCompatibilities": ["FARGATE"]})"),
            "requiresCompatibilities[0]: 'FARGATE' not supported by berth");
    refused(with(R"({"tags": [{"value": "x"}]})"), "tags[0].key: required");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(refusals)

BOOST_AUTO_TEST_CASE(unsupported_fields_are_refused_by_name)
{
    json j = minimal();
    j["containerDefinitions"].push_back({{"name", "log"},
                                         {"image", "busybox"},
                                         {"memory", 8},
                                         {"firelensConfiguration", {{"type", "fluentbit"}}}});
    refused(j, "containerDefinitions[1].firelensConfiguration: not supported by berth");
    refused(container_with(R"({"links": ["db"]})"), "containerDefinitions[0].links: not supported");
    refused(container_with(R"({"secrets": [{"name": "a", "valueFrom": "arn"}]})"),
            "containerDefinitions[0].secrets: not supported");
    refused(container_with(R"({"repositoryCredentials": {"credentialsParameter": "arn"}})"),
            "repositoryCredentials: not supported");
    refused(with(R"({"taskRoleArn": "arn:aws:iam::1:role/x"})"),
            "taskRoleArn: not supported by berth");
    refused(with(R"({"proxyConfiguration": {"containerName": "web"}})"),
            "proxyConfiguration: not supported");
    refused(container_with(R"({"linuxParameters": {"maxSwap": 10}})"),
            "containerDefinitions[0].linuxParameters.maxSwap: not supported");
    refused(container_with(R"({"portMappings": [{"containerPort": 80, "appProtocol": "http"}]})"),
            "portMappings[0].appProtocol: not supported");
    refused(container_with(R"({"logConfiguration": {"logDriver": "awslogs"}})"),
            "logConfiguration.logDriver: 'awslogs' not supported by berth");
    refused(container_with(
                R"({"logConfiguration": {"logDriver": "json-file", "options": {"labels": "a"}}})"),
            "logConfiguration.options.labels: not supported by berth");
    refused(container_with(
                R"({"logConfiguration": {"logDriver": "json-file", "options": {"tag": "a"}}})"),
            "logConfiguration.options.tag: not supported by berth");
    refused(container_with(
                R"({"environmentFiles": [{"value": "arn:aws:s3:::b/a.env", "type": "s3"}]})"),
            "environmentFiles[0].type: 's3' not supported by berth");
}

// logDriver journald (accepted now, and a stored one read leniently): taskdef_journald_test.cpp.

BOOST_AUTO_TEST_CASE(empty_values_of_unsupported_fields_set_nothing_and_pass)
{
    auto t = accepted(
        with(R"({"placementConstraints": [], "taskRoleArn": "", "proxyConfiguration": null})"));
    BOOST_TEST(t.family == "web");
}

BOOST_AUTO_TEST_CASE(server_fields_are_refused_in_a_register_request)
{
    refused(with(R"({"revision": 3})"), "revision: not supported by berth");
    refused(with(R"({"taskDefinitionArn": "arn:aws:ecs:x"})"), "taskDefinitionArn: not supported");
}

BOOST_AUTO_TEST_CASE(bad_types_and_missing_fields_name_their_path)
{
    refused(json::array(), "request: expected an object");
    refused(json::parse(R"({"containerDefinitions": []})"), "family: required");
    refused(json::parse(R"({"family": "x"})"), "containerDefinitions: required");
    refused(json::parse(R"({"family": "x", "containerDefinitions": []})"),
            "at least one container");
    refused(with(R"({"family": "a/b"})"), "family: 'a/b' is not");
    refused(container_with(R"({"image": null})"), "containerDefinitions[0].image: required");
    refused(container_with(R"({"image": "UPPER:case:bad"})"), "containerDefinitions[0].image");
    refused(container_with(R"({"name": "we b"})"), "containerDefinitions[0].name: 'we b' is not");
    refused(container_with(R"({"cpu": "1"})"),
            "containerDefinitions[0].cpu: expected an integer, got string");
    refused(container_with(R"({"cpu": 1.5})"), "cpu: expected an integer");
    refused(container_with(R"({"memory": 4})"),
            "containerDefinitions[0].memory: 4 is out of range");
    refused(container_with(R"({"memoryReservation": 64})"),
            "memory: 64 MiB must be greater than memoryReservation");
    refused(container_with(R"({"essential": "yes"})"), "essential: expected true or false");
    refused(container_with(R"({"entryPoint": "sh"})"), "entryPoint: expected a list");
    refused(container_with(R"({"command": ["a", 1]})"), "command[1]: expected a string");
    refused(container_with(R"({"environment": [{"value": "x"}]})"),
            "environment[0].name: required");
    refused(container_with(R"({"environment": [{"name": "A=B"}]})"),
            "environment[0].name: contains '='");
    refused(container_with(R"({"environmentFiles": [{"value": "rel.env", "type": "file"}]})"),
            "environmentFiles[0].value: 'rel.env' is not an absolute path");
    refused(container_with(R"({"environmentFiles": [{"value": "/a.txt", "type": "file"}]})"),
            "does not end in .env");
    refused(container_with(R"({"workingDirectory": "rel"})"),
            "workingDirectory: 'rel' is not an absolute path");
    refused(container_with(R"({"hostname": "a_b"})"), "hostname: 'a_b' is not a host name");
    refused(container_with(R"({"stopTimeout": 0})"), "stopTimeout: 0 is out of range");
    refused(container_with(R"({"dockerLabels": {"a": 1}})"), "dockerLabels.a: expected a string");
    refused(container_with(R"({"mountPoints": [{"sourceVolume": "v", "containerPath": "data"}]})"),
            "mountPoints[0].containerPath: 'data' is not an absolute path");
    refused(container_with(R"({"volumesFrom": [{}]})"), "volumesFrom[0].sourceContainer: required");
    refused(container_with(R"({"dependsOn": [{"containerName": "x", "condition": "READY"}]})"),
            "dependsOn[0].condition: 'READY' is not START");
    BOOST_TEST(!parse_task_definition_text("{not json").has_value());
    BOOST_TEST(
        !parse_task_definition_text(std::string(max_task_definition_bytes + 1, ' ')).has_value());
}

BOOST_AUTO_TEST_CASE(port_mappings_are_checked)
{
    refused(container_with(R"({"portMappings": [{"hostPort": 80}]})"),
            "portMappings[0].containerPort: required");
    refused(container_with(R"({"portMappings": [{"containerPort": 0}]})"),
            "containerPort: 0 is out of range");
    refused(container_with(R"({"portMappings": [{"containerPort": 70000}]})"), "out of range");
    refused(container_with(R"({"portMappings": [{"containerPort": 80, "protocol": "sctp"}]})"),
            "protocol: 'sctp' is not 'tcp' or 'udp'");
    refused(container_with(R"({"portMappings": [{"containerPort": 80, "name": "Web"}]})"),
            "name: 'Web' is not");
    refused(container_with(R"({"portMappings": [{"containerPort": 80}, {"containerPort": 80}]})"),
            "portMappings[1].containerPort: 80 is mapped twice");
    refused(
        container_with(
            R"({"portMappings": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81, "hostPort": 8080}]})"),
        "portMappings[1]: host port 8080 is already used");
    // tcp and udp on the same port are two mappings.
    accepted(container_with(
        R"({"portMappings": [{"containerPort": 53}, {"containerPort": 53, "protocol": "udp"}]})"));
}

BOOST_AUTO_TEST_CASE(nested_objects_check_ecs_ranges)
{
    refused(container_with(R"({"healthCheck": {"command": ["CMD-SHELL", "a", "b"]}})"),
            "healthCheck.command: expected");
    refused(container_with(R"({"healthCheck": {"command": ["true"]}})"),
            "healthCheck.command: expected");
    refused(container_with(R"({"healthCheck": {"command": ["CMD", "true"], "interval": 4}})"),
            "healthCheck.interval: 4 is out of range (5..300)");
    refused(container_with(R"({"healthCheck": {"command": ["CMD", "true"], "timeout": 61}})"),
            "healthCheck.timeout: 61 is out of range (2..60)");
    refused(container_with(R"({"healthCheck": {"command": ["CMD", "true"], "retries": 11}})"),
            "healthCheck.retries: 11 is out of range (1..10)");
    refused(container_with(R"({"healthCheck": {"command": ["CMD", "true"], "startPeriod": 301}})"),
            "healthCheck.startPeriod: 301 is out of range (0..300)");
    refused(container_with(R"({"ulimits": [{"name": "files", "softLimit": 1, "hardLimit": 1}]})"),
            "ulimits[0].name: 'files' is not");
    refused(container_with(R"({"ulimits": [{"name": "nofile", "softLimit": 10, "hardLimit": 5}]})"),
            "ulimits[0].softLimit: 10 is above hardLimit 5");
    refused(container_with(R"({"ulimits": [{"name": "nofile", "softLimit": 10}]})"),
            "ulimits[0].hardLimit: required");
    refused(container_with(R"({"linuxParameters": {"capabilities": {"add": ["CAP_SYS_ADMIN"]}}})"),
            "linuxParameters.capabilities.add[0]: unknown capability 'CAP_SYS_ADMIN'");
    refused(container_with(R"({"linuxParameters": {"capabilities": {"drop": ["NOPE"]}}})"),
            "capabilities.drop[0]: unknown capability");
    refused(container_with(R"({"linuxParameters": {"tmpfs": [{"containerPath": "/t"}]}})"),
            "tmpfs[0].size: required");
    refused(
        container_with(
            R"({"linuxParameters": {"tmpfs": [{"containerPath": "/t", "size": 1, "mountOptions": ["mode"]}]}})"),
        "tmpfs[0].mountOptions[0]: 'mode' is not a tmpfs mount option");
    refused(
        container_with(
            R"({"linuxParameters": {"tmpfs": [{"containerPath": "/t", "size": 1, "mountOptions": ["loud"]}]}})"),
        "'loud' is not a tmpfs mount option");
    refused(
        container_with(
            R"({"linuxParameters": {"devices": [{"hostPath": "/dev/fuse", "permissions": ["exec"]}]}})"),
        "devices[0].permissions[0]: 'exec' is not read, write or mknod");
    refused(container_with(R"({"linuxParameters": {"devices": [{"hostPath": "dev"}]}})"),
            "devices[0].hostPath: 'dev' is not an absolute path");
    refused(container_with(R"({"linuxParameters": {"sharedMemorySize": 0}})"),
            "sharedMemorySize: 0 is out of range");
    refused(
        container_with(
            R"({"logConfiguration": {"logDriver": "json-file", "options": {"max-file": "0"}}})"),
        "options.max-file: '0' is not a count");
    refused(
        container_with(
            R"({"logConfiguration": {"logDriver": "json-file", "options": {"max-size": "ten"}}})"),
        "options.max-size: 'ten' is not a size");
    for (const char* size : {"0", "-1", "10x", "10mb", "", "k", "2048g", "1.5m"})
        refused(
            container_with(json{{"logConfiguration",
                                 {{"logDriver", "json-file"}, {"options", {{"max-size", size}}}}}}
                               .dump()
                               .c_str()),
            "containerDefinitions[0].logConfiguration.options.max-size: '");
    refused(
        container_with(
            R"({"logConfiguration": {"logDriver": "json-file", "options": {"max-file": "1001"}}})"),
        "containerDefinitions[0].logConfiguration.options.max-file: '1001' is not a count");
    refused(container_with(R"({"logConfiguration": {"options": {}}})"),
            "logConfiguration.logDriver: required");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cross_field)

BOOST_AUTO_TEST_CASE(container_names_are_unique_and_one_is_essential)
{
    json j = minimal();
    j["containerDefinitions"].push_back({{"name", "web"}, {"image", "busybox"}, {"memory", 8}});
    refused(j,
            "containerDefinitions[1].name: 'web' is already the name of containerDefinitions[0]");
    refused(container_with(R"({"essential": false})"), "at least one container must be essential");
}

BOOST_AUTO_TEST_CASE(dependencies_name_containers_of_the_task_without_cycles)
{
    json j = minimal();
    j["containerDefinitions"].push_back(
        {{"name", "b"}, {"image", "busybox"}, {"memory", 8}, {"essential", false}});
    auto dep = [&](const char* deps) {
        json k = j;
        k["containerDefinitions"][0]["dependsOn"] = json::parse(deps);
        return k;
    };
    refused(dep(R"([{"containerName": "c", "condition": "START"}])"),
            "dependsOn[0].containerName: 'c' is not a container of this task");
    refused(dep(R"([{"containerName": "web", "condition": "START"}])"),
            "'web' is the container itself");
    refused(
        dep(R"([{"containerName": "b", "condition": "START"}, {"containerName": "b", "condition": "START"}])"),
        "'b' is listed twice");
    refused(dep(R"([{"containerName": "b", "condition": "HEALTHY"}])"),
            "condition HEALTHY needs a healthCheck on 'b'");
    accepted(dep(R"([{"containerName": "b", "condition": "SUCCESS"}])"));
    json essential_target = dep(R"([{"containerName": "b", "condition": "COMPLETE"}])");
    essential_target["containerDefinitions"][1]["essential"] = true;
    refused(essential_target, "condition COMPLETE cannot be used on essential container 'b'");
    json cycle = dep(R"([{"containerName": "b", "condition": "START"}])");
    cycle["containerDefinitions"][1]["volumesFrom"] =
        json::parse(R"([{"sourceContainer": "web"}])");
    refused(cycle, "is part of a cycle");
    json from = minimal();
    from["containerDefinitions"][0]["volumesFrom"] = json::parse(R"([{"sourceContainer": "x"}])");
    refused(from, "volumesFrom[0].sourceContainer: 'x' is not a container of this task");
}

BOOST_AUTO_TEST_CASE(mount_points_name_volumes_of_the_task)
{
    refused(container_with(R"({"mountPoints": [{"sourceVolume": "v", "containerPath": "/v"}]})"),
            "mountPoints[0].sourceVolume: 'v' is not a volume of this task");
    json j = container_with(
        R"({"mountPoints": [{"sourceVolume": "v", "containerPath": "/v"}, {"sourceVolume": "v", "containerPath": "/v"}]})");
    j["volumes"] = json::parse(R"([{"name": "v"}])");
    refused(j, "mountPoints: '/v' is mounted twice");
}

BOOST_AUTO_TEST_CASE(awsvpc_and_host_modes_need_host_port_equal_to_container_port)
{
    for (const char* mode : {"awsvpc", "host"}) {
        json j = container_with(R"({"portMappings": [{"containerPort": 80, "hostPort": 0}]})");
        j["networkMode"] = mode;
        refused(j, cat("portMappings[0].hostPort: must equal containerPort (80) in ", mode));
        j["containerDefinitions"][0]["portMappings"][0]["hostPort"] = 80;
        accepted(j);
    }
    json none = container_with(R"({"portMappings": [{"containerPort": 80}]})");
    none["networkMode"] = "none";
    refused(none, "portMappings[0]: port mappings need a network");
    // Two containers of one awsvpc task share the namespace: the same port twice cannot bind.
    json twice = with(R"({"networkMode": "awsvpc"})");
    twice["containerDefinitions"][0]["portMappings"] = json::parse(R"([{"containerPort": 80}])");
    twice["containerDefinitions"].push_back(json::parse(
        R"({"name": "b", "image": "busybox", "memory": 8, "portMappings": [{"containerPort": 80}]})"));
    refused(twice, "containerDefinitions[1].portMappings[0]: host port 80 is already used by "
                   "containerDefinitions[0].portMappings[0]");
}

BOOST_AUTO_TEST_CASE(hostname_is_refused_in_awsvpc_and_host_modes)
{
    json j = container_with(R"({"hostname": "web"})");
    accepted(j);
    j["networkMode"] = "awsvpc";
    refused(j, "containerDefinitions[0].hostname: not supported in awsvpc network mode");
    j["networkMode"] = "host";
    refused(j, "hostname: not supported in host network mode");
}

BOOST_AUTO_TEST_CASE(memory_is_required_where_ecs_requires_it)
{
    refused(container_with(R"({"memory": null})"),
            "containerDefinitions[0]: memory or memoryReservation is required");
    accepted(json::parse(
        R"({"family": "f", "memory": "512", "containerDefinitions": [{"name": "a", "image": "busybox"}]})"));
    refused(
        json::parse(
            R"({"family": "f", "memory": "512", "containerDefinitions": [{"name": "a", "image": "busybox", "memory": 600}]})"),
        "containerDefinitions[0].memory: 600 MiB is more than the task's memory (512 MiB)");
    refused(
        json::parse(
            R"({"family": "f", "memory": "512", "containerDefinitions": [{"name": "a", "image": "busybox", "memory": 300}, {"name": "b", "image": "busybox", "memory": 300}]})"),
        "memory: the containers reserve 600 MiB");
    refused(
        json::parse(
            R"({"family": "f", "cpu": "256", "containerDefinitions": [{"name": "a", "image": "busybox", "memory": 8, "cpu": 512}]})"),
        "cpu: the containers ask for 512 CPU units");
}

BOOST_AUTO_TEST_CASE(shared_memory_size_needs_a_private_ipc_namespace)
{
    json j = container_with(R"({"linuxParameters": {"sharedMemorySize": 128}})");
    accepted(j);
    j["ipcMode"] = "host";
    refused(j, "sharedMemorySize: only with a private IPC namespace (ipcMode is host)");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(describe)

BOOST_AUTO_TEST_CASE(to_json_has_the_describe_shape_with_ecs_defaults)
{
    auto t = accepted(with(R"({"cpu": "1 vcpu", "memory": "1 GB", "networkMode": "awsvpc"})"));
    t.containers[0].port_mappings.push_back({8080, std::nullopt, Protocol::Tcp, ""});
    t.revision = 3;
    t.arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:3";
    t.status = "ACTIVE";
    t.registered_at = 1700000000.5;
    json j = to_json(t);
    BOOST_TEST(j["taskDefinitionArn"] == t.arn);
    BOOST_TEST(j["revision"] == 3);
    BOOST_TEST(j["cpu"] == "1024");
    BOOST_TEST(j["memory"] == "1024");
    BOOST_TEST(j["networkMode"] == "awsvpc");
    BOOST_TEST(j["status"] == "ACTIVE");
    BOOST_TEST(j["registeredAt"] == 1700000000.5);
    const auto& c = j["containerDefinitions"][0];
    BOOST_TEST(c["essential"] == true);
    BOOST_TEST(c["cpu"] == 0);
    BOOST_TEST(c["environment"].is_array());
    BOOST_TEST(c["portMappings"][0]["hostPort"] == 8080);
    BOOST_TEST(c["portMappings"][0]["protocol"] == "tcp");
}

BOOST_AUTO_TEST_CASE(from_json_reads_back_what_to_json_wrote)
{
    auto t = accepted(json::parse(read_example("web-sidecar-bridge.json")));
    t.revision = 1;
    t.arn = "arn:aws:ecs:local:0:task-definition/berth-web-bridge:1";
    t.status = "ACTIVE";
    t.registered_at = 5;
    const json first = to_json(t);
    auto back = from_json(first);
    BOOST_TEST_REQUIRE(back.has_value(), why(back));
    BOOST_TEST(back->revision == 1);
    BOOST_TEST(back->arn == t.arn);
    BOOST_TEST(to_json(*back) == first);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(examples)

BOOST_AUTO_TEST_CASE(the_bridge_example_parses_with_a_dynamic_host_port)
{
    auto t = parse_task_definition_text(read_example("web-sidecar-bridge.json"));
    BOOST_TEST_REQUIRE(t.has_value(), why(t));
    BOOST_TEST((t->network() == NetworkMode::Bridge));
    BOOST_TEST(*t->containers[0].port_mappings[0].host_port == 0);
    BOOST_TEST(t->containers[0].depends_on[0].container_name == "sidecar");
}

BOOST_AUTO_TEST_CASE(the_awsvpc_example_parses)
{
    auto t = parse_task_definition_text(read_example("web-sidecar-awsvpc.json"));
    BOOST_TEST_REQUIRE(t.has_value(), why(t));
    BOOST_TEST((t->network() == NetworkMode::Awsvpc));
    BOOST_TEST(!t->containers[0].port_mappings[0].host_port);
}

BOOST_AUTO_TEST_SUITE_END()

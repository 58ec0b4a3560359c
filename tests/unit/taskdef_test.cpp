// tests/unit/taskdef_test.cpp — parse_task_definition, from_json and to_json: every field berth
// takes, its ECS defaults, the describe shape and the examples. The refusals and the rules
// between fields: taskdef_checks_test.cpp.
#define BOOST_TEST_MODULE taskdef
#include "tests/unit/taskdef_fixture.hpp"

using namespace berth::test::taskdef;
using berth::cat;

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

// tests/unit/taskdef_checks_test.cpp — what parse_task_definition refuses: unsupported fields
// by name, bad types and missing fields by path, the ECS ranges, and the rules between fields
// (names, dependencies, volumes, network modes, memory).
#define BOOST_TEST_MODULE taskdef_checks
#include "tests/unit/taskdef_fixture.hpp"

using namespace berth::test::taskdef;
using berth::cat;

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

// tests/unit/taskdef_spec_test.cpp — build_spec: a container definition and an image config
// merged into an OCI spec the way Docker merges them; users from the image's /etc/passwd read
// without leaving the rootfs; environment files; the refusals. A fake rootfs in a temp dir.
#define BOOST_TEST_MODULE taskdef_spec
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "agent/taskdef/taskdef.hpp"
#include "tests/unit/source_tree.hpp"

using nlohmann::json;
using namespace berth;
using namespace berth::taskdef;
namespace fs = std::filesystem;

namespace {

template <class R>
std::string why(const R& r)
{
    return r.has_value() ? std::string() : r.error().message();
}

void write(const fs::path& path, const std::string& text)
{
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

// A rootfs with an /etc/passwd and /etc/group, and a directory outside it; removed afterwards.
struct Rootfs {
    fs::path top;
    std::string root;
    Rootfs()
    {
        std::string templ = (fs::temp_directory_path() / "taskdef-spec-XXXXXX").string();
        BOOST_TEST_REQUIRE(::mkdtemp(templ.data()) != nullptr);
        top = templ;
        root = (top / "rootfs").string();
        write(top / "rootfs/etc/passwd",
              "root:x:0:0:root:/root:/bin/sh\n"
              "app:x:1000:1000:app:/home/app:/bin/sh\n"
              "# comment\nnobody:x:65534:65534::/nonexistent:/bin/false\n");
        write(top / "rootfs/etc/group", "root:x:0:\napp:x:1000:\nwheel:x:10:app,other\n"
                                        "audio:x:29:app\nnogroup:x:65534:\n");
        write(top / "outside/passwd", "evil:x:4242:4242::/:/bin/sh\n");
    }
    ~Rootfs() { fs::remove_all(top); }
};

TaskDefinition task(const char* patch = "{}", const char* task_patch = "{}")
{
    json j = json::parse(R"({"family": "t", "containerDefinitions": [
        {"name": "web", "image": "busybox", "memory": 64, "memoryReservation": 32, "cpu": 256}]})");
    j["containerDefinitions"][0].merge_patch(json::parse(patch));
    j.merge_patch(json::parse(task_patch));
    auto t = parse_task_definition(j);
    BOOST_TEST_REQUIRE(t.has_value(), why(t));
    return *t;
}

ImageRunConfig image()
{
    ImageRunConfig i;
    i.env = {"PATH=/bin:/usr/bin", "LANG=C", "FROM_IMAGE=1"};
    i.entrypoint = {"/docker-entrypoint.sh"};
    i.cmd = {"nginx", "-g", "daemon off;"};
    i.working_dir = "/srv";
    i.labels = {{"maintainer", "x"}};
    return i;
}

SpecInputs inputs(const Rootfs& r)
{
    SpecInputs in;
    in.rootfs = r.root;
    in.netns_path = "/run/netns/task";
    in.hostname = "task-host";
    in.cgroups_path = "/berth/task/web";
    return in;
}

runtime::Spec built(const TaskDefinition& t, const ImageRunConfig& i, const SpecInputs& in)
{
    auto s = build_spec(t, "web", i, in);
    BOOST_TEST_REQUIRE(s.has_value(), why(s));
    return *s;
}

bool has(const std::vector<std::string>& list, const std::string& item)
{
    return std::find(list.begin(), list.end(), item) != list.end();
}

const runtime::Mount* mount_at(const runtime::Spec& s, const std::string& destination)
{
    for (const auto& m : s.mounts)
        if (m.destination == destination)
            return &m;
    return nullptr;
}

bool has_cap(const runtime::Spec& s, int cap)
{
    const auto& b = s.process->capabilities->bounding;
    return std::find(b.begin(), b.end(), cap) != b.end();
}

} // namespace

BOOST_AUTO_TEST_SUITE(process)

BOOST_AUTO_TEST_CASE(the_image_entrypoint_and_cmd_run_when_the_definition_gives_neither)
{
    Rootfs r;
    auto s = built(task(), image(), inputs(r));
    BOOST_TEST(s.process->args ==
               (std::vector<std::string>{"/docker-entrypoint.sh", "nginx", "-g", "daemon off;"}));
    BOOST_TEST(s.process->cwd == "/srv");
}

BOOST_AUTO_TEST_CASE(a_command_replaces_only_the_image_cmd)
{
    Rootfs r;
    auto s = built(task(R"({"command": ["echo", "hi"]})"), image(), inputs(r));
    BOOST_TEST(s.process->args ==
               (std::vector<std::string>{"/docker-entrypoint.sh", "echo", "hi"}));
}

BOOST_AUTO_TEST_CASE(an_entry_point_resets_the_image_cmd_unless_a_command_is_given)
{
    Rootfs r;
    auto s = built(task(R"({"entryPoint": ["/bin/sh"]})"), image(), inputs(r));
    BOOST_TEST(s.process->args == (std::vector<std::string>{"/bin/sh"}));
    s = built(task(R"({"entryPoint": ["/bin/sh", "-c"], "command": ["true"]})"), image(),
              inputs(r));
    BOOST_TEST(s.process->args == (std::vector<std::string>{"/bin/sh", "-c", "true"}));
}

BOOST_AUTO_TEST_CASE(no_command_anywhere_is_refused)
{
    Rootfs r;
    auto s = build_spec(task(), "web", ImageRunConfig{}, inputs(r));
    BOOST_TEST_REQUIRE(!s.has_value());
    BOOST_TEST(s.error().message().find("container web: no command") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(environment_merges_by_key_image_then_files_then_definition_then_agent)
{
    Rootfs r;
    write(r.top / "vars.env",
          "# a comment\n\nLANG=en_US.UTF-8\nFROM_FILE=a=b\r\nOVERRIDDEN=file\n");
    const std::string file = (r.top / "vars.env").string();
    auto t = task(cat(R"({"environment": [{"name": "OVERRIDDEN", "value": "definition"}],
        "environmentFiles": [{"value": ")",
                      file, R"(", "type": "file"}]})")
                      .c_str());
    auto in = inputs(r);
    in.extra_env = {"ECS_CONTAINER_METADATA_URI=http://169.254.170.2/v3/x"};
    auto s = built(t, image(), in);
    const auto& env = s.process->env;
    BOOST_TEST(has(env, "HOSTNAME=task-host"));
    BOOST_TEST(has(env, "PATH=/bin:/usr/bin"));
    BOOST_TEST(has(env, "LANG=en_US.UTF-8"));
    BOOST_TEST(!has(env, "LANG=C"));
    BOOST_TEST(has(env, "FROM_IMAGE=1"));
    BOOST_TEST(has(env, "FROM_FILE=a=b"));
    BOOST_TEST(has(env, "OVERRIDDEN=definition"));
    BOOST_TEST(has(env, "HOME=/root"));
    BOOST_TEST(has(env, "ECS_CONTAINER_METADATA_URI=http://169.254.170.2/v3/x"));
}

BOOST_AUTO_TEST_CASE(a_default_path_is_added_when_the_image_has_none)
{
    Rootfs r;
    ImageRunConfig i = image();
    i.env.clear();
    auto s = built(task(), i, inputs(r));
    BOOST_TEST(
        has(s.process->env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
}

BOOST_AUTO_TEST_CASE(environment_file_errors_name_the_file_and_line)
{
    Rootfs r;
    write(r.top / "bad.env", "A=1\nNOEQUALS\n");
    auto vars = read_environment_file((r.top / "bad.env").string());
    BOOST_TEST_REQUIRE(!vars.has_value());
    BOOST_TEST(vars.error().message().find("bad.env' line 2: expected KEY=VALUE") !=
               std::string::npos);
    auto missing = read_environment_file((r.top / "missing.env").string());
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().code == ENOENT);
    write(r.top / "big.env", std::string(max_environment_file_bytes + 1, 'A'));
    auto big = read_environment_file((r.top / "big.env").string());
    BOOST_TEST_REQUIRE(!big.has_value());
    BOOST_TEST(big.error().code == EFBIG);
    auto t = task(cat(R"({"environmentFiles": [{"value": ")", (r.top / "bad.env").string(),
                      R"(", "type": "file"}]})")
                      .c_str());
    auto s = build_spec(t, "web", image(), inputs(r));
    BOOST_TEST_REQUIRE(!s.has_value());
    BOOST_TEST(s.error().message().find("container web: environmentFiles: environment file") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_definition_user_and_working_directory_override_the_image)
{
    Rootfs r;
    ImageRunConfig i = image();
    i.user = "nobody";
    auto s = built(task(R"({"workingDirectory": "/app"})"), i, inputs(r));
    BOOST_TEST(s.process->user.uid == 65534u);
    BOOST_TEST(s.process->cwd == "/app");
    s = built(task(R"({"user": "app"})"), i, inputs(r));
    BOOST_TEST(s.process->user.uid == 1000u);
    BOOST_TEST(has(s.process->env, "HOME=/home/app"));
}

BOOST_AUTO_TEST_CASE(an_init_process_needs_an_init_binary)
{
    Rootfs r;
    auto t = task(R"({"linuxParameters": {"initProcessEnabled": true}})");
    auto refused = build_spec(t, "web", image(), inputs(r));
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error().code == ENOTSUP);
    BOOST_TEST(refused.error().message().find("initProcessEnabled") != std::string::npos);
    auto in = inputs(r);
    in.init_path = "/usr/bin/tini-static";
    auto s = built(t, image(), in);
    BOOST_TEST(s.process->args[0] == "/sbin/docker-init");
    BOOST_TEST(s.process->args[1] == "--");
    const auto* m = mount_at(s, "/sbin/docker-init");
    BOOST_TEST_REQUIRE(m != nullptr);
    BOOST_TEST(m->source == "/usr/bin/tini-static");
    BOOST_TEST(m->options.bind);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(users)

BOOST_AUTO_TEST_CASE(docker_user_forms_resolve_against_the_image)
{
    Rootfs r;
    auto root = resolve_user(r.root, "");
    BOOST_TEST_REQUIRE(root.has_value(), why(root));
    BOOST_TEST(root->uid == 0u);
    auto app = resolve_user(r.root, "app");
    BOOST_TEST_REQUIRE(app.has_value());
    BOOST_TEST(app->gid == 1000u);
    BOOST_TEST(app->additional_gids == (std::vector<std::uint32_t>{10, 29})); // wheel, audio
    auto named_group = resolve_user(r.root, "app:wheel");
    BOOST_TEST_REQUIRE(named_group.has_value());
    BOOST_TEST(named_group->gid == 10u);
    BOOST_TEST(named_group->additional_gids.empty()); // a named group replaces them (runc)
    auto numeric = resolve_user(r.root, "1234:5678");
    BOOST_TEST_REQUIRE(numeric.has_value());
    BOOST_TEST(numeric->uid == 1234u);
    BOOST_TEST(numeric->gid == 5678u);
    auto unknown_uid = resolve_user(r.root, "4321");
    BOOST_TEST_REQUIRE(unknown_uid.has_value());
    BOOST_TEST(unknown_uid->gid == 0u);
    auto uid_group = resolve_user(r.root, "1000:nogroup");
    BOOST_TEST_REQUIRE(uid_group.has_value());
    BOOST_TEST(uid_group->gid == 65534u);
}

BOOST_AUTO_TEST_CASE(unknown_names_and_huge_ids_are_refused)
{
    Rootfs r;
    for (const char* bad : {"ghost", "app:ghosts", ":10", "4294967295", "app:99999999999"}) {
        auto u = resolve_user(r.root, bad);
        BOOST_TEST(!u.has_value(), bad);
    }
    auto ghost = resolve_user(r.root, "ghost");
    BOOST_TEST(ghost.error().message().find("no such user in the image's /etc/passwd") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(symlinks_in_the_image_never_lead_to_host_files)
{
    Rootfs r;
    fs::remove(r.top / "rootfs/etc/passwd");
    // Absolute and ../ escapes both resolve inside the rootfs (RESOLVE_IN_ROOT), where there is
    // no such file: the host's copy is never read.
    const std::string outside = (r.top / "outside/passwd").string();
    fs::create_symlink(outside, r.top / "rootfs/etc/passwd");
    BOOST_TEST(!resolve_user(r.root, "evil").has_value());
    fs::remove(r.top / "rootfs/etc/passwd");
    fs::create_symlink("../../../../../../../../../.." + outside, r.top / "rootfs/etc/passwd");
    BOOST_TEST(!resolve_user(r.root, "evil").has_value());
    // A FIFO or directory is not read (a FIFO would block a root daemon forever).
    fs::remove(r.top / "rootfs/etc/passwd");
    BOOST_TEST_REQUIRE(::mkfifo((r.top / "rootfs/etc/passwd").c_str(), 0600) == 0);
    auto fifo = resolve_user(r.root, "root");
    BOOST_TEST_REQUIRE(!fifo.has_value());
    BOOST_TEST(fifo.error().message().find("not a regular file") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(linux_part)

BOOST_AUTO_TEST_CASE(cpu_and_memory_become_shares_and_limits)
{
    Rootfs r;
    auto s = built(task(), image(), inputs(r));
    const auto& res = *s.linux.resources;
    BOOST_TEST(*res.cpu->shares == 256u);
    BOOST_TEST(*res.memory->limit == 64 * 1024 * 1024);
    BOOST_TEST(*res.memory->reservation == 32 * 1024 * 1024);
    BOOST_TEST(s.linux.cgroups_path == "/berth/task/web");
    s = built(task(R"({"cpu": 0})"), image(), inputs(r));
    BOOST_TEST(*s.linux.resources->cpu->shares == 2u); // the ECS agent's minimum
}

BOOST_AUTO_TEST_CASE(capabilities_are_dockers_defaults_with_add_and_drop)
{
    Rootfs r;
    auto s = built(task(), image(), inputs(r));
    BOOST_TEST(has_cap(s, CAP_CHOWN));
    BOOST_TEST(has_cap(s, CAP_NET_RAW));
    BOOST_TEST(!has_cap(s, CAP_SYS_ADMIN));
    BOOST_TEST(s.process->capabilities->bounding.size() == 14u);
    s = built(
        task(
            R"({"linuxParameters": {"capabilities": {"add": ["SYS_ADMIN"], "drop": ["NET_RAW"]}}})"),
        image(), inputs(r));
    BOOST_TEST(has_cap(s, CAP_SYS_ADMIN));
    BOOST_TEST(!has_cap(s, CAP_NET_RAW));
    s = built(task(R"({"linuxParameters": {"capabilities": {"add": ["KILL"], "drop": ["ALL"]}}})"),
              image(), inputs(r));
    BOOST_TEST(s.process->capabilities->bounding == (std::vector<int>{CAP_KILL}));
    s = built(
        task(R"({"linuxParameters": {"capabilities": {"add": ["ALL"], "drop": ["SYS_ADMIN"]}}})"),
        image(), inputs(r));
    BOOST_TEST(!has_cap(s, CAP_SYS_ADMIN));
    BOOST_TEST(has_cap(s, CAP_SYS_PTRACE));
}

BOOST_AUTO_TEST_CASE(privileged_has_every_capability_device_and_no_masked_paths)
{
    Rootfs r;
    auto plain = built(task(), image(), inputs(r));
    BOOST_TEST(!plain.linux.masked_paths.empty());
    BOOST_TEST(mount_at(plain, "/sys")->options.flags & MS_RDONLY);
    auto s = built(task(R"({"privileged": true})"), image(), inputs(r));
    BOOST_TEST(has_cap(s, CAP_SYS_ADMIN));
    BOOST_TEST(s.linux.masked_paths.empty());
    BOOST_TEST(s.linux.readonly_paths.empty());
    BOOST_TEST(s.linux.resources->devices.size() == 1u);
    BOOST_TEST(s.linux.resources->devices[0].allow);
    BOOST_TEST(!(mount_at(s, "/sys")->options.flags & MS_RDONLY));
}

BOOST_AUTO_TEST_CASE(ulimits_become_rlimits_with_minus_one_unlimited)
{
    Rootfs r;
    auto s = built(task(R"({"ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096},
        {"name": "memlock", "softLimit": -1, "hardLimit": -1}]})"),
                   image(), inputs(r));
    BOOST_TEST_REQUIRE(s.process->rlimits.size() == 2u);
    BOOST_TEST(s.process->rlimits[0].resource == RLIMIT_NOFILE);
    BOOST_TEST(s.process->rlimits[0].soft == 1024u);
    BOOST_TEST(s.process->rlimits[1].hard == ~std::uint64_t{0});
}

BOOST_AUTO_TEST_CASE(devices_are_created_and_allowed_with_their_permissions)
{
    Rootfs r;
    auto s = built(task(R"({"linuxParameters": {"devices": [{"hostPath": "/dev/null",
        "containerPath": "/dev/mynull", "permissions": ["read"]}]}})"),
                   image(), inputs(r));
    BOOST_TEST_REQUIRE(s.linux.devices.size() == 1u);
    BOOST_TEST(s.linux.devices[0].path == "/dev/mynull");
    BOOST_TEST(s.linux.devices[0].type == 'c');
    BOOST_TEST(s.linux.devices[0].major == 1);
    BOOST_TEST(s.linux.devices[0].minor == 3);
    BOOST_TEST(s.linux.resources->devices.back().access == "r");
    auto bad =
        build_spec(task(R"({"linuxParameters": {"devices": [{"hostPath": "/etc/hostname"}]}})"),
                   "web", image(), inputs(r));
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().message().find("devices[0].hostPath: '/etc/hostname' is not a device") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(namespaces_follow_the_network_pid_and_ipc_modes)
{
    Rootfs r;
    auto s = built(task(), image(), inputs(r));
    const auto* net = s.find_namespace(runtime::NamespaceType::Network);
    BOOST_TEST_REQUIRE(net != nullptr);
    BOOST_TEST(net->path == "/run/netns/task");
    BOOST_TEST(s.hostname == "task-host");
    BOOST_TEST(s.has_namespace(runtime::NamespaceType::Pid));
    s = built(task("{}", R"({"networkMode": "host", "pidMode": "host", "ipcMode": "host"})"),
              image(), inputs(r));
    BOOST_TEST(!s.has_namespace(runtime::NamespaceType::Network));
    BOOST_TEST(!s.has_namespace(runtime::NamespaceType::Uts));
    BOOST_TEST(!s.has_namespace(runtime::NamespaceType::Pid));
    BOOST_TEST(!s.has_namespace(runtime::NamespaceType::Ipc));
    BOOST_TEST(s.hostname.empty());
    BOOST_TEST(mount_at(s, "/dev/shm")->source == "/dev/shm");
    auto in = inputs(r);
    in.pid_ns_path = "/proc/42/ns/pid";
    in.ipc_ns_path = "/proc/42/ns/ipc";
    in.shared_shm_dir = "/run/berth/task/shm";
    s = built(task("{}", R"({"pidMode": "task", "ipcMode": "task"})"), image(), in);
    BOOST_TEST(s.find_namespace(runtime::NamespaceType::Pid)->path == "/proc/42/ns/pid");
    BOOST_TEST(s.find_namespace(runtime::NamespaceType::Ipc)->path == "/proc/42/ns/ipc");
    BOOST_TEST(mount_at(s, "/dev/shm")->source == "/run/berth/task/shm");
    s = built(task("{}", R"({"networkMode": "none", "ipcMode": "none"})"), image(), inputs(r));
    BOOST_TEST(s.find_namespace(runtime::NamespaceType::Network)->path.empty());
    BOOST_TEST(mount_at(s, "/dev/shm") == nullptr);
    auto no_netns = inputs(r);
    no_netns.netns_path.clear();
    auto refused = build_spec(task(), "web", image(), no_netns);
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error().message().find("bridge network mode") != std::string::npos);
    // pidMode task without the task's namespace: refused, never a pid namespace of its own.
    refused = build_spec(task("{}", R"({"pidMode": "task"})"), "web", image(), inputs(r));
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error().message().find("pid namespace mode task") != std::string::npos,
               refused.error().message());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mounts)

BOOST_AUTO_TEST_CASE(default_mounts_are_dockers_with_the_shm_size)
{
    Rootfs r;
    auto s = built(task(R"({"linuxParameters": {"sharedMemorySize": 128}})"), image(), inputs(r));
    for (const char* m : {"/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/sys/fs/cgroup"})
        BOOST_TEST(mount_at(s, m) != nullptr, m);
    BOOST_TEST(mount_at(s, "/dev/shm")->options.data.find("size=128m") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(tmpfs_readonly_root_and_volumes_are_mounted)
{
    Rootfs r;
    json j = json::parse(
        R"({"family": "t", "volumes": [{"name": "data", "host": {"sourcePath": "/srv/data"}},
        {"name": "scratch"}],
      "containerDefinitions": [
        {"name": "web", "image": "busybox", "memory": 64, "readonlyRootFilesystem": true,
         "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": true}],
         "volumesFrom": [{"sourceContainer": "side"}],
         "linuxParameters": {"tmpfs": [{"containerPath": "/run", "size": 8}]}},
        {"name": "side", "image": "busybox", "memory": 8, "essential": false,
         "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/scratch"}]}]})");
    auto t = parse_task_definition(j);
    BOOST_TEST_REQUIRE(t.has_value(), why(t));
    auto in = inputs(r);
    in.volume_paths["scratch"] = "/var/lib/berth/volumes/t/scratch";
    auto s = built(*t, image(), in);
    BOOST_TEST(s.root.readonly);
    const auto* data = mount_at(s, "/data");
    BOOST_TEST_REQUIRE(data != nullptr);
    BOOST_TEST(data->source == "/srv/data");
    BOOST_TEST(data->options.bind);
    BOOST_TEST(data->options.flags & MS_RDONLY);
    const auto* scratch = mount_at(s, "/scratch");
    BOOST_TEST_REQUIRE(scratch != nullptr);
    BOOST_TEST(scratch->source == "/var/lib/berth/volumes/t/scratch");
    BOOST_TEST(!(scratch->options.flags & MS_RDONLY));
    const auto* run = mount_at(s, "/run");
    BOOST_TEST_REQUIRE(run != nullptr);
    BOOST_TEST(run->type == "tmpfs");
    BOOST_TEST(run->options.data.find("size=8m") != std::string::npos);
    BOOST_TEST(run->options.flags & MS_NOEXEC); // Docker's --tmpfs defaults
    in.volume_paths.clear();
    auto missing = build_spec(*t, "web", image(), in);
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().message().find("volume 'scratch' has no host directory") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(labels_become_annotations_and_unknown_containers_are_refused)
{
    Rootfs r;
    auto s = built(task(R"({"dockerLabels": {"maintainer": "y", "k": "v"}})"), image(), inputs(r));
    BOOST_TEST(s.annotations.at("maintainer") == "y");
    BOOST_TEST(s.annotations.at("k") == "v");
    auto none = build_spec(task(), "nope", image(), inputs(r));
    BOOST_TEST_REQUIRE(!none.has_value());
    BOOST_TEST(none.error().message().find("container 'nope': not in task definition") !=
               std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(image_config)

BOOST_AUTO_TEST_CASE(the_run_fields_of_an_image_config_are_read)
{
    auto c = parse_image_run_config(R"({"architecture": "amd64", "config": {"Env": ["A=1"],
        "Entrypoint": ["/e"], "Cmd": null, "User": "app", "WorkingDir": "/w",
        "ExposedPorts": {"80/tcp": {}}, "Labels": {"l": "v"}}})");
    BOOST_TEST_REQUIRE(c.has_value(), why(c));
    BOOST_TEST(c->env == (std::vector<std::string>{"A=1"}));
    BOOST_TEST(c->entrypoint == (std::vector<std::string>{"/e"}));
    BOOST_TEST(c->cmd.empty());
    BOOST_TEST(c->user == "app");
    BOOST_TEST(c->working_dir == "/w");
    BOOST_TEST(c->exposed_ports == (std::vector<std::string>{"80/tcp"}));
    BOOST_TEST(c->labels.at("l") == "v");
    BOOST_TEST(parse_image_run_config(R"({"os": "linux"})").has_value());
    BOOST_TEST(!parse_image_run_config(R"({"config": {"Env": "A=1"}})").has_value());
    BOOST_TEST(!parse_image_run_config("[1]").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(examples)

BOOST_AUTO_TEST_CASE(every_container_of_the_bridge_example_builds_a_spec)
{
    Rootfs r;
    std::ifstream in(berth::test::source_path("examples/web-sidecar-bridge.json"));
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto t = parse_task_definition_text(text);
    BOOST_TEST_REQUIRE(t.has_value(), why(t));
    auto in_paths = inputs(r);
    in_paths.volume_paths["shared"] = "/var/lib/berth/volumes/task/shared";
    for (const auto& c : t->containers) {
        auto s = build_spec(*t, c.name, image(), in_paths);
        BOOST_TEST_REQUIRE(s.has_value(), why(s));
        BOOST_TEST(!s->process->args.empty());
    }
    auto sidecar = build_spec(*t, "sidecar", image(), in_paths);
    BOOST_TEST(sidecar->root.readonly);
    BOOST_TEST(mount_at(*sidecar, "/shared")->source == "/var/lib/berth/volumes/task/shared");
    BOOST_TEST(sidecar->process->args.front() == "/bin/sh");
}

BOOST_AUTO_TEST_SUITE_END()

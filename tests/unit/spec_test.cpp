// tests/unit/spec_test.cpp — parse_spec: real configs parse to the right values, and every
// rejection names the JSON path of the bad field.
#define BOOST_TEST_MODULE spec
#include <sys/mount.h>
#include <sys/resource.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <functional>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "runtime/spec.hpp"
#include "tests/unit/spec_fixture.hpp"

using namespace berth::runtime;
using Json = nlohmann::json;

namespace {

Json runc_config()
{
    return Json::parse(berth::test::runc_spec);
}

// The error text parse_spec gives for config, or "(accepted)".
std::string rejection(const Json& config)
{
    auto spec = parse_spec(config.dump());
    if (spec)
        return "(accepted)";
    BOOST_TEST(spec.error().bad_input);
    return spec.error().context;
}

// Applies change to the runc config and checks the exact message.
void expect_rejection(const std::function<void(Json&)>& change, const std::string& message)
{
    auto config = runc_config();
    change(config);
    BOOST_TEST(rejection(config) == message);
}

} // namespace

BOOST_AUTO_TEST_SUITE(good_configs)

BOOST_AUTO_TEST_CASE(runc_spec_output_parses_to_its_values)
{
    auto spec = parse_spec(berth::test::runc_spec);
    BOOST_TEST_REQUIRE(spec.has_value(), (spec ? "" : spec.error().context));
    BOOST_TEST(spec->oci_version == "1.0.2-dev");
    BOOST_TEST(spec->root.path == "rootfs");
    BOOST_TEST(spec->root.readonly);
    BOOST_TEST(spec->hostname == "runc");
    BOOST_TEST_REQUIRE(spec->process.has_value());
    const auto& process = *spec->process;
    BOOST_TEST(process.terminal);
    BOOST_TEST(process.args == std::vector<std::string>{"sh"});
    BOOST_TEST(process.env.size() == 2u);
    BOOST_TEST(process.cwd == "/");
    BOOST_TEST(process.no_new_privileges);
    BOOST_TEST_REQUIRE(process.capabilities.has_value());
    BOOST_TEST(process.capabilities->bounding ==
               (std::vector<int>{CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE}));
    BOOST_TEST(process.capabilities->inheritable.empty());
    BOOST_TEST_REQUIRE(process.rlimits.size() == 1u);
    BOOST_TEST(process.rlimits[0].resource == RLIMIT_NOFILE);
    BOOST_TEST(process.rlimits[0].soft == 1024u);
    BOOST_TEST_REQUIRE(spec->mounts.size() == 7u);
    BOOST_TEST(spec->mounts[1].destination == "/dev");
    BOOST_TEST(spec->mounts[1].options.flags == (MS_NOSUID | MS_STRICTATIME));
    BOOST_TEST(spec->mounts[1].options.data == "mode=755,size=65536k");
    BOOST_TEST(spec->mounts[5].options.flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
    BOOST_TEST(spec->linux.namespaces.size() == 5u);
    BOOST_TEST(spec->has_namespace(NamespaceType::Network));
    BOOST_TEST(!spec->has_namespace(NamespaceType::User));
    BOOST_TEST_REQUIRE(spec->linux.resources.has_value());
    BOOST_TEST_REQUIRE(spec->linux.resources->devices.size() == 1u);
    BOOST_TEST(!spec->linux.resources->devices[0].allow);
    BOOST_TEST(spec->linux.resources->devices[0].type == 'a');
    BOOST_TEST(spec->linux.masked_paths.size() == 10u);
    BOOST_TEST(spec->linux.readonly_paths.size() == 5u);
    BOOST_TEST(!spec->linux.seccomp.has_value());
}

BOOST_AUTO_TEST_CASE(runc_rootless_spec_parses_with_user_namespace_and_bind_mount)
{
    auto spec = parse_spec(berth::test::runc_spec_rootless);
    BOOST_TEST_REQUIRE(spec.has_value(), (spec ? "" : spec.error().context));
    BOOST_TEST(spec->has_namespace(NamespaceType::User));
    BOOST_TEST_REQUIRE(spec->linux.uid_mappings.size() == 1u);
    BOOST_TEST(spec->linux.uid_mappings[0].size == 1u);
    bool found_bind = false;
    for (const auto& mount : spec->mounts)
        if (mount.destination == "/sys") {
            found_bind = true;
            BOOST_TEST(mount.options.bind);
            BOOST_TEST(mount.options.recursive);
            BOOST_TEST(mount.type.empty()); // "none" + rbind is a bind mount
        }
    BOOST_TEST(found_bind);
}

BOOST_AUTO_TEST_CASE(config_with_every_field_parses_to_its_values)
{
    auto spec = parse_spec(berth::test::full_spec);
    BOOST_TEST_REQUIRE(spec.has_value(), (spec ? "" : spec.error().context));
    const auto& process = *spec->process;
    BOOST_TEST(process.console_size->width == 80u);
    BOOST_TEST(process.user.uid == 1000u);
    BOOST_TEST(*process.user.umask == 18u);
    BOOST_TEST(process.user.additional_gids == (std::vector<std::uint32_t>{5, 6}));
    BOOST_TEST(process.rlimits[1].hard == UINT64_MAX);
    BOOST_TEST(*process.oom_score_adj == -500);
    BOOST_TEST(process.capabilities->permitted == (std::vector<int>{CAP_CHOWN, CAP_SYS_ADMIN}));
    BOOST_TEST(spec->domainname == "example.org");
    BOOST_TEST(spec->mounts[1].type.empty());
    BOOST_TEST(spec->mounts[1].options.bind);
    BOOST_TEST(spec->mounts[1].options.flags == static_cast<unsigned long>(MS_RDONLY));
    BOOST_TEST(spec->mounts[1].options.propagation ==
               (std::vector<unsigned long>{MS_PRIVATE | MS_REC}));
    BOOST_TEST(spec->hooks.prestart[0].args.size() == 2u);
    BOOST_TEST(*spec->hooks.prestart[0].timeout == 5);
    BOOST_TEST(spec->hooks.poststop.size() == 1u);
    BOOST_TEST(spec->annotations.at("org.example.key") == "value");
    const auto& linux = spec->linux;
    BOOST_TEST(spec->find_namespace(NamespaceType::Network)->path == "/var/run/netns/web");
    BOOST_TEST(linux.uid_mappings[0].host_id == 100000u);
    BOOST_TEST(linux.devices[0].type == 'c');
    BOOST_TEST(linux.devices[0].minor == 229);
    BOOST_TEST(*linux.devices[0].file_mode == 0666u);
    BOOST_TEST(linux.devices[1].type == 'p');
    const auto& resources = *linux.resources;
    BOOST_TEST(resources.devices[1].access == "rw");
    BOOST_TEST(!resources.devices[2].minor.has_value());
    BOOST_TEST(*resources.memory->limit == 536870912);
    BOOST_TEST(*resources.memory->kernel == -1);
    BOOST_TEST(*resources.memory->swappiness == 60u);
    BOOST_TEST(*resources.cpu->quota == 50000);
    BOOST_TEST(resources.cpu->cpus == "0-1");
    BOOST_TEST(resources.pids->limit == 100);
    BOOST_TEST(*resources.block_io->weight == 500);
    BOOST_TEST(*resources.block_io->weight_device[0].leaf_weight == 200);
    BOOST_TEST(resources.block_io->throttle_write_iops[0].rate == 100u);
    BOOST_TEST(resources.hugepage_limits[0].page_size == "2MB");
    BOOST_TEST(resources.unified.at("memory.high") == "400000000");
    BOOST_TEST(linux.cgroups_path == "/berth/task1/web");
    BOOST_TEST(linux.sysctl.at("kernel.shmmax") == "1024"); // "/" spelled as "."
    BOOST_TEST_REQUIRE(linux.seccomp.has_value());
    BOOST_TEST((linux.seccomp->default_action == SeccompAction::Errno));
    BOOST_TEST(*linux.seccomp->default_errno_ret == 1u);
    BOOST_TEST(linux.seccomp->architectures.size() == 3u);
    BOOST_TEST(linux.seccomp->architectures[0] == SCMP_ARCH_X86_64);
    BOOST_TEST((linux.seccomp->syscalls[2].args[0].op == SeccompOp::MaskedEqual));
    BOOST_TEST(*linux.seccomp->syscalls[3].errno_ret == 38u);
    BOOST_TEST(linux.rootfs_propagation == (MS_SLAVE | MS_REC));
    BOOST_TEST(linux.mount_label.empty());
}

BOOST_AUTO_TEST_CASE(unknown_fields_and_nulls_are_ignored)
{
    auto config = runc_config();
    config["org.example.extension"] = {{"anything", 1}};
    config["process"]["somethingNew"] = true;
    config["linux"]["seccomp"] = nullptr;
    config["domainname"] = nullptr;
    BOOST_TEST(rejection(config) == "(accepted)");
}

BOOST_AUTO_TEST_CASE(process_json_for_exec_parses_alone)
{
    auto process = parse_process(R"({"args": ["ls"], "cwd": "/", "user": {"uid": 1, "gid": 2}})");
    BOOST_TEST_REQUIRE(process.has_value());
    BOOST_TEST(process->user.gid == 2u);
    auto bad = parse_process(R"({"args": [], "cwd": "/", "user": {"uid": 1, "gid": 2}})");
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().context == "process.args: must not be empty");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(documents)

BOOST_AUTO_TEST_CASE(input_over_the_size_limit_is_refused_before_parsing)
{
    std::string huge(max_spec_bytes + 1, ' ');
    auto spec = parse_spec(huge);
    BOOST_TEST_REQUIRE(!spec.has_value());
    BOOST_TEST(spec.error().context.find("more than the limit") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(garbage_and_non_objects_are_errors_not_crashes)
{
    for (const std::string_view text : {"", "{", "nul", "[1,2]", "\"x\"", "{\"a\":1}x", "\xff"}) {
        auto spec = parse_spec(text);
        BOOST_TEST(!spec.has_value());
    }
    BOOST_TEST(parse_spec("[]").error().context == "expected a JSON object, got an array");
    BOOST_TEST(parse_spec("{").error().context == "not valid JSON");
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused)
{
    std::string deep(100000, '[');
    deep += std::string(100000, ']');
    auto spec = parse_spec(deep);
    BOOST_TEST_REQUIRE(!spec.has_value());
    BOOST_TEST(spec.error().context == "JSON nested deeper than 64 levels");
    // Brackets inside strings do not count.
    auto config = runc_config();
    config["annotations"] = {{"k", std::string(1000, '[')}};
    BOOST_TEST(rejection(config) == "(accepted)");
}

BOOST_AUTO_TEST_CASE(load_spec_names_the_file)
{
    auto spec = load_spec("/nonexistent-berth-bundle");
    BOOST_TEST_REQUIRE(!spec.has_value());
    BOOST_TEST(spec.error().context.find("/nonexistent-berth-bundle/config.json") !=
               std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(top_level_rejections)

BOOST_AUTO_TEST_CASE(version_and_root_are_checked)
{
    expect_rejection([](Json& c) { c.erase("ociVersion"); }, "ociVersion: required");
    expect_rejection([](Json& c) { c["ociVersion"] = 1; },
                     "ociVersion: expected a string, got an integer");
    expect_rejection([](Json& c) { c["ociVersion"] = "2.0.0"; },
                     "ociVersion: unsupported version '2.0.0' (berth reads 1.x)");
    expect_rejection([](Json& c) { c.erase("root"); }, "root: required");
    expect_rejection([](Json& c) { c["root"]["path"] = ""; }, "root.path: must not be empty");
    expect_rejection([](Json& c) { c["root"]["readonly"] = "yes"; },
                     "root.readonly: expected a boolean, got a string");
    expect_rejection([](Json& c) { c["root"] = Json::array(); },
                     "root: expected an object, got an array");
}

BOOST_AUTO_TEST_CASE(hostname_and_annotations_are_checked)
{
    expect_rejection([](Json& c) { c["hostname"] = std::string(65, 'h'); },
                     "hostname: longer than 64 bytes");
    expect_rejection([](Json& c) { c["domainname"] = 5; },
                     "domainname: expected a string, got an integer");
    expect_rejection(
        [](Json& c) {
            c["annotations"] = {{"a", 1}};
        },
        "annotations.a: expected a string, got an integer");
    expect_rejection(
        [](Json& c) {
            c["annotations"] = {{"", "x"}};
        },
        "annotations: keys must not be empty");
    expect_rejection([](Json& c) { c["hostname"] = std::string("a\0b", 3); },
                     "hostname: contains a NUL byte");
}

BOOST_AUTO_TEST_CASE(mounts_are_checked)
{
    expect_rejection([](Json& c) { c["mounts"][2]["destination"] = "dev/pts"; },
                     "mounts[2].destination: must be an absolute path, got 'dev/pts'");
    expect_rejection([](Json& c) { c["mounts"][0].erase("destination"); },
                     "mounts[0].destination: required");
    expect_rejection(
        [](Json& c) {
            c["mounts"][1]["options"] = {"ro", "rw"};
        },
        "mounts[1].options: options 'ro' and 'rw' conflict");
    expect_rejection(
        [](Json& c) {
            c["mounts"][1]["options"] = {"nosuid", 3};
        },
        "mounts[1].options[1]: expected a string, got an integer");
    expect_rejection([](Json& c) { c["mounts"][1].erase("type"); },
                     "mounts[1].type: required unless the mount is a bind mount");
    expect_rejection(
        [](Json& c) {
            c["mounts"].push_back({{"destination", "/x"}, {"options", {"bind"}}});
        },
        "mounts[7].source: required for a bind mount");
    expect_rejection([](Json& c) { c["mounts"][0]["uidMappings"] = Json::array(); },
                     "mounts[0].uidMappings: id-mapped mounts are not supported by berth");
    expect_rejection([](Json& c) { c["mounts"] = Json::object(); },
                     "mounts: expected an array, got an object");
}

BOOST_AUTO_TEST_CASE(hooks_are_checked)
{
    expect_rejection(
        [](Json& c) {
            c["hooks"]["prestart"] = {{{"path", "hook"}}};
        },
        "hooks.prestart[0].path: must be an absolute path, got 'hook'");
    expect_rejection(
        [](Json& c) {
            c["hooks"]["poststop"] = {{{"args", {"x"}}}};
        },
        "hooks.poststop[0].path: required");
    expect_rejection(
        [](Json& c) {
            c["hooks"]["createRuntime"] = {{{"path", "/h"}, {"timeout", 0}}};
        },
        "hooks.createRuntime[0].timeout: must be greater than zero, got 0");
    expect_rejection(
        [](Json& c) {
            c["hooks"]["poststart"] = {{{"path", "/h"}, {"env", {"NOEQUALS"}}}};
        },
        "hooks.poststart[0].env[0]: expected KEY=VALUE, got 'NOEQUALS'");
    expect_rejection(
        [](Json& c) {
            c["hooks"]["startContainer"] = {{{"path", "/h"}, {"timeout", 1.5}}};
        },
        "hooks.startContainer[0].timeout: expected an integer, got 1.5");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(process_rejections)

BOOST_AUTO_TEST_CASE(args_env_and_cwd_are_checked)
{
    expect_rejection([](Json& c) { c["process"]["args"] = Json::array(); },
                     "process.args: must not be empty");
    expect_rejection([](Json& c) { c["process"].erase("args"); }, "process.args: required");
    expect_rejection([](Json& c) { c["process"]["args"] = {""}; },
                     "process.args[0]: the program must not be empty");
    expect_rejection([](Json& c) { c["process"]["env"][1] = "=x"; },
                     "process.env[1]: expected KEY=VALUE, got '=x'");
    expect_rejection([](Json& c) { c["process"]["cwd"] = "home"; },
                     "process.cwd: must be an absolute path, got 'home'");
    expect_rejection([](Json& c) { c["process"].erase("cwd"); }, "process.cwd: required");
    expect_rejection([](Json& c) { c["process"]["commandLine"] = "sh"; },
                     "process.commandLine: is for Windows; on Linux use args");
    expect_rejection([](Json& c) { c["process"]["terminal"] = 1; },
                     "process.terminal: expected a boolean, got an integer");
}

BOOST_AUTO_TEST_CASE(user_and_console_are_checked)
{
    expect_rejection([](Json& c) { c["process"]["user"]["uid"] = -1; },
                     "process.user.uid: value -1 out of range 0..4294967295");
    expect_rejection([](Json& c) { c["process"]["user"]["gid"] = 4294967296; },
                     "process.user.gid: value 4294967296 out of range 0..4294967295");
    expect_rejection([](Json& c) { c["process"]["user"].erase("gid"); },
                     "process.user.gid: required");
    expect_rejection([](Json& c) { c["process"]["user"]["umask"] = 01000; },
                     "process.user.umask: must be at most 0777 (511), got 512");
    expect_rejection(
        [](Json& c) {
            c["process"]["user"]["additionalGids"] = {1, "2"};
        },
        "process.user.additionalGids[1]: expected an integer, got a string");
    expect_rejection([](Json& c) { c["process"]["user"]["username"] = "root"; },
                     "process.user.username: is for Windows; on Linux use uid and gid");
    expect_rejection(
        [](Json& c) {
            c["process"]["consoleSize"] = {{"height", 10}};
        },
        "process.consoleSize.width: required");
    expect_rejection(
        [](Json& c) {
            c["process"]["consoleSize"] = {{"height", 10}, {"width", 70000}};
        },
        "process.consoleSize: height and width must be at most 65535");
}

BOOST_AUTO_TEST_CASE(capabilities_are_checked)
{
    expect_rejection([](Json& c) { c["process"]["capabilities"]["bounding"][1] = "CAP_FOO"; },
                     "process.capabilities.bounding[1]: unknown capability 'CAP_FOO'");
    expect_rejection([](Json& c) { c["process"]["capabilities"]["ambient"] = {"kill"}; },
                     "process.capabilities.ambient[0]: unknown capability 'kill' "
                     "(expected CAP_...)");
    expect_rejection([](Json& c) { c["process"]["capabilities"]["effective"] = "CAP_KILL"; },
                     "process.capabilities.effective: expected an array, got a string");
}

BOOST_AUTO_TEST_CASE(rlimits_are_checked)
{
    const auto limit = [](const char* type, int soft, int hard) {
        return Json{{"type", type}, {"soft", soft}, {"hard", hard}};
    };
    expect_rejection([&](Json& c) { c["process"]["rlimits"].push_back(limit("RLIMIT_FOO", 1, 1)); },
                     "process.rlimits[1].type: unknown rlimit 'RLIMIT_FOO'");
    expect_rejection(
        [&](Json& c) { c["process"]["rlimits"].push_back(limit("RLIMIT_NOFILE", 1, 1)); },
        "process.rlimits[1].type: duplicate rlimit 'RLIMIT_NOFILE'");
    expect_rejection(
        [&](Json& c) { c["process"]["rlimits"].push_back(limit("RLIMIT_CORE", 2, 1)); },
        "process.rlimits[1].soft: soft limit 2 is above the hard limit 1");
    expect_rejection([](Json& c) { c["process"]["rlimits"][0].erase("hard"); },
                     "process.rlimits[0].hard: required");
    expect_rejection([&](Json& c) { c["process"]["rlimits"][0]["soft"] = -1; },
                     "process.rlimits[0].soft: value -1 out of range 0..18446744073709551615");
}

BOOST_AUTO_TEST_CASE(oom_score_and_unsupported_fields_are_checked)
{
    expect_rejection([](Json& c) { c["process"]["oomScoreAdj"] = 1001; },
                     "process.oomScoreAdj: must be within -1000..1000, got 1001");
    expect_rejection([](Json& c) { c["process"]["oomScoreAdj"] = -1001; },
                     "process.oomScoreAdj: must be within -1000..1000, got -1001");
    expect_rejection([](Json& c) { c["process"]["noNewPrivileges"] = "true"; },
                     "process.noNewPrivileges: expected a boolean, got a string");
    expect_rejection([](Json& c) { c["process"]["apparmorProfile"] = false; },
                     "process.apparmorProfile: expected a string, got a boolean");
    expect_rejection(
        [](Json& c) {
            c["process"]["ioPriority"] = {{"class", "x"}};
        },
        "process.ioPriority: not supported by berth");
}

BOOST_AUTO_TEST_SUITE_END()

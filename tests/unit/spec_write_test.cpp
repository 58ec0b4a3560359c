// tests/unit/spec_write_test.cpp — building a spec in memory: default_spec() is what `runc spec`
// writes, spec_to_json() round-trips with parse_spec() for every config the tests use, and what
// it cannot spell is refused naming the field.
#define BOOST_TEST_MODULE spec_write
#include <sys/mount.h>
#include <sys/resource.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <filesystem>
#include <boost/test/unit_test.hpp>
#include "runtime/spec.hpp"
#include "tests/support/bundle.hpp"
#include "tests/unit/spec_fixture.hpp"

using namespace berth::runtime;

namespace {

// parse(serialize(spec)) == spec, and serializing again gives the same bytes.
void check_round_trip(const Spec& spec, const std::string& what)
{
    BOOST_TEST_CONTEXT(what)
    {
        auto text = spec_to_json(spec);
        BOOST_TEST_REQUIRE(text.has_value(), (text ? "" : text.error().message()));
        auto again = parse_spec(*text);
        BOOST_TEST_REQUIRE(again.has_value(), (again ? "" : again.error().message()));
        BOOST_TEST((*again == spec));
        auto text_again = spec_to_json(*again);
        BOOST_TEST_REQUIRE(text_again.has_value());
        BOOST_TEST(*text_again == *text);
    }
}

Spec parsed(const std::string& text)
{
    auto spec = parse_spec(text);
    BOOST_TEST_REQUIRE(spec.has_value(), (spec ? "" : spec.error().message()));
    return *spec;
}

} // namespace

BOOST_AUTO_TEST_SUITE(default_config)

BOOST_AUTO_TEST_CASE(default_spec_is_what_runc_spec_writes)
{
    BOOST_TEST((default_spec() == parsed(berth::test::runc_spec)));
}

BOOST_AUTO_TEST_CASE(default_spec_writes_byte_for_byte_what_runc_spec_writes)
{
    auto text = spec_to_json(default_spec());
    BOOST_TEST_REQUIRE(text.has_value());
    BOOST_TEST(*text == berth::test::runc_spec);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(round_trip)

BOOST_AUTO_TEST_CASE(every_spec_seed_that_parses_comes_back_equal)
{
    int specs = 0, processes = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(berth::test::source_path("tests/fuzz/corpus/spec"))) {
        const auto name = entry.path().filename().string();
        const auto text = berth::test::read_spec_seed(name.c_str());
        if (auto spec = parse_spec(text)) {
            check_round_trip(*spec, name);
            ++specs;
        }
        if (auto process = parse_process(text)) {
            auto written = process_to_json(*process);
            BOOST_TEST_REQUIRE(written.has_value());
            auto again = parse_process(*written);
            BOOST_TEST_REQUIRE(again.has_value());
            BOOST_TEST((*again == *process), name);
            ++processes;
        }
    }
    // runc-spec.json, runc-spec-rootless.json and full.json; process-exec.json as a process.
    BOOST_TEST(specs >= 3);
    BOOST_TEST(processes >= 1);
}

BOOST_AUTO_TEST_CASE(the_root_tests_bundle_config_comes_back_equal)
{
    check_round_trip(parsed(berth::test::default_config().dump()), "tests/support default_config");
}

BOOST_AUTO_TEST_CASE(a_spec_built_in_memory_comes_back_equal)
{
    auto spec = default_spec();
    spec.process->terminal = false;
    spec.process->args = {"/bin/server", "--port", "8080"};
    spec.process->user = User{1000, 1000, 022u, {10, 20}, ""};
    spec.process->oom_score_adj = 100;
    spec.process->console_size = ConsoleSize{24, 80};
    spec.process->rlimits.push_back(Rlimit{RLIMIT_CORE, "RLIMIT_CORE", 0, 0});
    spec.hostname = "web";
    spec.annotations = {{"com.example/task", "arn:aws:ecs:local:0:task/1"}};
    auto volume = make_mount("/data", "bind", "/var/lib/berth/volumes/data", {"rw", "rprivate"});
    BOOST_TEST_REQUIRE(volume.has_value());
    BOOST_TEST(volume->type.empty()); // as parse_spec reads a bind mount
    BOOST_TEST(volume->options.bind);
    spec.mounts.push_back(*volume);
    auto tmp = make_mount("/tmp", "tmpfs", "tmpfs", {"nosuid", "size=64m"});
    BOOST_TEST_REQUIRE(tmp.has_value());
    spec.mounts.push_back(*tmp);
    spec.hooks.poststop.push_back(Hook{"/usr/bin/cleanup", {"cleanup", "web"}, {"A=1"}, 5});
    spec.linux.cgroups_path = "/berth/task1/web";
    spec.linux.sysctl = {{"net.ipv4.ip_forward", "1"}};
    spec.linux.rootfs_propagation = MS_SLAVE | MS_REC;
    spec.linux.devices.push_back(Device{"/dev/fuse", 'c', 10, 229, 0666u, 0u, 0u});
    auto& resources = *spec.linux.resources;
    resources.memory = berth::cgroups::Memory{};
    resources.memory->limit = 512 << 20;
    resources.memory->swappiness = 0;
    resources.memory->disable_oom_killer = false;
    resources.cpu = berth::cgroups::Cpu{};
    resources.cpu->shares = 512;
    resources.cpu->quota = 50000;
    resources.cpu->period = 100000;
    resources.cpu->cpus = "0-1";
    resources.pids = berth::cgroups::Pids{100};
    resources.block_io = berth::cgroups::BlockIo{};
    resources.block_io->weight = 500;
    resources.block_io->weight_device.push_back({8, 0, 300, std::nullopt});
    resources.block_io->throttle_read_bps.push_back({8, 0, 1048576});
    resources.hugepage_limits.push_back({"2MB", 0});
    resources.unified = {{"memory.high", "400000000"}};
    resources.devices.push_back({true, 'c', 10, 229, "rw"});
    Seccomp seccomp;
    seccomp.default_action = SeccompAction::Errno;
    seccomp.default_errno_ret = 1;
    seccomp.architectures = {SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_AARCH64};
    seccomp.flags = {"SECCOMP_FILTER_FLAG_LOG"};
    seccomp.syscalls.push_back(SeccompRule{{"read", "write"}, SeccompAction::Allow, {}, {}});
    seccomp.syscalls.push_back(SeccompRule{{"personality"},
                                           SeccompAction::Allow,
                                           {},
                                           {SeccompArg{0, 0xffffffff, 0, SeccompOp::Equal},
                                            SeccompArg{1, 0xff, 0x8, SeccompOp::MaskedEqual}}});
    spec.linux.seccomp = seccomp;
    check_round_trip(spec, "built in memory");
}

BOOST_AUTO_TEST_CASE(a_user_namespace_spec_comes_back_equal)
{
    auto spec = parsed(berth::test::runc_spec_rootless);
    spec.linux.uid_mappings = {{0, 100000, 65536}};
    spec.linux.gid_mappings = {{0, 100000, 65536}};
    check_round_trip(spec, "rootless with a subordinate range");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(refusals)

BOOST_AUTO_TEST_CASE(a_capability_number_without_a_name_is_refused_naming_the_field)
{
    auto spec = default_spec();
    spec.process->capabilities->effective.push_back(999);
    auto text = spec_to_json(spec);
    BOOST_TEST_REQUIRE(!text.has_value());
    BOOST_TEST(text.error().bad_input);
    BOOST_TEST(text.error().context ==
               "write spec: process.capabilities.effective[3]: no name for capability 999");
}

BOOST_AUTO_TEST_CASE(an_rlimit_number_without_a_name_is_refused_naming_the_field)
{
    auto spec = default_spec();
    spec.process->rlimits.push_back(Rlimit{77, "", 1, 1});
    auto text = spec_to_json(spec);
    BOOST_TEST_REQUIRE(!text.has_value());
    BOOST_TEST(text.error().context ==
               "write spec: process.rlimits[1].type: no name for rlimit 77");
}

BOOST_AUTO_TEST_CASE(an_unknown_architecture_token_is_refused_naming_the_field)
{
    auto spec = default_spec();
    spec.linux.seccomp = Seccomp{};
    spec.linux.seccomp->architectures = {SCMP_ARCH_X86_64, 12345};
    auto text = spec_to_json(spec);
    BOOST_TEST_REQUIRE(!text.has_value());
    BOOST_TEST(text.error().context == "write spec: linux.seccomp.architectures[1]: no name for "
                                       "seccomp architecture token 12345");
}

BOOST_AUTO_TEST_CASE(propagation_flags_without_a_name_are_refused)
{
    auto spec = default_spec();
    spec.linux.rootfs_propagation = MS_BIND;
    auto text = spec_to_json(spec);
    BOOST_TEST_REQUIRE(!text.has_value());
    BOOST_TEST(text.error().context.find("linux.rootfsPropagation: no name for mount flags") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(text_that_is_not_utf8_is_refused_not_thrown)
{
    auto spec = default_spec();
    spec.hostname = "web\xff";
    auto text = spec_to_json(spec);
    BOOST_TEST_REQUIRE(!text.has_value());
    BOOST_TEST(text.error().bad_input);
    BOOST_TEST(text.error().context.starts_with("write spec: "));
}

BOOST_AUTO_TEST_CASE(what_parse_spec_refuses_is_written_and_then_refused_by_it)
{
    auto spec = default_spec();
    spec.process->args.clear();
    auto text = spec_to_json(spec);
    BOOST_TEST_REQUIRE(text.has_value());
    auto again = parse_spec(*text);
    BOOST_TEST_REQUIRE(!again.has_value());
    BOOST_TEST(again.error().context == "process.args: must not be empty");
}

BOOST_AUTO_TEST_CASE(make_mount_refuses_conflicting_options_naming_the_mount)
{
    auto mount = make_mount("/data", "tmpfs", "tmpfs", {"ro", "rw"});
    BOOST_TEST_REQUIRE(!mount.has_value());
    BOOST_TEST(mount.error().context.starts_with("mount '/data': "));
}

BOOST_AUTO_TEST_CASE(capability_and_rlimit_names_are_the_inverse_of_the_parsers)
{
    BOOST_TEST(*capability_name(CAP_SYS_ADMIN) == "CAP_SYS_ADMIN");
    BOOST_TEST(*capability_from_name(*capability_name(CAP_NET_RAW)) == CAP_NET_RAW);
    BOOST_TEST(!capability_name(-1).has_value());
    BOOST_TEST(*rlimit_name(RLIMIT_NOFILE) == "RLIMIT_NOFILE");
    BOOST_TEST(!rlimit_name(-1).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

// tests/unit/seccomp_test.cpp — compile_seccomp, load_seccomp and the default profile. The
// loading tests run in a forked child that sets no_new_privs first, so they need no privilege
// and the test process itself stays unfiltered.
#define BOOST_TEST_MODULE seccomp
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <unistd.h>
#include <cerrno>
#include <functional>
#include <boost/test/unit_test.hpp>
#include "runtime/internal.hpp"
#include "runtime/spec.hpp"
#include "tests/unit/spec_fixture.hpp"

using namespace berth::runtime;

namespace {

SeccompProgram compile_ok(const Seccomp& spec)
{
    auto program = compile_seccomp(spec);
    BOOST_TEST_REQUIRE(program.has_value(), (program ? "" : program.error().message()));
    return std::move(*program);
}

// Loads program in a forked child, runs check there, and returns the child's exit status
// (check's return value; 100 + errno when loading failed).
int run_filtered(const SeccompProgram& program, const std::function<int()>& check)
{
    const pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            ::_exit(99);
        if (load_seccomp(program) < 0)
            ::_exit(100 + errno);
        ::_exit(check());
    }
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST_REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

// 0 if the syscall failed with the expected errno, 1 if it succeeded, 2 on another errno.
int expect_errno(long result, int expected)
{
    if (result >= 0)
        return 1;
    return errno == expected ? 0 : 2;
}

SeccompRule rule(std::vector<std::string> names, SeccompAction action,
                 std::optional<unsigned> ret = std::nullopt)
{
    SeccompRule r;
    r.names = std::move(names);
    r.action = action;
    r.errno_ret = ret;
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(compilation)

BOOST_AUTO_TEST_CASE(config_profile_compiles_with_its_flags)
{
    auto spec = parse_spec(berth::test::full_spec);
    BOOST_TEST_REQUIRE(spec.has_value());
    const auto program = compile_ok(*spec->linux.seccomp);
    BOOST_TEST(program.flags == static_cast<unsigned>(SECCOMP_FILTER_FLAG_LOG));
    BOOST_TEST(program.filter.size() > 10u);
}

BOOST_AUTO_TEST_CASE(a_name_unknown_to_every_architecture_is_an_error_naming_it)
{
    Seccomp spec;
    spec.default_action = SeccompAction::Errno;
    spec.syscalls = {rule({"read", "not_a_syscall"}, SeccompAction::Allow)};
    auto program = compile_seccomp(spec);
    BOOST_TEST_REQUIRE(!program.has_value());
    BOOST_TEST(program.error().context ==
               "linux.seccomp.syscalls[0].names[1]: unknown syscall 'not_a_syscall'");
    // A name that exists only on another architecture is fine (libseccomp skips it here).
    spec.syscalls = {
        rule({"read", "s390_runtime_instr", "arm_fadvise64_64"}, SeccompAction::Allow)};
    BOOST_TEST(compile_seccomp(spec).has_value());
}

BOOST_AUTO_TEST_CASE(rules_equal_to_the_default_action_are_skipped)
{
    Seccomp spec;
    spec.default_action = SeccompAction::Allow;
    spec.syscalls = {rule({"getpid"}, SeccompAction::Allow),
                     rule({"uname"}, SeccompAction::Errno, 38)};
    BOOST_TEST(compile_seccomp(spec).has_value());
}

BOOST_AUTO_TEST_CASE(notify_rules_ask_for_a_listener)
{
    Seccomp spec;
    spec.default_action = SeccompAction::Allow;
    spec.flags = {"SECCOMP_FILTER_FLAG_TSYNC"};
    spec.syscalls = {rule({"mkdir"}, SeccompAction::Notify)};
    const auto program = compile_ok(spec);
    BOOST_TEST(program.needs_listener);
    BOOST_TEST(program.flags ==
               static_cast<unsigned>(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER |
                                     (1u << 4)));
}

BOOST_AUTO_TEST_CASE(every_action_compiles)
{
    Seccomp spec;
    spec.default_action = SeccompAction::KillProcess;
    spec.syscalls = {
        rule({"read"}, SeccompAction::Allow),      rule({"write"}, SeccompAction::Log),
        rule({"uname"}, SeccompAction::Errno, 38), rule({"getpid"}, SeccompAction::Trace, 7),
        rule({"getppid"}, SeccompAction::Trap),    rule({"gettid"}, SeccompAction::KillThread),
        rule({"mkdir"}, SeccompAction::Notify)};
    spec.architectures = {SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32};
    BOOST_TEST(compile_seccomp(spec).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(loading)

BOOST_AUTO_TEST_CASE(errno_rule_changes_the_syscall_result_in_the_child)
{
    Seccomp spec;
    spec.default_action = SeccompAction::Allow;
    spec.syscalls = {rule({"uname"}, SeccompAction::Errno, 38)};
    const auto program = compile_ok(spec);
    BOOST_TEST(run_filtered(program, [] {
                   struct utsname name {};
                   if (expect_errno(::uname(&name), 38) != 0)
                       return 10;
                   return ::getpid() > 0 ? 0 : 11; // everything else still works
               }) == 0);
    struct utsname name {};
    BOOST_TEST(::uname(&name) == 0); // the test process itself is not filtered
}

BOOST_AUTO_TEST_CASE(repeated_argument_conditions_are_alternatives)
{
    Seccomp spec;
    spec.default_action = SeccompAction::Allow;
    auto r = rule({"getpriority"}, SeccompAction::Errno, 13);
    r.args = {SeccompArg{0, PRIO_PGRP, 0, SeccompOp::Equal},
              SeccompArg{0, PRIO_USER, 0, SeccompOp::Equal}};
    spec.syscalls = {r};
    BOOST_TEST(run_filtered(compile_ok(spec), [] {
                   if (expect_errno(::getpriority(PRIO_PGRP, 0), EACCES) != 0)
                       return 10;
                   if (expect_errno(::getpriority(PRIO_USER, 0), EACCES) != 0)
                       return 11;
                   errno = 0;
                   ::getpriority(PRIO_PROCESS, 0);
                   return errno == 0 ? 0 : 12;
               }) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

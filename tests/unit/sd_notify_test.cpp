#define BOOST_TEST_MODULE sd_notify
// sd_notify(3)'s protocol (base/sd_notify.hpp) against real datagram sockets the test binds:
// a path socket and an abstract one, and $NOTIFY_SOCKET/$WATCHDOG_* read as systemd sets them.
// And sd_listen_fds(3) (base/sd_listen.hpp): the sockets socket activation passes as fd 3...
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <boost/test/unit_test.hpp>
#include "base/sd_listen.hpp"
#include "base/sd_notify.hpp"
#include "tests/unit/datagram_receiver.hpp"

using namespace berth;

BOOST_AUTO_TEST_CASE(a_state_arrives_as_one_datagram_on_a_path_socket)
{
    DatagramReceiver manager;
    BOOST_TEST_REQUIRE(
        notify::send_to(manager.name(), "READY=1\nSTATUS=2 tasks running").has_value());
    BOOST_TEST(manager.receive().bytes == "READY=1\nSTATUS=2 tasks running");
    BOOST_TEST(manager.empty());
}

BOOST_AUTO_TEST_CASE(an_at_sign_names_an_abstract_socket)
{
    DatagramReceiver manager("berth-notify-test-" + std::to_string(::getpid()));
    BOOST_TEST(manager.name().front() == '@');
    BOOST_TEST_REQUIRE(notify::send_to(manager.name(), "STOPPING=1").has_value());
    BOOST_TEST(manager.receive().bytes == "STOPPING=1");
}

BOOST_AUTO_TEST_CASE(send_uses_notify_socket_and_is_a_no_op_without_it)
{
    DatagramReceiver manager;
    ::unsetenv("NOTIFY_SOCKET");
    auto none = notify::send("READY=1");
    BOOST_TEST_REQUIRE(none.has_value());
    BOOST_TEST(!*none);
    ::setenv("NOTIFY_SOCKET", manager.name().c_str(), 1);
    auto sent = notify::send("RELOADING=1\nMONOTONIC_USEC=12");
    ::unsetenv("NOTIFY_SOCKET");
    BOOST_TEST_REQUIRE(sent.has_value());
    BOOST_TEST(*sent);
    BOOST_TEST(manager.receive().bytes == "RELOADING=1\nMONOTONIC_USEC=12");
}

BOOST_AUTO_TEST_CASE(an_address_berth_cannot_use_is_a_clear_error)
{
    auto vsock = notify::send_to("vsock:2:1234", "READY=1");
    BOOST_TEST_REQUIRE(!vsock.has_value());
    BOOST_TEST(vsock.error().code == EAFNOSUPPORT);
    BOOST_TEST(vsock.error().message().find("vsock:2:1234") != std::string::npos);
    auto too_long = notify::send_to("/" + std::string(200, 'a'), "READY=1");
    BOOST_TEST_REQUIRE(!too_long.has_value());
    BOOST_TEST(too_long.error().code == EINVAL);
    auto missing = notify::send_to("/nonexistent-berth-dir/notify", "READY=1");
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().code == ENOENT);
    BOOST_TEST(missing.error().message().find("/nonexistent-berth-dir/notify") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_watchdog_interval_is_ours_only_when_watchdog_pid_names_this_process)
{
    ::unsetenv("WATCHDOG_PID");
    ::unsetenv("WATCHDOG_USEC");
    BOOST_TEST(!notify::watchdog_interval().has_value());
    ::setenv("WATCHDOG_USEC", "3000000", 1);
    BOOST_TEST(notify::watchdog_interval().value().count() == 3000000);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    BOOST_TEST(notify::watchdog_interval().value().count() == 3000000);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
    BOOST_TEST(!notify::watchdog_interval().has_value());
    ::unsetenv("WATCHDOG_PID");
    for (const char* bad : {"0", "", "12s", "-5"}) {
        ::setenv("WATCHDOG_USEC", bad, 1);
        BOOST_TEST(!notify::watchdog_interval().has_value());
    }
    ::unsetenv("WATCHDOG_USEC");
}

namespace {

// LISTEN_PID/LISTEN_FDS as systemd sets them for the process it starts.
void set_listen(const std::string& pid, const std::string& fds)
{
    ::setenv("LISTEN_PID", pid.c_str(), 1); // NOLINT(concurrency-mt-unsafe): one thread
    ::setenv("LISTEN_FDS", fds.c_str(), 1); // NOLINT(concurrency-mt-unsafe)
}

bool listen_unset()
{
    // NOLINTNEXTLINE(concurrency-mt-unsafe): one thread
    return std::getenv("LISTEN_PID") == nullptr && std::getenv("LISTEN_FDS") == nullptr;
}

} // namespace

BOOST_AUTO_TEST_CASE(passed_sockets_are_ours_only_when_listen_pid_names_this_process)
{
    set_listen(std::to_string(::getppid()), "1");
    auto none = notify::listen_fds();
    BOOST_TEST_REQUIRE(none.has_value());
    BOOST_TEST(none->empty());
    BOOST_TEST(listen_unset()); // never handed on to a child either

    // fd 3 as systemd passes it (whatever the test process had there is put back after).
    const int saved = ::fcntl(3, F_DUPFD_CLOEXEC, 10);
    const int socket = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
    BOOST_TEST_REQUIRE(::dup2(socket, 3) == 3);
    if (socket != 3) // fd 3 was free: the socket is there already
        ::close(socket);
    set_listen(std::to_string(::getpid()), "1");
    {
        auto passed = notify::listen_fds();
        BOOST_TEST_REQUIRE(passed.has_value(), (passed ? "" : passed.error().message()));
        BOOST_TEST_REQUIRE(passed->size() == 1U);
        BOOST_TEST(passed->front().get() == 3);
        BOOST_TEST((::fcntl(3, F_GETFD) & FD_CLOEXEC) != 0);
        BOOST_TEST(listen_unset());
    } // closes fd 3
    if (saved >= 0) {
        ::dup2(saved, 3);
        ::close(saved);
    }
}

BOOST_AUTO_TEST_CASE(a_malformed_count_or_a_closed_fd_is_a_clear_error_and_takes_nothing)
{
    set_listen(std::to_string(::getpid()), "two");
    auto bad = notify::listen_fds();
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().code == EINVAL);
    BOOST_TEST(bad.error().message().find("'two'") != std::string::npos, bad.error().message());
    BOOST_TEST(listen_unset());

    // fds 3..1002: some are surely closed here; none of those open may be closed by the call.
    const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    set_listen(std::to_string(::getpid()), "1000");
    auto closed = notify::listen_fds();
    BOOST_TEST_REQUIRE(!closed.has_value());
    BOOST_TEST(closed.error().code == EBADF);
    BOOST_TEST(closed.error().message().find("names fd") != std::string::npos,
               closed.error().message());
    BOOST_TEST(::fcntl(probe, F_GETFD) >= 0, "an fd of ours was closed");
    ::close(probe);
}

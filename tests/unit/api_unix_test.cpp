// agent/api's CLI socket: the ECS API over HTTP on AF_UNIX without SigV4, served only to the peer
// uid it is configured for (root in berthd), created mode 0600, a stale file replaced and a live
// server's socket refused. Raw HTTP over real sockets against a server started in this process.
#define BOOST_TEST_MODULE api_unix
#include <boost/test/unit_test.hpp>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include "agent/api/api.hpp"
#include "base/fd.hpp"
#include "tests/support/bundle.hpp"
#include "tests/support/privileges.hpp"

using namespace berth;

namespace {

struct Fixture {
    Fixture() : path(dir.path() + "/berthd.sock") {}
    Result<std::unique_ptr<api::Server>> start(uid_t uid, std::size_t max_connections = 256) const
    {
        api::Options options;
        options.max_connections = max_connections;
        options.port = 0;
        options.credentials = {"AKIDUNIX", "unix-secret"};
        options.unix_socket = path;
        options.unix_socket_uid = uid;
        options.header_timeout = std::chrono::milliseconds(2000);
        auto s = store::Store::open(":memory:");
        BOOST_REQUIRE(s);
        return api::Server::start(options, std::move(*s), nullptr);
    }
    test::TempDir dir{"berth-api-unix"};
    std::string path;
};

Fd connect_to(const std::string& path)
{
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
        return Fd();
    return fd;
}

// Sends one unsigned request and reads until the server closes the connection.
std::string round_trip(const std::string& path, const std::string& operation)
{
    const Fd fd = connect_to(path);
    if (!fd.valid())
        return "connect failed: " + std::string(std::strerror(errno));
    const std::string request = "POST / HTTP/1.1\r\nHost: berthd\r\nConnection: close\r\n"
                                "X-Amz-Target: AmazonEC2ContainerServiceV20141113." +
                                operation +
                                "\r\nContent-Type: application/x-amz-json-1.1\r\n"
                                "Content-Length: 2\r\n\r\n{}";
    (void)::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
    timeval tv{10, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd.get(), buffer, sizeof buffer, 0)) > 0;)
        out.append(buffer, static_cast<std::size_t>(n));
    return out;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(the_configured_uid_is_served_without_a_signature, Fixture)
{
    auto server = start(::geteuid());
    BOOST_REQUIRE_MESSAGE(server, (server ? "" : server.error().message()));
    const auto reply = round_trip(path, "ListClusters");
    BOOST_TEST(reply.starts_with("HTTP/1.1 200"), reply);
    BOOST_TEST(reply.find("cluster/default") != std::string::npos, reply);
}

BOOST_FIXTURE_TEST_CASE(another_uid_gets_access_denied_and_the_connection_closes, Fixture)
{
    auto server = start(::geteuid() + 1);
    BOOST_REQUIRE(server);
    const auto reply = round_trip(path, "ListClusters");
    BOOST_TEST(reply.starts_with("HTTP/1.1 403"), reply);
    BOOST_TEST(reply.find("AccessDeniedException") != std::string::npos, reply);
    BOOST_TEST(reply.find("cluster/default") == std::string::npos, reply);
}

Fd connect_tcp(std::uint16_t port)
{
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
        return Fd();
    return fd;
}

// True when the server closed fd at once (accepted beyond its limit), false when it keeps it.
bool closed_at_once(const Fd& fd)
{
    timeval tv{2, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char byte = 0;
    return ::recv(fd.get(), &byte, 1, 0) == 0;
}

// Any local user can open the TCP port: idle clients filling its connection limit must not lock
// root out of the CLI socket, whose connections are counted apart.
BOOST_FIXTURE_TEST_CASE(a_full_tcp_port_leaves_the_cli_socket_served, Fixture)
{
    auto server = start(::geteuid(), 2);
    BOOST_REQUIRE(server);
    std::vector<Fd> idle;
    for (int i = 0; i < 2; ++i) {
        idle.push_back(connect_tcp((*server)->port()));
        BOOST_REQUIRE(idle.back().valid());
    }
    const Fd third = connect_tcp((*server)->port());
    BOOST_REQUIRE(third.valid());
    BOOST_TEST_REQUIRE(closed_at_once(third)); // the TCP limit is reached
    const auto reply = round_trip(path, "ListClusters");
    BOOST_TEST(reply.starts_with("HTTP/1.1 200"), reply);
}

BOOST_FIXTURE_TEST_CASE(tcp_still_requires_sigv4_while_the_socket_is_open, Fixture)
{
    auto server = start(::geteuid());
    BOOST_REQUIRE(server);
    const Fd fd = connect_tcp((*server)->port());
    BOOST_REQUIRE(fd.valid());
    const std::string request = "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                "X-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters\r\n"
                                "Content-Type: application/x-amz-json-1.1\r\n"
                                "Content-Length: 2\r\n\r\n{}";
    (void)::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
    char buffer[4096];
    const auto n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    BOOST_REQUIRE(n > 0);
    const std::string reply(buffer, static_cast<std::size_t>(n));
    BOOST_TEST(!reply.starts_with("HTTP/1.1 200"), reply);
}

BOOST_FIXTURE_TEST_CASE(the_socket_is_mode_0600_and_removed_at_stop, Fixture)
{
    auto server = start(::geteuid());
    BOOST_REQUIRE(server);
    struct stat st {};
    BOOST_REQUIRE(::lstat(path.c_str(), &st) == 0);
    BOOST_TEST(S_ISSOCK(st.st_mode));
    BOOST_TEST((st.st_mode & 07777) == 0600u);
    (*server)->stop();
    BOOST_TEST(::lstat(path.c_str(), &st) == -1);
}

BOOST_FIXTURE_TEST_CASE(a_stale_socket_file_is_replaced, Fixture)
{
    { // a socket file nobody listens on, as a killed berthd leaves it
        Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        BOOST_REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    auto server = start(::geteuid());
    BOOST_REQUIRE_MESSAGE(server, (server ? "" : server.error().message()));
    BOOST_TEST(round_trip(path, "ListClusters").starts_with("HTTP/1.1 200"));
}

BOOST_FIXTURE_TEST_CASE(a_live_servers_socket_is_refused_and_keeps_working, Fixture)
{
    auto first = start(::geteuid());
    BOOST_REQUIRE(first);
    auto second = start(::geteuid());
    BOOST_REQUIRE(!second);
    BOOST_TEST(second.error().code == EADDRINUSE);
    BOOST_TEST(second.error().message().find(path) != std::string::npos, second.error().message());
    BOOST_TEST(round_trip(path, "ListClusters").starts_with("HTTP/1.1 200"));
}

BOOST_FIXTURE_TEST_CASE(a_path_that_is_not_a_socket_is_refused_and_left_alone, Fixture)
{
    std::ofstream(path) << "precious";
    auto server = start(::geteuid());
    BOOST_REQUIRE(!server);
    BOOST_TEST(server.error().code == EEXIST);
    std::ifstream in(path);
    std::string content;
    in >> content;
    BOOST_TEST(content == "precious");
}

BOOST_FIXTURE_TEST_CASE(a_path_too_long_for_a_unix_socket_is_named, Fixture)
{
    path = dir.path() + "/" + std::string(120, 's');
    auto server = start(::geteuid());
    BOOST_REQUIRE(!server);
    BOOST_TEST(server.error().code == ENAMETOOLONG);
}

// As berthd runs it: root only. A child that dropped to nobody is turned away.
BOOST_FIXTURE_TEST_CASE(root_only_socket_turns_away_an_unprivileged_process, Fixture,
                        *boost::unit_test::precondition(test::is_root))
{
    auto server = start(0);
    BOOST_REQUIRE(server);
    BOOST_REQUIRE(::chmod(path.c_str(), 0666) == 0); // so nobody reaches the uid check at all
    BOOST_REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    int pipe_fds[2];
    BOOST_REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
        if (::setgid(65534) < 0 || ::setuid(65534) < 0)
            ::_exit(3);
        const auto reply = round_trip(path, "ListClusters");
        (void)!::write(write_end.get(), reply.data(), reply.size());
        ::_exit(0);
    }
    write_end.reset();
    std::string reply;
    char buffer[4096];
    for (ssize_t n; (n = ::read(read_end.get(), buffer, sizeof buffer)) > 0;)
        reply.append(buffer, static_cast<std::size_t>(n));
    int status = 0;
    BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);
    BOOST_TEST(reply.starts_with("HTTP/1.1 403"), reply);
    BOOST_TEST(round_trip(path, "ListClusters").starts_with("HTTP/1.1 200")); // root still is
}

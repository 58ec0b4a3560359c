// tests/root/net_support.hpp — the "host" for net/ tests: a fresh network namespace per test
// case (the process never returns to the real root netns), a private mount namespace for the
// netns bind mounts, and echo servers/clients on real sockets opened inside task namespaces.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <boost/test/unit_test.hpp>
#include "base/fd.hpp"
#include "net/net.hpp"
#include "tests/support/namespaces.hpp"
#include "tests/support/privileges.hpp"

namespace berth::test {

// A fixed ip/nft command (test inspection tools only; the library runs none), run in this
// process's netns: the test's own "host", never the real root namespace.
inline int sh(const char* command)
{
    return std::system(command); // NOLINT(cert-env33-c): constant commands, no user input
}

} // namespace berth::test

// Including this header moves the test process into namespaces of its own, once, before any
// test case runs: a net test cannot forget it and touch the host's links, routes or nftables.
// (net_support.hpp is included by exactly one file per test executable.)
using berth::test::PrivateNamespacesAndTmp;
BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespacesAndTmp);

namespace berth::test {

// Each test case: a new, empty "host" netns with lo up, and a run dir under /tmp.
struct FreshHost {
    std::string run_dir;
    FreshHost()
    {
        BOOST_TEST_REQUIRE(::unshare(CLONE_NEWNET) == 0);
        BOOST_TEST_REQUIRE(sh("ip link set lo up") == 0);
        char dir[] = "/tmp/berth-net-test-XXXXXX";
        BOOST_TEST_REQUIRE(::mkdtemp(dir) != nullptr);
        run_dir = dir;
    }
    ~FreshHost()
    {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(run_dir + "/netns", ec))
            ::umount2(entry.path().c_str(), MNT_DETACH);
        std::filesystem::remove_all(run_dir, ec);
    }
    net::Config config(const std::string& subnet = "10.213.7.0/24") const
    {
        net::Config c;
        c.run_dir = run_dir;
        c.subnet = subnet;
        return c;
    }
};

// The failure text of a Result, "" when it holds a value (BOOST_TEST messages are evaluated
// whether or not the check fails).
template <class R>
std::string why(const R& r)
{
    return r ? std::string() : r.error().message();
}

inline std::uint32_t ip(const char* text)
{
    return ntohl(::inet_addr(text));
}

// A socket opened in netns_fd's namespace (-1: ours), on a thread so we never switch.
inline Fd socket_in(int netns_fd, int type)
{
    Fd fd;
    std::thread([&] {
        if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) < 0)
            return;
        fd.reset(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    }).join();
    return fd;
}

inline sockaddr_in endpoint(std::uint32_t address, std::uint16_t port)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(address);
    return a;
}

// Echoes every TCP connection / UDP datagram on port in netns_fd until destroyed.
class EchoServer {
public:
    EchoServer(int netns_fd, int type, std::uint16_t port) : type_(type)
    {
        // cppcheck-suppress useInitializationList ; made in the task's netns, after type_
        socket_ = socket_in(netns_fd, type);
        const int one = 1;
        ::setsockopt(socket_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        auto a = endpoint(INADDR_ANY, port);
        ok_ = ::bind(socket_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
              (type == SOCK_DGRAM || ::listen(socket_.get(), 16) == 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~EchoServer()
    {
        stop_ = true;
        thread_.join();
    }
    bool ok() const { return ok_; }

private:
    void serve()
    {
        while (!stop_) {
            pollfd p{socket_.get(), POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0)
                continue;
            char buffer[512];
            if (type_ == SOCK_DGRAM) {
                sockaddr_in from{};
                socklen_t len = sizeof from;
                const ssize_t n = ::recvfrom(socket_.get(), buffer, sizeof buffer, 0,
                                             reinterpret_cast<sockaddr*>(&from), &len);
                if (n > 0)
                    ::sendto(socket_.get(), buffer, static_cast<std::size_t>(n), 0,
                             reinterpret_cast<sockaddr*>(&from), len);
                continue;
            }
            Fd conn(::accept4(socket_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            const ssize_t n = ::recv(conn.get(), buffer, sizeof buffer, 0);
            if (n > 0)
                (void)!::send(conn.get(), buffer, static_cast<std::size_t>(n), 0);
        }
    }
    int type_;
    Fd socket_;
    bool ok_ = false;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// Sends "ping" from netns_fd's namespace (-1: the host) and returns what came back ("" on
// failure or after a 2 s timeout).
inline std::string echo(int netns_fd, int type, std::uint32_t address, std::uint16_t port)
{
    Fd s = socket_in(netns_fd, type);
    timeval timeout{2, 0};
    ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    auto a = endpoint(address, port);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
        return "";
    if (::send(s.get(), "ping", 4, 0) != 4)
        return "";
    char buffer[16] = {};
    const ssize_t n = ::recv(s.get(), buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
}

inline Fd open_netns(const std::string& path)
{
    return Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

} // namespace berth::test

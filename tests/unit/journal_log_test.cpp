// tests/unit/journal_log_test.cpp — the supervisor's journald driver (runtime/journal_log.hpp):
// journald's native protocol encoding, Docker's fields and partial lines, and the sender's
// promise never to block: a peer datagram socket this test owns stands in for journald (it
// reads what arrives, or leaves it queued to fill the socket). The real journald: tests/root.
#define BOOST_TEST_MODULE journal_log
#include <stdlib.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>
#include <boost/test/unit_test.hpp>
#include "base/fd_passing.hpp"
#include "runtime/internal.hpp"

namespace fs = std::filesystem;
using berth::runtime::drain_lines;
using berth::runtime::JournalLog;
using berth::runtime::JournalSender;
using berth::runtime::max_log_line;
using berth::runtime::valid_journal_fields;

namespace {

// Parses one native-protocol entry back into fields (both forms), as journald does.
std::multimap<std::string, std::string> decode(std::string_view entry)
{
    std::multimap<std::string, std::string> out;
    while (!entry.empty()) {
        const auto nl = entry.find('\n');
        const auto eq = entry.find('=');
        if (eq < nl) {
            out.emplace(entry.substr(0, eq), entry.substr(eq + 1, nl - eq - 1));
            entry.remove_prefix(nl + 1);
            continue;
        }
        const auto name = entry.substr(0, nl);
        std::uint64_t size = 0;
        for (int i = 7; i >= 0; --i)
            size = (size << 8) | static_cast<unsigned char>(entry[nl + 1 + i]);
        out.emplace(name, entry.substr(nl + 9, size));
        BOOST_TEST_REQUIRE(entry[nl + 9 + size] == '\n');
        entry.remove_prefix(nl + 10 + size);
    }
    return out;
}

std::string one(const std::multimap<std::string, std::string>& fields, const std::string& name)
{
    const auto it = fields.find(name);
    return it == fields.end() ? "<none>" : it->second;
}

// A datagram socket bound in a fresh directory: journald's place in these tests.
struct Peer {
    std::string dir, path;
    berth::Fd fd;
    Peer()
    {
        char tmpl[] = "/tmp/berth-journal-XXXXXX";
        dir = ::mkdtemp(tmpl);
        path = dir + "/socket";
        fd = berth::Fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        path.copy(addr.sun_path, path.size());
        BOOST_TEST_REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ~Peer() { fs::remove_all(dir); }
    // Every datagram queued now.
    std::vector<std::string> take()
    {
        std::vector<std::string> out;
        std::string buf(1 << 20, '\0');
        for (;;) {
            const auto n = ::recv(fd.get(), buf.data(), buf.size(), 0);
            if (n < 0)
                return out;
            out.emplace_back(buf.data(), static_cast<std::size_t>(n));
        }
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(a_value_with_a_newline_takes_the_length_prefixed_form)
{
    JournalSender sender("/nonexistent/socket");
    JournalLog log(sender, {"TWO=a\nb"});
    const auto entry = log.encode("stdout", "one line\n", false);
    BOOST_TEST(entry ==
               std::string("TWO\n\x03\0\0\0\0\0\0\0a\nb\nMESSAGE=one line\nPRIORITY=6\n", 44));
    BOOST_TEST(one(decode(entry), "TWO") == "a\nb");
}

BOOST_AUTO_TEST_CASE(field_names_follow_journalds_rules)
{
    auto ok = [](const std::string& field) {
        const std::vector<std::string> fields = {field};
        return valid_journal_fields(fields).has_value();
    };
    BOOST_TEST(ok("CONTAINER_ID_FULL=x"));
    BOOST_TEST(ok("A1="));
    BOOST_TEST(!ok("=x"));
    BOOST_TEST(!ok("_PID=1")); // journald's trusted fields
    BOOST_TEST(!ok("1ABC=x"));
    BOOST_TEST(!ok("lower=x"));
    BOOST_TEST(!ok(std::string(65, 'A') + "=x"));
    const std::vector<std::string> bad = {"TASK_ARN=x", "no_equals"};
    auto r = valid_journal_fields(bad);
    BOOST_TEST_REQUIRE(!r);
    BOOST_TEST(r.error().code == EINVAL);
    BOOST_TEST(r.error().message().find("no_equals") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(lines_carry_dockers_fields_priority_and_no_newline)
{
    JournalSender sender("/nonexistent/socket");
    JournalLog log(sender, {"CONTAINER_NAME=web", "TASK_ARN=arn:aws:ecs:local:0:task/t/1"});
    const auto out = decode(log.encode("stdout", "hello\n", false));
    BOOST_TEST(one(out, "MESSAGE") == "hello");
    BOOST_TEST(one(out, "PRIORITY") == "6");
    BOOST_TEST(one(out, "CONTAINER_NAME") == "web");
    BOOST_TEST(one(out, "TASK_ARN") == "arn:aws:ecs:local:0:task/t/1");
    BOOST_TEST(out.count("CONTAINER_PARTIAL_MESSAGE") == 0u);
    const auto err = decode(log.encode("stderr", "oops\n", false));
    BOOST_TEST(one(err, "PRIORITY") == "3");
}

BOOST_AUTO_TEST_CASE(a_long_line_goes_out_in_partial_pieces_as_docker_marks_them)
{
    Peer peer;
    JournalSender sender(peer.path);
    JournalLog log(sender, {"CONTAINER_NAME=web"});
    std::string pending;
    const std::string line(2 * max_log_line + 100, 'x');
    BOOST_TEST_REQUIRE(drain_lines(log, "stdout", pending, line + "\nnext\n", false).has_value());
    const auto got = peer.take();
    BOOST_TEST_REQUIRE(got.size() == 4u);
    std::vector<std::multimap<std::string, std::string>> e;
    e.reserve(got.size());
    for (const auto& g : got)
        e.push_back(decode(g));
    BOOST_TEST(one(e[0], "MESSAGE").size() == max_log_line);
    BOOST_TEST(one(e[0], "CONTAINER_PARTIAL_MESSAGE") == "true");
    BOOST_TEST(one(e[1], "CONTAINER_PARTIAL_MESSAGE") == "true");
    BOOST_TEST(one(e[2], "MESSAGE") == std::string(100, 'x'));
    BOOST_TEST(e[2].count("CONTAINER_PARTIAL_MESSAGE") == 0u);
    BOOST_TEST(one(e[2], "CONTAINER_PARTIAL_LAST") == "true");
    BOOST_TEST(one(e[0], "CONTAINER_PARTIAL_ORDINAL") == "1");
    BOOST_TEST(one(e[2], "CONTAINER_PARTIAL_ORDINAL") == "3");
    BOOST_TEST(one(e[0], "CONTAINER_PARTIAL_ID") == one(e[2], "CONTAINER_PARTIAL_ID"));
    BOOST_TEST(one(e[0], "CONTAINER_PARTIAL_ID").size() == 32u);
    BOOST_TEST(one(e[3], "MESSAGE") == "next");
    BOOST_TEST(e[3].count("CONTAINER_PARTIAL_ID") == 0u);
}

BOOST_AUTO_TEST_CASE(a_full_socket_never_blocks_a_bounded_backlog_waits_and_drops_are_reported)
{
    Peer peer; // reads nothing until asked: its queue fills (net.unix.max_dgram_qlen)
    const std::size_t bound = std::size_t{64} * 1024;
    JournalSender sender(peer.path, bound);
    JournalLog log(sender, {"CONTAINER_NAME=web"});
    const auto start = std::chrono::steady_clock::now();
    const int lines = 2000; // ~2 MB: far more than the queue and the backlog hold
    for (int i = 0; i < lines; ++i)
        (void)log.write("stdout", "line " + std::to_string(i) + std::string(1000, '.') + "\n",
                        false);
    const bool quick = std::chrono::steady_clock::now() - start < std::chrono::seconds(5);
    BOOST_TEST(quick);
    BOOST_TEST(sender.backlog_size() <= bound);
    BOOST_TEST(sender.retry_in_ms() >= 0);
    BOOST_TEST(log.dropped() > 0u);
    // The reader comes back: everything kept arrives in order, then one drop notice.
    std::vector<std::string> got;
    for (int round = 0; round < 1000 && (sender.retry_in_ms() >= 0 || got.empty()); ++round) {
        for (auto& g : peer.take())
            got.push_back(std::move(g));
        sender.flush();
    }
    for (auto& g : peer.take())
        got.push_back(std::move(g));
    BOOST_TEST_REQUIRE(sender.retry_in_ms() == -1);
    BOOST_TEST_REQUIRE(!got.empty());
    int last = -1;
    std::uint64_t delivered = 0, reported = 0;
    for (const auto& g : got) {
        const auto f = decode(g);
        if (f.count("BERTH_DROPPED_LINES") == 1) {
            reported += std::stoull(one(f, "BERTH_DROPPED_LINES"));
            BOOST_TEST(one(f, "CONTAINER_NAME") == "web");
            BOOST_TEST(one(f, "PRIORITY") == "4");
            continue;
        }
        const int n = std::stoi(one(f, "MESSAGE").substr(5));
        BOOST_TEST(n > last); // in order, nothing twice
        last = n;
        ++delivered;
    }
    BOOST_TEST(delivered + log.dropped() == std::uint64_t{lines});
    BOOST_TEST(reported == log.dropped());
}

BOOST_AUTO_TEST_CASE(no_journald_at_all_is_a_backlog_then_drops_never_an_error_that_blocks)
{
    JournalSender sender("/nonexistent/berth/socket", 4096);
    JournalLog log(sender, {"CONTAINER_NAME=web"});
    for (int i = 0; i < 100; ++i)
        (void)log.write("stdout", "line\n", false);
    BOOST_TEST(sender.backlog_size() <= 4096u);
    BOOST_TEST(log.dropped() > 0u);
    sender.flush(); // still absent: backs off
    BOOST_TEST(sender.retry_in_ms() > 10);
}

// Lines queued while journald was away and then refused (a socket of another type at its path:
// EPROTOTYPE, never sendable) leave the backlog and are reported as their container's drops once
// journald takes entries again.
BOOST_AUTO_TEST_CASE(queued_lines_refused_later_are_reported_as_drops)
{
    Peer peer;
    const auto later = peer.dir + "/later";
    JournalSender sender(later);
    JournalLog log(sender, {"CONTAINER_NAME=web"});
    for (int i = 0; i < 5; ++i)
        BOOST_TEST_REQUIRE(log.write("stdout", "queued\n", false).has_value()); // ENOENT: kept
    BOOST_TEST_REQUIRE(sender.retry_in_ms() >= 0);
    const berth::Fd stream(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    later.copy(addr.sun_path, later.size());
    BOOST_TEST_REQUIRE(::bind(stream.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    sender.flush();
    BOOST_TEST(sender.retry_in_ms() == -1); // refused: gone from the backlog
    BOOST_TEST(sender.backlog_size() == 0U);
    // journald back: the peer's socket moved to the path (a bound socket keeps working renamed).
    BOOST_TEST_REQUIRE(::unlink(later.c_str()) == 0);
    BOOST_TEST_REQUIRE(::rename(peer.path.c_str(), later.c_str()) == 0);
    BOOST_TEST_REQUIRE(log.write("stdout", "back\n", false).has_value());
    const auto got = peer.take();
    BOOST_TEST_REQUIRE(got.size() == 2U);
    BOOST_TEST(one(decode(got[0]), "MESSAGE") == "back");
    const auto notice = decode(got[1]);
    BOOST_TEST(one(notice, "BERTH_DROPPED_LINES") == "5");
    BOOST_TEST(one(notice, "CONTAINER_NAME") == "web");
}

BOOST_AUTO_TEST_CASE(an_entry_bigger_than_a_datagram_goes_in_a_sealed_memfd)
{
    Peer peer;
    JournalSender sender(peer.path);
    // Past the sender's socket buffer (SO_SNDBUF 8 MiB asked, capped by net.core.wmem_max, then
    // doubled by the kernel): EMSGSIZE.
    std::size_t wmem_max = 0;
    std::ifstream("/proc/sys/net/core/wmem_max") >> wmem_max;
    const std::size_t big = 2 * std::min<std::size_t>(wmem_max, 8 << 20) + (1 << 20);
    JournalLog log(sender, {"BIG=" + std::string(big, 'b')});
    BOOST_TEST_REQUIRE(log.write("stdout", "hello\n", false).has_value());
    // What arrives is an empty datagram with the memfd attached; read it with its fd.
    std::array<char, 1> byte{};
    std::vector<berth::Fd> passed;
    const auto received = berth::receive_with_fds(peer.fd.get(), byte, passed);
    BOOST_TEST_REQUIRE(received.has_value());
    BOOST_TEST_REQUIRE(*received == 0U);
    BOOST_TEST_REQUIRE(passed.size() == 1U);
    const int fd = passed.front().get();
    BOOST_TEST(::fcntl(fd, F_GET_SEALS) & F_SEAL_WRITE);
    std::string entry(big + (1 << 20), '\0');
    const auto n = ::pread(fd, entry.data(), entry.size(), 0);
    BOOST_TEST_REQUIRE(n > 0);
    entry.resize(static_cast<std::size_t>(n));
    const auto f = decode(entry);
    BOOST_TEST(one(f, "MESSAGE") == "hello");
    BOOST_TEST(one(f, "BIG").size() == big);
}

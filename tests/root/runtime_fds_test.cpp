// tests/root/runtime_fds_test.cpp — which fds a container's processes hold (issue 14): none of
// the caller's (other containers' locks, pipes, sockets, with or without O_CLOEXEC), only stdio,
// the fds passed by mapping (at the numbers asked for) and, until exec, the runtime's own sync
// socket and exec.fifo. Shared fixture: tests/root/runtime_fixture.hpp.
#define BOOST_TEST_MODULE runtime_fds
#include <sys/file.h>
#include <sys/socket.h>
#include <map>
#include <set>
#include "tests/root/runtime_fixture.hpp"

using namespace berth::test;

namespace {

// fd number -> what /proc/<pid>/fd/<n> links to.
std::map<int, std::string> open_fds(pid_t pid)
{
    std::map<int, std::string> fds;
    const auto dir = "/proc/" + std::to_string(pid) + "/fd";
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::error_code ec;
        fds[std::stoi(entry.path().filename().string())] = fs::read_symlink(entry.path(), ec);
    }
    return fds;
}

std::pair<dev_t, ino_t> identity(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0)
        return {0, 0};
    return {st.st_dev, st.st_ino};
}

// A pipe whose read end holds `text` (the write end closed): what a mapped fd should deliver.
berth::Fd pipe_with(const std::string& text)
{
    int p[2];
    BOOST_TEST_REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    BOOST_TEST_REQUIRE(::write(p[1], text.data(), text.size()) == ssize_t(text.size()));
    ::close(p[1]);
    return berth::Fd(p[0]);
}

// fds the caller has open for its own business, some without O_CLOEXEC, one holding a flock (as
// another container's state lock would).
struct Unrelated {
    TempDir dir{"berth-fds"};
    std::vector<berth::Fd> fds;
    Unrelated()
    {
        int p[2];
        BOOST_TEST_REQUIRE(::pipe(p) == 0); // no O_CLOEXEC
        fds.emplace_back(p[0]);
        fds.emplace_back(p[1]);
        int s[2];
        BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
        fds.emplace_back(s[0]);
        fds.emplace_back(s[1]);
        fds.emplace_back(::open((dir.path() + "/locked").c_str(), O_CREAT | O_RDWR, 0600));
        BOOST_TEST_REQUIRE(::flock(fds.back().get(), LOCK_EX) == 0);
        fds.emplace_back(::open("/etc/hostname", O_RDONLY | O_CLOEXEC));
    }
    // True if some fd of pid is one of ours (same file, pipe or socket).
    bool seen_in(pid_t pid) const
    {
        std::set<std::pair<dev_t, ino_t>> ours;
        for (const auto& fd : fds)
            ours.insert(identity("/proc/self/fd/" + std::to_string(fd.get())));
        for (const auto& [n, target] : open_fds(pid))
            if (ours.count(identity("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(n))))
                return true;
        return false;
    }
};

// Waits until pid runs `program` (its exec happened), then lists its fd numbers.
std::string fds_after_exec(pid_t pid, const std::string& program)
{
    const auto comm = "/proc/" + std::to_string(pid) + "/comm";
    for (int i = 0; i < 500; ++i) {
        std::ifstream in(comm);
        std::string name;
        if (std::getline(in, name) && name == program)
            break;
        std::this_thread::sleep_for(10ms);
    }
    std::string numbers;
    for (const auto& [n, target] : open_fds(pid))
        numbers += std::to_string(n) + " ";
    return numbers;
}

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_fds, *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(a_created_container_holds_only_stdio_and_the_runtimes_sync_fds,
                        RuntimeFixture)
{
    Unrelated unrelated;
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = new_id("fds");
    const auto created = must_create(id);
    const auto fds = open_fds(created.pid);
    std::string listing;
    for (const auto& [n, target] : fds)
        listing += std::to_string(n) + " -> " + target + "\n";
    // 0-2, the sync socket and exec.fifo: nothing else.
    BOOST_TEST(fds.size() == 5u, listing);
    BOOST_TEST((fds.count(0) && fds.count(1) && fds.count(2)), listing);
    int sockets = 0, fifos = 0;
    for (const auto& [n, target] : fds)
        if (n > 2) {
            sockets += target.rfind("socket:", 0) == 0;
            fifos += target.find("exec.fifo") != std::string::npos;
        }
    BOOST_TEST(sockets == 1, listing);
    BOOST_TEST(fifos == 1, listing);
    BOOST_TEST(!unrelated.seen_in(created.pid), listing);
    // The caller's flock is not held by the container: another process can take it now.
    berth::Fd again(::open((unrelated.dir.path() + "/locked").c_str(), O_RDWR | O_CLOEXEC));
    unrelated.fds[4].reset();
    BOOST_TEST(::flock(again.get(), LOCK_EX | LOCK_NB) == 0);
    BOOST_TEST(rt::remove(options, id, true).has_value());
    ::waitpid(created.pid, nullptr, __WALL);
}

BOOST_FIXTURE_TEST_CASE(mapped_fds_arrive_at_their_numbers_and_nothing_else_does, RuntimeFixture)
{
    Unrelated unrelated;
    auto first = pipe_with("first");
    auto second = pipe_with("second");
    // The container reads fd 3 and 4, then execs a program whose fds the test lists.
    bundle.set_args({"sh", "-c", "cat <&3; echo; cat <&4; echo; exec sleep 1000"});
    bundle.write();
    const auto id = new_id("map");
    auto co = create_options(id);
    co.pass_fds = {second.get(), first.get()}; // second becomes 3, first becomes 4
    auto created = rt::create(options, co);
    ::close(co.stdin_fd);
    BOOST_TEST_REQUIRE(created.has_value(), why(created));
    const auto fds = open_fds(created->pid);
    BOOST_TEST(fds.size() == 7u); // 0-4, the sync socket and exec.fifo
    BOOST_TEST((fds.count(3) && fds.count(4)));
    BOOST_TEST(!unrelated.seen_in(created->pid));
    BOOST_TEST_REQUIRE(rt::start(options, id).has_value());
    BOOST_TEST(fds_after_exec(created->pid, "sleep") == "0 1 2 3 4 ");
    BOOST_TEST(output() == "second\nfirst\n", output());
    BOOST_TEST(rt::remove(options, id, true).has_value());
    ::waitpid(created->pid, nullptr, __WALL);
}

BOOST_FIXTURE_TEST_CASE(preserved_and_mapped_fds_line_up_for_an_exec, RuntimeFixture)
{
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = new_id("execfds");
    const auto created = must_create(id);
    BOOST_TEST_REQUIRE(rt::start(options, id).has_value());
    Unrelated unrelated;
    auto mapped = pipe_with("mapped");
    rt::ExecOptions eo;
    eo.process.args = {"sh", "-c", "cat <&3; exec sleep 1000"};
    eo.process.env = {"PATH=/bin"};
    eo.preserve_fds = 1; // our fd 3 stays 3 (whatever it is), the mapped one becomes 4
    eo.pass_fds = {mapped.get()};
    eo.detach = true;
    eo.pid_file = state.path() + "/exec.pid";
    berth::Fd out(::memfd_create("exec-out", MFD_CLOEXEC));
    eo.stdout_fd = out.get();
    BOOST_TEST_REQUIRE(::fcntl(3, F_GETFD) >= 0); // fd 3 is open in this test program
    // fd 3 of the exec'd process must be our fd 3, fd 4 the mapped pipe.
    auto r = rt::exec(options, id, eo);
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    std::ifstream pid_file(eo.pid_file);
    pid_t pid = 0;
    pid_file >> pid;
    BOOST_TEST_REQUIRE(pid > 0);
    BOOST_TEST(fds_after_exec(pid, "sleep") == "0 1 2 3 4 ");
    BOOST_TEST((identity("/proc/" + std::to_string(pid) + "/fd/3") == identity("/proc/self/fd/3")));
    BOOST_TEST((identity("/proc/" + std::to_string(pid) + "/fd/4") ==
                identity("/proc/self/fd/" + std::to_string(mapped.get()))));
    BOOST_TEST(!unrelated.seen_in(pid));
    eo.detach = false;
    eo.pid_file.clear();
    eo.preserve_fds = 0;
    // An fd that is not open is refused before anything starts, naming it.
    eo.pass_fds = {1 << 20};
    auto bad = rt::exec(options, id, eo);
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().code == EINVAL);
    BOOST_TEST(bad.error().message().find("fd 1048576 to pass as fd 3 is not open") !=
                   std::string::npos,
               bad.error().message());
    BOOST_TEST(rt::remove(options, id, true).has_value());
    // Both are our children (CLONE_PARENT): the init's exit waits until the other is reaped.
    ::waitpid(pid, nullptr, __WALL);
    ::waitpid(created.pid, nullptr, __WALL);
}

// A free number in the preserved range would be taken by one of the runtime's own fds (the sync
// socket, exec.fifo, the state lock) and passed into the container: refused first, naming it.
BOOST_FIXTURE_TEST_CASE(a_preserved_fd_that_is_not_open_is_refused_naming_it, RuntimeFixture)
{
    bundle.set_args({"true"});
    bundle.write();
    const auto id = new_id("holes");
    auto co = create_options(id);
    int hole = 3;
    while (::fcntl(hole, F_GETFD) >= 0)
        ++hole;
    co.preserve_fds = static_cast<unsigned>(hole - 3 + 1); // 3 .. hole
    auto created = rt::create(options, co);
    BOOST_TEST_REQUIRE(!created.has_value());
    BOOST_TEST(created.error().code == EINVAL);
    const auto expected = "preserve fds: fd " + std::to_string(hole) + " is not open";
    BOOST_TEST(created.error().message().find(expected) != std::string::npos,
               created.error().message());
    BOOST_TEST(!fs::exists(options.root + "/" + id)); // refused before anything was made
    // With the hole filled (/dev/null) it goes through.
    berth::Fd filler(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (filler.get() != hole) {
        BOOST_TEST_REQUIRE(::dup3(filler.get(), hole, O_CLOEXEC) == hole);
        filler = berth::Fd(hole);
    }
    auto ok = rt::create(options, co);
    ::close(co.stdin_fd);
    BOOST_TEST_REQUIRE(ok.has_value(), why(ok));
    BOOST_TEST(rt::remove(options, id, true).has_value());
    ::waitpid(ok->pid, nullptr, __WALL);
}

BOOST_AUTO_TEST_SUITE_END()

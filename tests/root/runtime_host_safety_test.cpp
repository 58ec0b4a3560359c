// tests/root/runtime_host_safety_test.cpp — what berth-runtime must never do to the host, as
// root on this host (issue 13): kill or remove a cgroup it did not make, kill another container
// through a shared cgroup, place a cgroup outside its root unasked, follow a planted symlink
// when writing a pid file, run exec from a config changed after create, or leave a hidden
// container when create is interrupted. Also where cgroups go (root, systemd form, name=systemd)
// and that the parents berth made are removed again. Every cgroup is below "/berth-test-<pid>-"
// and every process the test starts is killed by pid.
#define BOOST_TEST_MODULE runtime_host_safety
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include "base/files.hpp"
#include "cgroups/cgroups.hpp"
#include "tests/root/runtime_fixture.hpp"

using namespace berth::test;

namespace {

std::string test_cgroup(const std::string& hint)
{
    static unsigned counter = 0;
    return "/berth-test-" + std::to_string(::getpid()) + "-safety" + std::to_string(counter++) +
           "-" + hint;
}

bool dir_in(const std::string& hierarchy, const std::string& path)
{
    return fs::exists("/sys/fs/cgroup/" + hierarchy + path);
}

// A process that is not a container's: `sleep 1000` forked by the test, optionally moved into
// a cgroup. Killed by pid and reaped by the destructor.
struct Outsider {
    pid_t pid = ::fork();
    Outsider()
    {
        if (pid == 0) {
            ::execl("/bin/sleep", "sleep", "1000", nullptr);
            ::_exit(127);
        }
    }
    ~Outsider()
    {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    bool alive() const { return ::waitpid(pid, nullptr, WNOHANG) == 0; }
};

// A cgroup the test made itself (the "existing" cgroup a bundle points at), removed at the end.
struct ExistingCgroup {
    std::string path;
    std::optional<berth::cgroups::Cgroup> cgroup;
    explicit ExistingCgroup(std::string p) : path(std::move(p))
    {
        auto made = berth::cgroups::Cgroup::create(path);
        BOOST_TEST_REQUIRE(made.has_value(), why(made));
        cgroup.emplace(std::move(*made));
    }
    ~ExistingCgroup()
    {
        if (cgroup)
            (void)cgroup->destroy();
        berth::test::destroy_test_cgroup(path);
    }
};

// Removes a test cgroup tree ("/berth-test-..." only) in every hierarchy, children first, even
// when a check failed midway.
struct TreeGuard {
    std::string path;
    ~TreeGuard()
    {
        std::error_code ec;
        for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
            const auto top = h.path().string() + path;
            std::vector<std::string> dirs;
            for (auto it = fs::recursive_directory_iterator(top, ec);
                 !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
                if (it->is_directory(ec))
                    dirs.push_back(it->path().string());
            for (auto d = dirs.rbegin(); d != dirs.rend(); ++d)
                berth::test::destroy_test_cgroup(d->substr(h.path().string().size()));
        }
        berth::test::destroy_test_cgroup(path);
    }
};

// A mkdtemp state root; the containers it made are force-removed, the state root must then be
// empty and the bundle's cgroup gone.
struct Fixture : RuntimeFixture {
    Fixture() : RuntimeFixture("berth-safety-state") {}
    using RuntimeFixture::create_options;
    rt::CreateOptions create_options(const std::string& id, const Bundle& b)
    {
        rt::CreateOptions co;
        co.id = id;
        co.bundle = b.dir();
        co.stdin_fd = co.stdout_fd = co.stderr_fd = devnull.get();
        return co;
    }
    // create + start of `b` running args, in cgroupsPath `path`; the init's pid.
    pid_t start(const std::string& id, Bundle& b, const std::string& path,
                const std::vector<std::string>& args)
    {
        b.config["linux"]["cgroupsPath"] = path;
        b.set_args(args);
        b.write();
        auto created = rt::create(options, create_options(id, b));
        BOOST_TEST_REQUIRE(created.has_value(), why(created));
        auto started = rt::start(options, id);
        BOOST_TEST_REQUIRE(started.has_value(), why(started));
        return created->pid;
    }
    berth::Fd devnull{::open("/dev/null", O_RDWR | O_CLOEXEC)};
};

// Waits for a process that is not our child (or a zombie child) to be gone.
bool gone(pid_t pid)
{
    for (int i = 0; i < 500; ++i) {
        ::waitpid(pid, nullptr, WNOHANG); // reap it if it is ours (the init is: CLONE_PARENT)
        if (::kill(pid, 0) < 0)
            return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(adopted_cgroups,
                      *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(a_failed_create_in_an_existing_cgroup_kills_nothing_and_keeps_it, Fixture)
{
    ExistingCgroup existing(test_cgroup("adopt"));
    Outsider sleeper;
    BOOST_TEST_REQUIRE(existing.cgroup->add(sleeper.pid).has_value());
    bundle.config["linux"]["cgroupsPath"] = existing.path;
    bundle.add_mount({{"destination", "/mnt"},
                      {"type", "bind"},
                      {"source", "/no/such/source"},
                      {"options", {"bind"}}});
    bundle.write();
    auto created = rt::create(options, create_options(new_id("fail"), bundle));
    BOOST_TEST_REQUIRE(!created.has_value());
    BOOST_TEST(sleeper.alive());
    BOOST_TEST(dir_in("memory", existing.path));
    BOOST_TEST(dir_in("systemd", existing.path));
}

BOOST_FIXTURE_TEST_CASE(delete_in_an_adopted_cgroup_kills_only_the_containers_pid_namespace,
                        Fixture)
{
    ExistingCgroup existing(test_cgroup("adopt"));
    Outsider sleeper;
    BOOST_TEST_REQUIRE(existing.cgroup->add(sleeper.pid).has_value());
    const auto id = new_id("pidns");
    const pid_t init = start(id, bundle, existing.path, {"sh", "-c", "sleep 1000 & sleep 1000"});
    auto removed = rt::remove(options, id, true);
    BOOST_TEST_REQUIRE(removed.has_value(), why(removed));
    BOOST_TEST(gone(init));
    BOOST_TEST(sleeper.alive());
    BOOST_TEST(dir_in("memory", existing.path));
    auto left = existing.cgroup->pids();
    BOOST_TEST_REQUIRE(left.has_value());
    BOOST_TEST(left->size() == 1u); // the outsider alone: the container's sleeps are gone
}

BOOST_FIXTURE_TEST_CASE(without_a_pid_namespace_the_init_and_its_descendants_are_killed, Fixture)
{
    ExistingCgroup existing(test_cgroup("adopt"));
    Outsider sleeper;
    BOOST_TEST_REQUIRE(existing.cgroup->add(sleeper.pid).has_value());
    remove_namespace(bundle.config, "pid");
    const auto id = new_id("nopidns");
    const pid_t init = start(id, bundle, existing.path, {"sh", "-c", "sleep 1000 & sleep 1000"});
    for (int i = 0; i < 200 && existing.cgroup->pids()->size() < 4; ++i)
        std::this_thread::sleep_for(10ms); // sh forks the background sleep
    auto removed = rt::remove(options, id, true);
    BOOST_TEST_REQUIRE(removed.has_value(), why(removed));
    BOOST_TEST(gone(init));
    BOOST_TEST(sleeper.alive());
    // remove() waits for the init, not for its descendants: they were sent SIGKILL, and one may
    // still be listed for a moment while it exits (seen under ASan and on a loaded machine).
    auto left = existing.cgroup->pids();
    for (int i = 0; i < 200 && left && left->size() > 1; ++i) {
        std::this_thread::sleep_for(10ms);
        left = existing.cgroup->pids();
    }
    BOOST_TEST_REQUIRE(left.has_value());
    BOOST_TEST(left->size() == 1u);
    BOOST_TEST(sleeper.alive());
}

// Container A's cgroupsPath is the parent of container B's: deleting A never touches B.
BOOST_FIXTURE_TEST_CASE(deleting_a_parent_cgroups_container_spares_the_nested_one, Fixture)
{
    const auto parent = test_cgroup("nest");
    Bundle other;
    const auto a = new_id("parent"), b = new_id("nested");
    start(a, bundle, parent, {"true"});
    const pid_t b_init = start(b, other, parent + "/b", {"sleep", "1000"});
    auto removed = rt::remove(options, a, false); // a plain delete: A has exited
    for (int i = 0; i < 100 && !removed && removed.error().code == EBUSY; ++i) {
        std::this_thread::sleep_for(20ms); // `true` may not have exited yet
        removed = rt::remove(options, a, false);
    }
    BOOST_TEST_REQUIRE(removed.has_value(), why(removed));
    auto state = rt::state(options, b);
    BOOST_TEST_REQUIRE(state.has_value(), why(state));
    BOOST_TEST((state->status == rt::Status::Running));
    BOOST_TEST(::kill(b_init, 0) == 0);
    // B inherited the parent directory A made: once B goes, nothing is left.
    auto removed_b = rt::remove(options, b, true);
    BOOST_TEST_REQUIRE(removed_b.has_value(), why(removed_b));
    BOOST_TEST(gone(b_init));
    BOOST_TEST(!berth::test::cgroup_exists(parent));
}

// The other order: B first (berth makes the parent), then a create pointed at the parent fails.
// (A process cannot join a v2 cgroup whose children have controllers: so a failing create.)
BOOST_FIXTURE_TEST_CASE(a_failed_create_in_another_containers_parent_cgroup_spares_it, Fixture)
{
    const auto parent = test_cgroup("nest");
    Bundle other;
    const auto b = new_id("nested");
    const pid_t b_init = start(b, other, parent + "/b", {"sleep", "1000"});
    bundle.config["linux"]["cgroupsPath"] = parent;
    bundle.add_mount({{"destination", "/mnt"},
                      {"type", "bind"},
                      {"source", "/no/such/source"},
                      {"options", {"bind"}}});
    bundle.write();
    BOOST_TEST_REQUIRE(!rt::create(options, create_options(new_id("parent"), bundle)));
    auto state = rt::state(options, b);
    BOOST_TEST_REQUIRE(state.has_value(), why(state));
    BOOST_TEST((state->status == rt::Status::Running));
    BOOST_TEST(dir_in("memory", parent + "/b"));
    auto removed_b = rt::remove(options, b, true);
    BOOST_TEST_REQUIRE(removed_b.has_value(), why(removed_b));
    BOOST_TEST(gone(b_init));
    BOOST_TEST(!berth::test::cgroup_exists(parent));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(placement, *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(a_cgroups_path_outside_the_root_is_refused_unless_allowed, Fixture)
{
    options.cgroups_outside_root = false;
    bundle.set_args({"true"});
    bundle.write();
    const auto id = new_id("outside");
    auto created = rt::create(options, create_options(id, bundle));
    BOOST_TEST_REQUIRE(!created.has_value());
    BOOST_TEST(created.error().code == EPERM);
    const auto message = created.error().message();
    BOOST_TEST(message.find(bundle.cgroups_path()) != std::string::npos, message);
    BOOST_TEST(message.find("outside berth's cgroup root '/berth'") != std::string::npos, message);
    BOOST_TEST(!berth::test::cgroup_exists(bundle.cgroups_path()));
    BOOST_TEST(berth::test::list_dir(options.root).empty());
}

BOOST_FIXTURE_TEST_CASE(relative_and_empty_paths_go_below_the_configured_root_and_are_recorded,
                        Fixture)
{
    options.cgroups_outside_root = false;
    options.cgroup_root = test_cgroup("root");
    TreeGuard guard{options.cgroup_root};
    const auto id = new_id("rel");
    start(id, bundle, "task/web", {"sleep", "1000"});
    const auto expected = options.cgroup_root + "/task/web";
    BOOST_TEST(dir_in("memory", expected));
    const auto state = read_text(options.root + "/" + id + "/state.json");
    BOOST_TEST(state.find("\"cgroupPath\": \"" + expected + "\"") != std::string::npos, state);
    BOOST_TEST(state.find("\"cgroupCreated\": true") != std::string::npos, state);
    const auto empty = new_id("empty");
    Bundle other;
    start(empty, other, "", {"sleep", "1000"});
    BOOST_TEST(dir_in("memory", options.cgroup_root + "/" + empty));
    BOOST_TEST_REQUIRE(rt::remove(options, id, true).has_value());
    BOOST_TEST_REQUIRE(rt::remove(options, empty, true).has_value());
    // Every directory berth made is gone again, the root included (berth made it here).
    BOOST_TEST(!berth::test::cgroup_exists(options.cgroup_root));
}

BOOST_FIXTURE_TEST_CASE(empty_parents_berth_made_go_and_a_parent_it_did_not_make_stays, Fixture)
{
    ExistingCgroup existing(test_cgroup("keep"));
    const auto id = new_id("deep");
    start(id, bundle, existing.path + "/a/b/c", {"sleep", "1000"});
    BOOST_TEST(dir_in("memory", existing.path + "/a/b/c"));
    BOOST_TEST_REQUIRE(rt::remove(options, id, true).has_value());
    BOOST_TEST(!dir_in("memory", existing.path + "/a"));
    BOOST_TEST(!dir_in("unified", existing.path + "/a"));
    BOOST_TEST(dir_in("memory", existing.path));
}

BOOST_FIXTURE_TEST_CASE(the_systemd_form_maps_to_the_units_cgroupfs_path, Fixture)
{
    options.systemd_cgroup = true;
    const auto name = std::to_string(::getpid()) + "-sd";
    const auto path = "/berth-test-" + name + ".scope"; // slice "-": the root slice
    const auto id = new_id("systemd");
    start(id, bundle, "-.slice:berth-test:" + name, {"sleep", "1000"});
    BOOST_TEST(dir_in("memory", path));
    BOOST_TEST_REQUIRE(rt::remove(options, id, true).has_value());
    BOOST_TEST(!berth::test::cgroup_exists(path));
}

BOOST_FIXTURE_TEST_CASE(the_container_joins_name_systemd_and_sees_it_under_a_sealed_tmpfs, Fixture)
{
    // A mount below the cgroup tmpfs after it (as podman --systemd=always adds): its target is
    // made before the tmpfs goes read-only.
    bundle.add_mount({{"destination", "/sys/fs/cgroup/extra"},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"nosuid", "nodev"}}});
    const auto id = new_id("systemd-hier");
    const pid_t init =
        start(id, bundle, bundle.cgroups_path(),
              {"sh", "-c",
               "cat /sys/fs/cgroup/systemd/cgroup.procs > /sys/fs/cgroup/extra/procs; "
               "touch /sys/fs/cgroup/x 2>/dev/null || echo ro > /sys/fs/cgroup/extra/ro; "
               "sleep 1000"});
    const auto procs =
        read_text("/sys/fs/cgroup/systemd" + bundle.cgroups_path() + "/cgroup.procs");
    BOOST_TEST(procs.find(std::to_string(init)) != std::string::npos, procs);
    // Read from inside through the container's own /proc/<pid>/root.
    const auto root = "/proc/" + std::to_string(init) + "/root/sys/fs/cgroup/extra/";
    // Written last, and `echo ro >` makes the file before it writes: waited for whole.
    for (int i = 0; i < 1000 && read_text(root + "ro") != "ro\n"; ++i)
        std::this_thread::sleep_for(10ms);
    // Its own cgroup, seen from its pid namespace: the shell (1) and cat.
    BOOST_TEST(read_text(root + "procs").rfind("1\n", 0) == 0, read_text(root + "procs"));
    BOOST_TEST(read_text(root + "ro") == "ro\n");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(files_and_signals,
                      *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(a_symlink_planted_at_the_pid_files_temporary_name_is_not_followed, Fixture)
{
    TempDir shared("berth-safety-pid");
    const auto victim = shared.path() + "/victim";
    std::ofstream(victim) << "precious";
    const auto pid_file = shared.path() + "/container.pid";
    fs::create_symlink(victim, pid_file + ".tmp");
    bundle.set_args({"true"});
    bundle.write();
    auto co = create_options(new_id("pidfile"), bundle);
    co.pid_file = pid_file;
    auto created = rt::create(options, co);
    BOOST_TEST_REQUIRE(created.has_value(), why(created));
    BOOST_TEST(read_text(victim) == "precious");
    BOOST_TEST(!fs::is_symlink(pid_file));
    BOOST_TEST(read_text(pid_file) == std::to_string(created->pid));
    BOOST_TEST(fs::is_symlink(pid_file + ".tmp")); // not ours: left as it was
}

BOOST_FIXTURE_TEST_CASE(durable_state_is_written_and_read_back, Fixture)
{
    options.durable_state = true;
    const auto id = new_id("durable");
    start(id, bundle, bundle.cgroups_path(), {"sleep", "1000"});
    auto state = rt::state(options, id);
    BOOST_TEST_REQUIRE(state.has_value(), why(state));
    BOOST_TEST((state->status == rt::Status::Running));
    BOOST_TEST(berth::test::list_dir(options.root + "/" + id).size() == 2u); // no temporaries
}

// The CLI from here on: runc's exec defaults and the create verb's signal handling.
struct Cli : Fixture {
    std::optional<berth::test::Runtime> berth;
    Cli()
    {
        auto path = berth::test::berth_runtime_path();
        BOOST_TEST_REQUIRE(path.has_value(), "berth-runtime is not built (BERTH_BUILD_ROOT)");
        berth.emplace("berth-runtime", *path);
    }
};

BOOST_FIXTURE_TEST_CASE(exec_takes_its_defaults_from_the_config_frozen_at_create, Cli)
{
    bundle.config["process"]["env"].push_back("WHICH=frozen");
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = berth->new_id("frozen");
    auto created = berth->cli({"create", "--bundle", bundle.dir(), id});
    BOOST_TEST_REQUIRE(created.status == 0, created.err);
    BOOST_TEST_REQUIRE(berth->cli({"start", id}).status == 0);
    bundle.config["process"]["env"].back() = "WHICH=changed";
    bundle.write();
    auto out = berth->cli({"exec", id, "sh", "-c", "echo $WHICH"});
    BOOST_TEST(out.status == 0, out.err);
    BOOST_TEST(out.out == "frozen\n");
}

// Under systemd with Delegate=yes the CLI runs in a cgroup systemd marked as delegated (the
// trusted.delegate xattr): containers go below it. Played here with a name=systemd cgroup the
// test makes and marks, and a shell that moves itself there before it execs berth-runtime.
BOOST_FIXTURE_TEST_CASE(the_cli_places_containers_below_its_systemd_delegated_cgroup, Cli)
{
    const auto service = test_cgroup("svc");
    const auto dir = "/sys/fs/cgroup/systemd" + service;
    BOOST_TEST_REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
    BOOST_TEST_REQUIRE(::setxattr(dir.c_str(), "trusted.delegate", "1", 1, 0) == 0);
    bundle.config["linux"]["cgroupsPath"] = "web";
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = berth->new_id("delegated");
    auto out = berth::test::run_command(
        {"sh", "-c", "echo $$ > " + dir + "/cgroup.procs && exec \"$0\" \"$@\"", berth->binary(),
         "--root", berth->root(), "create", "--bundle", bundle.dir(), id});
    BOOST_TEST(out.status == 0, out.err);
    BOOST_TEST(dir_in("memory", service + "/web"));
    BOOST_TEST(dir_in("systemd", service + "/web"));
    auto removed = berth->cli({"delete", "--force", id}); // from outside it: the recorded path
    BOOST_TEST(removed.status == 0, removed.err);
    BOOST_TEST(!dir_in("memory", service));
    BOOST_TEST(!dir_in("systemd", service + "/web"));
    BOOST_TEST(::rmdir(dir.c_str()) == 0); // the test's own: left for it
}

// A prestart hook that announces itself and then takes a while (long enough for a test woken
// late on a busy machine): the CLI is signalled while it is in the middle of create.
void slow_hook(Bundle& bundle, const std::string& marker)
{
    bundle.config["hooks"] = {
        {"prestart",
         {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "touch " + marker + "; sleep 2"}}}}}};
    bundle.set_args({"sleep", "1000"});
    bundle.write();
}

bool wait_for_file(const std::string& path)
{
    for (int i = 0; i < 1000 && !fs::exists(path); ++i)
        std::this_thread::sleep_for(10ms);
    return fs::exists(path);
}

BOOST_FIXTURE_TEST_CASE(sigterm_during_create_removes_the_half_made_container, Cli)
{
    TempDir scratch("berth-safety-hook");
    slow_hook(bundle, scratch.path() + "/hooked");
    const auto id = berth->new_id("term");
    auto create = berth->start_cli({"create", "--bundle", bundle.dir(), id});
    BOOST_TEST_REQUIRE(wait_for_file(scratch.path() + "/hooked"));
    BOOST_TEST_REQUIRE(::kill(create.pid(), SIGTERM) == 0);
    auto out = create.wait(30s);
    BOOST_TEST(out.status == 128 + SIGTERM, out.err);
    BOOST_TEST(out.err.find("interrupted by SIGTERM") != std::string::npos, out.err);
    BOOST_TEST(berth::test::list_dir(berth->root()).empty());
    BOOST_TEST(!berth::test::cgroup_exists(bundle.cgroups_path()));
    auto again = berth->cli({"state", id});
    BOOST_TEST(again.status != 0);
}

BOOST_FIXTURE_TEST_CASE(sigkill_during_create_leaves_a_container_list_shows_and_delete_removes, Cli)
{
    TempDir scratch("berth-safety-hook");
    slow_hook(bundle, scratch.path() + "/hooked");
    const auto id = berth->new_id("killed");
    auto create = berth->start_cli({"create", "--bundle", bundle.dir(), id});
    BOOST_TEST_REQUIRE(wait_for_file(scratch.path() + "/hooked"));
    BOOST_TEST_REQUIRE(::kill(create.pid(), SIGKILL) == 0);
    (void)create.wait(30s);
    auto list = berth->cli({"list", "-q"});
    BOOST_TEST(list.out.find(id) != std::string::npos, list.out << list.err);
    BOOST_TEST(berth::test::cgroup_exists(bundle.cgroups_path()));
    auto again = berth->cli({"create", "--bundle", bundle.dir(), id});
    BOOST_TEST(again.err.find("already exists") != std::string::npos, again.err);
    auto removed = berth->cli({"delete", id});
    BOOST_TEST(removed.status == 0, removed.err);
    BOOST_TEST(berth::test::list_dir(berth->root()).empty());
    BOOST_TEST(!berth::test::cgroup_exists(bundle.cgroups_path()));
}

BOOST_AUTO_TEST_SUITE_END()

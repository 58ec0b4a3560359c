// agent/store: task definition revisions, tags, tasks written whole, schema versions, and a
// writer killed with SIGKILL mid-stream leaving every committed task whole.
#define BOOST_TEST_MODULE store
#include <boost/test/unit_test.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <thread>
#include "agent/store/internal.hpp"
#include "tests/support/bundle.hpp"

using namespace berth;
using namespace berth::store;

namespace {

Store open_store(const std::string& path)
{
    auto s = Store::open(path);
    BOOST_REQUIRE_MESSAGE(s, (s ? "" : s.error().message()));
    return std::move(*s);
}

Task sample_task(const std::string& arn, int containers)
{
    Task t;
    t.arn = arn;
    t.cluster = "default";
    t.task_definition_arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1";
    t.container_instance_arn = "arn:aws:ecs:us-east-1:000000000000:container-instance/default/x";
    t.desired_status = "RUNNING";
    t.last_status = "PENDING";
    t.created_at = 1700000000;
    for (int i = 0; i < containers; ++i) {
        Container c;
        c.name = "c" + std::to_string(i);
        c.arn = arn + "/c" + std::to_string(i);
        c.image = "busybox";
        c.desired_status = "RUNNING";
        c.last_status = "PENDING";
        c.network_bindings = "[]";
        c.health_status = "UNKNOWN";
        t.containers.push_back(c);
    }
    return t;
}

} // namespace

BOOST_AUTO_TEST_CASE(revisions_count_up_per_family_and_deregistered_ones_turn_inactive)
{
    auto s = open_store(":memory:");
    BOOST_TEST(s.version() == schema_version);
    BOOST_TEST(s.register_task_definition("web", "{}", 10)->revision == 1);
    BOOST_TEST(s.register_task_definition("web", "{}", 11)->revision == 2);
    BOOST_TEST(s.register_task_definition("db", "{}", 12)->revision == 1);
    auto gone = s.deregister_task_definition("web", 2, 20);
    BOOST_REQUIRE(gone && *gone);
    BOOST_TEST((*gone)->status == "INACTIVE");
    BOOST_TEST((*gone)->deregistered_at == 20);
    // The latest ACTIVE revision is now 1; a new registration still takes 3.
    BOOST_TEST((*s.task_definition("web", 0))->revision == 1);
    BOOST_TEST(s.register_task_definition("web", "{}", 13)->revision == 3);
    BOOST_TEST(!s.task_definition("web", 9)->has_value());
    BOOST_TEST(!s.deregister_task_definition("web", 9, 20)->has_value());
    BOOST_TEST(s.task_definitions("", "ACTIVE")->size() == 3U);
    BOOST_TEST(s.task_definitions("", "INACTIVE")->size() == 1U);
}

BOOST_AUTO_TEST_CASE(families_are_active_while_one_revision_is)
{
    auto s = open_store(":memory:");
    (void)s.register_task_definition("web", "{}", 1);
    (void)s.register_task_definition("worker", "{}", 1);
    (void)s.deregister_task_definition("worker", 1, 2);
    BOOST_TEST(*s.families("", "") == (std::vector<std::string>{"web", "worker"}));
    BOOST_TEST(*s.families("", "ACTIVE") == (std::vector<std::string>{"web"}));
    BOOST_TEST(*s.families("", "INACTIVE") == (std::vector<std::string>{"worker"}));
    BOOST_TEST(*s.families("wo", "") == (std::vector<std::string>{"worker"}));
    BOOST_TEST(s.families("%", "")->empty()); // a prefix is not a LIKE pattern
}

BOOST_AUTO_TEST_CASE(tags_replace_values_and_untag_removes_keys)
{
    auto s = open_store(":memory:");
    BOOST_REQUIRE(s.tag("arn:x", {{"a", "1"}, {"b", "2"}}));
    BOOST_REQUIRE(s.tag("arn:x", {{"a", "3"}}));
    BOOST_TEST((*s.tags("arn:x") == std::vector<Tag>{{"a", "3"}, {"b", "2"}}));
    BOOST_REQUIRE(s.untag("arn:x", {"a", "missing"}));
    BOOST_TEST((*s.tags("arn:x") == std::vector<Tag>{{"b", "2"}}));
}

BOOST_AUTO_TEST_CASE(a_task_is_read_back_with_its_containers_in_order)
{
    auto s = open_store(":memory:");
    auto task = sample_task("arn:t1", 3);
    task.containers[1].exit_code = 137;
    task.containers[1].network_bindings = R"([{"hostPort":49153}])";
    task.containers[0].essential = false;
    task.containers[1].health_check = true;
    BOOST_REQUIRE(s.put_task(task));
    task.last_status = "RUNNING";
    task.containers.pop_back();
    BOOST_REQUIRE(s.put_task(task)); // a rewrite replaces the container set
    auto back = s.task("arn:t1");
    BOOST_REQUIRE(back && *back);
    BOOST_TEST((*back)->last_status == "RUNNING");
    BOOST_REQUIRE((*back)->containers.size() == 2U);
    BOOST_TEST((*back)->containers[1].exit_code.value_or(-1) == 137);
    BOOST_TEST(!(*back)->containers[0].exit_code.has_value());
    BOOST_TEST((*back)->containers[1].network_bindings == R"([{"hostPort":49153}])");
    BOOST_TEST(!(*back)->containers[0].essential);
    BOOST_TEST(!(*back)->containers[0].health_check);
    BOOST_TEST((*back)->containers[1].essential);
    BOOST_TEST((*back)->containers[1].health_check);
    BOOST_TEST(s.tasks(TaskFilter{"default", "web", "", "RUNNING"})->size() == 1U);
    BOOST_TEST(s.tasks(TaskFilter{"default", "we", "", ""})->empty()); // family is exact
    BOOST_TEST(s.tasks(TaskFilter{"default", "", "", "STOPPED"})->empty());
    // The metadata endpoint's lookup: only tasks whose engine snapshot is not "" (unfinished).
    const TaskFilter unfinished{"default", "", "", "", true};
    BOOST_TEST(s.tasks(unfinished)->empty());
    task.engine_state = R"({"known":"RUNNING"})";
    BOOST_REQUIRE(s.put_task(task));
    BOOST_TEST(s.tasks(unfinished)->size() == 1U);
}

BOOST_AUTO_TEST_CASE(the_container_instance_keeps_its_arn_across_reopens)
{
    const test::TempDir dir("berth-store-test");
    const std::string path = dir.path() + "/state.db";
    {
        auto s = open_store(path);
        BOOST_REQUIRE(s.ensure_cluster("default", "arn:c", 1));
        BOOST_TEST(s.ensure_container_instance("default", "arn:first", 1)->arn == "arn:first");
    }
    auto s = open_store(path);
    BOOST_TEST(s.ensure_container_instance("default", "arn:second", 2)->arn == "arn:first");
    BOOST_TEST(s.clusters()->size() == 1U);
}

// Schema 4 added containers.essential and .health_check: a version 3 database (its rows as an
// older berth wrote them) reads back as essential containers without a healthCheck.
BOOST_AUTO_TEST_CASE(a_version_3_database_gains_the_container_health_columns)
{
    const test::TempDir dir("berth-store-test");
    const std::string path = dir.path() + "/state.db";
    {
        auto s = open_store(path);
        auto task = sample_task("arn:old", 1);
        task.containers[0].essential = false;
        task.containers[0].health_check = true;
        BOOST_REQUIRE(s.put_task(task));
    }
    {
        auto c = Connection::open(path);
        BOOST_REQUIRE(c);
        BOOST_REQUIRE(c->exec("ALTER TABLE containers DROP COLUMN essential"));
        BOOST_REQUIRE(c->exec("ALTER TABLE containers DROP COLUMN health_check"));
        BOOST_REQUIRE(c->exec("PRAGMA user_version = 3"));
    }
    auto s = open_store(path);
    BOOST_TEST(s.version() == schema_version);
    auto back = s.task("arn:old");
    BOOST_REQUIRE(back && *back);
    BOOST_REQUIRE((*back)->containers.size() == 1U);
    BOOST_TEST((*back)->containers[0].essential);
    BOOST_TEST(!(*back)->containers[0].health_check);
}

BOOST_AUTO_TEST_CASE(a_database_from_a_newer_berth_is_refused)
{
    const test::TempDir dir("berth-store-test");
    const std::string path = dir.path() + "/state.db";
    {
        auto c = Connection::open(path);
        BOOST_REQUIRE(c);
        BOOST_REQUIRE(c->exec("PRAGMA user_version = 99"));
    }
    auto s = Store::open(path);
    BOOST_REQUIRE(!s);
    BOOST_TEST(s.error().message().find("schema version 99 is newer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_database_is_refused_by_name)
{
    const test::TempDir dir("berth-store-test");
    const std::string path = dir.path() + "/state.db";
    FILE* f = std::fopen(path.c_str(), "w");
    BOOST_REQUIRE(f != nullptr);
    std::fputs("this is not an sqlite database, it is long enough to have a header.......", f);
    std::fclose(f);
    auto s = Store::open(path);
    BOOST_REQUIRE(!s);
    BOOST_TEST(s.error().message().find("state.db") != std::string::npos);
}

// A child writes tasks of three containers as fast as it can and reports each commit on a pipe;
// SIGKILL lands mid-stream. Reopened: the database is intact, every reported task is there, and
// no task has lost a container.
BOOST_AUTO_TEST_CASE(a_writer_killed_mid_stream_leaves_every_committed_task_whole)
{
    const test::TempDir dir("berth-store-test");
    const std::string path = dir.path() + "/state.db";
    {
        auto s = open_store(path);
    }
    int fds[2];
    BOOST_REQUIRE(pipe(fds) == 0);
    const pid_t child = fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
        close(fds[0]);
        auto s = Store::open(path);
        if (!s)
            _exit(2);
        for (int i = 0;; ++i) {
            if (!s->put_task(sample_task("arn:task-" + std::to_string(i), 3)))
                _exit(3);
            if (write(fds[1], &i, sizeof i) != sizeof i)
                _exit(4);
        }
    }
    close(fds[1]);
    int last = -1, got = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (last < 20 && std::chrono::steady_clock::now() < deadline) { // let it get going
        int n = 0;
        if (read(fds[0], &n, sizeof n) == sizeof n)
            last = n;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    kill(child, SIGKILL);
    while (read(fds[0], &got, sizeof got) == sizeof got)
        last = got; // commits reported before the kill
    close(fds[0]);
    int status = 0;
    BOOST_REQUIRE(waitpid(child, &status, 0) == child);
    BOOST_REQUIRE_MESSAGE(WIFSIGNALED(status), "the writer died on its own: " << status);
    BOOST_REQUIRE(last >= 20);

    auto check = Connection::open(path);
    BOOST_REQUIRE(check);
    auto integrity = check->prepare("PRAGMA integrity_check");
    BOOST_REQUIRE(integrity && *integrity->step());
    BOOST_TEST(integrity->text(0) == "ok");
    auto s = open_store(path);
    auto tasks = s.tasks(TaskFilter{"default", "", "", ""});
    BOOST_REQUIRE(tasks);
    BOOST_TEST(tasks->size() >= static_cast<std::size_t>(last + 1));
    for (const auto& t : *tasks)
        BOOST_TEST(t.containers.size() == 3U, t.arn << " has " << t.containers.size());
    for (int i = 0; i <= last; ++i)
        BOOST_TEST(s.task("arn:task-" + std::to_string(i))->has_value());
}

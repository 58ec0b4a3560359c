// The berth CLI's parts: tables, TASK resolution, --since parsing, reading json-file logs as
// berth-supervisor writes them (runtime's own JsonLog, real rotation) with --tail, --since and
// following across rotation; and the client over a real berthd-style unix socket (agent/api's
// server with a stand-in ControlPlane), including run-task's register-once rule.
#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <unistd.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include "agent/api/api.hpp"
#include "agent/api/internal.hpp"
#include "agent/cli/internal.hpp"
#include "base/files.hpp"
#include "runtime/internal.hpp"
#include "tests/support/bundle.hpp"

using namespace berth;
using nlohmann::json;

namespace {

constexpr std::int64_t s = 1'000'000'000;

std::vector<std::string> texts(const std::vector<cli::LogEntry>& entries)
{
    std::vector<std::string> out;
    out.reserve(entries.size());
    for (const auto& e : entries)
        out.push_back(e.log);
    return out;
}

std::string entry(const std::string& text, const std::string& time, const char* stream = "stdout")
{
    return json{{"log", text + "\n"}, {"stream", stream}, {"time", time}}.dump() + "\n";
}

} // namespace

BOOST_AUTO_TEST_SUITE(table)

BOOST_AUTO_TEST_CASE(columns_are_as_wide_as_their_widest_cell_and_the_last_is_unpadded)
{
    const auto text = cli::format_table({"ID", "STATUS", "PORTS"},
                                        {{"abc", "RUNNING", "0.0.0.0:80->80/tcp"}, {"d", "", ""}});
    BOOST_TEST(text == "ID    STATUS    PORTS\n"
                       "abc   RUNNING   0.0.0.0:80->80/tcp\n"
                       "d\n");
}

BOOST_AUTO_TEST_CASE(ages_read_like_docker_ps)
{
    BOOST_TEST(cli::age(0, 100) == "");
    BOOST_TEST(cli::age(100, 101) == "1 second ago");
    BOOST_TEST(cli::age(100, 100 + 150) == "2 minutes ago");
    BOOST_TEST(cli::age(100, 100 + 7200) == "2 hours ago");
    BOOST_TEST(cli::age(100, 100 + 86400 * 3) == "3 days ago");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(task_resolution)

const std::vector<std::string> arns = {"arn:aws:ecs:us-east-1:000000000000:task/default/4f1c2b3a",
                                       "arn:aws:ecs:us-east-1:000000000000:task/default/4f1c9999",
                                       "arn:aws:ecs:us-east-1:000000000000:task/default/77aa"};

BOOST_AUTO_TEST_CASE(an_arn_an_id_or_a_unique_prefix_names_one_task)
{
    BOOST_TEST(*cli::resolve_task(arns, arns[2]) == arns[2]);
    BOOST_TEST(*cli::resolve_task(arns, "4f1c2b3a") == arns[0]);
    BOOST_TEST(*cli::resolve_task(arns, "4f1c9") == arns[1]);
    BOOST_TEST(*cli::resolve_task(arns, "7") == arns[2]);
    BOOST_TEST(cli::task_id(arns[0]) == "4f1c2b3a");
}

BOOST_AUTO_TEST_CASE(an_ambiguous_prefix_names_the_candidates)
{
    auto r = cli::resolve_task(arns, "4f1c");
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().code == EINVAL);
    BOOST_TEST(r.error().message().find("4f1c2b3a, 4f1c9999") != std::string::npos,
               r.error().message());
}

BOOST_AUTO_TEST_CASE(no_match_is_enoent_and_empty_is_refused)
{
    auto none = cli::resolve_task(arns, "beef");
    BOOST_REQUIRE(!none);
    BOOST_TEST(none.error().code == ENOENT);
    BOOST_TEST(none.error().message().find("'beef'") != std::string::npos);
    BOOST_TEST(!cli::resolve_task(arns, ""));
}

BOOST_AUTO_TEST_CASE(a_task_listed_twice_is_one_candidate)
{
    // ListTasks RUNNING, then STOPPED: a task that stopped in between is in both answers.
    const std::vector<std::string> twice = {arns[0], arns[2], arns[0]};
    auto r = cli::resolve_task(twice, "4f1c");
    BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message()));
    BOOST_TEST(*r == arns[0]);
}

BOOST_AUTO_TEST_CASE(runtime_ids_split_at_a_whole_task_id_not_at_the_container_suffix)
{
    const std::string t1 = "0a1b2c3d-0000-4000-8000-000000000001"; // a UUID
    const std::string t2 = "0a1b2c3d00004000800000000000000e";     // berthd's 32 hex digits
    BOOST_TEST(cli::is_task_id(t1));
    BOOST_TEST(cli::is_task_id(t2));
    BOOST_TEST(!cli::is_task_id(t2 + "-app"));
    BOOST_TEST(!cli::is_task_id("0a1b2c3d00004000800000000000000e-a1b")); // 36, not a UUID
    // t2's container "app-web" ends like t1's "web": it is not t1's nor a task "<t2>-app".
    const std::vector<std::string> ids = {t1 + "-web", t2 + "-app-web", t2 + "-sidecar",
                                          "short-web", t2 + "-a1b-web"};
    BOOST_TEST(cli::tasks_with_container(ids, "web") == std::vector<std::string>{t1},
               boost::test_tools::per_element());
    BOOST_TEST(cli::tasks_with_container(ids, "app-web") == std::vector<std::string>{t2},
               boost::test_tools::per_element());
    BOOST_TEST(cli::tasks_with_container(ids, "db").empty());
    BOOST_TEST(*cli::resolve_task(cli::tasks_with_container(ids, "web"), "0a1b") == t1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(since)

BOOST_AUTO_TEST_CASE(rfc3339_with_fraction_and_offset)
{
    BOOST_TEST(*cli::parse_rfc3339("1970-01-01T00:00:10Z") == 10 * s);
    BOOST_TEST(*cli::parse_rfc3339("1970-01-01T00:00:10.5Z") == 10 * s + s / 2);
    BOOST_TEST(*cli::parse_rfc3339("2026-11-26T03:34:18.123456789Z") ==
               1795664058LL * s + 123456789);
    BOOST_TEST(*cli::parse_rfc3339("1970-01-01T01:00:00+01:00") == 0);
    for (const char* bad : {"", "yesterday", "2026-13-01T00:00:00Z", "2026-11-26T00:00:00",
                            "2026-11-26T00:00:00.Z", "2026-11-26T00:00:00+0100"})
        BOOST_TEST(!cli::parse_rfc3339(bad), bad);
}

BOOST_AUTO_TEST_CASE(durations_count_back_from_now_and_plain_numbers_are_unix_seconds)
{
    const std::int64_t now = 10'000 * s;
    BOOST_TEST(*cli::parse_since("90s", now) == now - 90 * s);
    BOOST_TEST(*cli::parse_since("1h30m", now) == now - 5400 * s);
    BOOST_TEST(*cli::parse_since("250ms", now) == now - s / 4);
    BOOST_TEST(*cli::parse_since("1700000000", now) == 1700000000LL * s);
    BOOST_TEST(*cli::parse_since("1970-01-01T00:00:01Z", now) == s);
    auto bad = cli::parse_since("10 minutes", now);
    BOOST_REQUIRE(!bad);
    BOOST_TEST(bad.error().message().find("'10 minutes'") != std::string::npos);
    BOOST_TEST(!cli::parse_since("5d", now));
    BOOST_TEST(!cli::parse_since("m", now));
}

BOOST_AUTO_TEST_CASE(a_duration_too_long_to_count_is_refused_not_wrapped)
{
    const std::int64_t now = 10'000 * s;
    for (const char* huge : {"1000000000h", "9223372036854775807s", "106751991167h1h"}) {
        auto r = cli::parse_since(huge, now);
        BOOST_REQUIRE_MESSAGE(!r, huge);
        BOOST_TEST(r.error().code == EINVAL);
        BOOST_TEST(r.error().message().find("more than 290 years") != std::string::npos,
                   r.error().message());
    }
    BOOST_TEST(*cli::parse_since("2000000h", now) == now - 2'000'000LL * 3600 * s);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(logs)

BOOST_AUTO_TEST_CASE(rotated_files_are_read_oldest_first_and_tail_keeps_the_last)
{
    test::TempDir dir("berth-cli-logs");
    const auto path = dir.path() + "/web.log";
    runtime::JsonLog log(path, 300, 4); // a few entries a file: several rotations
    for (int i = 0; i < 30; ++i)
        BOOST_REQUIRE(log.write(i % 2 ? "stderr" : "stdout", "line " + std::to_string(i) + "\n"));
    const auto files = cli::log_files(path);
    BOOST_REQUIRE(files.size() == 4u);
    BOOST_TEST(files.front() == path + ".3");
    BOOST_TEST(files.back() == path);
    auto reader = cli::LogReader::open(path, {}, false);
    BOOST_REQUIRE_MESSAGE(reader, (reader ? "" : reader.error().message()));
    const auto all = texts(reader->existing());
    BOOST_REQUIRE(!all.empty());
    BOOST_TEST(all.back() == "line 29\n");
    const int first = std::stoi(all.front().substr(5));
    for (std::size_t i = 0; i < all.size(); ++i) // contiguous, in order, nothing twice
        BOOST_TEST(all[i] == "line " + std::to_string(first + static_cast<int>(i)) + "\n");
    BOOST_TEST(reader->existing()[1].stream == "stderr");
    auto tail = cli::LogReader::open(path, {0, 3}, false);
    BOOST_REQUIRE(tail);
    BOOST_TEST(texts(tail->existing()) ==
                   (std::vector<std::string>{"line 27\n", "line 28\n", "line 29\n"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(since_filters_by_entry_time_and_torn_lines_are_skipped)
{
    test::TempDir dir("berth-cli-logs");
    const auto path = dir.path() + "/app.log";
    std::ofstream(path + ".1") << entry("old", "2026-01-01T00:00:00Z")
                               << entry("edge", "2026-01-01T00:01:00.5Z");
    std::ofstream(path) << "not json\n"
                        << entry("new", "2026-01-01T00:02:00Z", "stderr") << "{\"log\":\"tor";
    const auto since = *cli::parse_rfc3339("2026-01-01T00:01:00Z");
    auto reader = cli::LogReader::open(path, {since, std::nullopt}, false);
    BOOST_REQUIRE(reader);
    BOOST_TEST(texts(reader->existing()) == (std::vector<std::string>{"edge\n", "new\n"}),
               boost::test_tools::per_element());
    BOOST_TEST(reader->existing()[1].stream == "stderr");
    BOOST_TEST(reader->existing()[1].raw.find("\"new\\n\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_log_is_enoent)
{
    test::TempDir dir("berth-cli-logs");
    auto reader = cli::LogReader::open(dir.path() + "/none.log", {}, false);
    BOOST_REQUIRE(!reader);
    BOOST_TEST(reader.error().code == ENOENT);
}

BOOST_AUTO_TEST_CASE(follow_sees_every_new_entry_once_across_rotations)
{
    test::TempDir dir("berth-cli-logs");
    const auto path = dir.path() + "/web.log";
    runtime::JsonLog log(path, 400, 5);
    for (int i = 0; i < 3; ++i)
        BOOST_REQUIRE(log.write("stdout", "line " + std::to_string(i) + "\n"));
    auto reader = cli::LogReader::open(path, {}, true);
    BOOST_REQUIRE(reader);
    std::vector<std::string> seen = texts(reader->existing());
    BOOST_TEST(seen.size() == 3u);
    // Written in bursts between polls: each burst rotates the file at least once, as a busy
    // container does while `berth logs -f` reads.
    for (int burst = 0; burst < 6; ++burst) {
        for (int i = 0; i < 8; ++i)
            BOOST_REQUIRE(log.write("stdout", "line " + std::to_string(3 + burst * 8 + i) + "\n"));
        for (int tries = 0; tries < 20; ++tries) {
            auto more = reader->poll(100);
            BOOST_REQUIRE_MESSAGE(more, (more ? "" : more.error().message()));
            for (auto& t : texts(*more))
                seen.push_back(t);
            if (seen.size() >= 3 + (static_cast<std::size_t>(burst) + 1) * 8)
                break;
        }
    }
    BOOST_REQUIRE(seen.size() == 51u);
    for (std::size_t i = 0; i < seen.size(); ++i)
        BOOST_TEST(seen[i] == "line " + std::to_string(i) + "\n");
    auto idle = reader->poll(50);
    BOOST_REQUIRE(idle);
    BOOST_TEST(idle->empty());
}

// A container that has printed nothing has no log file yet: followed, it is read from its
// creation; not followed (or not allowed), it stays ENOENT.
BOOST_AUTO_TEST_CASE(follow_waits_for_a_log_not_written_yet)
{
    test::TempDir dir("berth-cli-logs");
    const auto path = dir.path() + "/web.log";
    cli::LogQuery query;
    query.may_not_exist_yet = true;
    BOOST_TEST(!cli::LogReader::open(path, {}, true));
    BOOST_TEST(!cli::LogReader::open(path, query, false));
    auto reader = cli::LogReader::open(path, query, true);
    BOOST_REQUIRE_MESSAGE(reader, (reader ? "" : reader.error().message()));
    BOOST_TEST(reader->existing().empty());
    runtime::JsonLog log(path, 1 << 20, 2);
    BOOST_REQUIRE(log.write("stdout", "first words\n"));
    std::vector<std::string> seen;
    for (int tries = 0; tries < 20 && seen.empty(); ++tries) {
        auto more = reader->poll(100);
        BOOST_REQUIRE(more);
        seen = texts(*more);
    }
    BOOST_TEST(seen == std::vector<std::string>{"first words\n"}, boost::test_tools::per_element());
}

// max-file=1: the writer truncates the file in place when it is full. The reader, past the new
// end, starts over at the beginning instead of waiting for the file to grow past its offset.
BOOST_AUTO_TEST_CASE(follow_starts_over_when_the_only_file_is_truncated_in_place)
{
    test::TempDir dir("berth-cli-logs");
    const auto path = dir.path() + "/web.log";
    const std::string pad(40, 'x');
    runtime::JsonLog log(path, 250, 1); // two entries fit, the third truncates
    BOOST_REQUIRE(log.write("stdout", "a0 " + pad + "\n"));
    BOOST_REQUIRE(log.write("stdout", "a1 " + pad + "\n"));
    auto reader = cli::LogReader::open(path, {}, true);
    BOOST_REQUIRE(reader);
    BOOST_TEST(reader->existing().size() == 2u);
    BOOST_REQUIRE(log.write("stdout", "b0\n"));
    BOOST_REQUIRE(log.write("stdout", "b1\n")); // the file is now shorter than what was read
    BOOST_REQUIRE(cli::log_files(path).size() == 1u);
    std::vector<std::string> seen;
    for (int tries = 0; tries < 20 && seen.size() < 2; ++tries) {
        auto more = reader->poll(100);
        BOOST_REQUIRE_MESSAGE(more, (more ? "" : more.error().message()));
        for (auto& t : texts(*more))
            seen.push_back(t);
    }
    BOOST_TEST(seen == (std::vector<std::string>{"b0\n", "b1\n"}),
               boost::test_tools::per_element());
}

// berth logs as a command: TASK resolved among the task directories under <state_dir>/logs, the
// only container's log chosen when none is named, stdout entries on stdout.
BOOST_AUTO_TEST_CASE(the_logs_command_finds_the_task_and_its_only_container)
{
    test::TempDir dir("berth-cli-logs");
    const std::string task = "5e1f00aa11bb22cc";
    BOOST_REQUIRE(berth::make_directories(dir.path() + "/logs/" + task));
    runtime::JsonLog log(dir.path() + "/logs/" + task + "/web.log", 1 << 20, 2);
    BOOST_REQUIRE(log.write("stdout", "first\n"));
    BOOST_REQUIRE(log.write("stdout", "second\n"));
    cli::Globals g;
    g.state_dir = dir.path();
    const auto captured = dir.path() + "/stdout";
    std::fflush(stdout);
    const int saved = ::dup(STDOUT_FILENO);
    {
        const Fd out(::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        ::dup2(out.get(), STDOUT_FILENO);
    }
    const int rc = cli::cmd_logs(g, {"5e1f", "--tail", "1"});
    const int unknown = cli::cmd_logs(g, {"beef"});
    std::fflush(stdout);
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    BOOST_TEST(rc == 0);
    BOOST_TEST(unknown == 1);
    BOOST_TEST(*berth::read_file(captured) == "second\n");
    runtime::JsonLog other(dir.path() + "/logs/" + task + "/sidecar.log", 1 << 20, 2);
    BOOST_REQUIRE(other.write("stdout", "x\n"));
    BOOST_TEST(cli::cmd_logs(g, {task}) == 1); // two containers now: which one?
    BOOST_TEST(cli::cmd_logs(g, {task, "--since", "soon"}) == 1);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// Records run requests; lists what it ran.
class Engine : public api::ControlPlane {
public:
    Result<api::RunTaskResult> run_task(const api::RunTaskRequest& request) override
    {
        runs.push_back(request);
        api::RunTaskResult result;
        for (int i = 0; i < request.count; ++i) {
            store::Task t;
            t.arn = "arn:aws:ecs:us-east-1:000000000000:task/default/" + api::random_id();
            t.cluster = request.cluster;
            t.task_definition_arn = request.task_definition_arn;
            t.desired_status = "RUNNING";
            t.last_status = "PENDING";
            t.started_by = request.started_by;
            tasks.push_back(t);
            result.tasks.push_back(t);
        }
        return result;
    }
    Result<std::optional<store::Task>> stop_task(const api::StopTaskRequest& request) override
    {
        for (auto& t : tasks)
            if (t.arn == request.task_arn) {
                t.desired_status = "STOPPED";
                return std::optional<store::Task>(t);
            }
        return std::optional<store::Task>();
    }
    Result<std::vector<store::Task>> describe_tasks(const std::string&,
                                                    const std::vector<std::string>& arns) override
    {
        std::vector<store::Task> out;
        for (const auto& t : tasks)
            if (std::find(arns.begin(), arns.end(), t.arn) != arns.end())
                out.push_back(t);
        return out;
    }
    Result<std::vector<store::Task>> list_tasks(const store::TaskFilter& filter) override
    {
        std::vector<store::Task> out;
        for (const auto& t : tasks)
            if (filter.desired_status.empty() || t.desired_status == filter.desired_status)
                out.push_back(t);
        return out;
    }
    std::vector<api::RunTaskRequest> runs;
    std::vector<store::Task> tasks;
};

struct Agent {
    Agent()
    {
        api::Options options;
        options.port = 0;
        options.credentials = {"AKIDCLI", "cli-secret"};
        options.unix_socket = dir.path() + "/berthd.sock";
        options.unix_socket_uid = ::geteuid();
        auto s = store::Store::open(":memory:");
        BOOST_REQUIRE(s);
        auto started = api::Server::start(options, std::move(*s), &engine);
        BOOST_REQUIRE_MESSAGE(started, (started ? "" : started.error().message()));
        server = std::move(*started);
        globals.socket = options.unix_socket;
    }
    test::TempDir dir{"berth-cli-agent"};
    Engine engine;
    std::unique_ptr<api::Server> server;
    cli::Globals globals;
};

} // namespace

BOOST_AUTO_TEST_SUITE(client)

BOOST_AUTO_TEST_CASE(no_socket_means_berthd_is_not_running)
{
    const cli::AgentClient client("/nonexistent/berthd.sock");
    auto r = client.call("ListTasks", json::object());
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().code == ENOENT);
    BOOST_TEST(r.error().message().find("berthd is not running (no socket at "
                                        "'/nonexistent/berthd.sock')") != std::string::npos,
               r.error().message());
}

// logs -f of a container without runtime state (cleaned up, or never found under this
// --runtime-dir) ends instead of waiting forever: at once when berthd says the task STOPPED,
// after 5 s of an idle log when berthd cannot be asked.
BOOST_FIXTURE_TEST_CASE(logs_follow_without_runtime_state_ends, Agent)
{
    const std::string id = "7a9e0c4e-1111-4000-8000-00000000c0de";
    store::Task t;
    t.arn = "arn:aws:ecs:us-east-1:000000000000:task/default/" + id;
    t.cluster = "default";
    t.desired_status = "STOPPED";
    t.last_status = "STOPPED";
    engine.tasks.push_back(t);
    BOOST_REQUIRE(berth::make_directories(dir.path() + "/logs/" + id));
    runtime::JsonLog log(dir.path() + "/logs/" + id + "/web.log", 1 << 20, 2);
    BOOST_REQUIRE(log.write("stdout", "bye\n"));
    cli::Globals g = globals;
    g.state_dir = dir.path();
    g.runtime_dir = dir.path() + "/run"; // no containers/ in it
    const auto captured = dir.path() + "/stdout";
    std::fflush(stdout);
    const int saved = ::dup(STDOUT_FILENO);
    {
        const Fd out(::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        ::dup2(out.get(), STDOUT_FILENO);
    }
    auto started = std::chrono::steady_clock::now();
    const int stopped = cli::cmd_logs(g, {"-f", id});
    const auto stopped_took = std::chrono::steady_clock::now() - started;
    g.socket = dir.path() + "/absent.sock"; // berthd cannot be asked
    started = std::chrono::steady_clock::now();
    const int unreachable = cli::cmd_logs(g, {"-f", id});
    const auto unreachable_took = std::chrono::steady_clock::now() - started;
    std::fflush(stdout);
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    BOOST_TEST(stopped == 0);
    BOOST_TEST(stopped_took < std::chrono::seconds(3));
    BOOST_TEST(unreachable == 0);
    BOOST_TEST(unreachable_took >= std::chrono::seconds(5));
    BOOST_TEST(unreachable_took < std::chrono::seconds(9));
    BOOST_TEST(*berth::read_file(captured) == "bye\nbye\n");
}

BOOST_FIXTURE_TEST_CASE(service_errors_keep_their_ecs_type, Agent)
{
    const cli::AgentClient client(globals.socket_path());
    auto r = client.call("DescribeTaskDefinition", {{"taskDefinition", "nope"}});
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().bad_input);
    BOOST_TEST(r.error().message().starts_with("ClientException: "), r.error().message());
}

BOOST_FIXTURE_TEST_CASE(run_task_registers_once_per_file_content_then_tasks_resolve, Agent)
{
    const auto file = dir.path() + "/web.json";
    json def = {
        {"family", "web"},
        {"containerDefinitions", {{{"name", "web"}, {"image", "busybox"}, {"memory", 32}}}}};
    std::ofstream(file) << def.dump();
    BOOST_REQUIRE(cli::cmd_run_task(globals, {file, "--count", "2", "--started-by", "me"}) == 0);
    BOOST_REQUIRE(cli::cmd_run_task(globals, {file}) == 0); // unchanged: the same revision
    def["containerDefinitions"][0]["memory"] = 64;
    std::ofstream(file) << def.dump();
    BOOST_REQUIRE(cli::cmd_run_task(globals, {file}) == 0); // changed: a new revision
    BOOST_REQUIRE(engine.runs.size() == 3u);
    BOOST_TEST(engine.runs[0].count == 2);
    BOOST_TEST(engine.runs[0].started_by == "me");
    BOOST_TEST(engine.runs[0].task_definition.revision == 1);
    BOOST_TEST(engine.runs[1].task_definition.revision == 1);
    BOOST_TEST(engine.runs[2].task_definition.revision == 2);

    const cli::AgentClient client(globals.socket_path());
    auto arns = cli::all_task_arns(client);
    BOOST_REQUIRE(arns);
    BOOST_TEST(arns->size() == 4u);
    const auto id = cli::task_id(engine.tasks[3].arn);
    auto found = cli::find_task(client, id);
    BOOST_REQUIRE(found);
    BOOST_TEST(*found == engine.tasks[3].arn);
    BOOST_TEST(cli::cmd_stop(globals, {id, "--reason", "test"}) == 0);
    BOOST_TEST(engine.tasks[3].desired_status == "STOPPED");
    BOOST_TEST(cli::cmd_ps(globals, {"--all"}) == 0);
    BOOST_TEST(cli::cmd_describe(globals, {id}) == 0);
}

BOOST_FIXTURE_TEST_CASE(run_task_names_a_bad_file, Agent)
{
    const auto file = dir.path() + "/bad.json";
    std::ofstream(file) << R"({"containerDefinitions": []})";
    BOOST_TEST(cli::cmd_run_task(globals, {file}) == 1);
    BOOST_TEST(cli::cmd_run_task(globals, {dir.path() + "/missing.json"}) == 1);
    BOOST_TEST(cli::cmd_run_task(globals, {}) == 2);
    BOOST_TEST(engine.runs.empty());
}

BOOST_AUTO_TEST_SUITE_END()

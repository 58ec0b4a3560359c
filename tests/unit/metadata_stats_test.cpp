// The task metadata endpoint's statistics (issue 17): Docker's stats JSON from a sample, the
// previous sample that fills precpu_stats, the /proc and cgroup parsers behind a sample, and
// /stats, /task/stats and the containers' ImageID and CreatedAt/StartedAt/FinishedAt through
// metadata_response() with a stand-in engine (berthd's real one is driven by tests/e2e).
#define BOOST_TEST_MODULE metadata_stats
#include <cstdint>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "agent/api/internal.hpp"
#include "tests/support/task_list_engine.hpp"
#include "agent/daemon/pure.hpp"
#include "cgroups/internal.hpp"

using namespace berth;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string key(64, 'c');
const std::string task_arn = "arn:aws:ecs:us-east-1:000000000000:task/default/5e1f0c2a";

api::ContainerSample sample_at(std::chrono::system_clock::time_point t, std::uint64_t cpu,
                               std::uint64_t rx)
{
    api::ContainerSample s;
    s.read = t;
    s.cpu_total = cpu;
    s.cpu_user = cpu / 2;
    s.cpu_system = cpu / 4;
    s.system_cpu_usage = 1'000'000'000'000;
    s.online_cpus = 2;
    s.memory_usage = 4 << 20;
    s.memory_max_usage = 5 << 20;
    s.memory_limit = 128 << 20;
    s.memory_stat = {{"anon", 1024}, {"file", 2048}};
    s.pids_current = 3;
    s.block_io = {{8, 0, 4096, 8192, 1, 2}};
    s.networks = {{"eth0", rx, 10, 0, 0, 500, 5, 0, 0}};
    return s;
}

class StatsEngine : public test::TaskListEngine {
public:
    StatsEngine()
    {
        store::Task t;
        t.arn = task_arn;
        t.cluster = "default";
        t.task_definition_arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1";
        t.desired_status = t.last_status = "RUNNING";
        store::Container web;
        web.name = "web";
        web.runtime_id = "5e1f0c2a-web";
        web.desired_status = web.last_status = "RUNNING";
        web.network_bindings = "[]";
        store::Container gone = web;
        gone.name = "gone";
        gone.runtime_id = "5e1f0c2a-gone";
        store::Container never = web;
        never.name = "never";
        never.runtime_id = "";
        t.containers = {web, gone, never};
        tasks.push_back(t);
    }
    Result<std::vector<api::ContainerDetail>> container_details(const std::string&) override
    {
        return std::vector<api::ContainerDetail>{
            {"web", "sha256:abc", 1700000000123, 1700000001000, std::nullopt},
            {"gone", "sha256:abc", 1700000000000, 1700000001000, 1700000002500}};
    }
    Result<std::optional<api::ContainerSample>> container_sample(const std::string&,
                                                                 const std::string& name) override
    {
        if (name != "web")
            return std::optional<api::ContainerSample>{};
        if (fail)
            return Error::with_code(EIO, "read cpu.stat");
        ++samples;
        const auto n = static_cast<std::uint64_t>(samples);
        return std::optional<api::ContainerSample>(
            sample_at(start + samples * 1s, n * 1'000'000, n * 1000));
    }
    std::chrono::system_clock::time_point start{std::chrono::seconds(1700000000)};
    int samples = 0;
    bool fail = false;
};

struct Endpoint {
    StatsEngine engine;
    api::StatsHistory history;
    api::MetadataSource source{{"default", "arn:ci", "0.1.0"}, key, engine, {}};
    Endpoint()
    {
        source.definition = [](const std::string&) { return std::optional<std::string>(); };
        source.history = &history;
    }
    json get(const std::string& rest, unsigned want = 200)
    {
        const auto reply =
            api::metadata_response(source, "/v4/" + api::metadata_id(key, task_arn, "web") + rest);
        BOOST_TEST(reply.status == want, rest << ": " << reply.status << " " << reply.body);
        return json::parse(reply.body, nullptr, false);
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(a_sample_is_shaped_as_dockers_stats_json)
{
    const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
    const auto now = sample_at(t + 2s, 3'000'000, 5000);
    const auto before = sample_at(t, 1'000'000, 1000);
    const auto j = api::docker_stats(now, &before, "abc-web", "abc-web", true);
    BOOST_TEST(j["read"] == "2023-11-14T22:13:22Z");
    BOOST_TEST(j["preread"] == "2023-11-14T22:13:20Z");
    BOOST_TEST(j["name"] == "/abc-web");
    BOOST_TEST(j["id"] == "abc-web");
    BOOST_TEST(j["cpu_stats"]["cpu_usage"]["total_usage"] == 3'000'000U);
    BOOST_TEST(j["cpu_stats"]["cpu_usage"]["usage_in_usermode"] == 1'500'000U);
    BOOST_TEST(!j["cpu_stats"]["cpu_usage"].contains("percpu_usage")); // v2: none, as Docker
    BOOST_TEST(j["cpu_stats"]["system_cpu_usage"] == 1'000'000'000'000U);
    BOOST_TEST(j["cpu_stats"]["online_cpus"] == 2U);
    BOOST_TEST(j["precpu_stats"]["cpu_usage"]["total_usage"] == 1'000'000U);
    BOOST_TEST(j["memory_stats"]["usage"] == 4U << 20U);
    BOOST_TEST(j["memory_stats"]["max_usage"] == 5U << 20U);
    BOOST_TEST(j["memory_stats"]["limit"] == 128U << 20U);
    BOOST_TEST(j["memory_stats"]["stats"]["file"] == 2048U);
    BOOST_TEST(j["pids_stats"]["current"] == 3U);
    BOOST_TEST(!j["pids_stats"].contains("limit")); // unlimited
    const auto& bytes = j["blkio_stats"]["io_service_bytes_recursive"];
    BOOST_TEST(bytes.size() == 2U);
    BOOST_TEST(bytes[0] == json({{"major", 8}, {"minor", 0}, {"op", "read"}, {"value", 4096}}));
    BOOST_TEST(bytes[1]["value"] == 8192U);
    BOOST_TEST(j["blkio_stats"]["io_serviced_recursive"][1]["value"] == 2U);
    BOOST_TEST(j["blkio_stats"]["io_queue_recursive"].is_null());
    BOOST_TEST(j["networks"]["eth0"]["rx_bytes"] == 5000U);
    BOOST_TEST(j["networks"]["eth0"]["tx_packets"] == 5U);
    BOOST_TEST(j["network_rate_stats"]["rx_bytes_per_sec"] == 2000.0);
    BOOST_TEST(j["network_rate_stats"]["tx_bytes_per_sec"] == 0.0);
    BOOST_TEST(j["storage_stats"].is_object());
    BOOST_TEST(j["num_procs"] == 0);
}

BOOST_AUTO_TEST_CASE(a_first_sample_has_zero_precpu_and_v3_has_no_network_rates)
{
    auto now = sample_at(std::chrono::system_clock::time_point(1700000000s) + 250ms, 7, 0);
    now.networks.clear();
    now.percpu_usage = {3, 4};
    now.pids_limit = 100;
    const auto j = api::docker_stats(now, nullptr, "id", "n", false);
    BOOST_TEST(j["read"] == "2023-11-14T22:13:20.25Z");
    BOOST_TEST(j["preread"] == "0001-01-01T00:00:00Z");
    BOOST_TEST(j["precpu_stats"]["cpu_usage"]["total_usage"] == 0);
    BOOST_TEST(!j["precpu_stats"].contains("system_cpu_usage"));
    BOOST_TEST(j["cpu_stats"]["cpu_usage"]["percpu_usage"] == json({3, 4}));
    BOOST_TEST(j["pids_stats"]["limit"] == 100U);
    BOOST_TEST(!j.contains("networks"));
    BOOST_TEST(!j.contains("network_rate_stats"));
}

BOOST_AUTO_TEST_CASE(the_history_hands_back_the_previous_sample_and_stays_bounded)
{
    api::StatsHistory history(std::chrono::seconds(60), 3);
    const auto t = std::chrono::system_clock::time_point(1700000000s);
    BOOST_TEST(!history.exchange("a", sample_at(t, 1, 0)).has_value());
    const auto previous = history.exchange("a", sample_at(t + 1s, 2, 0));
    BOOST_TEST_REQUIRE(previous.has_value());
    BOOST_TEST(previous->cpu_total == 1U);
    history.exchange("b", sample_at(t + 2s, 1, 0));
    history.exchange("c", sample_at(t + 3s, 1, 0));
    history.exchange("d", sample_at(t + 4s, 1, 0)); // the limit: the oldest ("a") goes
    BOOST_TEST(history.size() == 3U);
    BOOST_TEST(!history.exchange("a", sample_at(t + 5s, 1, 0)).has_value());
    history.exchange("e", sample_at(t + 120s, 1, 0)); // everything older than 60 s goes
    BOOST_TEST(history.size() == 1U);
}

BOOST_AUTO_TEST_CASE(stats_of_a_container_come_with_precpu_from_the_previous_request)
{
    Endpoint e;
    const auto first = e.get("/stats");
    BOOST_TEST(first["id"] == "5e1f0c2a-web");
    BOOST_TEST(first["name"] == "/5e1f0c2a-web");
    BOOST_TEST(first["cpu_stats"]["cpu_usage"]["total_usage"] == 1'000'000U);
    BOOST_TEST(first["preread"] == "0001-01-01T00:00:00Z");
    const auto second = e.get("/stats");
    BOOST_TEST(second["precpu_stats"]["cpu_usage"]["total_usage"] == 1'000'000U);
    BOOST_TEST(second["cpu_stats"]["cpu_usage"]["total_usage"] == 2'000'000U);
    BOOST_TEST(second["preread"] == first["read"]);
    BOOST_TEST(second["network_rate_stats"]["rx_bytes_per_sec"] == 1000.0);
}

BOOST_AUTO_TEST_CASE(task_stats_key_every_made_container_by_its_id_and_null_without_a_cgroup)
{
    Endpoint e;
    const auto j = e.get("/task/stats");
    BOOST_TEST(j.size() == 2U, j.dump()); // "never" has no runtime id yet
    BOOST_TEST(j["5e1f0c2a-web"]["id"] == "5e1f0c2a-web");
    BOOST_TEST(j["5e1f0c2a-gone"].is_null());
    e.engine.fail = true;
    const auto reply = e.get("/stats", 500);
    BOOST_TEST(reply.get<std::string>().find("read cpu.stat") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(containers_show_image_id_and_rfc3339_lifecycle_times)
{
    Endpoint e;
    const auto web = e.get("");
    BOOST_TEST(web["ImageID"] == "sha256:abc");
    BOOST_TEST(web["CreatedAt"] == "2023-11-14T22:13:20.123Z");
    BOOST_TEST(web["StartedAt"] == "2023-11-14T22:13:21Z");
    BOOST_TEST(!web.contains("FinishedAt"));
    const auto task = e.get("/task");
    BOOST_TEST_REQUIRE(task["Containers"].size() == 3U);
    BOOST_TEST(task["Containers"][1]["FinishedAt"] == "2023-11-14T22:13:22.5Z");
    BOOST_TEST(!task["Containers"][2].contains("ImageID")); // no detail: nothing made up
}

BOOST_AUTO_TEST_CASE(proc_stat_gives_the_hosts_cpu_time_in_nanoseconds)
{
    const auto ns =
        daemon::system_cpu_ns("cpu  10 20 30 40 50 60 70 80 90 100\ncpu0 1 2 3 4 5 6 7 8 "
                              "9 10\nintr 1\n",
                              100);
    BOOST_TEST_REQUIRE(ns.has_value());
    BOOST_TEST(*ns == 280U * 10'000'000U); // user..softirq (steal not counted, as Docker)
    BOOST_TEST(!daemon::system_cpu_ns("intr 1\n", 100).has_value());
    BOOST_TEST(!daemon::system_cpu_ns("cpu 1 2 3\n", 100).has_value());
    BOOST_TEST(!daemon::system_cpu_ns("cpu 1 2 3 4 5 6 x 8\n", 100).has_value());
}

BOOST_AUTO_TEST_CASE(net_dev_lists_the_namespaces_interfaces_but_loopback)
{
    const auto interfaces = daemon::net_dev_interfaces(
        "Inter-|   Receive                            |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes packets errs "
        "drop fifo colls carrier compressed\n"
        "    lo:     100       1    0    0    0     0          0         0      100       1    "
        "0    0    0     0       0          0\n"
        "  eth0:  123456      78    1    2    0     0          0         0     6543      21    "
        "3    4    0     0       0          0\n"
        "  bad0: 1 2 3\n");
    BOOST_TEST_REQUIRE(interfaces.size() == 1U);
    const auto& eth0 = interfaces[0];
    BOOST_TEST(eth0.name == "eth0");
    BOOST_TEST(eth0.rx_bytes == 123456U);
    BOOST_TEST(eth0.rx_packets == 78U);
    BOOST_TEST(eth0.rx_errors == 1U);
    BOOST_TEST(eth0.rx_dropped == 2U);
    BOOST_TEST(eth0.tx_bytes == 6543U);
    BOOST_TEST(eth0.tx_packets == 21U);
    BOOST_TEST(eth0.tx_errors == 3U);
    BOOST_TEST(eth0.tx_dropped == 4U);
}

BOOST_AUTO_TEST_CASE(cgroup_block_io_and_per_cpu_files_are_read_per_device)
{
    const auto v2 = cgroups::internal::parse_io_stat_devices(
        "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
        "253:1 rbytes=1 wbytes=2 rios=3 wios=4\nnonsense\n");
    BOOST_TEST_REQUIRE(v2.size() == 2U);
    BOOST_TEST(v2[0].major == 8U);
    BOOST_TEST(v2[0].write_bytes == 8192U);
    BOOST_TEST(v2[1].minor == 1U);
    BOOST_TEST(v2[1].writes == 4U);
    std::vector<cgroups::StatsDetail::Device> v1;
    cgroups::internal::parse_blkio_devices("8:0 Read 10\n8:0 Write 20\n8:0 Sync 30\n8:0 Total "
                                           "30\nTotal 30\n",
                                           true, v1);
    cgroups::internal::parse_blkio_devices("8:0 Read 1\n8:0 Write 2\n", false, v1);
    BOOST_TEST_REQUIRE(v1.size() == 1U);
    BOOST_TEST(v1[0].read_bytes == 10U);
    BOOST_TEST(v1[0].write_bytes == 20U);
    BOOST_TEST(v1[0].reads == 1U);
    BOOST_TEST(v1[0].writes == 2U);
    const auto percpu = cgroups::internal::parse_percpu("100 200 0 300 \n");
    BOOST_TEST(percpu == (std::vector<std::uint64_t>{100, 200, 0, 300}));
}

// proc_stats.hpp's other reader: berth-supervisor's identity across pid reuse.
BOOST_AUTO_TEST_CASE(a_process_start_time_is_field_22_even_with_spaces_in_its_name)
{
    const std::string stat = "4242 (berth-super (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 "
                             "0 0 20 0 1 0 987654 1000 100\n";
    BOOST_TEST((daemon::proc_start_time(stat) == std::optional<std::uint64_t>(987654)));
    BOOST_TEST(!daemon::proc_start_time("4242 (x) S 1 2\n").has_value());
    BOOST_TEST(!daemon::proc_start_time("no parenthesis").has_value());
    const auto record = daemon::parse_pid_record("4242\n987654\nboot-1\n");
    BOOST_TEST_REQUIRE(record.has_value());
    BOOST_TEST(record->pid == 4242);
    BOOST_TEST((record->start_time == std::optional<std::uint64_t>(987654)));
    BOOST_TEST(record->boot_id == "boot-1");
    BOOST_TEST(daemon::pid_record_text(*record) == "4242\n987654\nboot-1\n");
    const auto old = daemon::parse_pid_record("4242\n"); // an older berthd's file
    BOOST_TEST_REQUIRE(old.has_value());
    BOOST_TEST(!old->start_time.has_value());
    BOOST_TEST(!daemon::parse_pid_record("x\n").has_value());
    BOOST_TEST(!daemon::parse_pid_record("-1\n").has_value());
}

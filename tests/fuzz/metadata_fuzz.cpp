// tests/fuzz/metadata_fuzz.cpp — a task metadata request target from a container (the endpoint
// at 169.254.170.2 is unauthenticated and every task reaches it) -> metadata_response, over a
// fixed task whose definition text also comes from the input's tail after a NUL (task
// definitions are registered by API clients). The engine answers details and a statistics
// sample, so /stats and /task/stats are shaped too. Properties: the answer is always JSON with a
// 200, 400 or 404 status (never a 500, never a throw); only a target naming the container's id
// is a 200.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include "agent/api/internal.hpp"
#include "tests/support/task_list_engine.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

namespace {

const std::string key(64, '0');
const std::string task_arn = "arn:aws:ecs:us-east-1:000000000000:task/default/abc123";

class Engine : public test::TaskListEngine {
public:
    Engine()
    {
        store::Task t;
        t.arn = task_arn;
        t.task_definition_arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1";
        t.desired_status = t.last_status = "RUNNING";
        t.cpu = "0.25 vCPU";
        t.memory = "x";
        t.overrides = R"({"containerOverrides":[{"name":"web","cpu":"no"},7]})";
        store::Container c;
        c.name = "web";
        c.runtime_id = "abc123-web";
        c.network_bindings = R"([{"containerPort":80,"hostPort":32768,"protocol":"tcp"},7,{}])";
        c.network_interfaces = R"([{"privateIpv4Address":5},"x"])";
        t.containers = {c};
        tasks = {t};
    }
    Result<std::vector<api::ContainerDetail>> container_details(const std::string&) override
    {
        return std::vector<api::ContainerDetail>{{"web", "sha256:0", 1, 2, std::nullopt}};
    }
    Result<std::optional<api::ContainerSample>> container_sample(const std::string&,
                                                                 const std::string&) override
    {
        api::ContainerSample s;
        s.read = std::chrono::system_clock::time_point(std::chrono::seconds(++reads));
        s.cpu_total = reads;
        s.percpu_usage = {reads};
        s.memory_stat = {{"anon", 1}};
        s.block_io = {{8, 0, 1, 2, 3, 4}};
        s.networks = {{"eth0", reads, 1, 0, 0, 1, 1, 0, 0}};
        return std::optional<api::ContainerSample>(s);
    }
    std::uint64_t reads = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const auto input = fuzz::as_text(data, size);
    const auto nul = input.find('\0');
    const auto target = input.substr(0, nul);
    const std::string definition =
        nul == std::string_view::npos ? std::string("{}") : std::string(input.substr(nul + 1));
    static Engine engine;
    static api::StatsHistory history;
    api::MetadataSource source{{"default", "arn:ci", "0"}, key, engine, {}};
    source.history = &history;
    source.definition = [&](const std::string&) { return std::optional<std::string>(definition); };
    const auto reply = api::metadata_response(source, target);
    fuzz::require(reply.status == 200 || reply.status == 400 || reply.status == 404,
                  "metadata answers 200, 400 or 404");
    fuzz::require(!nlohmann::json::parse(reply.body, nullptr, false).is_discarded(),
                  "metadata answers JSON");
    if (reply.status == 200)
        fuzz::require(target.find(api::metadata_id(key, task_arn, "web")) != std::string::npos,
                      "only the container's own id answers 200");
    return 0;
}

// tests/fuzz/metadata_fuzz.cpp — a task metadata request target from a container (the endpoint
// at 169.254.170.2 is unauthenticated and every task reaches it) -> metadata_response, over a
// fixed task whose definition text also comes from the input's tail after a NUL (task
// definitions are registered by API clients). Properties: the answer is always JSON with a 200,
// 400, 404 or 501 status (never a 500, never a throw); only a target naming the container's id
// is a 200.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include "agent/api/internal.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

namespace {

const std::string key(64, '0');
const std::string task_arn = "arn:aws:ecs:us-east-1:000000000000:task/default/abc123";

class Engine : public api::ControlPlane {
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
    Result<api::RunTaskResult> run_task(const api::RunTaskRequest&) override
    {
        return Error::invalid("read-only");
    }
    Result<std::optional<store::Task>> stop_task(const api::StopTaskRequest&) override
    {
        return Error::invalid("read-only");
    }
    Result<std::vector<store::Task>> describe_tasks(const std::string&,
                                                    const std::vector<std::string>&) override
    {
        return tasks;
    }
    Result<std::vector<store::Task>> list_tasks(const store::TaskFilter&) override { return tasks; }
    std::vector<store::Task> tasks;
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
    api::MetadataSource source{{"default", "arn:ci", "0"}, key, engine, {}};
    source.definition = [&](const std::string&) { return std::optional<std::string>(definition); };
    const auto reply = api::metadata_response(source, target);
    fuzz::require(reply.status == 200 || reply.status == 400 || reply.status == 404 ||
                      reply.status == 501,
                  "metadata answers 200, 400, 404 or 501");
    fuzz::require(!nlohmann::json::parse(reply.body, nullptr, false).is_discarded(),
                  "metadata answers JSON");
    if (reply.status == 200)
        fuzz::require(target.find(api::metadata_id(key, task_arn, "web")) != std::string::npos,
                      "only the container's own id answers 200");
    return 0;
}

// tests/fuzz/introspection_fuzz.cpp — an introspection request target from the network (the API
// on 127.0.0.1:51678 is unauthenticated) -> introspection_response, over a fixed task list.
// Properties: the answer is always JSON with a 200, 400 or 404 status (never a 500, never a
// throw); url_decode never grows its input.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include "agent/api/internal.hpp"
#include "tests/support/task_list_engine.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

namespace {

class Engine : public test::TaskListEngine {
public:
    Engine()
    {
        store::Task t;
        t.arn = "arn:aws:ecs:us-east-1:000000000000:task/default/abc123";
        t.task_definition_arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1";
        t.desired_status = t.last_status = "RUNNING";
        store::Container c;
        c.name = "web";
        c.runtime_id = "abc123-web";
        c.network_bindings = R"([{"containerPort":80,"hostPort":32768,"protocol":"tcp"},7,{}])";
        t.containers = {c};
        tasks = {t};
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const auto target = fuzz::as_text(data, size);
    static Engine engine;
    const api::NodeInfo node{"default", "arn:aws:ecs:us-east-1:0:container-instance/default/x",
                             "0"};
    const auto reply = api::introspection_response(node, engine, target);
    fuzz::require(reply.status == 200 || reply.status == 400 || reply.status == 404,
                  "introspection answers 200, 400 or 404");
    fuzz::require(!nlohmann::json::parse(reply.body, nullptr, false).is_discarded(),
                  "introspection answers JSON");
    if (const auto decoded = api::url_decode(target))
        fuzz::require(decoded->size() <= target.size(), "url_decode never grows its input");
    return 0;
}

// RunTask's clientToken (issue 17): the request fingerprint ignores the order of lists whose
// order means nothing (and keeps the order of those where it does), and expired tokens are
// deleted from the store, with the next token written and on their own, in a real (in-memory)
// SQLite store.
#define BOOST_TEST_MODULE client_tokens
#include <cstdint>
#include <boost/test/unit_test.hpp>
#include "agent/daemon/pure.hpp"
#include "agent/store/store.hpp"

using namespace berth;

namespace {

api::RunTaskRequest request()
{
    api::RunTaskRequest r;
    r.cluster = "default";
    r.task_definition_arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1";
    r.tags = {{"team", "berth"}, {"env", "ci"}, {"cost", "0"}};
    r.overrides = R"({"containerOverrides":[
        {"name":"web","environment":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
         "command":["sh","-c","echo hi"]},
        {"name":"sidecar","memory":32}]})";
    r.network_configuration =
        R"({"awsvpcConfiguration":{"subnets":["s-1","s-2"],"securityGroups":["g-2","g-1"]}})";
    r.client_token = "token-1";
    return r;
}

store::Store open_store()
{
    auto s = store::Store::open(":memory:");
    BOOST_REQUIRE_MESSAGE(s, (s ? "" : s.error().message()));
    return std::move(*s);
}

store::ClientToken token(const std::string& name, std::int64_t created_at)
{
    return {"default", name, "{}", R"({"tasks":[],"failures":[]})", created_at};
}

} // namespace

BOOST_AUTO_TEST_CASE(the_fingerprint_ignores_the_order_of_tags_overrides_and_subnets)
{
    const auto base = daemon::fingerprint(request());
    auto r = request();
    r.tags = {{"cost", "0"}, {"team", "berth"}, {"env", "ci"}};
    r.overrides = R"({"containerOverrides":[{"memory":32,"name":"sidecar"},
        {"name":"web","command":["sh","-c","echo hi"],
         "environment":[{"name":"B","value":"2"},{"name":"A","value":"1"}]}]})";
    r.network_configuration =
        R"({"awsvpcConfiguration":{"securityGroups":["g-1","g-2"],"subnets":["s-2","s-1"]}})";
    BOOST_TEST(daemon::fingerprint(r) == base);
}

BOOST_AUTO_TEST_CASE(the_fingerprint_still_tells_apart_what_differs_or_is_ordered)
{
    const auto base = daemon::fingerprint(request());
    auto command = request(); // a command's arguments keep their order
    command.overrides = R"({"containerOverrides":[
        {"name":"web","environment":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
         "command":["-c","sh","echo hi"]},
        {"name":"sidecar","memory":32}]})";
    BOOST_TEST(daemon::fingerprint(command) != base);
    auto tag = request();
    tag.tags[0].second = "other";
    BOOST_TEST(daemon::fingerprint(tag) != base);
    // A repeated tag key keeps its last value: the order of its values is significant.
    auto last_a = request();
    last_a.tags = {{"k", "b"}, {"k", "a"}};
    auto last_b = request();
    last_b.tags = {{"k", "a"}, {"k", "b"}};
    BOOST_TEST(daemon::fingerprint(last_a) != daemon::fingerprint(last_b));
    auto count = request();
    count.count = 2;
    BOOST_TEST(daemon::fingerprint(count) != base);
    auto subnet = request();
    subnet.network_configuration = R"({"awsvpcConfiguration":{"subnets":["s-1"]}})";
    BOOST_TEST(daemon::fingerprint(subnet) != base);
}

BOOST_AUTO_TEST_CASE(expired_tokens_go_with_the_next_token_written)
{
    auto s = open_store();
    BOOST_REQUIRE(s.put_new_tasks({}, {}, token("old", 1000)));
    BOOST_REQUIRE(s.put_new_tasks({}, {}, token("recent", 5000)));
    // No token in the call: nothing is pruned (the prune rides on a token's write).
    BOOST_REQUIRE(s.put_new_tasks({}, {}, std::nullopt, 4000));
    BOOST_TEST(s.client_token("default", "old")->has_value());
    BOOST_REQUIRE(s.put_new_tasks({}, {}, token("new", 9000), 4000));
    BOOST_TEST(!s.client_token("default", "old")->has_value());
    BOOST_TEST(s.client_token("default", "recent")->has_value());
    BOOST_TEST(s.client_token("default", "new")->has_value());
}

BOOST_AUTO_TEST_CASE(pruning_on_its_own_counts_what_it_deleted)
{
    auto s = open_store();
    for (std::int64_t i = 0; i < 5; ++i)
        BOOST_REQUIRE(s.put_new_tasks({}, {}, token("t" + std::to_string(i), 1000 * i)));
    auto gone = s.prune_client_tokens(2500);
    BOOST_REQUIRE(gone);
    BOOST_TEST(*gone == 3U);
    BOOST_TEST(!s.client_token("default", "t2")->has_value());
    BOOST_TEST(s.client_token("default", "t3")->has_value());
    auto none = s.prune_client_tokens(2500);
    BOOST_REQUIRE(none);
    BOOST_TEST(*none == 0U);
}

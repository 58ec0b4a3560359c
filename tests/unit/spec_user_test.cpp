// tests/unit/spec_user_test.cpp — process.user ids: setresuid(2) reads 4294967295 as "leave
// unchanged", so ids above 2147483647 are refused (as runc does), in config.json and in an
// `exec --process` process.json, naming the field (issue 13).
#define BOOST_TEST_MODULE spec_user
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "runtime/spec.hpp"
#include "tests/unit/spec_fixture.hpp"

using namespace berth::runtime;
using Json = nlohmann::json;

namespace {

// The error parse_spec gives for the runc config with process.user replaced, or "(accepted)".
std::string spec_with_user(const Json& user)
{
    auto config = Json::parse(berth::test::runc_spec);
    config["process"]["user"] = user;
    auto spec = parse_spec(config.dump());
    return spec ? "(accepted)" : spec.error().context;
}

std::string process_with_user(const Json& user)
{
    auto process = Json::parse(berth::test::runc_spec)["process"];
    process["user"] = user;
    auto parsed = parse_process(process.dump());
    return parsed ? "(accepted)" : parsed.error().context;
}

} // namespace

BOOST_AUTO_TEST_CASE(uid_and_gid_4294967295_are_refused_naming_the_field)
{
    BOOST_TEST(spec_with_user({{"uid", 4294967295u}, {"gid", 0}}) ==
               "process.user.uid: must be at most 2147483647, got 4294967295");
    BOOST_TEST(spec_with_user({{"uid", 0}, {"gid", 4294967295u}}) ==
               "process.user.gid: must be at most 2147483647, got 4294967295");
    BOOST_TEST(spec_with_user({{"uid", 2147483648u}, {"gid", 0}}) ==
               "process.user.uid: must be at most 2147483647, got 2147483648");
}

BOOST_AUTO_TEST_CASE(additional_gids_above_the_limit_are_refused_by_index)
{
    BOOST_TEST(spec_with_user({{"uid", 0}, {"gid", 0}, {"additionalGids", {1, 4294967295u}}}) ==
               "process.user.additionalGids[1]: must be at most 2147483647, got 4294967295");
}

BOOST_AUTO_TEST_CASE(process_json_for_exec_is_checked_the_same_way)
{
    BOOST_TEST(process_with_user({{"uid", 4294967295u}, {"gid", 4294967295u}}) ==
               "process.user.uid: must be at most 2147483647, got 4294967295");
}

BOOST_AUTO_TEST_CASE(the_largest_valid_id_is_accepted)
{
    BOOST_TEST(spec_with_user({{"uid", 2147483647u},
                               {"gid", 2147483647u},
                               {"additionalGids", {2147483647u}}}) == "(accepted)");
    BOOST_TEST(process_with_user({{"uid", 2147483647u}, {"gid", 0}}) == "(accepted)");
}

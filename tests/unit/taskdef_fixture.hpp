// tests/unit/taskdef_fixture.hpp — what the task definition unit tests share: a minimal
// request, JSON merge patches of it, and accepted()/refused() checks. Header-only.
#pragma once
#include <fstream>
#include <sstream>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "agent/taskdef/taskdef.hpp"
#include "tests/unit/source_tree.hpp"

namespace berth::test::taskdef {

using nlohmann::json;
using namespace berth::taskdef;

template <class R>
inline std::string why(const R& r)
{
    return r.has_value() ? std::string() : r.error().message();
}

inline json minimal()
{
    return json::parse(R"({"family": "web", "containerDefinitions": [
        {"name": "web", "image": "busybox", "memory": 64}]})");
}

// A request with `patch` (a JSON merge patch) applied to minimal().
inline json with(const char* patch)
{
    json j = minimal();
    j.merge_patch(json::parse(patch));
    return j;
}

// minimal() whose first container has `patch` merged in.
inline json container_with(const char* patch)
{
    json j = minimal();
    j["containerDefinitions"][0].merge_patch(json::parse(patch));
    return j;
}

// Refused with an EINVAL bad-input error whose message contains `text`.
inline void refused(const json& request, const std::string& text)
{
    auto r = parse_task_definition(request);
    BOOST_TEST_REQUIRE(!r.has_value(), "accepted: " << request.dump());
    BOOST_TEST(r.error().code == EINVAL);
    BOOST_TEST(r.error().bad_input);
    BOOST_TEST(r.error().message().find(text) != std::string::npos,
               "'" << r.error().message() << "' lacks '" << text << "'");
}

inline TaskDefinition accepted(const json& request)
{
    auto r = parse_task_definition(request);
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    return *r;
}

inline std::string read_example(const std::string& name)
{
    std::ifstream in(berth::test::source_path("examples/" + name));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace berth::test::taskdef

// tests/unit/taskdef_journald_test.cpp — logDriver journald in task definitions: accepted with
// Docker's journald options (tag, labels, labels-regex, env, env-regex), anything else refused by
// name; the tag template; the journal fields of a container (taskdef::journald_fields) and the
// daemon's switch of its runtime options to journald (agent/daemon/journal_fields.hpp); a stored
// definition with json-file options under journald read leniently.
#define BOOST_TEST_MODULE taskdef_journald
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "agent/daemon/pure.hpp"
#include "agent/taskdef/taskdef.hpp"
#include "runtime/internal.hpp"

using nlohmann::json;
using namespace berth::taskdef;

namespace {

json with_log(const char* log_configuration)
{
    auto j = json::parse(R"({"family": "web", "containerDefinitions": [
        {"name": "web", "image": "busybox", "memory": 64,
         "environment": [{"name": "STAGE", "value": "prod"}],
         "dockerLabels": {"team": "berth", "com.example.tier": "front"}}]})");
    j["containerDefinitions"][0]["logConfiguration"] = json::parse(log_configuration);
    return j;
}

std::string refusal(const json& request)
{
    auto r = parse_task_definition(request);
    if (r)
        return "accepted";
    BOOST_TEST(r.error().code == EINVAL);
    return r.error().message();
}

bool has(const std::vector<std::string>& fields, const std::string& field)
{
    return std::find(fields.begin(), fields.end(), field) != fields.end();
}

} // namespace

BOOST_AUTO_TEST_CASE(journald_is_accepted_with_dockers_options_and_described_back)
{
    auto r = parse_task_definition(with_log(
        R"({"logDriver": "journald", "options": {"tag": "{{.Name}}/{{.ID}}", "labels": "team",
            "labels-regex": "^com\\.example\\.", "env": "STAGE", "env-regex": "^ST"}})"));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message()));
    BOOST_TEST((r->containers[0].log_configuration->driver == LogDriver::Journald));
    const auto described = to_json(*r);
    BOOST_TEST(described["containerDefinitions"][0]["logConfiguration"]["logDriver"] == "journald");
}

BOOST_AUTO_TEST_CASE(options_journald_does_not_take_are_refused_by_name)
{
    BOOST_TEST(refusal(with_log(R"({"logDriver": "journald", "options": {"max-size": "10m"}})"))
                   .find("containerDefinitions[0].logConfiguration.options.max-size: not "
                         "supported by the journald driver") != std::string::npos);
    BOOST_TEST(refusal(with_log(R"({"logDriver": "journald", "options": {"tag": "{{.Bogus}}"}})"))
                   .find("'.Bogus' is not supported by berth") != std::string::npos);
    BOOST_TEST(refusal(with_log(R"({"logDriver": "journald", "options": {"tag": "{{.ID"}})"))
                   .find("without") != std::string::npos);
    BOOST_TEST(refusal(with_log(R"({"logDriver": "journald", "options": {"env-regex": "("}})"))
                   .find("options.env-regex: '(' is not a regular expression") !=
               std::string::npos);
    // json-file still refuses journald's options.
    BOOST_TEST(refusal(with_log(R"({"logDriver": "json-file", "options": {"tag": "a"}})"))
                   .find("logConfiguration.options.tag: not supported by berth") !=
               std::string::npos);
    BOOST_TEST(refusal(with_log(R"({"logDriver": "syslog"})")).find("(json-file, journald)") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_tag_template_expands_dockers_fields)
{
    const LogTagValues v{"abc-web", "abc-web", "web", "busybox", "berth"};
    BOOST_TEST(*expand_log_tag("{{.ImageName}}/{{ .Name }}:{{.FullID}}", v) ==
               "busybox/web:abc-web");
    BOOST_TEST(*expand_log_tag("plain", v) == "plain");
}

BOOST_AUTO_TEST_CASE(a_container_gets_dockers_fields_the_tasks_and_the_labels_and_env_asked_for)
{
    auto def = parse_task_definition(with_log(
        R"({"logDriver": "journald", "options": {"labels": "team,missing",
            "labels-regex": "ecs\\.task-arn", "env": "STAGE"}})"));
    BOOST_TEST_REQUIRE(def.has_value());
    berth::runtime::CreateOptions co;
    co.id = "0123456789abcdef0123456789abcdef-web";
    co.log_path = "/var/lib/berth/logs/t/web.log";
    berth::runtime::Spec spec;
    spec.process.emplace();
    spec.process->env = {"PATH=/bin", "STAGE=prod"};
    spec.annotations = {{"team", "berth"}};
    const berth::daemon::JournaldTask task{
        "arn:aws:ecs:local:0:task/default/0123456789abcdef0123456789abcdef", "default",
        "arn:aws:ecs:local:0:task-definition/web:3"};
    BOOST_TEST_REQUIRE(berth::daemon::use_journald(co, *def, "web", spec, task).has_value());
    BOOST_TEST(co.log_journald);
    BOOST_TEST(co.log_path.empty());
    const auto& f = co.log_fields;
    BOOST_TEST(has(f, "CONTAINER_ID=" + co.id));
    BOOST_TEST(has(f, "CONTAINER_ID_FULL=" + co.id));
    BOOST_TEST(has(f, "CONTAINER_NAME=web"));
    BOOST_TEST(has(f, "CONTAINER_TAG=" + co.id)); // Docker's default tag {{.ID}}
    BOOST_TEST(has(f, "SYSLOG_IDENTIFIER=" + co.id));
    BOOST_TEST(has(f, "IMAGE_NAME=busybox"));
    BOOST_TEST(has(f, "TASK_ARN=" + task.task_arn));
    BOOST_TEST(has(f, "TASK_ID=0123456789abcdef0123456789abcdef"));
    BOOST_TEST(has(f, "TASK_FAMILY=web"));
    BOOST_TEST(has(f, "TASK_REVISION=3"));
    BOOST_TEST(has(f, "ECS_CLUSTER=default"));
    BOOST_TEST(has(f, "TEAM=berth"));                                  // labels, key sanitized
    BOOST_TEST(has(f, "COM_AMAZONAWS_ECS_TASK_ARN=" + task.task_arn)); // labels-regex
    BOOST_TEST(has(f, "STAGE=prod"));                                  // env
    BOOST_TEST(!has(f, "PATH=/bin"));
    BOOST_TEST(berth::runtime::valid_journal_fields(f).has_value());
    // The marker berth logs finds it by goes with the container's logs.
    const auto marker = berth::daemon::journald_marker_path("/var/lib/berth/logs/t/web.log");
    BOOST_TEST(marker == "/var/lib/berth/logs/t/web.log.journald");
    BOOST_TEST(berth::daemon::is_log_file_of("web.log.journald", "web.log"));
    BOOST_TEST(!berth::daemon::is_log_file_of("web.log.other", "web.log"));
}

BOOST_AUTO_TEST_CASE(a_stored_journald_definition_drops_json_file_options_with_a_warning)
{
    // An earlier berth accepted journald with any options and wrote json-file logs for it.
    const auto text =
        with_log(R"({"logDriver": "journald", "options": {"tag": "a", "max-size": "10m"}})").dump();
    BOOST_TEST(!parse_task_definition_text(text).has_value()); // refused at registration
    std::vector<std::string> warnings;
    auto r = parse_stored_task_definition_text(text, warnings);
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message()));
    BOOST_TEST((r->containers[0].log_configuration->driver == LogDriver::Journald));
    BOOST_TEST(r->containers[0].log_configuration->options.size() == 1U);
    BOOST_TEST_REQUIRE(warnings.size() == 1U);
    BOOST_TEST(warnings[0].find("logConfiguration.options.max-size: not a journald option") !=
               std::string::npos);
    warnings.clear();
    BOOST_TEST(
        parse_stored_task_definition_text(
            with_log(R"({"logDriver": "journald", "options": {"tag": "a"}})").dump(), warnings)
            .has_value());
    BOOST_TEST(warnings.empty());
}

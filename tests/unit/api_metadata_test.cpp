// agent/api's task metadata endpoint: the per-container ids and their key, the v4/v3 response
// shapes from a stand-in ControlPlane (berthd's engine implements the real one), the refusals
// (unknown id 404, credentials 400; stats from an engine without samples are null; the stats
// themselves are metadata_stats_test's), and the server over real HTTP on a free port
// with task definitions from a real (in-memory) store.
#define BOOST_TEST_MODULE api_metadata
#include <boost/test/unit_test.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <nlohmann/json.hpp>
#include "agent/api/internal.hpp"
#include "tests/support/task_list_engine.hpp"
#include "base/fd.hpp"
#include "base/files.hpp"

using namespace berth;
using nlohmann::json;

namespace {

const std::string key(64, 'a');
const std::string task_arn = "arn:aws:ecs:us-east-1:000000000000:task/default/0f6a3e5b9c2d4e1f";
const std::string definition_arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1";
const std::string definition_body = R"({"family":"web","networkMode":"awsvpc",
  "containerDefinitions":[{"name":"web","image":"hello","cpu":256,"memory":128,
    "dockerLabels":{"team":"berth"},"logConfiguration":{"logDriver":"json-file","options":{"max-size":"10m","n":3}}},
   {"name":"sidecar","image":"hello"}]})";

class FixedEngine : public test::TaskListEngine {
public:
    FixedEngine()
    {
        store::Task t;
        t.arn = task_arn;
        t.cluster = "default";
        t.task_definition_arn = definition_arn;
        t.desired_status = t.last_status = "RUNNING";
        t.cpu = "512";
        t.memory = "1 GB";
        t.pull_started_at = 1700000000;
        t.overrides = R"({"containerOverrides":[{"name":"sidecar","memory":32}]})";
        store::Container web;
        web.name = "web";
        web.arn = "arn:aws:ecs:us-east-1:000000000000:container/default/0f6a3e5b9c2d4e1f/web";
        web.image = "hello";
        web.runtime_id = "0f6a3e5b9c2d4e1f-web";
        web.desired_status = web.last_status = "RUNNING";
        web.network_bindings = R"([{"containerPort":80,"hostPort":80,"protocol":"tcp"}])";
        web.network_interfaces = R"([{"attachmentId":"x","privateIpv4Address":"10.213.0.7"}])";
        store::Container sidecar = web;
        sidecar.name = "sidecar";
        sidecar.runtime_id = "0f6a3e5b9c2d4e1f-sidecar";
        sidecar.network_bindings = "[]";
        sidecar.last_status = "STOPPED";
        sidecar.exit_code = 3;
        t.containers = {web, sidecar};
        tasks.push_back(t);
    }
};

struct Shapes {
    FixedEngine engine;
    api::MetadataSource source{{"default", "arn:ci", "0.1.0"}, key, engine, {}};
    Shapes()
    {
        source.definition = [](const std::string& arn) -> std::optional<std::string> {
            if (arn == definition_arn)
                return definition_body;
            return std::nullopt;
        };
    }
    api::MetadataResponse get(const std::string& target) const
    {
        return api::metadata_response(source, target);
    }
    json get_json(const std::string& target, unsigned want = 200) const
    {
        const auto reply = get(target);
        BOOST_TEST(reply.status == want, target << ": " << reply.status << " " << reply.body);
        return json::parse(reply.body, nullptr, false);
    }
};

std::string id_of(const std::string& container)
{
    return api::metadata_id(key, task_arn, container);
}

} // namespace

BOOST_AUTO_TEST_CASE(ids_are_uuid_shaped_stable_and_differ_by_container_task_and_key)
{
    const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    BOOST_TEST(std::regex_match(id_of("web"), uuid), id_of("web"));
    BOOST_TEST(id_of("web") == id_of("web"));
    // Pinned (HMAC-SHA256(key, arn "\n" name) shaped as a v4 UUID, by Python's hmac): the id is
    // in running containers' environment, so it must not change across berthd versions.
    BOOST_TEST(id_of("web") == "efd73463-57d1-4a93-89b9-ad8021906077");
    BOOST_TEST(id_of("web") != id_of("sidecar"));
    BOOST_TEST(id_of("web") != api::metadata_id(key, task_arn + "0", "web"));
    BOOST_TEST(id_of("web") != api::metadata_id(std::string(64, 'b'), task_arn, "web"));
    const auto env = api::metadata_environment(key, task_arn, "web");
    BOOST_TEST(env.size() == 2U);
    BOOST_TEST(env[0] == "ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/" + id_of("web"));
    BOOST_TEST(env[1] == "ECS_CONTAINER_METADATA_URI=http://169.254.170.2/v3/" + id_of("web"));
}

BOOST_AUTO_TEST_CASE(the_key_is_made_once_mode_0600_and_a_malformed_one_is_refused)
{
    char dir_template[] = "/tmp/berth-metadata-key-XXXXXX";
    const std::string dir = ::mkdtemp(dir_template);
    const std::string path = dir + "/metadata.key";
    auto made = api::load_metadata_key(path);
    BOOST_TEST_REQUIRE(made.has_value(), (made ? "" : made.error().message()));
    BOOST_TEST(made->size() == 64U);
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777U) == 0600U);
    auto again = api::load_metadata_key(path);
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST(*again == *made);
    BOOST_TEST_REQUIRE(write_file_atomic(path, "not a key\n").has_value());
    auto bad = api::load_metadata_key(path);
    BOOST_TEST_REQUIRE(!bad);
    BOOST_TEST(bad.error().message().find(path) != std::string::npos, bad.error().message());
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(the_container_answer_has_the_v4_shape)
{
    const Shapes s;
    const auto web = s.get_json("/v4/" + id_of("web"));
    BOOST_TEST(web["DockerId"] == "0f6a3e5b9c2d4e1f-web");
    BOOST_TEST(web["Name"] == "web");
    BOOST_TEST(web["DockerName"] == "0f6a3e5b9c2d4e1f-web");
    BOOST_TEST(web["Image"] == "hello");
    BOOST_TEST(web["KnownStatus"] == "RUNNING");
    BOOST_TEST(web["Type"] == "NORMAL");
    BOOST_TEST(web["ContainerARN"].get<std::string>().ends_with("/web"));
    BOOST_TEST(web["LogDriver"] == "json-file");
    BOOST_TEST(web["LogOptions"] == json({{"max-size", "10m"}})); // string options only
    BOOST_TEST(web["Limits"] == json({{"CPU", 256}, {"Memory", 128}}));
    BOOST_TEST(web["Labels"]["team"] == "berth");
    BOOST_TEST(web["Labels"]["com.amazonaws.ecs.task-arn"] == task_arn);
    BOOST_TEST(web["Labels"]["com.amazonaws.ecs.task-definition-family"] == "web");
    BOOST_TEST(web["Labels"]["com.amazonaws.ecs.task-definition-version"] == "1");
    BOOST_TEST(web["Labels"]["com.amazonaws.ecs.cluster"] == "default");
    BOOST_TEST(web["Ports"] == json::parse(R"([{"ContainerPort":80,"HostPort":80,
                                                "Protocol":"tcp"}])"));
    BOOST_TEST(web["Networks"] == json::parse(R"([{"NetworkMode":"awsvpc","AttachmentIndex":0,
                                                   "IPv4Addresses":["10.213.0.7"]}])"));
    BOOST_TEST(!web.contains("ExitCode"));
    const auto sidecar = s.get_json("/v4/" + id_of("sidecar") + "/"); // a trailing slash is fine
    BOOST_TEST(sidecar["ExitCode"] == 3);
    BOOST_TEST(sidecar["Limits"] == json({{"CPU", 0}, {"Memory", 32}})); // the override
    BOOST_TEST(!sidecar.contains("Ports"));
}

BOOST_AUTO_TEST_CASE(the_task_answer_has_the_v4_shape_with_every_container)
{
    const Shapes s;
    const auto task = s.get_json("/v4/" + id_of("sidecar") + "/task");
    BOOST_TEST(task["Cluster"] == "default");
    BOOST_TEST(task["TaskARN"] == task_arn);
    BOOST_TEST(task["Family"] == "web");
    BOOST_TEST(task["Revision"] == "1");
    BOOST_TEST(task["DesiredStatus"] == "RUNNING");
    BOOST_TEST(task["KnownStatus"] == "RUNNING");
    BOOST_TEST(task["LaunchType"] == "EXTERNAL");
    BOOST_TEST(task["Limits"] == json({{"CPU", 0.5}, {"Memory", 1024}}));
    BOOST_TEST(task["PullStartedAt"] == "2023-11-14T22:13:20Z");
    BOOST_TEST(!task.contains("PullStoppedAt"));
    BOOST_TEST(task["Containers"].size() == 2U);
    BOOST_TEST(task["Containers"][0]["Name"] == "web");
}

BOOST_AUTO_TEST_CASE(v3_answers_the_same_container_without_the_v4_only_fields)
{
    const Shapes s;
    const auto web = s.get_json("/v3/" + id_of("web"));
    BOOST_TEST(web["DockerId"] == "0f6a3e5b9c2d4e1f-web");
    BOOST_TEST(!web.contains("ContainerARN"));
    BOOST_TEST(!s.get_json("/v3/" + id_of("web") + "/task").contains("LaunchType"));
}

BOOST_AUTO_TEST_CASE(task_with_tags_adds_the_tasks_and_the_instances_tags)
{
    Shapes s;
    s.source.tags = [](const std::string& arn) -> berth::Result<std::vector<store::Tag>> {
        if (arn == task_arn)
            return std::vector<store::Tag>{{"team", "web"}, {"stage", "prod"}};
        if (arn == "arn:ci")
            return std::vector<store::Tag>{{"rack", "r7"}};
        return std::vector<store::Tag>{};
    };

    auto task = s.get_json("/v4/" + id_of("web") + "/taskWithTags");
    BOOST_TEST(task["TaskTags"] == json({{"team", "web"}, {"stage", "prod"}}));
    BOOST_TEST(task["ContainerInstanceTags"] == json({{"rack", "r7"}}));
    BOOST_TEST(task["TaskARN"] == task_arn); // the rest is /task's answer
    BOOST_TEST(task["Containers"].size() == 2U);
    BOOST_TEST(!task.contains("Errors"));
    const auto v3 = s.get_json("/v3/" + id_of("web") + "/taskWithTags"); // v3 has it too
    BOOST_TEST(v3["TaskTags"] == json({{"team", "web"}, {"stage", "prod"}}));
    BOOST_TEST(!v3.contains("LaunchType"));

    // Tags that cannot be read: the task metadata still answers, the failure in Errors.
    s.source.tags = [](const std::string&) -> berth::Result<std::vector<store::Tag>> {
        return berth::Error::with_code(EIO, "database is locked");
    };
    task = s.get_json("/v4/" + id_of("web") + "/taskWithTags");
    BOOST_TEST(!task.contains("TaskTags"));
    BOOST_TEST_REQUIRE(task["Errors"].size() == 2U);
    BOOST_TEST(task["Errors"][0]["ErrorField"] == "TaskTags");
    BOOST_TEST(task["Errors"][0]["ResourceARN"] == task_arn);
    BOOST_TEST(task["Errors"][0]["ErrorMessage"].get<std::string>().find("database is locked") !=
               std::string::npos);
    BOOST_TEST(task["Errors"][1]["ErrorField"] == "ContainerInstanceTags");

    // No tags: the fields are left out (the ECS agent's omitempty).
    s.source.tags = [](const std::string&) -> berth::Result<std::vector<store::Tag>> {
        return std::vector<store::Tag>{};
    };
    task = s.get_json("/v4/" + id_of("web") + "/taskWithTags");
    BOOST_TEST(!task.contains("TaskTags"));
    BOOST_TEST(!task.contains("ContainerInstanceTags"));
    BOOST_TEST(!task.contains("Errors"));
    BOOST_TEST(task["TaskARN"] == task_arn);
}

BOOST_AUTO_TEST_CASE(unknown_ids_and_paths_are_404_and_credentials_400)
{
    const Shapes s;
    for (const std::string& target : std::vector<std::string>{
             "/v4/00000000-0000-4000-8000-000000000000", "/v4/" + id_of("nope") + "/task", "/v4/",
             "/v4", "/", "/v1/metadata", "/v4/" + id_of("web") + "/elsewhere", "/v5/x"}) {
        const auto reply = s.get(target);
        BOOST_TEST(reply.status == 404U, target << ": " << reply.status);
        BOOST_TEST(json::parse(reply.body, nullptr, false).is_string(), reply.body);
    }
    // An engine that keeps no samples (the ControlPlane default): null, as the ECS agent shows
    // a container it has no statistics for.
    BOOST_TEST(s.get_json("/v4/" + id_of("web") + "/stats").is_null());
    const auto task_stats = s.get_json("/v4/" + id_of("web") + "/task/stats");
    BOOST_TEST(task_stats["0f6a3e5b9c2d4e1f-web"].is_null());
    BOOST_TEST(task_stats.size() == 2U);
    const auto credentials = s.get_json("/v2/credentials/" + id_of("web"), 400);
    BOOST_TEST(credentials["code"] == "InvalidIdInRequest");
    BOOST_TEST(credentials["HTTPErrorCode"] == 400);
    BOOST_TEST(credentials["message"].get<std::string>().find("no task IAM roles") !=
               std::string::npos);
}

// Review finding 3: a made-up id never reaches the task engine, and a real lookup asks for the
// unfinished tasks only.
BOOST_AUTO_TEST_CASE(ids_not_shaped_like_ours_are_404_without_a_task_lookup)
{
    Shapes s; // not const: the engine counts the lookups made through source
    const auto good = id_of("web");
    std::string upper = good;
    for (auto& ch : upper)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    for (const std::string& id :
         {std::string("nope"), std::string(36, 'a'), good.substr(1), good + "0", upper,
          std::string(good).replace(8, 1, "0"), std::string(good).replace(0, 1, "g")}) {
        const auto reply = s.get("/v4/" + id + "/task");
        BOOST_TEST(reply.status == 404U, id << ": " << reply.status);
        BOOST_TEST(reply.body.find("no such container") != std::string::npos, reply.body);
    }
    BOOST_TEST(s.engine.lookups == 0);
    BOOST_TEST(s.get("/v4/" + good).status == 200U);
    BOOST_TEST(s.engine.lookups == 1);
    BOOST_TEST(s.engine.last_filter.unfinished_only);
    BOOST_TEST(s.engine.last_filter.cluster == "default");
}

BOOST_AUTO_TEST_CASE(a_task_whose_definition_is_gone_still_answers_from_its_record)
{
    Shapes s;
    s.source.definition = [](const std::string&) { return std::nullopt; };
    const auto web = s.get_json("/v4/" + id_of("web"));
    BOOST_TEST(web["Limits"] == json({{"CPU", 0}}));
    BOOST_TEST(web["Networks"][0]["NetworkMode"] == "bridge");
}

namespace {

struct Reply {
    int status = 0;
    std::string body;
};

Reply http_get(std::uint16_t port, const std::string& method, const std::string& target)
{
    const Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    timeval tv{5, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::string text =
        method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    (void)::send(fd.get(), text.data(), text.size(), MSG_NOSIGNAL);
    std::string raw;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd.get(), buffer, sizeof buffer, 0)) > 0;)
        raw.append(buffer, static_cast<std::size_t>(n));
    Reply reply;
    if (raw.size() > 12)
        reply.status = std::stoi(raw.substr(9, 3));
    if (const auto end = raw.find("\r\n\r\n"); end != std::string::npos)
        reply.body = raw.substr(end + 4);
    return reply;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_server_answers_over_http_with_definitions_from_the_store)
{
    FixedEngine engine;
    auto db = store::Store::open(":memory:");
    BOOST_TEST_REQUIRE(db.has_value());
    BOOST_TEST_REQUIRE(db->register_task_definition("web", definition_body, 1).has_value());
    BOOST_TEST_REQUIRE(db->tag(task_arn, {{"team", "web"}}).has_value());
    api::MetadataOptions options;
    options.port = 0;
    auto server = api::MetadataServer::start(options, {"default", "arn:ci", "0.1.0"}, key, engine,
                                             std::move(*db));
    BOOST_TEST_REQUIRE(server.has_value(), (server ? "" : server.error().message()));
    const auto port = (*server)->port();
    const auto web = http_get(port, "GET", "/v4/" + id_of("web"));
    BOOST_TEST(web.status == 200, web.body);
    BOOST_TEST(json::parse(web.body)["Limits"] == json({{"CPU", 256}, {"Memory", 128}}));
    const auto tagged = http_get(port, "GET", "/v4/" + id_of("web") + "/taskWithTags");
    BOOST_TEST(tagged.status == 200, tagged.body);
    BOOST_TEST(json::parse(tagged.body)["TaskTags"] == json({{"team", "web"}}));
    BOOST_TEST(http_get(port, "GET", "/v4/nope").status == 404);
    BOOST_TEST(http_get(port, "POST", "/v4/" + id_of("web")).status == 405);
    (*server)->stop();
    (*server)->stop(); // idempotent
}

BOOST_AUTO_TEST_CASE(a_bad_listen_address_is_refused_by_name)
{
    FixedEngine engine;
    auto db = store::Store::open(":memory:");
    BOOST_TEST_REQUIRE(db.has_value());
    api::MetadataOptions options;
    options.address = "not-an-address";
    auto server = api::MetadataServer::start(options, {"default", "arn:ci", "0.1.0"}, key, engine,
                                             std::move(*db));
    BOOST_TEST_REQUIRE(!server);
    BOOST_TEST(server.error().message().find("task metadata address") != std::string::npos,
               server.error().message());
}

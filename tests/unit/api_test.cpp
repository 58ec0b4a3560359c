// agent/api driven by the real aws CLI (Debian's v2, and v1 from pip when on PATH) against a
// server started in this process on a free port: task definitions, clusters, container
// instances, tags, task operations through the ControlPlane seam, signature refusals; and raw
// sockets for the oversized body and the slow client.
#define BOOST_TEST_MODULE api
#include <boost/test/unit_test.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <ctime>
#include <fstream>
#include <map>
#include <thread>
#include <nlohmann/json.hpp>
#include "agent/api/api.hpp"
#include "agent/api/internal.hpp"
#include "tests/support/bundle.hpp"
#include "tests/support/process.hpp"

using namespace berth;
using nlohmann::json;

namespace {

constexpr const char* key_id = "AKIDBERTHTEST";
constexpr const char* secret = "berth-test-secret/xyz";

// A stand-in for the task engine (berthd will implement ControlPlane over agent/engine): it only
// records tasks, so the API's side of the seam -- input checks, shapes -- can be tested here.
class RecordingEngine : public api::ControlPlane {
public:
    Result<api::RunTaskResult> run_task(const api::RunTaskRequest& request) override
    {
        api::RunTaskResult result;
        const auto body = json::parse(request.task_definition.body);
        for (int i = 0; i < request.count; ++i) {
            store::Task t;
            const auto id = api::random_id();
            t.arn = "arn:aws:ecs:us-east-1:000000000000:task/" + request.cluster + "/" + id;
            t.cluster = request.cluster;
            t.task_definition_arn = request.task_definition_arn;
            t.desired_status = "RUNNING";
            t.last_status = "PENDING";
            t.started_by = request.started_by;
            t.overrides = request.overrides;
            t.created_at = 1700000000;
            for (const auto& c : body["containerDefinitions"])
                t.containers.push_back(store::Container{
                    c["name"], t.arn + "/" + c["name"].get<std::string>(), c["image"], "",
                    "RUNNING", "PENDING", std::nullopt, "", "[]", "UNKNOWN"});
            tasks[t.arn] = t;
            result.tasks.push_back(t);
        }
        return result;
    }
    Result<std::optional<store::Task>> stop_task(const api::StopTaskRequest& request) override
    {
        auto it = tasks.find(request.task_arn);
        if (it == tasks.end())
            return std::optional<store::Task>{};
        it->second.desired_status = "STOPPED";
        it->second.stopped_reason = request.reason;
        return std::optional<store::Task>{it->second};
    }
    Result<std::vector<store::Task>> describe_tasks(const std::string&,
                                                    const std::vector<std::string>& arns) override
    {
        std::vector<store::Task> out;
        for (const auto& arn : arns)
            if (auto it = tasks.find(arn); it != tasks.end())
                out.push_back(it->second);
        return out;
    }
    Result<std::vector<store::Task>> list_tasks(const store::TaskFilter& filter) override
    {
        std::vector<store::Task> out;
        for (const auto& [arn, t] : tasks)
            if (filter.desired_status.empty() || t.desired_status == filter.desired_status)
                out.push_back(t);
        return out;
    }
    std::map<std::string, store::Task> tasks;
};

struct Fixture {
    explicit Fixture(api::ControlPlane* engine = nullptr, std::size_t body_limit = 1 << 20)
    {
        api::Options options;
        options.port = 0;
        options.credentials = {key_id, secret};
        options.body_limit = body_limit;
        options.header_timeout = std::chrono::milliseconds(1500);
        options.body_timeout = std::chrono::milliseconds(1500);
        auto s = store::Store::open(dir.path() + "/state.db");
        BOOST_REQUIRE_MESSAGE(s, (s ? "" : s.error().message()));
        auto started = api::Server::start(options, std::move(*s), engine);
        BOOST_REQUIRE_MESSAGE(started, (started ? "" : started.error().message()));
        server = std::move(*started);
        endpoint = "http://127.0.0.1:" + std::to_string(server->port());
    }
    test::TempDir dir{"berth-api-test"};
    std::unique_ptr<api::Server> server;
    std::string endpoint;
};

// Debian's awscli (v2) always; v1 from pip when an `aws` other than /usr/bin/aws is on PATH.
std::vector<std::string> aws_clis()
{
    std::vector<std::string> out;
    if (access("/usr/bin/aws", X_OK) == 0)
        out.emplace_back("/usr/bin/aws");
    const char* path = std::getenv("PATH");
    for (auto dir : split(path != nullptr ? path : "", ':')) {
        const std::string candidate = std::string(dir) + "/aws";
        if (candidate != "/usr/bin/aws" && access(candidate.c_str(), X_OK) == 0) {
            out.push_back(candidate);
            break;
        }
    }
    BOOST_REQUIRE_MESSAGE(!out.empty(), "no aws CLI: scripts/install-deps.sh installs awscli");
    return out;
}

struct Cli {
    std::string binary;
    std::string endpoint;
    std::string secret_key = secret;
    std::string access_key = key_id;

    test::Output run(std::vector<std::string> args) const
    {
        std::vector<std::string> argv = {"env",
                                         "-u",
                                         "AWS_SESSION_TOKEN",
                                         "-u",
                                         "AWS_PROFILE",
                                         "AWS_ACCESS_KEY_ID=" + access_key,
                                         "AWS_SECRET_ACCESS_KEY=" + secret_key,
                                         "AWS_CONFIG_FILE=/nonexistent",
                                         "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
                                         "AWS_MAX_ATTEMPTS=1",
                                         "AWS_PAGER=",
                                         "AWS_EC2_METADATA_DISABLED=true",
                                         binary,
                                         "ecs"};
        argv.insert(argv.end(), args.begin(), args.end());
        for (const char* tail : {"--endpoint-url", "", "--region", "us-east-1", "--output", "json"})
            argv.emplace_back(tail);
        argv[argv.size() - 5] = endpoint;
        return test::run_command(argv, std::chrono::seconds(60));
    }
    json ok(std::vector<std::string> args) const
    {
        const auto out = run(args);
        BOOST_REQUIRE_MESSAGE(out.status == 0, binary << " " << args[0] << " failed: " << out.err);
        return out.out.empty() ? json::object() : json::parse(out.out);
    }
    // The command fails and its stderr names the error type.
    std::string fails(const std::vector<std::string>& args, const std::string& type) const
    {
        const auto out = run(args);
        BOOST_TEST(out.status != 0, binary << " " << args[0] << " succeeded: " << out.out);
        BOOST_TEST(out.err.find(type) != std::string::npos, "wanted " << type << ": " << out.err);
        return out.err;
    }
};

std::string write_file(const std::string& dir, const std::string& name, const json& value)
{
    const std::string path = dir + "/" + name;
    std::ofstream(path) << value.dump();
    return "file://" + path;
}

json two_container_definition()
{
    return {{"family", "web"},
            {"containerDefinitions",
             {{{"name", "web"},
               {"image", "nginxdemos/hello"},
               {"memory", 64},
               {"portMappings", {{{"containerPort", 80}, {"hostPort", 0}}}}},
              {{"name", "sidecar"},
               {"image", "busybox"},
               {"memory", 32},
               {"essential", false},
               {"dependsOn", {{{"containerName", "web"}, {"condition", "START"}}}}}}},
            {"tags", {{{"key", "team"}, {"value", "berth"}}}}};
}

// A connected TCP socket to the server, closed by the destructor.
struct Socket {
    explicit Socket(std::uint16_t port) : fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
    {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BOOST_REQUIRE(connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    void send_all(const std::string& bytes) const
    {
        (void)::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    // Everything until the server closes (or timeout_s passes).
    std::string read_all(int timeout_s = 10) const
    {
        timeval tv{timeout_s, 0};
        setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string out;
        char buffer[4096];
        for (;;) {
            const auto n = recv(fd.get(), buffer, sizeof buffer, 0);
            if (n <= 0)
                return out;
            out.append(buffer, static_cast<std::size_t>(n));
        }
    }
    Fd fd;
};

// One signed request as raw HTTP/1.1 text, dated now: `body` is sent (and signed) as it is.
std::string signed_request(const std::string& operation, const std::string& body)
{
    const auto now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char date[20];
    std::strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
    api::sigv4::Request request{
        "POST",
        "/",
        {{"Host", "127.0.0.1"},
         {"X-Amz-Date", date},
         {"X-Amz-Target", "AmazonEC2ContainerServiceV20141113." + operation},
         {"Content-Type", "application/x-amz-json-1.1"}},
        body};
    const api::sigv4::Authorization auth{
        key_id, std::string(date, 8), "us-east-1", "ecs", {"host", "x-amz-date", "x-amz-target"},
        ""};
    std::string text = "POST / HTTP/1.1\r\n";
    for (const auto& [name, value] : request.headers)
        text.append(name).append(": ").append(value).append("\r\n");
    text += "Authorization: AWS4-HMAC-SHA256 Credential=" + std::string(key_id) + "/" + auth.date +
            "/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target"
            ", Signature=" +
            api::sigv4::sign(request, auth, secret, date) + "\r\n";
    return text + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string signed_list_clusters()
{
    return signed_request("ListClusters", "{}");
}

std::size_t count(const std::string& text, const std::string& needle)
{
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++n;
    return n;
}

} // namespace

BOOST_AUTO_TEST_CASE(one_connection_serves_several_requests_with_keep_alive)
{
    Fixture f;
    Socket s(f.server->port());
    s.send_all(signed_list_clusters() + signed_list_clusters());
    const auto replies = s.read_all(3); // the server keeps the connection until the idle limit
    BOOST_TEST(count(replies, "HTTP/1.1 200 OK") == 2U, replies);
    BOOST_TEST(count(replies, "cluster/default") == 2U);
}

// A body that is not JSON (or not a JSON object) is the client's fault: 400
// SerializationException, as the service answers, and the connection and the server go on.
BOOST_AUTO_TEST_CASE(a_body_that_is_not_json_is_a_serialization_exception_and_serving_goes_on)
{
    Fixture f;
    Socket s(f.server->port());
    s.send_all(signed_request("ListClusters", "this is not JSON") +
               signed_request("DescribeClusters", "[\"default\"]") +
               signed_request("ListClusters", "{\"maxResults\": ") + signed_list_clusters());
    const auto replies = s.read_all(3);
    BOOST_TEST(count(replies, "HTTP/1.1 400 Bad Request") == 3U, replies);
    BOOST_TEST(count(replies, R"("__type":"SerializationException")") == 3U, replies);
    BOOST_TEST(count(replies, "request body is not valid JSON") == 2U, replies);
    BOOST_TEST(count(replies, "request body must be a JSON object") == 1U, replies);
    // The good request behind them on the same connection is answered.
    BOOST_TEST(count(replies, "HTTP/1.1 200 OK") == 1U, replies);
    BOOST_TEST(replies.rfind("HTTP/1.1 200 OK") > replies.rfind("HTTP/1.1 400"), replies);
    BOOST_TEST(count(replies, "cluster/default") == 1U, replies);
    // And a new client is served as before.
    const Cli cli{aws_clis().front(), f.endpoint};
    BOOST_TEST(cli.ok({"list-clusters"})["clusterArns"].size() == 1U);
}

BOOST_AUTO_TEST_CASE(the_aws_cli_registers_describes_lists_and_deregisters_task_definitions)
{
    Fixture f;
    int round = 0;
    for (const auto& binary : aws_clis()) {
        BOOST_TEST_MESSAGE("driving " << binary);
        const Cli cli{binary, f.endpoint};
        auto def = two_container_definition();
        def["family"] = "web-" + std::to_string(++round);
        const std::string family = def["family"];
        const auto file = write_file(f.dir.path(), "def.json", def);
        auto first = cli.ok({"register-task-definition", "--cli-input-json", file});
        const auto& td = first["taskDefinition"];
        BOOST_TEST(td["taskDefinitionArn"] ==
                   "arn:aws:ecs:us-east-1:000000000000:task-definition/" + family + ":1");
        BOOST_TEST(td["revision"] == 1);
        BOOST_TEST(td["status"] == "ACTIVE");
        BOOST_TEST(td["containerDefinitions"][0]["portMappings"][0]["hostPort"] == 0);
        BOOST_TEST(td["containerDefinitions"][1]["essential"] == false);
        BOOST_TEST(td["containerDefinitions"][0]["essential"] == true); // ECS's default
        BOOST_TEST(first["tags"][0]["key"] == "team");
        BOOST_TEST(cli.ok({"register-task-definition", "--cli-input-json",
                           file})["taskDefinition"]["revision"] == 2);

        auto described =
            cli.ok({"describe-task-definition", "--task-definition", family, "--include", "TAGS"});
        BOOST_TEST(described["taskDefinition"]["revision"] == 2); // the latest ACTIVE
        BOOST_TEST(described["tags"][0]["value"] == "berth");
        BOOST_TEST(described["taskDefinition"].contains("registeredAt"));

        auto listed = cli.ok({"list-task-definitions", "--family-prefix", family});
        BOOST_TEST(listed["taskDefinitionArns"].size() == 2U);
        auto desc = cli.ok({"list-task-definitions", "--family-prefix", family, "--sort", "DESC"});
        BOOST_TEST(desc["taskDefinitionArns"][0].get<std::string>().ends_with(":2"));

        auto gone = cli.ok({"deregister-task-definition", "--task-definition", family + ":2"});
        BOOST_TEST(gone["taskDefinition"]["status"] == "INACTIVE");
        BOOST_TEST(cli.ok({"describe-task-definition", "--task-definition",
                           family})["taskDefinition"]["revision"] == 1);
        auto inactive =
            cli.ok({"list-task-definitions", "--family-prefix", family, "--status", "INACTIVE"});
        BOOST_TEST(inactive["taskDefinitionArns"].size() == 1U);
        auto families = cli.ok({"list-task-definition-families", "--family-prefix", family});
        BOOST_TEST(families["families"] == json::array({family}));

        cli.fails({"describe-task-definition", "--task-definition", "nope:1"}, "ClientException");
        cli.fails({"deregister-task-definition", "--task-definition", family}, "revision");
        // An INACTIVE revision cannot run (checked before the engine is asked).
        cli.fails({"run-task", "--task-definition", family + ":2"}, "inactive");
    }
}

BOOST_AUTO_TEST_CASE(a_malformed_task_definition_is_refused_naming_the_field)
{
    Fixture f;
    for (const auto& binary : aws_clis()) {
        const Cli cli{binary, f.endpoint};
        json def = {{"family", "bad"}, {"containerDefinitions", {{{"name", "a"}}}}};
        const auto no_image = cli.fails({"register-task-definition", "--cli-input-json",
                                         write_file(f.dir.path(), "bad.json", def)},
                                        "ClientException");
        BOOST_TEST(no_image.find("containerDefinitions[0].image") != std::string::npos);
        def = {{"family", "bad name!"},
               {"containerDefinitions", {{{"name", "a"}, {"image", "x"}}}}};
        const auto bad_family = cli.fails({"register-task-definition", "--cli-input-json",
                                           write_file(f.dir.path(), "bad.json", def)},
                                          "ClientException");
        BOOST_TEST(bad_family.find("family") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(the_aws_cli_sees_one_cluster_and_this_node_as_its_container_instance)
{
    Fixture f;
    for (const auto& binary : aws_clis()) {
        const Cli cli{binary, f.endpoint};
        auto clusters = cli.ok({"describe-clusters", "--clusters", "default", "nope"});
        BOOST_TEST(clusters["clusters"][0]["clusterArn"] ==
                   "arn:aws:ecs:us-east-1:000000000000:cluster/default");
        BOOST_TEST(clusters["clusters"][0]["status"] == "ACTIVE");
        BOOST_TEST(clusters["failures"][0]["arn"] ==
                   "arn:aws:ecs:us-east-1:000000000000:cluster/nope");
        BOOST_TEST(clusters["failures"][0]["reason"] == "MISSING");
        BOOST_TEST(cli.ok({"list-clusters"})["clusterArns"].size() == 1U);

        auto instances = cli.ok({"list-container-instances"});
        BOOST_REQUIRE(instances["containerInstanceArns"].size() == 1U);
        const std::string arn = instances["containerInstanceArns"][0];
        BOOST_TEST(
            arn.starts_with("arn:aws:ecs:us-east-1:000000000000:container-instance/default/"));
        auto described =
            cli.ok({"describe-container-instances", "--container-instances", arn, "missing-id"});
        const auto& instance = described["containerInstances"][0];
        BOOST_TEST(instance["status"] == "ACTIVE");
        BOOST_TEST(instance["registeredResources"][0]["name"] == "CPU");
        BOOST_TEST(instance["registeredResources"][0]["integerValue"].get<long>() >= 1024);
        BOOST_TEST(described["failures"][0]["reason"] == "MISSING");
        cli.fails({"list-container-instances", "--cluster", "other"}, "ClusterNotFoundException");
    }
}

BOOST_AUTO_TEST_CASE(the_aws_cli_tags_and_untags_resources_that_exist)
{
    Fixture f;
    for (const auto& binary : aws_clis()) {
        const Cli cli{binary, f.endpoint};
        const std::string cluster = "arn:aws:ecs:us-east-1:000000000000:cluster/default";
        cli.ok({"tag-resource", "--resource-arn", cluster, "--tags", "key=env,value=dev",
                "key=owner,value=me"});
        auto tags = cli.ok({"list-tags-for-resource", "--resource-arn", cluster});
        BOOST_TEST(tags["tags"].size() == 2U);
        cli.ok({"untag-resource", "--resource-arn", cluster, "--tag-keys", "env"});
        tags = cli.ok({"list-tags-for-resource", "--resource-arn", cluster});
        BOOST_TEST(tags["tags"] == json::parse(R"([{"key":"owner","value":"me"}])"));
        cli.fails({"tag-resource", "--resource-arn",
                   "arn:aws:ecs:us-east-1:000000000000:task-definition/none:1", "--tags",
                   "key=a,value=b"},
                  "InvalidParameterException");
        cli.fails({"tag-resource", "--resource-arn", cluster, "--tags", "key=aws:x,value=b"},
                  "reserved");
    }
}

BOOST_AUTO_TEST_CASE(requests_badly_signed_or_from_unknown_keys_are_refused)
{
    Fixture f;
    for (const auto& binary : aws_clis()) {
        Cli cli{binary, f.endpoint};
        cli.secret_key = "not-the-secret";
        cli.fails({"list-clusters"}, "InvalidSignatureException");
        cli.secret_key = secret;
        cli.access_key = "AKIDUNKNOWN";
        cli.fails({"list-clusters"}, "UnrecognizedClientException");
        cli.access_key = key_id;
        const auto unsigned_call = test::run_command(
            {"env", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
             "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", binary, "ecs", "list-clusters",
             "--no-sign-request", "--endpoint-url", f.endpoint, "--region", "us-east-1"},
            std::chrono::seconds(60));
        BOOST_TEST(unsigned_call.status != 0);
        BOOST_TEST(unsigned_call.err.find("MissingAuthenticationToken") != std::string::npos,
                   unsigned_call.err);
    }
}

BOOST_AUTO_TEST_CASE(task_operations_go_through_the_control_plane_seam)
{
    RecordingEngine engine;
    Fixture f(&engine);
    for (const auto& binary : aws_clis()) {
        const Cli cli{binary, f.endpoint};
        engine.tasks.clear();
        cli.ok({"register-task-definition", "--cli-input-json",
                write_file(f.dir.path(), "def.json", two_container_definition())});
        auto run = cli.ok({"run-task", "--task-definition", "web", "--count", "2", "--started-by",
                           "test", "--launch-type", "EXTERNAL"});
        BOOST_REQUIRE(run["tasks"].size() == 2U);
        const std::string arn = run["tasks"][0]["taskArn"];
        BOOST_TEST(arn.starts_with("arn:aws:ecs:us-east-1:000000000000:task/default/"));
        BOOST_TEST(run["tasks"][0]["launchType"] == "EXTERNAL");
        BOOST_TEST(run["tasks"][0]["containers"].size() == 2U);
        // Epoch seconds on the wire; v2 prints them as ISO 8601 text, v1 as the number.
        BOOST_TEST(
            (run["tasks"][0]["createdAt"].is_number() || run["tasks"][0]["createdAt"].is_string()));
        auto described = cli.ok({"describe-tasks", "--tasks", arn, "missing-task"});
        BOOST_TEST(described["tasks"][0]["taskArn"] == arn);
        BOOST_TEST(described["failures"][0]["reason"] == "MISSING");
        cli.ok({"stop-task", "--task", arn, "--reason", "done"});
        // list-tasks defaults to desiredStatus RUNNING: the stopped one is gone from it.
        BOOST_TEST(cli.ok({"list-tasks"})["taskArns"].size() == 1U);
        BOOST_TEST(cli.ok({"list-tasks", "--desired-status", "STOPPED"})["taskArns"] ==
                   json::array({arn}));
        cli.fails({"stop-task", "--task", "0123456789abcdef0123456789abcdef"},
                  "InvalidParameterException");
        cli.fails({"run-task", "--task-definition", "web", "--launch-type", "FARGATE"},
                  "launchType");
    }
}

BOOST_AUTO_TEST_CASE(task_operations_without_an_engine_are_refused_clearly)
{
    Fixture f;
    const Cli cli{aws_clis().front(), f.endpoint};
    cli.ok({"register-task-definition", "--cli-input-json",
            write_file(f.dir.path(), "def.json", two_container_definition())});
    BOOST_TEST(cli.fails({"run-task", "--task-definition", "web"}, "ClientException")
                   .find("no task engine") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_oversized_body_is_cut_off_with_413)
{
    Fixture f(nullptr, 4096);
    Socket declared(f.server->port()); // refused from the Content-Length alone
    declared.send_all("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n");
    BOOST_TEST(declared.read_all().starts_with("HTTP/1.1 413"));
    Socket chunked(f.server->port()); // refused when the chunks pass the limit
    chunked.send_all("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 8; ++i)
        chunked.send_all("400\r\n" + std::string(1024, 'a') + "\r\n");
    const auto reply = chunked.read_all();
    BOOST_TEST(reply.starts_with("HTTP/1.1 413"), reply.substr(0, 80));
    BOOST_TEST(reply.find("exceeds the limit of 4096 bytes") != std::string::npos);
    // The server is still serving.
    const Cli cli{aws_clis().front(), f.endpoint};
    BOOST_TEST(cli.ok({"list-clusters"})["clusterArns"].size() == 1U);
}

BOOST_AUTO_TEST_CASE(a_slow_client_is_cut_off_without_stalling_another_request)
{
    Fixture f;
    Socket slow(f.server->port());
    slow.send_all("POST / HTTP/1.1\r\nHost: x\r\n"); // and never the rest
    Socket slow_body(f.server->port());
    slow_body.send_all("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
    const auto begin = std::chrono::steady_clock::now();
    const Cli cli{aws_clis().front(), f.endpoint};
    BOOST_TEST(cli.ok({"list-clusters"})["clusterArns"].size() == 1U);
    BOOST_TEST(slow.read_all(10).empty()); // closed by the header timeout, nothing answered
    BOOST_TEST(slow_body.read_all(10).empty());
    const auto waited = std::chrono::steady_clock::now() - begin;
    BOOST_TEST((waited < std::chrono::seconds(8))); // 1.5 s timeouts, not the read's 10 s
}

BOOST_AUTO_TEST_CASE(the_api_refuses_to_start_without_credentials)
{
    test::TempDir dir("berth-api-test");
    auto s = store::Store::open(dir.path() + "/state.db");
    BOOST_REQUIRE(s);
    api::Options options;
    options.port = 0;
    auto started = api::Server::start(options, std::move(*s), nullptr);
    BOOST_REQUIRE(!started);
    BOOST_TEST(started.error().message().find("BERTH_API_ACCESS_KEY_ID") != std::string::npos);
}

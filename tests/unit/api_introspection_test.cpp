// agent/api's introspection server (the ECS agent's 127.0.0.1:51678 API) over real HTTP on a free
// port, answering from a stand-in ControlPlane (berthd's engine implements the real one): the v1
// shapes, the taskarn and dockerid queries, GET only, the connection cap and a slow client.
#define BOOST_TEST_MODULE api_introspection
#include <boost/test/unit_test.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include "agent/api/api.hpp"
#include "tests/support/task_list_engine.hpp"
#include "base/fd.hpp"

using namespace berth;
using nlohmann::json;

namespace {

const std::string task_arn =
    "arn:aws:ecs:us-east-1:000000000000:task/default/0f6a3e5b9c2d4e1f8a7b6c5d4e3f2a1b";

class FixedEngine : public test::TaskListEngine {
public:
    FixedEngine()
    {
        store::Task t;
        t.arn = task_arn;
        t.cluster = "default";
        t.task_definition_arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:7";
        t.desired_status = "RUNNING";
        t.last_status = "RUNNING";
        store::Container web;
        web.name = "web";
        web.runtime_id = "0f6a3e5b9c2d4e1f8a7b6c5d4e3f2a1b-web";
        web.network_bindings =
            R"([{"bindIP":"0.0.0.0","containerPort":80,"hostPort":32768,"protocol":"tcp"}])";
        store::Container sidecar;
        sidecar.name = "sidecar";
        sidecar.network_bindings = "[]"; // not created yet: no runtime id
        t.containers = {web, sidecar};
        tasks.push_back(t);
        store::Task stopped = t;
        stopped.arn = "arn:aws:ecs:us-east-1:000000000000:task/default/99999999999999999999";
        stopped.last_status = "STOPPED";
        stopped.desired_status = "RUNNING"; // contradicts: left out, as the ECS agent does
        stopped.containers = {};
        tasks.push_back(stopped);
    }
};

struct Fixture {
    explicit Fixture(std::size_t max_connections = 64)
    {
        api::IntrospectionOptions options;
        options.port = 0;
        options.max_connections = max_connections;
        options.header_timeout = std::chrono::milliseconds(400);
        auto started = api::IntrospectionServer::start(
            options,
            {"default", "arn:aws:ecs:us-east-1:000000000000:container-instance/default/ci",
             "0.1.0"},
            engine);
        BOOST_REQUIRE_MESSAGE(started, (started ? "" : started.error().message()));
        server = std::move(*started);
    }
    FixedEngine engine;
    std::unique_ptr<api::IntrospectionServer> server;
};

Fd connect_to(std::uint16_t port)
{
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    timeval tv{5, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

std::string read_all(const Fd& fd)
{
    std::string out;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd.get(), buffer, sizeof buffer, 0)) > 0;)
        out.append(buffer, static_cast<std::size_t>(n));
    return out;
}

struct Reply {
    int status = 0;
    std::string body;
};

Reply request(std::uint16_t port, const std::string& method, const std::string& target)
{
    const Fd fd = connect_to(port);
    const std::string text =
        method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    (void)::send(fd.get(), text.data(), text.size(), MSG_NOSIGNAL);
    const auto raw = read_all(fd);
    Reply reply;
    if (raw.size() > 12)
        reply.status = std::stoi(raw.substr(9, 3));
    if (const auto end = raw.find("\r\n\r\n"); end != std::string::npos)
        reply.body = raw.substr(end + 4);
    return reply;
}

json get_json(std::uint16_t port, const std::string& target, int want = 200)
{
    const auto reply = request(port, "GET", target);
    BOOST_TEST(reply.status == want, target << ": " << reply.status << " " << reply.body);
    return json::parse(reply.body, nullptr, false);
}

} // namespace

BOOST_FIXTURE_TEST_CASE(metadata_names_the_cluster_instance_and_version, Fixture)
{
    const auto j = get_json(server->port(), "/v1/metadata");
    BOOST_TEST(j["Cluster"] == "default");
    BOOST_TEST(j["ContainerInstanceArn"] ==
               "arn:aws:ecs:us-east-1:000000000000:container-instance/default/ci");
    BOOST_TEST(j["Version"] == "berth 0.1.0");
}

BOOST_FIXTURE_TEST_CASE(tasks_lists_every_task_in_the_ecs_agent_shape, Fixture)
{
    const auto j = get_json(server->port(), "/v1/tasks");
    BOOST_TEST(engine.last_filter.cluster == "default");
    BOOST_TEST(engine.last_filter.desired_status.empty()); // every task, stopped ones too
    BOOST_REQUIRE(j["Tasks"].size() == 2u);
    const auto& t = j["Tasks"][0];
    BOOST_TEST(t["Arn"] == task_arn);
    BOOST_TEST(t["DesiredStatus"] == "RUNNING");
    BOOST_TEST(t["KnownStatus"] == "RUNNING");
    BOOST_TEST(t["Family"] == "web");
    BOOST_TEST(t["Version"] == "7");
    BOOST_REQUIRE(t["Containers"].size() == 2u);
    const auto& web = t["Containers"][0];
    BOOST_TEST(web["DockerId"] == "0f6a3e5b9c2d4e1f8a7b6c5d4e3f2a1b-web");
    BOOST_TEST(web["DockerName"] == "0f6a3e5b9c2d4e1f8a7b6c5d4e3f2a1b-web");
    BOOST_TEST(web["Name"] == "web");
    BOOST_TEST(web["Ports"][0]["ContainerPort"] == 80);
    BOOST_TEST(web["Ports"][0]["HostPort"] == 32768);
    BOOST_TEST(web["Ports"][0]["Protocol"] == "tcp");
    BOOST_TEST(web["Ports"][0]["HostIp"] == "0.0.0.0");
    BOOST_TEST(!t["Containers"][1].contains("Ports")); // omitted when empty, as ECS does
    BOOST_TEST(!j["Tasks"][1].contains("DesiredStatus"));
}

BOOST_FIXTURE_TEST_CASE(one_task_by_its_url_encoded_arn_or_by_docker_id, Fixture)
{
    std::string encoded;
    for (const char c : task_arn)
        encoded += c == ':'   ? std::string("%3A")
                   : c == '/' ? std::string("%2F")
                              : std::string(1, c);
    BOOST_TEST(get_json(server->port(), "/v1/tasks?taskarn=" + encoded)["Arn"] == task_arn);
    BOOST_TEST(get_json(server->port(), "/v1/tasks?taskarn=" + task_arn)["Arn"] == task_arn);
    BOOST_TEST(get_json(server->port(),
                        "/v1/tasks?dockerid=0f6a3e5b9c2d4e1f8a7b6c5d4e3f2a1b-web")["Arn"] ==
               task_arn);
    BOOST_TEST(get_json(server->port(), "/v1/tasks?dockerid=0f6a3e5b9c2d")["Arn"] == task_arn);
}

BOOST_FIXTURE_TEST_CASE(unknown_tasks_are_404_and_bad_queries_400, Fixture)
{
    const auto j = get_json(server->port(), "/v1/tasks?taskarn=arn:aws:ecs:x:1:task/nope", 404);
    BOOST_TEST(j["Arn"] == "");
    get_json(server->port(), "/v1/tasks?dockerid=nope", 404);
    get_json(server->port(), "/v1/tasks?dockerid=0f6a3e5b9c2d4e1f8a7b6c5d4e3f2a1b", 404);
    get_json(server->port(), "/v1/tasks?taskarn=a&dockerid=b", 400);
    get_json(server->port(), "/v1/tasks?taskarn=%zz", 400);
    // Empty: not a prefix of every id (the one task here would have matched).
    BOOST_TEST(
        get_json(server->port(), "/v1/tasks?dockerid=", 400).dump().find("dockerid is empty") !=
        std::string::npos);
    get_json(server->port(), "/v1/tasks?dockerid", 400);
    get_json(server->port(), "/v1/tasks?taskarn=", 400);
    get_json(server->port(), "/v2/metadata", 404);
}

BOOST_FIXTURE_TEST_CASE(only_get_is_served, Fixture)
{
    BOOST_TEST(request(server->port(), "POST", "/v1/tasks").status == 405);
    BOOST_TEST(request(server->port(), "DELETE", "/v1/metadata").status == 405);
}

BOOST_AUTO_TEST_CASE(connections_beyond_the_cap_are_closed_at_once)
{
    Fixture f(2);
    const Fd a = connect_to(f.server->port()), b = connect_to(f.server->port());
    ::usleep(100'000); // both accepted and waiting for a request
    const Fd c = connect_to(f.server->port());
    char byte = 0;
    BOOST_TEST(::recv(c.get(), &byte, 1, 0) == 0); // closed without an answer
    const std::string text = "GET /v1/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    (void)::send(a.get(), text.data(), text.size(), MSG_NOSIGNAL);
    BOOST_TEST(read_all(a).find("berth 0.1.0") != std::string::npos); // the held ones still work
}

BOOST_FIXTURE_TEST_CASE(a_slow_client_is_cut_off_without_stalling_another, Fixture)
{
    const Fd slow = connect_to(server->port());
    const std::string part = "GET /v1/metadata HTTP/1.1\r\nHo";
    (void)::send(slow.get(), part.data(), part.size(), MSG_NOSIGNAL);
    BOOST_TEST(get_json(server->port(), "/v1/metadata")["Cluster"] == "default");
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(read_all(slow).empty()); // closed by the header timeout (400 ms)
    BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(3)));
}

BOOST_AUTO_TEST_CASE(a_bad_address_or_a_taken_port_is_an_error)
{
    FixedEngine engine;
    api::IntrospectionOptions options;
    options.address = "not-an-ip";
    BOOST_TEST(!api::IntrospectionServer::start(options, {}, engine));
    Fixture f;
    options.address = "127.0.0.1";
    options.port = f.server->port();
    auto second = api::IntrospectionServer::start(options, {}, engine);
    BOOST_REQUIRE(!second);
    BOOST_TEST(second.error().code == EADDRINUSE);
}

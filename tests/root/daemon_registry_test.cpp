#define BOOST_TEST_MODULE daemon_registry
// berthd pulling from a private registry as an operator configures it, with nothing on the host
// but the test's own namespaces: a real docker-registry with basic auth on an address off
// loopback (so https unless berth.conf says otherwise), the hello image pushed there by skopeo.
// The registry keys come in through berth.conf and a reload (SIGHUP), as an operator changes
// them: BERTH_REGISTRY_PLAIN_HTTP, ECS_ENGINE_AUTH_TYPE/ECS_ENGINE_AUTH_DATA (the ECS agent's
// registry credentials) and BERTH_REGISTRY_MIRRORS. A task whose pull fails ends STOPPED naming
// why; with the keys set the same task runs.
#include "tests/root/daemon_support.hpp"
#include "tests/root/image_support.hpp"

using namespace berth;
using namespace berth::test;
using namespace berth::test::daemon;

namespace {

constexpr int port = 5011;
const std::string registry_host = off_loopback + ":" + std::to_string(port);
const std::string auth_data =
    R"({")" + registry_host + R"(": {"username": "alice", "password": "wonderland"}})";

std::string htpasswd_yaml(const std::string& dir)
{
    const auto file = dir + "/htpasswd";
    const auto o = run_command({"htpasswd", "-Bbn", "alice", "wonderland"});
    BOOST_TEST_REQUIRE(o.status == 0, o.err);
    std::ofstream(file) << o.out;
    return "  htpasswd:\n    realm: berth-test\n    path: " + file + "\n";
}

// A node whose berth.conf the test rewrites; reload() applies it as `systemctl reload` would.
struct RegistryNode {
    Node node;
    int reloads = 0;
    void configure(const std::string& conf)
    {
        std::ofstream(node.dir.path() + "/berth.conf") << conf;
        ::kill(node.berthd->pid(), SIGHUP);
        ++reloads;
        const auto applied = [&] {
            const auto log = node.berthd->err();
            int n = 0;
            for (auto at = log.find("configuration reloaded"); at != std::string::npos;
                 at = log.find("configuration reloaded", at + 1))
                ++n;
            return n == reloads;
        };
        BOOST_TEST_REQUIRE(eventually(applied, 100, 100ms), node.berthd->err());
    }
    // RunTask of a one-container hello task from image; the task as it settled.
    json run(const std::string& family, const std::string& image)
    {
        node.register_definition(hello_definition(family, image));
        const auto arn = node.run_task(family);
        json task;
        eventually(
            [&] {
                task = node.describe(arn);
                return task["lastStatus"] == "RUNNING" || task["lastStatus"] == "STOPPED";
            },
            120, 500ms);
        return task;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(berthd_registry, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(a_private_registry_is_reached_as_berth_conf_says_after_a_reload)
{
    RegistryNode n;
    add_off_loopback_address();
    const auto storage = n.node.dir.path() + "/registry";
    const Registry registry(storage, port, htpasswd_yaml(n.node.dir.path()), off_loopback);
    // The hello image Node loaded from its OCI archive, pushed with skopeo as hello:1.
    const auto archive = env_or("BERTH_TEST_HELLO_ARCHIVE", "/tmp/berth-daemon-test-hello.tar");
    const auto pushed = run_command({"skopeo", "--insecure-policy", "copy", "--quiet",
                                     "--dest-tls-verify=false", "--dest-creds", "alice:wonderland",
                                     "oci-archive:" + archive + ":berth.local/hello:latest",
                                     "docker://" + registry_host + "/hello:1"},
                                    scaled(120s));
    BOOST_TEST_REQUIRE(pushed.status == 0, pushed.err);
    const auto image = registry_host + "/hello:1";

    // Defaults: a registry off loopback is https, and this one speaks plain http.
    auto task = n.run("tls", image);
    BOOST_TEST_REQUIRE(task["lastStatus"] == "STOPPED", task.dump());
    const std::string tls_reason = task["containers"][0].value("reason", "");
    BOOST_TEST(tls_reason.find("CannotPullContainerError") == 0U, task.dump());
    BOOST_TEST(tls_reason.find(image) != std::string::npos, task.dump());

    // Plain http for it, no credentials: the registry's demand for them, named.
    n.configure("BERTH_REGISTRY_PLAIN_HTTP=[\"" + registry_host + "\"]\n");
    task = n.run("anonymous", image);
    BOOST_TEST_REQUIRE(task["lastStatus"] == "STOPPED", task.dump());
    BOOST_TEST(task["containers"][0].value("reason", "") ==
                   "CannotPullContainerError: pull " + image + ": GET http://" + registry_host +
                       "/v2/hello/manifests/1: registry " + registry_host +
                       " wants basic auth and no credentials are configured: Permission denied",
               task.dump());

    // The ECS agent's credentials keys: the pull authenticates and the task runs.
    n.configure("BERTH_REGISTRY_PLAIN_HTTP=[\"" + registry_host + "\"]\n" +
                "ECS_ENGINE_AUTH_TYPE=docker\nECS_ENGINE_AUTH_DATA=" + auth_data + "\n");
    task = n.run("private", image);
    BOOST_TEST_REQUIRE(task["lastStatus"] == "RUNNING", task.dump());
    BOOST_TEST(fetch(page_url(host_port(task))).status == 0);
    n.node.stop_task(task["taskArn"].get<std::string>());

    // A registry that does not exist, mirrored by this one: the mirror serves the image (with
    // its own credentials) and the origin is never needed.
    n.configure("BERTH_REGISTRY_PLAIN_HTTP=[\"" + registry_host + "\"]\n" +
                "ECS_ENGINE_AUTH_TYPE=docker\nECS_ENGINE_AUTH_DATA=" + auth_data + "\n" +
                "BERTH_REGISTRY_MIRRORS={\"registry.invalid\": [\"" + registry_host + "\"]}\n");
    task = n.run("mirrored", "registry.invalid/hello:1");
    BOOST_TEST_REQUIRE(task["lastStatus"] == "RUNNING", task.dump());
    const auto arn = task["taskArn"].get<std::string>();
    n.node.stop_task(arn);
    n.node.expect_nothing_left();

    // The secret is in no log line and no API answer.
    BOOST_TEST(n.node.berthd->err().find("wonderland") == std::string::npos);
    BOOST_TEST(n.node.ok({"describe-tasks", "--tasks", arn}).dump().find("wonderland") ==
               std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

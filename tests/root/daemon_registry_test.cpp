#define BOOST_TEST_MODULE daemon_registry
// berthd pulling from a private registry as an operator configures it, with nothing on the host
// but the test's own namespaces: a real docker-registry with basic auth on an address off
// loopback (so https unless berth.conf says otherwise), the hello image pushed there by skopeo.
// The registry keys come in through berth.conf and a reload (SIGHUP), as an operator changes
// them: BERTH_REGISTRY_PLAIN_HTTP, ECS_ENGINE_AUTH_TYPE/ECS_ENGINE_AUTH_DATA (the ECS agent's
// registry credentials) and BERTH_REGISTRY_MIRRORS. A task whose pull fails ends STOPPED naming
// why; with the keys set the same task runs. A reload with an unreadable CA file or malformed
// credentials is refused without a word of the credentials.
#include <sys/mount.h>
#include <map>
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

// A node whose berth.conf the test rewrites; configure() applies it as `systemctl reload`
// would and waits for berthd's answer: `outcome` ("configuration reloaded", "reload refused",
// "reload failed") logged once more. Every file names an empty Docker config.json, so nothing
// of the host's ~/.docker reaches these pulls.
struct RegistryNode {
    Node node;
    std::map<std::string, int> outcomes;
    void configure(const std::string& conf, const std::string& outcome = "configuration reloaded")
    {
        const auto none = node.dir.path() + "/no-docker-config.json";
        std::ofstream(none) << "{}";
        std::ofstream(node.dir.path() + "/berth.conf") << "BERTH_DOCKER_CONFIG=" << none << "\n"
                                                       << conf;
        ::kill(node.berthd->pid(), SIGHUP);
        const int want = ++outcomes[outcome];
        const auto logged = [&] {
            const auto log = node.berthd->err();
            int n = 0;
            for (auto at = log.find(outcome); at != std::string::npos;
                 at = log.find(outcome, at + 1))
                ++n;
            return n == want;
        };
        BOOST_TEST_REQUIRE(eventually(logged, 100, 100ms), node.berthd->err());
    }
    // RunTask of a one-container hello task from image; the task as it settled.
    json run(const std::string& family, const std::string& image)
    {
        node.register_definition(hello_definition(family, image));
        return settled(node, node.run_task(family), 120);
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
    // The hello image Node loaded from its OCI archive, pushed as hello:1 with its layers in
    // zstd: berthd's store has the image's snapshots (and its gzip blobs) from the load, so a
    // pull still fetches every layer blob (checked against the snapshots' diffIDs) from wherever
    // it pulls. skopeo keeps compressed layers as they are and remembers what a registry holds
    // (its blob-info cache, hidden here under a tmpfs), so the layers go out uncompressed first.
    const auto archive = env_or("BERTH_TEST_HELLO_ARCHIVE", "/tmp/berth-daemon-test-hello.tar");
    const auto plain_copy = n.node.dir.path() + "/hello-dir";
    const std::string cache = "/var/lib/containers/cache";
    fs::create_directories(cache);
    BOOST_TEST_REQUIRE(::mount("tmpfs", cache.c_str(), "tmpfs", 0, "mode=0700") == 0);
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"skopeo", "--insecure-policy", "copy", "--quiet", "--dest-decompress",
              "oci-archive:" + archive + ":berth.local/hello:latest", "dir:" + plain_copy},
             {"skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
              "--dest-creds", "alice:wonderland", "--dest-compress-format", "zstd",
              "dir:" + plain_copy, "docker://" + registry_host + "/hello:1"}}) {
        const auto pushed = run_command(argv, scaled(120s));
        BOOST_TEST_REQUIRE(pushed.status == 0, join_argv(argv) << ": " << pushed.err);
    }
    const auto image = registry_host + "/hello:1";

    // Defaults: a registry off loopback is spoken to over https, and this one is plain http.
    n.configure("");
    auto task = n.run("tls", image);
    BOOST_TEST_REQUIRE(task["lastStatus"] == "STOPPED", task.dump());
    const std::string tls_reason = task["containers"][0].value("reason", "");
    BOOST_TEST(tls_reason.find("CannotPullContainerError: pull " + image) == 0U, task.dump());
    BOOST_TEST(tls_reason.find("https://" + registry_host) != std::string::npos, task.dump());

    // Plain http for it, no credentials: the registry's demand for them, named.
    const auto plain = "BERTH_REGISTRY_PLAIN_HTTP=[\"" + registry_host + "\"]\n";
    n.configure(plain);
    task = n.run("anonymous", image);
    BOOST_TEST_REQUIRE(task["lastStatus"] == "STOPPED", task.dump());
    BOOST_TEST(task["containers"][0].value("reason", "") ==
                   "CannotPullContainerError: pull " + image + ": GET http://" + registry_host +
                       "/v2/hello/manifests/1: registry " + registry_host +
                       " wants basic auth and no credentials are configured: Permission denied",
               task.dump());

    // What start refuses, a reload refuses, and the configuration stays as it was: a CA file
    // that cannot be read, credentials that do not parse (their text never logged).
    n.configure(plain + "BERTH_REGISTRY_CA_FILE=/nonexistent/ca.pem\n", "reload failed");
    n.configure(plain + "ECS_ENGINE_AUTH_TYPE=docker\nECS_ENGINE_AUTH_DATA={\"r.lan\": "
                        "{\"password\": \"wonderland\"\n",
                "reload refused");

    // The ECS agent's credentials keys, and a registry that does not exist mirrored by this
    // one. The mirror serves the image, its zstd layer blobs included, with the credentials of
    // its own host; the origin is never needed.
    n.configure(plain + "ECS_ENGINE_AUTH_TYPE=docker\nECS_ENGINE_AUTH_DATA=" + auth_data + "\n" +
                "BERTH_REGISTRY_MIRRORS={\"registry.invalid\": [\"" + registry_host + "\"]}\n");
    task = n.run("mirrored", "registry.invalid/hello:1");
    BOOST_TEST_REQUIRE(task["lastStatus"] == "RUNNING", task.dump());
    const auto images = image::Store::open(n.node.state + "/images");
    BOOST_TEST_REQUIRE(images.has_value());
    const auto record = images->find("registry.invalid/hello:1");
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    for (const auto& layer : record->layers) // zstd's magic: the mirror's blobs, not the load's
        BOOST_TEST(berth::test::read_all(images->blob_path(layer)).substr(0, 4) ==
                       "\x28\xb5\x2f\xfd",
                   layer);
    BOOST_TEST(fetch(page_url(host_port(task))).status == 0);
    n.node.stop_task(task["taskArn"].get<std::string>());

    // The registry itself, with the same keys: plain http and the configured credentials.
    task = n.run("private", image);
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

#define BOOST_TEST_MODULE image_access
// Who serves a pull and who refuses it: registry mirrors tried before the origin (and skipped
// when they fail), a 403 from the token issuer reported as EPERM naming the image, and TLS: a
// registry off 127.0.0.0/8 is verified (ca_file) and spoken to in plain HTTP only when configured.
#include <chrono>
#include <fstream>
#include <thread>
#include <boost/test/unit_test.hpp>
#include "tests/root/image_support.hpp"
#include "tests/support/privileges.hpp"

using namespace berth;
using namespace berth::test;
namespace utf = boost::unit_test;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);

namespace {

// The origin on 5000 (behind a counting proxy on 5010) and a mirror on 5001, each its own storage.
struct Fixture {
    TempDir dir{"berth-image-access"};
    Registry origin{dir.path() + "/origin", 5000};
    Registry mirror{dir.path() + "/mirror", 5001};
    std::unique_ptr<Command> proxy = start_peer({"proxy", "5010", "5000", "count"});
    image::Store store = *image::Store::open(dir.path() + "/store");

    std::string push(const Registry& r, const std::string& repo, const std::string& content)
    {
        std::vector<Layer> layers{{TarBuilder().file("from", content).finish()}};
        return push_image(r, repo, "1", layers);
    }
    image::PullOptions with_mirrors(std::vector<std::string> hosts) const
    {
        auto o = quick_options();
        o.mirrors["127.0.0.1:5010"] = std::move(hosts);
        return o;
    }
    Result<image::ImageRecord> pull(const std::string& repo, const image::PullOptions& o)
    {
        return store.pull(*image::parse_reference("127.0.0.1:5010/" + repo + ":1"), o);
    }
    bool origin_was_asked() const { return proxy->out().find("GET /v2/") != std::string::npos; }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(mirrors, Fixture, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(a_mirror_that_has_the_image_serves_it_and_the_origin_is_not_asked)
{
    push(origin, "lib/app", "origin");
    const auto mirrored = push(mirror, "lib/app", "mirror");
    auto r = pull("lib/app", with_mirrors({mirror.host()}));
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    BOOST_TEST(r->reference == "127.0.0.1:5010/lib/app:1"); // named after the origin
    BOOST_TEST(r->manifest_digest == mirrored);
    BOOST_TEST(read_all(store.snapshot_path(r->chain[0]) + "/from") == "mirror");
    BOOST_TEST(!origin_was_asked(), proxy->out());
}

BOOST_AUTO_TEST_CASE(a_mirror_without_the_image_or_unreachable_falls_back_to_the_origin)
{
    const auto original = push(origin, "lib/only", "origin");
    auto r = pull("lib/only", with_mirrors({"127.0.0.1:5999", mirror.host()}));
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    BOOST_TEST(r->manifest_digest == original);
    BOOST_TEST(read_all(store.snapshot_path(r->chain[0]) + "/from") == "origin");
    BOOST_TEST(origin_was_asked());
}

BOOST_AUTO_TEST_CASE(when_every_endpoint_fails_the_error_names_the_origin_and_each_mirror)
{
    auto r = pull("lib/nowhere", with_mirrors({mirror.host()}));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == ENOENT);
    const auto m = r.error().message();
    BOOST_TEST(m.find("127.0.0.1:5010/lib/nowhere:1") != std::string::npos, m);
    BOOST_TEST(m.find("mirror " + mirror.host()) != std::string::npos, m);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(refusals, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(a_403_from_the_registry_is_eperm_naming_the_image_and_its_reason)
{
    TempDir dir("berth-image-403");
    const auto storage = dir.path() + "/registry";
    {
        Registry open(storage, 5000);
        std::vector<Layer> layers{{TarBuilder().file("x", "y").finish()}};
        push_image(open, "forbidden/app", "1", layers);
    }
    const auto key = dir.path() + "/key.pem", cert = dir.path() + "/cert.pem";
    auto o = run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                          key, "-out", cert, "-subj", "/CN=berth-test-issuer", "-days", "1"});
    BOOST_TEST_REQUIRE(o.status == 0, o.err);
    auto issuer = start_peer({"token", "5003", key, cert, "berth-test-issuer",
                              "berth-test-registry", "alice:wonderland"});
    Registry registry(storage, 5002,
                      "  token:\n    realm: http://127.0.0.1:5003/token\n"
                      "    service: berth-test-registry\n    issuer: berth-test-issuer\n"
                      "    rootcertbundle: " +
                          cert + "\n");
    auto store = image::Store::open(dir.path() + "/store");
    auto options = quick_options();
    options.credentials = image::Credentials{"alice", "wonderland", {}};
    auto r = store->pull(*image::parse_reference("127.0.0.1:5002/forbidden/app:1"), options);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == EPERM);
    const auto m = r.error().message();
    BOOST_TEST(m.find("127.0.0.1:5002/forbidden/app:1") != std::string::npos, m);
    BOOST_TEST(m.find("HTTP 403") != std::string::npos, m);
    BOOST_TEST(m.find("DENIED") != std::string::npos, m);
    BOOST_TEST(store->list()->empty());
    BOOST_TEST(list_dir(dir.path() + "/store/blobs/sha256").empty());
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// A docker-registry on off_loopback:port over storage; with TLS when cert and key are given.
std::unique_ptr<Command> start_registry(const std::string& dir, const std::string& storage,
                                        int port, const std::string& cert = {},
                                        const std::string& key = {})
{
    const auto config = dir + "/registry-" + std::to_string(port) + ".yml";
    const auto addr = off_loopback + ":" + std::to_string(port);
    std::ofstream(config)
        << "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        << "storage:\n  filesystem:\n    rootdirectory: " << storage << "\nhttp:\n  addr: " << addr
        << "\n"
        << (cert.empty() ? "" : "  tls:\n    certificate: " + cert + "\n    key: " + key + "\n");
    auto registry = std::make_unique<Command>(Command::start({"docker-registry", "serve", config}));
    const auto url = (cert.empty() ? "http://" : "https://") + addr + "/v2/";
    for (int i = 0; i < 100; ++i) {
        std::vector<std::string> curl{"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"};
        if (!cert.empty())
            curl.insert(curl.end(), {"--cacert", cert});
        curl.push_back(url);
        if (run_command(curl, std::chrono::seconds(5)).out == "200")
            return registry;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    BOOST_FAIL("docker-registry on " + addr + " did not come up: " + registry->err());
    return registry;
}

} // namespace

BOOST_AUTO_TEST_SUITE(tls, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(tls_is_verified_against_ca_file_and_plain_http_needs_the_registry_named)
{
    TempDir dir("berth-image-tls");
    const auto storage = dir.path() + "/registry";
    {
        Registry open(storage, 5000);
        std::vector<Layer> layers{{TarBuilder().file("over", "tls\n").finish()}};
        push_image(open, "secure/app", "1", layers);
    }
    add_off_loopback_address();
    const auto key = dir.path() + "/key.pem", cert = dir.path() + "/cert.pem";
    auto o = run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                          key, "-out", cert, "-subj", "/CN=" + off_loopback, "-addext",
                          "subjectAltName=IP:" + off_loopback, "-days", "1"});
    BOOST_TEST_REQUIRE(o.status == 0, o.err);
    auto with_tls = start_registry(dir.path(), storage, 5443, cert, key);
    auto plain = start_registry(dir.path(), storage, 5080);
    auto store = image::Store::open(dir.path() + "/store");
    BOOST_TEST_REQUIRE(store.has_value(), why(store));
    const auto pull = [&](const std::string& host, const image::PullOptions& options) {
        return store->pull(*image::parse_reference(host + "/secure/app:1"), options);
    };
    const auto tls_host = off_loopback + ":5443", plain_host = off_loopback + ":5080";

    auto untrusted = pull(tls_host, quick_options()); // a self-signed certificate
    BOOST_TEST_REQUIRE(!untrusted.has_value());
    BOOST_TEST(untrusted.error().code == EPROTO, why(untrusted));
    BOOST_TEST(untrusted.error().message().find(tls_host + "/secure/app:1") != std::string::npos,
               why(untrusted));
    BOOST_TEST(store->list()->empty());

    auto options = quick_options();
    options.ca_file = cert;
    auto trusted = pull(tls_host, options);
    BOOST_TEST_REQUIRE(trusted.has_value(), why(trusted));
    BOOST_TEST(read_all(store->snapshot_path(trusted->chain[0]) + "/over") == "tls\n");

    // https to a plain-HTTP registry fails (no silent downgrade) until the host is listed.
    auto refused = pull(plain_host, quick_options());
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error().message().find(plain_host + "/secure/app:1") != std::string::npos,
               why(refused));
    options = quick_options();
    options.plain_http = {plain_host};
    auto listed = pull(plain_host, options);
    BOOST_TEST(listed.has_value(), why(listed));
    // The list names a host with its port: the TLS registry on the same address stays verified.
    auto still_verified = pull(tls_host, options);
    BOOST_TEST_REQUIRE(!still_verified.has_value());
    BOOST_TEST(still_verified.error().code == EPROTO, why(still_verified));
}

BOOST_AUTO_TEST_SUITE_END()

#define BOOST_TEST_MODULE image_access
// Who serves a pull and who refuses it: registry mirrors tried before the origin (and skipped
// when they fail), and a 403 from the token issuer reported as EPERM naming the image.
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

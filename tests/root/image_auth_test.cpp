#define BOOST_TEST_MODULE image_auth
#include <sys/stat.h>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string_view>
#include <boost/test/unit_test.hpp>
#include "tests/root/image_support.hpp"
#include "tests/support/privileges.hpp"

using namespace berth;
using namespace berth::test;
namespace utf = boost::unit_test;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);

namespace {

// An image pushed to an anonymous registry; then the same storage served with auth.
struct Fixture {
    TempDir dir{"berth-image-auth"};
    std::string storage = dir.path() + "/registry";
    image::Store store = *image::Store::open(dir.path() + "/store");
    Fixture()
    {
        Registry open(storage, 5000);
        std::vector<Layer> layers{{TarBuilder().file("secret", "s3cret\n").finish()}};
        push_image(open, "private/app", "1", layers);
    }
    Result<image::ImageRecord> pull(int port, const image::PullOptions& options = quick_options())
    {
        return store.pull(
            *image::parse_reference("127.0.0.1:" + std::to_string(port) + "/private/app:1"),
            options);
    }
};

std::string htpasswd_yaml(const std::string& dir, const std::string& user = "alice",
                          const std::string& password = "wonderland")
{
    const auto file = dir + "/htpasswd";
    auto o = run_command({"htpasswd", "-Bbn", user, password});
    BOOST_TEST_REQUIRE(o.status == 0, o.err);
    std::ofstream(file) << o.out;
    return "  htpasswd:\n    realm: berth-test\n    path: " + file + "\n";
}

image::PullOptions with_creds(const std::string& user, const std::string& password)
{
    auto o = quick_options();
    o.credentials = image::Credentials{user, password, {}};
    return o;
}

std::string base64(std::string_view in)
{
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (const unsigned char c : in) {
        buffer = (buffer << 8) | c;
        for (bits += 8; bits >= 6; bits -= 6)
            out += alphabet[(buffer >> (bits - 6)) & 63];
    }
    if (bits > 0)
        out += alphabet[(buffer << (6 - bits)) & 63];
    out.append((4 - out.size() % 4) % 4, '=');
    return out;
}

// A stand-in for an ECR authorization token: 2048 characters of base64, all of them significant.
std::string ecr_token()
{
    return base64(random_bytes(1536, 15)); // 1536 bytes -> 2048 characters, no padding
}

// docker-credential-<name> in dir, speaking Docker's protocol as the real helpers do (the ECR
// helper is one; it cannot reach AWS here): `get` with server on stdin prints answer; anything
// else is "credentials not found" with exit status 1.
void write_helper(const std::string& dir, const std::string& name, const std::string& server,
                  const std::string& answer)
{
    const auto helper = dir + "/docker-credential-" + name;
    std::ofstream(helper) << "#!/bin/sh\nread server\n"
                             "if [ \"$1\" = get ] && [ \"$server\" = "
                          << server << " ]; then\n  echo '" << answer
                          << "'; exit 0\nfi\necho 'credentials not found in native keychain'; "
                             "exit 1\n";
    BOOST_TEST_REQUIRE(::chmod(helper.c_str(), 0755) == 0);
}

// dir first on PATH while in scope: helpers are found on PATH.
class PathFirst {
public:
    explicit PathFirst(const std::string& dir)
    {
        const char* old = std::getenv("PATH"); // NOLINT(concurrency-mt-unsafe): one thread
        old_ = old ? old : "/usr/sbin:/usr/bin:/sbin:/bin";
        ::setenv("PATH", (dir + ":" + old_).c_str(), 1); // NOLINT(concurrency-mt-unsafe)
    }
    ~PathFirst() { ::setenv("PATH", old_.c_str(), 1); } // NOLINT(concurrency-mt-unsafe)
    PathFirst(const PathFirst&) = delete;
    PathFirst& operator=(const PathFirst&) = delete;

private:
    std::string old_;
};

// A key and a self-signed certificate for the test's token issuer: {key, cert}.
std::pair<std::string, std::string> issuer_keys(const std::string& dir)
{
    const auto key = dir + "/key.pem", cert = dir + "/cert.pem";
    auto o = run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                          key, "-out", cert, "-subj", "/CN=berth-test-issuer", "-days", "1"});
    BOOST_TEST_REQUIRE(o.status == 0, o.err);
    return {key, cert};
}

// docker-registry's token auth trusting the issuer on realm_port.
std::string token_yaml(int realm_port, const std::string& cert)
{
    return "  token:\n    realm: http://127.0.0.1:" + std::to_string(realm_port) +
           "/token\n    service: berth-test-registry\n    issuer: berth-test-issuer\n"
           "    rootcertbundle: " +
           cert + "\n";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(auth, Fixture, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(basic_auth_pulls_with_the_right_password_and_is_eacces_otherwise)
{
    Registry registry(storage, 5001, htpasswd_yaml(dir.path()));
    auto anonymous = pull(5001);
    BOOST_TEST_REQUIRE(!anonymous.has_value());
    BOOST_TEST(anonymous.error().code == EACCES);
    BOOST_TEST(anonymous.error().message().find("127.0.0.1:5001/private/app:1") !=
               std::string::npos);
    auto wrong = pull(5001, with_creds("alice", "nope"));
    BOOST_TEST_REQUIRE(!wrong.has_value());
    BOOST_TEST(wrong.error().code == EACCES);
    BOOST_TEST(wrong.error().message().find("HTTP 401") != std::string::npos, why(wrong));
    auto ok = pull(5001, with_creds("alice", "wonderland"));
    BOOST_TEST_REQUIRE(ok.has_value(), why(ok));
    BOOST_TEST(read_all(store.snapshot_path(ok->chain[0]) + "/secret") == "s3cret\n");
}

BOOST_AUTO_TEST_CASE(credentials_come_from_a_docker_config_json)
{
    Registry registry(storage, 5001, htpasswd_yaml(dir.path()));
    const auto config = dir.path() + "/config.json";
    std::ofstream(config) << R"({"auths":{"127.0.0.1:5001":{"auth":"YWxpY2U6d29uZGVybGFuZA=="}}})";
    auto options = quick_options();
    options.docker_config = config;
    auto ok = pull(5001, options);
    BOOST_TEST(ok.has_value(), why(ok));
}

// The ECS agent's ECS_ENGINE_AUTH_DATA, as berthd passes it: an auths object consulted before
// the Docker config.json; a registry it does not name falls through to the config.json.
BOOST_AUTO_TEST_CASE(configured_auths_come_before_the_docker_config_json)
{
    Registry registry(storage, 5001, htpasswd_yaml(dir.path()));
    const auto config = dir.path() + "/config.json";
    std::ofstream(config) << R"({"auths":{"127.0.0.1:5001":{"auth":"YWxpY2U6bm9wZQ=="}}})"; // nope
    auto options = quick_options();
    options.docker_config = config;
    options.auths_json = R"({"127.0.0.1:5001":{"username":"alice","password":"wonderland"}})";
    auto ok = pull(5001, options);
    BOOST_TEST(ok.has_value(), why(ok));
    BOOST_TEST_REQUIRE(store.remove("127.0.0.1:5001/private/app:1").has_value());
    options.auths_json = R"({"other.lan":{"username":"alice","password":"wonderland"}})";
    auto from_file = pull(5001, options); // the config.json's wrong password
    BOOST_TEST_REQUIRE(!from_file.has_value());
    BOOST_TEST(from_file.error().message().find("HTTP 401") != std::string::npos, why(from_file));
    options.auths_json = R"({"127.0.0.1:5001":{"auth":"!!"}})";
    auto malformed = pull(5001, options);
    BOOST_TEST_REQUIRE(!malformed.has_value());
    BOOST_TEST(malformed.error().message().find("the configured registry credentials") !=
                   std::string::npos,
               why(malformed));
}

BOOST_AUTO_TEST_CASE(credentials_come_from_a_docker_credential_helper_as_docker_runs_it)
{
    Registry registry(storage, 5001, htpasswd_yaml(dir.path()));
    write_helper(dir.path(), "berthtest", "127.0.0.1:5001",
                 R"({"Username":"alice","Secret":"wonderland"})");
    const PathFirst path(dir.path());
    const auto config = dir.path() + "/config.json";
    std::ofstream(config) << R"({"credHelpers":{"127.0.0.1:5001":"berthtest"}})";
    auto options = quick_options();
    options.docker_config = config;
    auto ok = pull(5001, options);
    BOOST_TEST(ok.has_value(), why(ok));
    std::ofstream(config) << R"({"credsStore":"berthtest"})";
    auto from_store = pull(5001, options);
    BOOST_TEST(from_store.has_value(), why(from_store));
    std::ofstream(config) << R"({"credsStore":"missing-helper"})";
    auto missing = pull(5001, options);
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().message().find("docker-credential-missing-helper") !=
                   std::string::npos,
               why(missing));
    BOOST_TEST(missing.error().message().find("127.0.0.1:5001/private/app:1") != std::string::npos,
               why(missing));
}

// What `docker login` writes with a credential store: the marker {} in auths, the secret in the
// helper. Docker asks credHelpers[host], then credsStore, then auths, so the marker must not
// make the pull anonymous (it did: issue 15 audit G1).
BOOST_AUTO_TEST_CASE(an_empty_auths_marker_beside_a_creds_store_pulls_with_the_stores_secret)
{
    Registry registry(storage, 5001, htpasswd_yaml(dir.path()));
    write_helper(dir.path(), "berthtest", "127.0.0.1:5001",
                 R"({"Username":"alice","Secret":"wonderland"})");
    write_helper(dir.path(), "stale", "127.0.0.1:5001", R"({"Username":"alice","Secret":"old"})");
    write_helper(dir.path(), "empty", "no-such-server", "{}");
    const PathFirst path(dir.path());
    const auto config = dir.path() + "/config.json";
    auto options = quick_options();
    options.docker_config = config;
    std::ofstream(config) << R"({"auths":{"127.0.0.1:5001":{}},"credsStore":"berthtest"})";
    auto ok = pull(5001, options);
    BOOST_TEST_REQUIRE(ok.has_value(), why(ok));
    BOOST_TEST(read_all(store.snapshot_path(ok->chain[0]) + "/secret") == "s3cret\n");

    // The store's answer is what is sent: a stale secret there is refused, naming the image.
    std::ofstream(config) << R"({"auths":{"127.0.0.1:5001":{}},"credsStore":"stale"})";
    auto stale = pull(5001, options);
    BOOST_TEST_REQUIRE(!stale.has_value());
    BOOST_TEST(stale.error().code == EACCES);
    BOOST_TEST(stale.error().message().find("127.0.0.1:5001/private/app:1") != std::string::npos,
               why(stale));

    // credHelpers[host] comes before credsStore.
    std::ofstream(config) << R"({"auths":{"127.0.0.1:5001":{}},"credsStore":"stale",
                                 "credHelpers":{"127.0.0.1:5001":"berthtest"}})";
    auto helper_first = pull(5001, options);
    BOOST_TEST(helper_first.has_value(), why(helper_first));

    // A store with nothing for this host leaves a secret written into auths by hand.
    std::ofstream(config)
        << R"({"auths":{"127.0.0.1:5001":{"auth":"YWxpY2U6d29uZGVybGFuZA=="}},"credsStore":"empty"})";
    auto from_auths = pull(5001, options);
    BOOST_TEST(from_auths.has_value(), why(from_auths));
}

BOOST_AUTO_TEST_CASE(bearer_tokens_come_from_the_challenge_realm_with_the_pull_scope)
{
    const auto [key, cert] = issuer_keys(dir.path());
    auto issuer = start_peer({"token", "5003", key, cert, "berth-test-issuer",
                              "berth-test-registry", "alice:wonderland"});
    Registry registry(storage, 5002, token_yaml(5003, cert));
    auto denied = pull(5002, with_creds("alice", "wrong"));
    BOOST_TEST_REQUIRE(!denied.has_value());
    BOOST_TEST(denied.error().code == EACCES);
    BOOST_TEST(denied.error().message().find("bearer token") != std::string::npos, why(denied));
    auto ok = pull(5002, with_creds("alice", "wonderland"));
    BOOST_TEST_REQUIRE(ok.has_value(), why(ok));
    BOOST_TEST(read_all(store.snapshot_path(ok->chain[0]) + "/secret") == "s3cret\n");
}

// Registries on object storage answer a blob GET with a redirect: the pull follows it, and
// the registry's credentials (a bearer token, basic auth) never go to where it points.
BOOST_AUTO_TEST_CASE(a_blob_redirect_is_followed_without_the_registry_credentials)
{
    const auto [key, cert] = issuer_keys(dir.path());
    auto issuer = start_peer({"token", "5003", key, cert, "berth-test-issuer",
                              "berth-test-registry", "alice:wonderland"});
    {
        Registry registry(storage, 5002, token_yaml(5003, cert));
        auto proxy = start_peer({"proxy", "5016", "5002", "redirect", storage, "5017"});
        auto ok = pull(5016, with_creds("alice", "wonderland"));
        BOOST_TEST_REQUIRE(ok.has_value(), why(ok));
        BOOST_TEST(read_all(store.snapshot_path(ok->chain[0]) + "/secret") == "s3cret\n");
        const auto log = proxy->out();
        BOOST_TEST(log.find("storage GET") != std::string::npos, log);
        BOOST_TEST(log.find("authorization=yes") == std::string::npos, log);
    }
    BOOST_TEST_REQUIRE(store.remove("127.0.0.1:5016/private/app:1").has_value());
    BOOST_TEST_REQUIRE(store.gc().has_value());
    Registry registry(storage, 5001, htpasswd_yaml(dir.path()));
    auto proxy = start_peer({"proxy", "5018", "5001", "redirect", storage, "5019"});
    auto ok = pull(5018, with_creds("alice", "wonderland"));
    BOOST_TEST_REQUIRE(ok.has_value(), why(ok));
    const auto log = proxy->out();
    BOOST_TEST(log.find("storage GET") != std::string::npos, log);
    BOOST_TEST(log.find("authorization=yes") == std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(a_token_that_expires_mid_pull_is_renewed_and_the_pull_completes)
{
    const auto [key, cert] = issuer_keys(dir.path());
    { // layers large enough that the slow proxy takes well over the token's life
        Registry open(storage, 5000);
        std::vector<Layer> layers;
        layers.reserve(3);
        for (int i = 0; i < 3; ++i)
            layers.emplace_back(
                TarBuilder().file("f" + std::to_string(i), random_bytes(400 << 10, i)).finish());
        push_image(open, "private/slow", "1", layers);
    }
    auto issuer = start_peer({"token", "5005", key, cert, "berth-test-issuer",
                              "berth-test-registry", "alice:wonderland", "2"});
    Registry registry(storage, 5004, token_yaml(5005, cert));
    auto proxy = start_peer({"proxy", "5006", "5004", "slow"});
    auto options = with_creds("alice", "wonderland");
    options.parallel_layers = 1;
    const auto started = std::chrono::steady_clock::now();
    auto pulled = store.pull(*image::parse_reference("127.0.0.1:5006/private/slow:1"), options);
    BOOST_TEST_REQUIRE(pulled.has_value(), why(pulled));
    const auto took = std::chrono::steady_clock::now() - started;
    BOOST_TEST((took > std::chrono::seconds(3))); // longer than the token lives
    const auto log = issuer->out();
    std::size_t issued = 0;
    for (auto at = log.find("issued"); at != std::string::npos; at = log.find("issued", at + 1))
        ++issued;
    BOOST_TEST(issued >= 2u, log); // the first token, then one after it expired mid-pull
    BOOST_TEST(proxy->out().find("HTTP") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_identity_token_gets_bearer_tokens_by_the_oauth2_refresh_token_grant)
{
    const auto [key, cert] = issuer_keys(dir.path());
    auto issuer = start_peer({"token", "5008", key, cert, "berth-test-issuer",
                              "berth-test-registry", "alice:wonderland", "600", "refresh-42"});
    Registry registry(storage, 5007, token_yaml(5008, cert));
    // As `docker login` leaves it for an OAuth2 token server: no password, an identity token.
    const auto config = dir.path() + "/config.json";
    auto options = quick_options();
    options.docker_config = config;
    std::ofstream(config)
        << R"({"auths":{"127.0.0.1:5007":{"auth":"YWxpY2U6","identitytoken":"refresh-42"}}})";
    auto ok = pull(5007, options);
    BOOST_TEST_REQUIRE(ok.has_value(), why(ok));
    BOOST_TEST(read_all(store.snapshot_path(ok->chain[0]) + "/secret") == "s3cret\n");
    BOOST_TEST(issuer->out().find("issued post") != std::string::npos, issuer->out());

    std::ofstream(config)
        << R"({"auths":{"127.0.0.1:5007":{"auth":"YWxpY2U6","identitytoken":"stale"}}})";
    auto refused = pull(5007, options);
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error().code == EACCES);
    BOOST_TEST(refused.error().message().find("bearer token") != std::string::npos, why(refused));
}

BOOST_AUTO_TEST_CASE(a_token_server_without_the_oauth2_post_gets_the_identity_token_by_get)
{
    const auto [key, cert] = issuer_keys(dir.path());
    auto issuer =
        start_peer({"token", "5010", key, cert, "berth-test-issuer", "berth-test-registry",
                    "alice:wonderland", "600", "refresh-42", "nopost"});
    Registry registry(storage, 5009, token_yaml(5010, cert));
    auto options = quick_options();
    options.credentials = image::Credentials{"alice", "", "refresh-42"};
    auto ok = pull(5009, options);
    BOOST_TEST_REQUIRE(ok.has_value(), why(ok));
    const auto log = issuer->out();
    BOOST_TEST(log.find("issued") != std::string::npos, log);
    BOOST_TEST(log.find("issued post") == std::string::npos, log); // the POST got 404
}

// The refresh token is a long-lived secret: the POST carrying it follows no redirect (a 307/308
// would resend the body to wherever it points, maybe another host over plain http).
BOOST_AUTO_TEST_CASE(the_refresh_token_post_follows_no_redirect)
{
    const auto [key, cert] = issuer_keys(dir.path());
    auto issuer =
        start_peer({"token", "5015", key, cert, "berth-test-issuer", "berth-test-registry",
                    "alice:wonderland", "600", "refresh-42", "redirect"});
    Registry registry(storage, 5014, token_yaml(5015, cert));
    auto options = quick_options();
    options.credentials = image::Credentials{"alice", "", "refresh-42"};
    auto refused = pull(5014, options);
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error().message().find("307") != std::string::npos, why(refused));
    BOOST_TEST(issuer->out().find("issued post") == std::string::npos, issuer->out());
}

// ECR's shape (what `aws ecr get-login-password` and the ECR credential helper give): user AWS
// and a token of about 2 KB, base64 of a signed JSON document. The token must reach the
// registry whole, from an auths entry and from a helper.
BOOST_AUTO_TEST_CASE(an_ecr_style_aws_user_with_a_two_kilobyte_token_pulls_from_auths_and_a_helper)
{
    const auto token = ecr_token();
    BOOST_TEST_REQUIRE(token.size() == 2048u);
    // htpasswd refuses passwords over 256 bytes, and bcrypt (the only hash docker-registry's
    // htpasswd accepts) reads only the first 72 bytes of a password: the registry checks those.
    Registry registry(storage, 5016, htpasswd_yaml(dir.path(), "AWS", token.substr(0, 72)));
    const auto config = dir.path() + "/config.json";
    auto options = quick_options();
    options.docker_config = config;
    std::ofstream(config) << R"({"auths":{"127.0.0.1:5016":{"auth":")" << base64("AWS:" + token)
                          << R"("}}})";
    auto from_auths = pull(5016, options);
    BOOST_TEST_REQUIRE(from_auths.has_value(), why(from_auths));
    BOOST_TEST(read_all(store.snapshot_path(from_auths->chain[0]) + "/secret") == "s3cret\n");

    write_helper(dir.path(), "ecr-login", "127.0.0.1:5016",
                 R"({"Username":"AWS","Secret":")" + token + R"("})");
    const PathFirst path(dir.path());
    std::ofstream(config) << R"({"auths":{"127.0.0.1:5016":{}},"credsStore":"ecr-login"})";
    auto from_helper = pull(5016, options);
    BOOST_TEST(from_helper.has_value(), why(from_helper));

    // All 2048 bytes: a token server that compares the whole Basic credential (bcrypt cannot).
    const auto [key, cert] = issuer_keys(dir.path());
    auto issuer = start_peer(
        {"token", "5018", key, cert, "berth-test-issuer", "berth-test-registry", "AWS:" + token});
    Registry with_tokens(storage, 5017, token_yaml(5018, cert));
    write_helper(dir.path(), "ecr-login", "127.0.0.1:5017",
                 R"({"Username":"AWS","Secret":")" + token + R"("})");
    std::ofstream(config) << R"({"credHelpers":{"127.0.0.1:5017":"ecr-login"}})";
    auto whole = pull(5017, options);
    BOOST_TEST(whole.has_value(), why(whole));
    BOOST_TEST(issuer->out().find("issued") != std::string::npos, issuer->out());
    // One byte changed at the end is refused: nothing cut the token short.
    const auto altered_token = token.substr(0, 2047) + (token.back() == 'A' ? 'B' : 'A');
    write_helper(dir.path(), "ecr-login", "127.0.0.1:5017",
                 R"({"Username":"AWS","Secret":")" + altered_token + R"("})");
    auto altered = pull(5017, options);
    BOOST_TEST_REQUIRE(!altered.has_value());
    BOOST_TEST(altered.error().code == EACCES);
}

BOOST_AUTO_TEST_SUITE_END()

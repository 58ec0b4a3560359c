#define BOOST_TEST_MODULE image_manifest
#include <boost/test/unit_test.hpp>
#include "image/internal.hpp"

using namespace berth::image;

namespace {
std::string d(char c)
{
    return "sha256:" + std::string(64, c);
}
const std::string oci_manifest_json = R"({"schemaVersion":2,
  "mediaType":"application/vnd.oci.image.manifest.v1+json",
  "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                                      d('c') + R"(","size":7},
  "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                                      d('1') + R"(","size":100},
            {"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":")" +
                                      d('2') + R"(","size":200}]})";
std::string index_of(const std::string& entries)
{
    return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[)" +
           entries + "]}";
}
std::string entry(char c, const char* arch, const char* variant)
{
    return R"({"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":")" +
           d(c) + R"(","size":1,"platform":{"os":"linux","architecture":")" + arch +
           R"(","variant":")" + variant + R"("}})";
}
} // namespace

BOOST_AUTO_TEST_SUITE(manifests)

BOOST_AUTO_TEST_CASE(an_oci_manifest_lists_config_and_layers)
{
    auto m = parse_manifest(oci_manifest_json);
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->config.digest == d('c'));
    BOOST_TEST(m->layers.size() == 2u);
    BOOST_TEST(m->layers[1].size == 200u);
}

BOOST_AUTO_TEST_CASE(an_unknown_layer_media_type_is_refused_by_name)
{
    auto text = oci_manifest_json;
    text.replace(text.find("tar+zstd"), 8, "tar+lz4");
    auto m = parse_manifest(text);
    BOOST_TEST_REQUIRE(!m.has_value());
    BOOST_TEST(m.error().message().find("tar+lz4") != std::string::npos);
    BOOST_TEST(m.error().message().find(d('2')) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_bad_digest_or_negative_size_is_refused)
{
    auto text = oci_manifest_json;
    text.replace(text.find(d('1')), 71, "sha256:xyz");
    BOOST_TEST(!parse_manifest(text).has_value());
    auto neg = oci_manifest_json;
    neg.replace(neg.find("\"size\":100"), 10, "\"size\":-1");
    BOOST_TEST(!parse_manifest(neg).has_value());
    BOOST_TEST(!parse_manifest("[1,2]").has_value());
    BOOST_TEST(!parse_manifest("{").has_value());
}

BOOST_AUTO_TEST_CASE(an_index_picks_the_host_variant_first)
{
    auto index = parse_index(index_of(entry('a', "amd64", "") + "," + entry('b', "arm64", "v8") +
                                      "," + entry('e', "arm", "v7")));
    BOOST_TEST_REQUIRE(index.has_value());
    auto arm = select_platform(*index, {"linux", "arm64", "v8"});
    BOOST_TEST_REQUIRE(arm.has_value());
    BOOST_TEST(arm->digest == d('b'));
    auto amd = select_platform(*index, {"linux", "amd64", ""});
    BOOST_TEST_REQUIRE(amd.has_value());
    BOOST_TEST(amd->digest == d('a'));
}

BOOST_AUTO_TEST_CASE(no_matching_platform_is_enoent_listing_what_there_is)
{
    auto index = parse_index(index_of(entry('a', "amd64", "")));
    BOOST_TEST_REQUIRE(index.has_value());
    auto s = select_platform(*index, {"linux", "s390x", ""});
    BOOST_TEST_REQUIRE(!s.has_value());
    BOOST_TEST(s.error().code == ENOENT);
    BOOST_TEST(s.error().message().find("linux/amd64") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_config_gives_diff_ids_and_chain_ids)
{
    auto c = parse_image_config(
        R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" + d('1') +
        "\",\"" + d('2') + "\"]}}");
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->diff_ids.size() == 2u);
    auto chain = chain_ids(c->diff_ids);
    BOOST_TEST(chain[0] == d('1'));
    BOOST_TEST(chain[1] != d('2'));
    BOOST_TEST(is_valid_digest(chain[1]));
    // Pinned (the OCI definition: sha256 of "<chain[0]> <diff_id[1]>", by Python's hashlib): a
    // change of hash backend or separator would orphan every stored snapshot.
    BOOST_TEST(chain[1] ==
               "sha256:9932074217c35353d2e03a3f5a86549f7c67bfeb0ba53e23d69f4d4c8f7958f5");
}

BOOST_AUTO_TEST_CASE(the_host_platform_is_linux_amd64_here)
{
    BOOST_TEST(host_platform().os == "linux");
    auto p = parse_platform("linux/arm64/v8");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->variant == "v8");
    BOOST_TEST(!parse_platform("linux").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(auth)

BOOST_AUTO_TEST_CASE(docker_hub_bearer_challenge_gives_realm_service_and_scope)
{
    auto c = parse_www_authenticate(
        R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->scheme == "bearer");
    BOOST_TEST(c->realm == "https://auth.docker.io/token");
    BOOST_TEST(c->service == "registry.docker.io");
    BOOST_TEST(c->scope == "repository:library/busybox:pull");
}

BOOST_AUTO_TEST_CASE(basic_challenge_and_escapes_parse)
{
    auto c = parse_www_authenticate(R"(Basic realm="a \"quoted\" realm")");
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->scheme == "basic");
    BOOST_TEST(c->realm == "a \"quoted\" realm");
}

BOOST_AUTO_TEST_CASE(malformed_challenges_are_refused)
{
    BOOST_TEST(!parse_www_authenticate("").has_value());
    BOOST_TEST(!parse_www_authenticate(R"(Bearer realm="unterminated)").has_value());
    BOOST_TEST(!parse_www_authenticate("Bearer service=x").has_value());
}

BOOST_AUTO_TEST_CASE(config_json_auths_match_by_host_and_hub_aliases)
{
    const auto config = R"({"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"},
                               "127.0.0.1:5000":{"auth":"QVdTOnRva2Vu"}}})"; // user:pass, AWS:token
    auto hub = credentials_from_config(config, "docker.io");
    BOOST_TEST_REQUIRE(hub.has_value());
    BOOST_TEST_REQUIRE(hub->has_value());
    BOOST_TEST((*hub)->username == "user");
    BOOST_TEST((*hub)->password == "pass");
    auto local = credentials_from_config(config, "127.0.0.1:5000");
    BOOST_TEST_REQUIRE(local.has_value());
    BOOST_TEST_REQUIRE(local->has_value());
    BOOST_TEST((*local)->username == "AWS");
    BOOST_TEST((*local)->password == "token");
    auto none = credentials_from_config(config, "quay.io");
    BOOST_TEST_REQUIRE(none.has_value());
    BOOST_TEST(!none->has_value());
    BOOST_TEST(!credentials_from_config(R"({"auths":{"x":{"auth":"!!"}}})", "x").has_value());
}

// `docker login` with a credential store writes {} (or an empty auth) to auths and the secret to
// the helper: such a marker is no credentials, so pull.cpp asks the helper instead.
BOOST_AUTO_TEST_CASE(an_auths_entry_without_a_secret_gives_no_credentials)
{
    for (const auto* config : {R"({"auths":{"127.0.0.1:5000":{}},"credsStore":"desktop"})",
                               R"({"auths":{"127.0.0.1:5000":{"auth":""}}})",
                               R"({"auths":{"127.0.0.1:5000":{"email":"a@b.c"}}})"}) {
        auto creds = credentials_from_config(config, "127.0.0.1:5000");
        BOOST_TEST_REQUIRE(creds.has_value(), config);
        BOOST_TEST(!creds->has_value(), config);
    }
    // A marker under one key does not hide a secret under another key for the same host.
    auto hub = credentials_from_config(
        R"({"auths":{"docker.io":{},"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"}}})",
        "docker.io");
    BOOST_TEST_REQUIRE(hub.has_value());
    BOOST_TEST_REQUIRE(hub->has_value());
    BOOST_TEST((*hub)->password == "pass");
    // The username/password fields count as a secret when there is no auth.
    auto fields = credentials_from_config(
        R"({"auths":{"127.0.0.1:5000":{"username":"alice","password":"wonderland"}}})",
        "127.0.0.1:5000");
    BOOST_TEST_REQUIRE(fields.has_value());
    BOOST_TEST_REQUIRE(fields->has_value());
    BOOST_TEST((*fields)->username == "alice");
    BOOST_TEST((*fields)->password == "wonderland");
}

// Docker keys Docker Hub by https://index.docker.io/v1/ in both auths and credHelpers; people
// write index.docker.io or docker.io by hand. Every spelling names the one registry.
BOOST_AUTO_TEST_CASE(cred_helpers_keys_match_like_auths_keys)
{
    for (const auto* key :
         {"docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"}) {
        const auto config = std::string(R"({"credHelpers":{")") + key + R"(":"hub"}})";
        BOOST_TEST(credential_helper_for(config, "docker.io").value_or("") == "hub", key);
        BOOST_TEST(!credential_helper_for(config, "quay.io").has_value(), key);
    }
    const auto config =
        R"({"credHelpers":{"https://123.dkr.ecr.eu-west-1.amazonaws.com":"ecr-login",
                           "quay.io":"quay"},"credsStore":"desktop"})";
    BOOST_TEST(credential_helper_for(config, "123.dkr.ecr.eu-west-1.amazonaws.com").value_or("") ==
               "ecr-login");
    BOOST_TEST(credential_helper_for(config, "quay.io").value_or("") == "quay");
    // No helper for this host: the credsStore; neither: none.
    BOOST_TEST(credential_helper_for(config, "ghcr.io").value_or("") == "desktop");
    BOOST_TEST(!credential_helper_for(R"({"credHelpers":{"quay.io":"quay"}})", "ghcr.io"));
    // A key that only starts like the host is another registry.
    BOOST_TEST(!credential_helper_for(R"({"credHelpers":{"quay.io.evil":"x"}})", "quay.io"));
    BOOST_TEST(!credential_helper_for(R"({"credHelpers":{"docker.io":"x"}})", "docker.io.evil"));
    BOOST_TEST(!credential_helper_for("not json", "docker.io"));
}

BOOST_AUTO_TEST_SUITE_END()

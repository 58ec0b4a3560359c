// SigV4: the AWS Signature Version 4 test suite (aws-sig-v4-test-suite: credentials AKIDEXAMPLE,
// 20150830T123600Z, us-east-1, service "service") and the verifier's refusals.
#define BOOST_TEST_MODULE api_sigv4
#include <boost/test/unit_test.hpp>
#include "agent/api/internal.hpp"

using namespace berth::api;
using namespace berth::api::sigv4;

namespace {

constexpr const char* secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* amz_date = "20150830T123600Z";

Authorization suite_auth(std::vector<std::string> signed_headers)
{
    return Authorization{
        "AKIDEXAMPLE", "20150830", "us-east-1", "service", std::move(signed_headers), ""};
}

Request suite_request(std::string method, std::string target,
                      std::vector<std::pair<std::string, std::string>> extra = {})
{
    Request r{std::move(method),
              std::move(target),
              {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", amz_date}},
              ""};
    for (auto& h : extra)
        r.headers.push_back(std::move(h));
    return r;
}

std::chrono::system_clock::time_point suite_now()
{
    return std::chrono::system_clock::from_time_t(1440938160); // 2015-08-30T12:36:00Z
}

Verifier suite_verifier()
{
    return Verifier{"AKIDEXAMPLE", secret, "us-east-1", "service"};
}

Request signed_post(std::string body = "")
{
    auto request = suite_request("POST", "/");
    request.body = std::move(body);
    const auto auth = suite_auth({"host", "x-amz-date"});
    request.headers.emplace_back(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" +
            sign(request, auth, secret, amz_date));
    return request;
}

} // namespace

BOOST_AUTO_TEST_SUITE(test_suite_vectors)

BOOST_AUTO_TEST_CASE(get_vanilla_matches_the_published_signature)
{
    const auto r = suite_request("GET", "/");
    BOOST_TEST(sign(r, suite_auth({"host", "x-amz-date"}), secret, amz_date) ==
               "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

BOOST_AUTO_TEST_CASE(post_vanilla_matches_the_published_canonical_request_and_signature)
{
    const auto r = suite_request("POST", "/");
    BOOST_TEST(canonical_request(r, {"host", "x-amz-date"}, sha256_hex("")) ==
               "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
               "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    BOOST_TEST(sign(r, suite_auth({"host", "x-amz-date"}), secret, amz_date) ==
               "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

BOOST_AUTO_TEST_CASE(query_parameters_are_sorted_by_key)
{
    const auto r = suite_request("GET", "/?Param2=value2&Param1=value1");
    BOOST_TEST(sign(r, suite_auth({"host", "x-amz-date"}), secret, amz_date) ==
               "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

BOOST_AUTO_TEST_CASE(header_values_keep_their_case)
{
    const auto r = suite_request("POST", "/", {{"My-Header1", "VALUE1"}});
    BOOST_TEST(sign(r, suite_auth({"host", "my-header1", "x-amz-date"}), secret, amz_date) ==
               "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d");
}

BOOST_AUTO_TEST_CASE(header_values_are_trimmed_and_inner_spaces_collapsed)
{
    const auto r =
        suite_request("GET", "/", {{"My-Header1", " value1"}, {"My-Header2", "\"a   b   c\""}});
    BOOST_TEST(
        sign(r, suite_auth({"host", "my-header1", "my-header2", "x-amz-date"}), secret, amz_date) ==
        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

BOOST_AUTO_TEST_CASE(unreserved_path_characters_are_not_encoded)
{
    const auto r =
        suite_request("GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    BOOST_TEST(sign(r, suite_auth({"host", "x-amz-date"}), secret, amz_date) ==
               "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(verification)

BOOST_AUTO_TEST_CASE(a_correctly_signed_request_is_accepted)
{
    BOOST_TEST(!verify(signed_post("{}"), suite_verifier(), suite_now()).has_value());
}

BOOST_AUTO_TEST_CASE(an_unsigned_request_is_refused_as_missing_authentication)
{
    const auto error = verify(suite_request("POST", "/"), suite_verifier(), suite_now());
    BOOST_REQUIRE(error);
    BOOST_TEST(error->type == "MissingAuthenticationTokenException");
}

BOOST_AUTO_TEST_CASE(a_request_signed_with_another_secret_is_refused)
{
    auto verifier = suite_verifier();
    verifier.secret_access_key = "another-secret";
    const auto error = verify(signed_post(), verifier, suite_now());
    BOOST_REQUIRE(error);
    BOOST_TEST(error->type == "InvalidSignatureException");
    BOOST_TEST(error->message.find("does not match") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unknown_access_key_is_an_unrecognized_client)
{
    auto verifier = suite_verifier();
    verifier.access_key_id = "AKIDOTHER";
    const auto error = verify(signed_post(), verifier, suite_now());
    BOOST_REQUIRE(error);
    BOOST_TEST(error->type == "UnrecognizedClientException");
}

BOOST_AUTO_TEST_CASE(a_body_changed_after_signing_is_refused)
{
    auto request = signed_post("{\"family\":\"a\"}");
    request.body = "{\"family\":\"b\"}";
    const auto error = verify(request, suite_verifier(), suite_now());
    BOOST_REQUIRE(error);
    BOOST_TEST(error->type == "InvalidSignatureException");
}

BOOST_AUTO_TEST_CASE(a_content_hash_header_that_does_not_match_the_body_is_refused)
{
    auto request = signed_post("{}");
    request.headers.emplace_back("X-Amz-Content-Sha256", sha256_hex("other"));
    const auto error = verify(request, suite_verifier(), suite_now());
    BOOST_REQUIRE(error);
    BOOST_TEST(error->message.find("x-amz-content-sha256") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_request_older_than_fifteen_minutes_is_refused_as_expired)
{
    const auto error =
        verify(signed_post(), suite_verifier(), suite_now() + std::chrono::minutes(16));
    BOOST_REQUIRE(error);
    BOOST_TEST(error->type == "InvalidSignatureException");
    BOOST_TEST(error->message.find("Signature expired: 20150830T123600Z") == 0);
    BOOST_TEST(!verify(signed_post(), suite_verifier(), suite_now() + std::chrono::minutes(14)));
}

BOOST_AUTO_TEST_CASE(a_request_dated_in_the_future_is_refused)
{
    const auto error =
        verify(signed_post(), suite_verifier(), suite_now() - std::chrono::minutes(16));
    BOOST_REQUIRE(error);
    BOOST_TEST(error->message.find("Signature not yet current") == 0);
}

BOOST_AUTO_TEST_CASE(a_credential_scoped_to_another_region_is_refused)
{
    auto verifier = suite_verifier();
    verifier.region = "eu-west-1";
    const auto error = verify(signed_post(), verifier, suite_now());
    BOOST_REQUIRE(error);
    BOOST_TEST(error->message.find("region") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_signature_that_leaves_the_date_unsigned_is_refused)
{
    auto request = suite_request("POST", "/");
    request.headers.emplace_back(
        "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                         "aws4_request, SignedHeaders=host, Signature=" +
                             sign(request, suite_auth({"host"}), secret, amz_date));
    const auto error = verify(request, suite_verifier(), suite_now());
    BOOST_REQUIRE(error);
    BOOST_TEST(error->type == "IncompleteSignatureException");
    BOOST_TEST(error->message.find("x-amz-date") != std::string::npos);
}

// The operation must be signed: otherwise a captured read could be replayed as a write.
BOOST_AUTO_TEST_CASE(an_operation_header_left_out_of_the_signature_is_refused)
{
    auto request = suite_request(
        "POST", "/",
        {{"X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DeregisterTaskDefinition"}});
    request.headers.emplace_back(
        "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                         "aws4_request, SignedHeaders=host;x-amz-date, Signature=" +
                             sign(request, suite_auth({"host", "x-amz-date"}), secret, amz_date));
    const auto error = verify(request, suite_verifier(), suite_now());
    BOOST_REQUIRE(error);
    BOOST_TEST(error->type == "IncompleteSignatureException");
    BOOST_TEST(error->message.find("x-amz-target") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_authorization_headers_name_what_is_missing)
{
    std::string why;
    BOOST_TEST(!parse_authorization("AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request", why));
    BOOST_TEST(why.find("SignedHeaders") != std::string::npos);
    BOOST_TEST(!parse_authorization("Basic dXNlcjpwYXNz", why));
    BOOST_TEST(why.find("AWS4-HMAC-SHA256") != std::string::npos);
    BOOST_TEST(!parse_authorization(
        "AWS4-HMAC-SHA256 Credential=AK/2015/us-east-1/ecs/aws4_request, SignedHeaders=host, "
        "Signature=00",
        why));
    BOOST_TEST(why.find("Credential") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

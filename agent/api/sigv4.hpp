// agent/api/sigv4.hpp — AWS Signature Version 4 verification (the server side of what botocore
// signs): canonical request, string to sign, the derived signing key, and the checks a request
// must pass (credential known, scope = today/region/ecs, x-amz-date within the skew limit,
// payload hash, signature). Internal; test-visible through agent/api/internal.hpp.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include "agent/api/errors.hpp"

namespace berth::api::sigv4 {

struct Request {
    std::string method;
    std::string target; // origin-form request target: path and optional "?query"
    std::vector<std::pair<std::string, std::string>> headers; // as received, any case
    std::string body;
};

struct Authorization {
    std::string access_key_id;
    std::string date; // YYYYMMDD of the scope
    std::string region;
    std::string service;
    std::vector<std::string> signed_headers; // lowercase, as listed
    std::string signature;                   // lowercase hex
};

struct Verifier {
    std::string access_key_id;
    std::string secret_access_key;
    std::string region;
    std::string service = "ecs";
    std::chrono::seconds max_skew{15 * 60};
};

std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data); // raw 32 bytes
std::string hex(std::string_view bytes);

// "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/ecs/aws4_request, SignedHeaders=a;b,
// Signature=<hex>"; nullopt + error text when malformed.
std::optional<Authorization> parse_authorization(std::string_view text, std::string& error);
std::string canonical_request(const Request& request,
                              const std::vector<std::string>& signed_headers,
                              std::string_view payload_hash);
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical);
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);
// The signature a client with these credentials computes (tests and clients use this).
std::string sign(const Request& request, const Authorization& auth, std::string_view secret,
                 std::string_view amz_date);

// nullopt: the request is authentic and fresh. Else the error the real service answers with.
std::optional<ApiError> verify(const Request& request, const Verifier& verifier,
                               std::chrono::system_clock::time_point now);

} // namespace berth::api::sigv4

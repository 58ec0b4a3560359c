// agent/api/sigv4.cpp — SigV4 verification, following the AWS "Create a signed AWS API request"
// steps (canonical request, string to sign, signing key, signature) as botocore implements them
// for non-S3 services. Checked against the AWS SigV4 test suite (tests/unit/api_sigv4_test.cpp).
// SHA-256 and HMAC through base/small_hash.hpp: the kernel's (AF_ALG), else libmd's, so that
// serving signed requests maps no libcrypto in berthd.
// CRYPTO_memcmp is OpenSSL's constant-time compare (berthd has its own: crypto_dl.cpp).
#include "agent/api/sigv4.hpp"
#include <openssl/crypto.h>
#include <algorithm>
#include <array>
#include <ctime>
#include <map>
#include "base/small_hash.hpp"
#include "base/strings.hpp"

namespace berth::api::sigv4 {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

// RFC 3986 percent-encoding with uppercase hex, as SigV4 requires; '/' kept when asked.
std::string uri_encode(std::string_view text, bool keep_slash)
{
    static constexpr std::string_view digits = "0123456789ABCDEF";
    std::string out;
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (unreserved(c) || (keep_slash && c == '/')) {
            out += ch;
        } else {
            out += '%';
            out += digits[c >> 4U];
            out += digits[c & 0xFU];
        }
    }
    return out;
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::string uri_decode(std::string_view text)
{
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += text[i];
    }
    return out;
}

std::string lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// Trims and collapses runs of spaces to one (the canonical header value).
std::string canonical_value(std::string_view value)
{
    std::string out;
    bool space = false;
    for (const char c : trim(value)) {
        const bool is_space = c == ' ' || c == '\t';
        if (is_space && space)
            continue;
        out += is_space ? ' ' : c;
        space = is_space;
    }
    return out;
}

std::string canonical_query(std::string_view query)
{
    std::vector<std::pair<std::string, std::string>> params;
    if (!query.empty())
        for (auto part : split(query, '&')) {
            const auto eq = part.find('=');
            const auto key = part.substr(0, eq);
            const auto value =
                eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
            params.emplace_back(uri_encode(uri_decode(key), false),
                                uri_encode(uri_decode(value), false));
        }
    std::sort(params.begin(), params.end());
    std::string out;
    for (const auto& [key, value] : params)
        out += cat(out.empty() ? "" : "&", key, "=", value);
    return out;
}

std::optional<std::string> header(const Request& request, std::string_view name)
{
    for (const auto& [key, value] : request.headers)
        if (lower(key) == name)
            return value;
    return std::nullopt;
}

// "20150830T123600Z" -> time point; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text)
{
    if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z')
        return std::nullopt;
    auto field = [&](std::size_t at, std::size_t n) {
        return parse_int<int>(text.substr(at, n)).value_or(-1);
    };
    std::tm tm{};
    tm.tm_year = field(0, 4) - 1900;
    tm.tm_mon = field(4, 2) - 1;
    tm.tm_mday = field(6, 2);
    tm.tm_hour = field(9, 2);
    tm.tm_min = field(11, 2);
    tm.tm_sec = field(13, 2);
    if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 ||
        tm.tm_sec > 60)
        return std::nullopt;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string format_amz_date(std::chrono::system_clock::time_point when)
{
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::array<char, 20> buffer{};
    const auto n = std::strftime(buffer.data(), buffer.size(), "%Y%m%dT%H%M%SZ", &tm);
    return {buffer.data(), n};
}

ApiError invalid_signature(std::string message)
{
    return {400, "InvalidSignatureException", std::move(message)};
}
ApiError incomplete_signature(std::string message)
{
    return {400, "IncompleteSignatureException", std::move(message)};
}

} // namespace

std::string hex(std::string_view bytes)
{
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        out += digits[c >> 4U];
        out += digits[c & 0xFU];
    }
    return out;
}

std::string sha256_hex(std::string_view data)
{
    return small_hash::hex(small_hash::sha256({data}));
}

std::string hmac_sha256(std::string_view key, std::string_view data)
{
    return std::string(small_hash::bytes(small_hash::hmac_sha256(key, {data})));
}

std::optional<Authorization> parse_authorization(std::string_view text, std::string& error)
{
    if (text.substr(0, algorithm.size()) != algorithm || text.size() == algorithm.size() ||
        text[algorithm.size()] != ' ') {
        error = cat("Authorization header must start with '", algorithm, "'");
        return std::nullopt;
    }
    std::map<std::string, std::string, std::less<>> parts;
    for (auto item : split(text.substr(algorithm.size() + 1), ',')) {
        item = trim(item);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            error = cat("Authorization header component ", quoted(item), " is not key=value");
            return std::nullopt;
        }
        parts[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
    }
    for (const char* needed : {"Credential", "SignedHeaders", "Signature"})
        if (parts.find(needed) == parts.end()) {
            error = cat("Authorization header requires '", needed, "' parameter");
            return std::nullopt;
        }
    const auto scope = split(parts["Credential"], '/');
    if (scope.size() != 5 || scope[4] != "aws4_request" || scope[1].size() != 8) {
        error = "Credential should be of the form <key>/<YYYYMMDD>/<region>/<service>/aws4_request";
        return std::nullopt;
    }
    Authorization auth{std::string(scope[0]),
                       std::string(scope[1]),
                       std::string(scope[2]),
                       std::string(scope[3]),
                       {},
                       lower(parts["Signature"])};
    for (auto name : split(parts["SignedHeaders"], ';'))
        auth.signed_headers.push_back(lower(name));
    return auth;
}

std::string canonical_request(const Request& request,
                              const std::vector<std::string>& signed_headers,
                              std::string_view payload_hash)
{
    const std::string_view target = request.target;
    const auto question = target.find('?');
    const auto path = target.substr(0, question);
    const auto query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
    // Non-S3 services encode the path as sent once more (a '%' becomes "%25"), as botocore does.
    std::string out = cat(request.method, '\n', uri_encode(path.empty() ? "/" : path, true), '\n',
                          canonical_query(query), '\n');
    std::vector<std::string> names = signed_headers;
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        std::string joined;
        for (const auto& [key, value] : request.headers)
            if (lower(key) == name)
                joined += cat(joined.empty() ? "" : ",", canonical_value(value));
        out += cat(name, ':', joined, '\n');
    }
    std::string list;
    for (const auto& name : names)
        list += cat(list.empty() ? "" : ";", name);
    out += cat('\n', list, '\n', payload_hash);
    return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical)
{
    return cat(algorithm, '\n', amz_date, '\n', scope, '\n', sha256_hex(canonical));
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service)
{
    const std::string k_date = hmac_sha256(cat("AWS4", secret), date);
    const std::string k_region = hmac_sha256(k_date, region);
    const std::string k_service = hmac_sha256(k_region, service);
    return hmac_sha256(k_service, "aws4_request");
}

std::string sign(const Request& request, const Authorization& auth, std::string_view secret,
                 std::string_view amz_date)
{
    const std::string payload =
        header(request, "x-amz-content-sha256").value_or(sha256_hex(request.body));
    const std::string scope = cat(auth.date, '/', auth.region, '/', auth.service, "/aws4_request");
    const std::string canonical = canonical_request(request, auth.signed_headers, payload);
    const std::string key = signing_key(secret, auth.date, auth.region, auth.service);
    return hex(hmac_sha256(key, string_to_sign(amz_date, scope, canonical)));
}

std::optional<ApiError> verify(const Request& request, const Verifier& verifier,
                               std::chrono::system_clock::time_point now)
{
    const auto authorization = header(request, "authorization");
    if (!authorization)
        return ApiError{400, "MissingAuthenticationTokenException", "Missing Authentication Token"};
    std::string why;
    const auto auth = parse_authorization(*authorization, why);
    if (!auth)
        return incomplete_signature(why);
    if (auth->access_key_id != verifier.access_key_id || verifier.access_key_id.empty())
        return ApiError{400, "UnrecognizedClientException",
                        "The security token included in the request is invalid."};
    const auto& names = auth->signed_headers;
    for (const char* needed : {"host", "x-amz-date"})
        if (std::find(names.begin(), names.end(), needed) == names.end())
            return incomplete_signature(cat("Signed headers must include '", needed, "'"));
    // X-Amz-Target picks the operation: unsigned, a captured DescribeTaskDefinition could be
    // replayed as DeregisterTaskDefinition with the same body. botocore always signs it.
    if (header(request, "x-amz-target") &&
        std::find(names.begin(), names.end(), "x-amz-target") == names.end())
        return incomplete_signature("Signed headers must include 'x-amz-target'");
    const auto amz_date = header(request, "x-amz-date");
    const auto when = amz_date ? parse_amz_date(*amz_date) : std::nullopt;
    if (!when)
        return incomplete_signature("X-Amz-Date must be a date of the form YYYYMMDD'T'HHMMSS'Z'");
    if (amz_date->substr(0, 8) != auth->date)
        return invalid_signature("Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                                 "version of date from HTTP");
    if (auth->region != verifier.region)
        return invalid_signature(cat("Credential should be scoped to a valid region, not ",
                                     quoted(auth->region), " (this endpoint serves ",
                                     quoted(verifier.region), ")"));
    if (auth->service != verifier.service)
        return invalid_signature(
            cat("Credential should be scoped to correct service: '", verifier.service, "'"));
    if (*when + verifier.max_skew < now)
        return invalid_signature(cat("Signature expired: ", *amz_date, " is now earlier than ",
                                     format_amz_date(now - verifier.max_skew), " (",
                                     format_amz_date(now), " - ", verifier.max_skew.count() / 60,
                                     " min.)"));
    if (*when - verifier.max_skew > now)
        return invalid_signature(
            cat("Signature not yet current: ", *amz_date, " is still later than ",
                format_amz_date(now + verifier.max_skew), " (", format_amz_date(now), " + ",
                verifier.max_skew.count() / 60, " min.)"));
    const std::string body_hash = sha256_hex(request.body);
    if (auto claimed = header(request, "x-amz-content-sha256"); claimed && *claimed != body_hash)
        return invalid_signature("The provided 'x-amz-content-sha256' header does not match what "
                                 "was computed.");
    const std::string expected = sign(request, *auth, verifier.secret_access_key, *amz_date);
    if (expected.size() != auth->signature.size() ||
        CRYPTO_memcmp(expected.data(), auth->signature.data(), expected.size()) != 0)
        return invalid_signature("The request signature we calculated does not match the signature "
                                 "you provided. Check your AWS Secret Access Key and signing "
                                 "method. Consult the service documentation for details.");
    return std::nullopt;
}

} // namespace berth::api::sigv4

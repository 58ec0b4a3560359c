// image/http.hpp — one HTTP GET through libcurl (OpenSSL, TLS verification always on). The body
// goes to a sink callback as it arrives; the headers a registry client needs are captured.
// Internal to image/.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>
#include "base/result.hpp"

namespace berth::image {

struct HttpRequest {
    std::string url;
    std::vector<std::string> headers; // "Accept: ...", "Authorization: ..."
    std::string username, password;   // basic auth, only to the first host (curl's rule)
    std::string ca_file;
    std::uint64_t range_from = 0; // > 0: ask for bytes=range_from-
    unsigned inactivity_timeout_s = 30;
};

struct HttpResponse {
    long status = 0;
    std::string content_type, www_authenticate, docker_digest;
    std::string error_body; // the first 64 KiB of a non-2xx body (the registry's error JSON)
    std::string error;      // the transport error text when status is 0
    int transport_code = 0; // CURLcode; 0 when the exchange completed
};

// Receives body bytes; returning an error aborts the transfer with that error.
using BodySink = std::function<Result<void>(const char* data, std::size_t size)>;

// Result is an error only when the sink refused bytes; transport failures and HTTP statuses are
// in the response for the caller's retry policy.
Result<HttpResponse> http_get(const HttpRequest& request, const BodySink& sink);

} // namespace berth::image

// image/http.hpp — one HTTP GET (or a form POST, for OAuth2 token requests) through libcurl
// (OpenSSL, TLS verification always on). The body goes to a sink callback as it arrives; the
// headers a registry client needs are captured. Transfers given the same HttpPool reuse its
// connections. Internal to image/.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "base/result.hpp"

namespace berth::image {

// Connections (keep-alive), DNS answers and TLS sessions shared by every transfer of one
// RegistryClient, across blobs and layer threads (a libcurl share handle with a lock per kind).
class HttpPool {
public:
    HttpPool();
    ~HttpPool();
    HttpPool(const HttpPool&) = delete;
    HttpPool& operator=(const HttpPool&) = delete;
    void* share() const; // CURLSH*

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct HttpRequest {
    std::string url;
    std::vector<std::string> headers; // "Accept: ...", "Authorization: ..."
    std::string username, password;   // basic auth, only to the first host (curl's rule)
    std::string ca_file;
    std::uint64_t range_from = 0; // > 0: ask for bytes=range_from-
    unsigned inactivity_timeout_s = 30;
    const HttpPool* pool = nullptr; // none: a connection of its own
    std::string post_form; // non-empty: a POST of this application/x-www-form-urlencoded body
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

// Result is an error only when the sink refused bytes or libcurl cannot be loaded (ENOPKG);
// transport failures and HTTP statuses are in the response for the caller's retry policy. A
// POST follows no redirect.
Result<HttpResponse> http_get(const HttpRequest& request, const BodySink& sink);

} // namespace berth::image

// image/registry.cpp — see registry.hpp. Errors name the URL and the registry's own message.
#include "image/registry.hpp"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <curl/curl.h>
#include <chrono>
#include <thread>
#include <nlohmann/json.hpp>
#include "image/digest.hpp"
#include "image/media_types.hpp"

namespace berth::image {
namespace {

constexpr std::size_t max_manifest = std::size_t{4} << 20;
constexpr std::size_t max_token_response = std::size_t{1} << 20;

// host is name[:port] or [v6][:port]. Only an address in 127.0.0.0/8, [::1] or localhost: a DNS
// name such as 127.example.com can point anywhere and must not lose TLS.
bool is_loopback(std::string_view host)
{
    if (host.starts_with('['))
        return host.substr(0, host.find(']') + 1) == "[::1]";
    const std::string name(host.substr(0, host.rfind(':')));
    if (name == "localhost")
        return true;
    in_addr addr{};
    return ::inet_pton(AF_INET, name.c_str(), &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}

// {"errors":[{"code":"UNAUTHORIZED","message":"..."}]} -> "UNAUTHORIZED: ..."
std::string registry_message(const std::string& body)
{
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object()) {
        const auto errors = j.find("errors");
        if (errors != j.end() && errors->is_array() && !errors->empty() &&
            errors->front().is_object()) {
            const auto& e = errors->front();
            const auto code = e.value("code", nlohmann::json()).is_string()
                                  ? e["code"].get<std::string>()
                                  : std::string();
            const auto msg = e.value("message", nlohmann::json()).is_string()
                                 ? e["message"].get<std::string>()
                                 : std::string();
            return cat(": ", quoted(code), " ", quoted(msg));
        }
    }
    return {};
}

int transport_errno(int curl_code)
{
    switch (curl_code) {
    case CURLE_COULDNT_CONNECT: return ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return EHOSTUNREACH;
    case CURLE_OPERATION_TIMEDOUT: return ETIMEDOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR: return EPROTO;
    default: return EIO;
    }
}

bool retryable(const HttpResponse& r)
{
    if (r.transport_code != 0)
        return r.transport_code != CURLE_PEER_FAILED_VERIFICATION &&
               r.transport_code != CURLE_SSL_CONNECT_ERROR &&
               r.transport_code != CURLE_UNSUPPORTED_PROTOCOL;
    return r.status == 429 || r.status >= 500;
}

Error status_error(const std::string& url, const HttpResponse& r)
{
    if (r.transport_code != 0)
        return Error::with_code(transport_errno(r.transport_code), "GET ", url, ": ", r.error);
    const int code = r.status == 401   ? EACCES
                     : r.status == 403 ? EPERM
                     : r.status == 404 ? ENOENT
                     : r.status == 429 ? EBUSY
                                       : EIO;
    return Error::with_code(code, "GET ", url, ": HTTP ", r.status, registry_message(r.error_body));
}

std::string escape(std::string_view s)
{
    std::unique_ptr<char, decltype(&curl_free)> e(
        curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size())), curl_free);
    return e ? std::string(e.get()) : std::string();
}

} // namespace

std::string registry_scheme(std::string_view host, const std::vector<std::string>& plain_http)
{
    if (is_loopback(host))
        return "http";
    for (const auto& h : plain_http)
        if (h == host)
            return "http";
    return "https";
}

RegistryClient::RegistryClient(Reference ref, const PullOptions& options,
                               std::optional<Credentials> creds)
    : ref_(std::move(ref)), options_(options), creds_(std::move(creds))
{
    const auto host = ref_.api_host();
    base_ = cat(registry_scheme(host, options_.plain_http), "://", host, "/v2/", ref_.repository);
}

HttpRequest RegistryClient::request_for(const std::string& url, const std::string& accept) const
{
    HttpRequest req;
    req.url = url;
    req.ca_file = options_.ca_file;
    req.inactivity_timeout_s = options_.inactivity_timeout_s;
    req.pool = &pool_;
    if (!accept.empty())
        req.headers.push_back("Accept: " + accept);
    const std::lock_guard lock(mutex_);
    if (!token_.empty())
        req.headers.push_back("Authorization: Bearer " + token_);
    else if (basic_ && creds_) {
        req.username = creds_->username;
        req.password = creds_->password;
    }
    return req;
}

Result<std::string> RegistryClient::token_request(HttpRequest req, long* status) const
{
    req.ca_file = options_.ca_file;
    req.inactivity_timeout_s = options_.inactivity_timeout_s;
    req.pool = &pool_;
    std::string body;
    auto r = http_get(req, [&](const char* data, std::size_t size) -> Result<void> {
        if (body.size() + size > max_token_response)
            return Error::with_code(EFBIG, "token response too large");
        body.append(data, size);
        return {};
    });
    if (!r)
        return std::move(r).error();
    if (status)
        *status = r->status;
    if (r->transport_code != 0 || r->status != 200) {
        auto e = status_error(req.url, *r);
        if (!req.post_form.empty())
            e.context.replace(0, 3, "POST");
        return e;
    }
    auto j = nlohmann::json::parse(body, nullptr, false);
    for (const char* key : {"token", "access_token"})
        if (j.is_object() && j.contains(key) && j[key].is_string() &&
            !j[key].get<std::string>().empty())
            return j[key].get<std::string>();
    return Error::invalid(req.url, ": the token response has no token");
}

Result<void> RegistryClient::authenticate(const Challenge& challenge)
{
    if (challenge.scheme == "basic") {
        if (!creds_)
            return Error::with_code(EACCES, "registry ", ref_.domain,
                                    " wants basic auth and no credentials are configured");
        const std::lock_guard lock(mutex_);
        basic_ = true;
        return {};
    }
    if (challenge.scheme != "bearer")
        return Error::with_code(EACCES, "registry ", ref_.domain, ": unsupported auth scheme ",
                                quoted(challenge.scheme));
    const auto scope =
        challenge.scope.empty() ? cat("repository:", ref_.repository, ":pull") : challenge.scope;
    std::string query = "scope=" + escape(scope);
    if (!challenge.service.empty())
        query += "&service=" + escape(challenge.service);
    HttpRequest get;
    get.url =
        challenge.realm + (challenge.realm.find('?') == std::string::npos ? "?" : "&") + query;
    Result<std::string> token = Error::invalid("no token request made");
    if (creds_ && !creds_->identity_token.empty()) {
        // Docker's OAuth2 flow for a `docker login` identity token: a refresh_token grant POSTed
        // to the realm. Token servers without it answer 400/401/404/405 (GCR, Artifactory and ACR
        // did, as containerd notes): then the GET below, the identity token as the password.
        HttpRequest post;
        post.url = challenge.realm;
        post.post_form =
            cat("grant_type=refresh_token&refresh_token=", escape(creds_->identity_token),
                "&client_id=berth&", query);
        long status = 0;
        token = token_request(post, &status);
        if (!token && status != 400 && status != 401 && status != 404 && status != 405)
            return std::move(token).error().wrap("bearer token (refresh_token grant)");
        get.username = creds_->username; // as containerd: the token as the basic secret
        get.password = creds_->identity_token;
    } else if (creds_) {
        get.username = creds_->username;
        get.password = creds_->password;
    }
    if (!token)
        token = token_request(get, nullptr);
    if (!token)
        return std::move(token).error().wrap("bearer token");
    const std::lock_guard lock(mutex_);
    token_ = std::move(*token);
    return {};
}

Result<HttpResponse> RegistryClient::get(const std::string& url, const std::string& accept,
                                         const BodySink& sink, const std::uint64_t* delivered)
{
    bool authenticated = false;
    for (unsigned attempt = 1;; ++attempt) {
        auto req = request_for(url, accept);
        if (delivered)
            req.range_from = *delivered;
        auto r = http_get(req, sink);
        if (!r)
            return std::move(r).error();
        if (r->status == 401 && !authenticated && !r->www_authenticate.empty()) {
            authenticated = true;
            auto challenge = parse_www_authenticate(r->www_authenticate);
            if (!challenge)
                return std::move(challenge).error().wrap(cat("GET ", url));
            auto a = authenticate(*challenge);
            if (!a)
                return std::move(a).error().wrap(cat("GET ", url));
            --attempt; // the challenge round trip is not a failed attempt
            continue;
        }
        if (r->transport_code == 0 && (r->status == 200 || r->status == 206))
            return r;
        if (!retryable(*r) || attempt >= std::max(1u, options_.attempts)) {
            auto e = status_error(url, *r);
            if (attempt > 1)
                e.context += cat(" (", attempt, " attempts)");
            return e;
        }
        const auto backoff = std::chrono::milliseconds(100) * (1u << std::min(attempt, 6u));
        std::this_thread::sleep_for(backoff);
    }
}

Result<FetchedManifest> RegistryClient::manifest(const std::string& tag_or_digest)
{
    const auto url = cat(base_, "/manifests/", tag_or_digest);
    FetchedManifest m;
    auto r = get(
        url, std::string(manifest_accept),
        [&](const char* data, std::size_t size) -> Result<void> {
            if (m.body.size() + size > max_manifest)
                return Error::with_code(EFBIG, "manifest larger than 4 MiB");
            m.body.append(data, size);
            return {};
        },
        nullptr);
    if (!r)
        return std::move(r).error();
    m.media_type = r->content_type.substr(0, r->content_type.find(';'));
    m.digest = sha256_digest(m.body);
    if (is_valid_digest(tag_or_digest) && m.digest != tag_or_digest)
        return Error::with_code(EBADMSG, "manifest ", tag_or_digest, ": content has digest ",
                                m.digest);
    return m;
}

Result<std::string> RegistryClient::small_blob(const Descriptor& d, std::size_t cap)
{
    if (d.size > cap)
        return Error::with_code(EFBIG, "blob ", d.digest, ": ", d.size, " bytes, over ", cap);
    std::string body;
    auto r = blob(d, [&](const char* data, std::size_t size) -> Result<void> {
        body.append(data, size);
        return {};
    });
    if (!r)
        return std::move(r).error();
    if (const auto got = sha256_digest(body); got != d.digest)
        return Error::with_code(EBADMSG, "blob ", d.digest, ": content has digest ", got);
    return body;
}

Result<void> RegistryClient::blob(const Descriptor& d, const BodySink& sink)
{
    std::uint64_t delivered = 0;
    bool refused = false; // the sink (unpack, disk) failed, not the transfer
    const auto url = cat(base_, "/blobs/", d.digest);
    auto counted = [&](const char* data, std::size_t size) -> Result<void> {
        if (delivered + size > d.size)
            return Error::with_code(EBADMSG, "blob ", d.digest, ": more than the ", d.size,
                                    " bytes the manifest says");
        auto r = sink(data, size);
        if (r)
            delivered += size;
        refused = !r;
        return r;
    };
    const auto received = [&](Error e) {
        if (!refused)
            e.context += cat(" (", delivered, " of ", d.size, " bytes received)");
        return e;
    };
    auto r = get(url, {}, counted, &delivered);
    if (!r)
        return received(std::move(r).error());
    // A transfer that ended early without a transport error (a proxy closing cleanly): resume.
    for (unsigned i = 0; delivered < d.size && i < options_.attempts; ++i) {
        r = get(url, {}, counted, &delivered);
        if (!r)
            return received(std::move(r).error());
    }
    if (delivered != d.size)
        return Error::with_code(EBADMSG, "blob ", d.digest, ": got ", delivered, " of ", d.size,
                                " bytes");
    return {};
}

} // namespace berth::image

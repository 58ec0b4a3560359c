// image/http.cpp — libcurl easy transfers. Why easy handles on worker threads and not curl multi:
// the body is decompressed and unpacked in the write callback, so each layer needs its own CPU
// anyway; a thread per layer (under the pull's concurrency limit) keeps the pipeline simple.
#include "image/http.hpp"
#include <curl/curl.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <mutex>

namespace berth::image {
namespace {

struct Transfer {
    CURL* easy;
    std::uint64_t skip; // a server that ignored our Range resends from 0: drop what we have
    const BodySink* sink;
    HttpResponse* response;
    std::optional<Error> sink_error;
    bool status_seen_final = false;
};

// libcurl is loaded at the first call (curl_dl.cpp): a node whose libcurl is missing or broken
// fails each pull with this error (the reason is on stderr), and its running tasks live on.
Result<void> global_init()
{
    static std::once_flag once;
    static CURLcode rc = CURLE_OK;
    std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (rc != CURLE_OK)
        return Error::with_code(ENOPKG, "libcurl could not be loaded or initialised (code ",
                                static_cast<int>(rc), "; see berth's stderr)");
    return {};
}

std::string header_value(std::string_view line, std::string_view name)
{
    if (line.size() <= name.size() || line[name.size()] != ':')
        return {};
    for (std::size_t i = 0; i < name.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(line[i])) != name[i])
            return {};
    return std::string(trim(line.substr(name.size() + 1)));
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user)
{
    auto& t = *static_cast<Transfer*>(user);
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) { // a new response (after a redirect or 100): start over
        *t.response = HttpResponse{};
        return size * count;
    }
    if (auto v = header_value(line, "content-type"); !v.empty())
        t.response->content_type = v;
    else if (auto a = header_value(line, "www-authenticate"); !a.empty())
        t.response->www_authenticate = a;
    else if (auto d = header_value(line, "docker-content-digest"); !d.empty())
        t.response->docker_digest = d;
    return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user)
{
    auto& t = *static_cast<Transfer*>(user);
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    std::string_view bytes(data, size * count);
    if (status < 200 || status >= 300) {
        constexpr std::size_t error_cap = 65536;
        auto& body = t.response->error_body;
        body.append(bytes.substr(0, error_cap - std::min(error_cap, body.size())));
        return size * count;
    }
    if (status == 200 && t.skip > 0) {
        const auto n = std::min<std::uint64_t>(t.skip, bytes.size());
        t.skip -= n;
        bytes.remove_prefix(n);
        if (bytes.empty())
            return size * count;
    }
    auto r = (*t.sink)(bytes.data(), bytes.size());
    if (!r) {
        t.sink_error = std::move(r).error();
        return 0; // aborts the transfer with CURLE_WRITE_ERROR
    }
    return size * count;
}

struct EasyFree {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct ListFree {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

} // namespace

struct HttpPool::Impl {
    CURLSH* share = nullptr;
    std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
};

HttpPool::HttpPool() : impl_(std::make_unique<Impl>())
{
    if (!global_init()) // http_get reports it: no share, the pool is unused
        return;
    impl_->share = curl_share_init();
    if (!impl_->share)
        std::abort(); // libcurl loaded, and out of memory: an invariant
    const auto lock = [](CURL*, curl_lock_data data, curl_lock_access, void* user) {
        static_cast<Impl*>(user)->locks.at(static_cast<std::size_t>(data)).lock();
    };
    const auto unlock = [](CURL*, curl_lock_data data, void* user) {
        static_cast<Impl*>(user)->locks.at(static_cast<std::size_t>(data)).unlock();
    };
    curl_share_setopt(impl_->share, CURLSHOPT_LOCKFUNC,
                      static_cast<void (*)(CURL*, curl_lock_data, curl_lock_access, void*)>(lock));
    curl_share_setopt(impl_->share, CURLSHOPT_UNLOCKFUNC,
                      static_cast<void (*)(CURL*, curl_lock_data, void*)>(unlock));
    curl_share_setopt(impl_->share, CURLSHOPT_USERDATA, impl_.get());
    for (auto data : {CURL_LOCK_DATA_CONNECT, CURL_LOCK_DATA_DNS, CURL_LOCK_DATA_SSL_SESSION})
        curl_share_setopt(impl_->share, CURLSHOPT_SHARE, data);
}

HttpPool::~HttpPool()
{
    if (impl_->share) // every transfer using it has ended: its easy handles too
        curl_share_cleanup(impl_->share);
}

void* HttpPool::share() const
{
    return impl_->share;
}

Result<HttpResponse> http_get(const HttpRequest& request, const BodySink& sink)
{
    auto loaded = global_init();
    if (!loaded)
        return std::move(loaded).error().wrap(request.url);
    std::unique_ptr<CURL, EasyFree> easy(curl_easy_init());
    if (!easy)
        return Error::with_code(ENOMEM, "curl_easy_init");
    HttpResponse response;
    Transfer t{easy.get(), request.range_from, &sink, &response, std::nullopt};
    std::unique_ptr<curl_slist, ListFree> headers;
    for (const auto& h : request.headers)
        headers.reset(curl_slist_append(headers.release(), h.c_str()));
    CURL* c = easy.get();
    if (request.pool)
        curl_easy_setopt(c, CURLOPT_SHARE, request.pool->share());
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    // Blob storage redirects. Never a POST: its body (an OAuth2 refresh_token) would be resent
    // to wherever a 307/308 points, maybe another host over plain http; a redirect then fails
    // the token request with its 3xx status.
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, request.post_form.empty() ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); // threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!request.ca_file.empty())
        curl_easy_setopt(c, CURLOPT_CAINFO, request.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(request.inactivity_timeout_s));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L); // under 1 byte/s for LOW_SPEED_TIME: abort
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.inactivity_timeout_s));
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    // Fewer, larger body callbacks (default 16 KiB): a layer's bytes go through the store's
    // write(), two hashes and the inflater per callback; from a fast registry one read() then
    // takes what the socket has.
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L << 10);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "berth/0.1");
    if (!request.username.empty() || !request.password.empty()) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, request.username.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, request.password.c_str());
    }
    if (!request.post_form.empty()) { // curl sends it as application/x-www-form-urlencoded
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.post_form.size()));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.post_form.c_str());
    }
    const std::string range = cat(request.range_from, "-");
    if (request.range_from > 0)
        curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    const CURLcode rc = curl_easy_perform(c);
    if (t.sink_error)
        return std::move(*t.sink_error);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    if (rc != CURLE_OK) {
        response.transport_code = rc;
        response.error = curl_easy_strerror(rc);
    }
    return response;
}

} // namespace berth::image

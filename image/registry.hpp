// image/registry.hpp — the OCI distribution pull protocol against one repository: manifests,
// blobs, auth (anonymous, basic, bearer tokens from the WWW-Authenticate challenge, Docker's
// OAuth2 refresh_token grant for an identity token), retries with
// exponential backoff, resume of an interrupted blob with Range. Internal to image/.
#pragma once
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include "image/http.hpp"
#include "image/image.hpp"

namespace berth::image {

struct FetchedManifest {
    std::string body, media_type, digest; // digest computed from body (and checked if pinned)
};

class RegistryClient {
public:
    RegistryClient(Reference ref, const PullOptions& options, std::optional<Credentials> creds);
    Result<FetchedManifest> manifest(const std::string& tag_or_digest);
    Result<std::string> small_blob(const Descriptor& d, std::size_t cap); // verified
    // Streams the blob into sink; after a cut transfer it asks for the rest with Range and
    // continues the same stream, so sink sees every byte exactly once, in order.
    Result<void> blob(const Descriptor& d, const BodySink& sink);
    const std::string& base_url() const { return base_; }

private:
    Result<HttpResponse> get(const std::string& url, const std::string& accept,
                             const BodySink& sink, const std::uint64_t* delivered);
    Result<void> authenticate(const Challenge& challenge);
    // A bearer token from the token server (GET, or the POST of an OAuth2 form).
    // status: the HTTP status of the answer (0 when none came).
    Result<std::string> token_request(HttpRequest req, long* status) const;
    HttpRequest request_for(const std::string& url, const std::string& accept) const;

    Reference ref_;
    const PullOptions& options_;
    std::optional<Credentials> creds_;
    std::string base_; // scheme://host/v2/<repository>
    HttpPool pool_;    // keep-alive across the manifest, the configs and every layer
    mutable std::mutex mutex_;
    std::string token_;  // bearer token shared by the layer threads
    bool basic_ = false; // the registry asked for basic auth
};

std::string registry_scheme(std::string_view host, const std::vector<std::string>& plain_http);

} // namespace berth::image

// image/credential_helper.hpp — Docker credential helpers (docker-credential-<name> get).
// Internal to image/.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include "image/image.hpp"

namespace berth::image {

// Whether a config.json key (of auths or credHelpers) names a registry host: the key's host part
// (after an optional http(s):// scheme, before any path) equals it; Docker Hub ("docker.io") is
// also known as index.docker.io and registry-1.docker.io, and `docker login` keys it by
// https://index.docker.io/v1/.
bool config_key_names_host(std::string_view key, std::string_view host);
// credHelpers[host] (a key naming host, as above), else credsStore, from a config.json; nullopt
// when neither is set.
std::optional<std::string> credential_helper_for(std::string_view config_json,
                                                 std::string_view host);
// Runs docker-credential-<helper> get; "credentials not found" is no credentials, not an error.
Result<std::optional<Credentials>> credentials_from_helper(const std::string& helper,
                                                           std::string_view host);

} // namespace berth::image

// image/credential_helper.hpp — Docker credential helpers (docker-credential-<name> get).
// Internal to image/.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include "image/image.hpp"

namespace berth::image {

// credHelpers[host], else credsStore, from a config.json; nullopt when neither is set.
std::optional<std::string> credential_helper_for(std::string_view config_json,
                                                 std::string_view host);
// Runs docker-credential-<helper> get; "credentials not found" is no credentials, not an error.
Result<std::optional<Credentials>> credentials_from_helper(const std::string& helper,
                                                           std::string_view host);

} // namespace berth::image

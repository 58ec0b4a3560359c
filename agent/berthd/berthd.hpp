// agent/berthd/berthd.hpp — what berthd's main.cpp shares with its other file.
#pragma once
#include "agent/api/api.hpp"
#include "agent/config/config.hpp"
#include "base/result.hpp"

namespace berth::berthd {

inline constexpr const char* credentials_file = "api-credentials";

// The credentials the API verifies SigV4 against: the configured pair; without one, a pair
// generated once into <state_dir>/api-credentials (mode 0600, KEY=VALUE lines) and read from
// there afterwards, so a standalone node is never open to unsigned requests and root on the
// host can read what to sign with (`. /var/lib/berth/api-credentials`).
Result<api::Credentials> api_credentials(const config::Config& config);

} // namespace berth::berthd

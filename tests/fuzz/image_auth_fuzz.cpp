// tests/fuzz/image_auth_fuzz.cpp — WWW-Authenticate headers (from any registry) and
// Docker config.json files -> parse_www_authenticate, credentials_from_config.
// Properties: a bearer challenge always has a realm; refusals explain.
#include <cstddef>
#include <cstdint>
#include "image/image.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const auto text = fuzz::as_text(data, size);
    if (auto c = image::parse_www_authenticate(text)) {
        fuzz::require(!c->scheme.empty(), "a scheme");
        fuzz::require(c->scheme != "bearer" || !c->realm.empty(), "bearer has a realm");
    } else {
        fuzz::require_explained(c.error());
    }
    auto creds = image::credentials_from_config(text, "docker.io");
    if (!creds)
        fuzz::require_explained(creds.error());
    return 0;
}

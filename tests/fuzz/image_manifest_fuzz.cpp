// tests/fuzz/image_manifest_fuzz.cpp — registry JSON (manifests, indexes, image configs: all
// from the network) -> parse_manifest, parse_index, parse_image_config, select_platform.
// Properties: nothing throws; accepted digests are valid; refusals explain.
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
    if (auto m = image::parse_manifest(text)) {
        fuzz::require(image::is_valid_digest(m->config.digest), "config digest valid");
        for (const auto& l : m->layers)
            fuzz::require(image::is_valid_digest(l.digest), "layer digest valid");
    } else {
        fuzz::require_explained(m.error());
    }
    if (auto i = image::parse_index(text)) {
        auto s = image::select_platform(*i, image::host_platform());
        if (s)
            fuzz::require(image::is_valid_digest(s->digest), "selected digest valid");
        else
            fuzz::require_explained(s.error());
    } else {
        fuzz::require_explained(i.error());
    }
    if (auto c = image::parse_image_config(text)) {
        const auto chain = image::chain_ids(c->diff_ids);
        fuzz::require(chain.size() == c->diff_ids.size(), "one chain ID per layer");
    } else {
        fuzz::require_explained(c.error());
    }
    return 0;
}

// tests/fuzz/image_archive_fuzz.cpp — an image archive's own index files (from an untrusted
// tarball: index.json, oci-layout, docker save's manifest.json) and member paths ->
// parse_layout_index, check_oci_layout, parse_docker_manifest, archive_path, resolve_link.
// Properties: nothing throws; accepted digests are valid; paths never climb out; refusals explain.
#include <cstddef>
#include <cstdint>
#include "image/internal.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

namespace {

bool climbs(std::string_view path)
{
    if (path.starts_with('/'))
        return true;
    for (auto part : split(path, '/'))
        if (part == "..")
            return true;
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const auto text = fuzz::as_text(data, size);
    if (auto entries = image::parse_layout_index(text)) {
        for (const auto& e : *entries)
            fuzz::require(image::is_valid_digest(e.descriptor.digest), "index digest valid");
    } else {
        fuzz::require_explained(entries.error());
    }
    if (auto r = image::check_oci_layout(text); !r)
        fuzz::require_explained(r.error());
    if (auto images = image::parse_docker_manifest(text)) {
        for (const auto& i : *images)
            fuzz::require(!i.config.empty(), "a config path");
    } else {
        fuzz::require_explained(images.error());
    }
    if (auto p = image::archive_path(text))
        fuzz::require(!climbs(*p), "a canonical path stays inside");
    else
        fuzz::require_explained(p.error());
    const auto cut = text.find('\n');
    if (cut != std::string_view::npos) {
        const auto target = image::resolve_link(text.substr(0, cut), text.substr(cut + 1));
        fuzz::require(!climbs(target), "a resolved link stays inside");
    }
    return 0;
}

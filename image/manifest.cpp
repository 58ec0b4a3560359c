// image/manifest.cpp — parsers of registry JSON: image manifests, indexes (manifest lists) and
// image configs. The input is hostile: sizes are capped, every field's type is checked, and
// nlohmann::json is used in its non-throwing mode (no exception leaves this file).
#include <nlohmann/json.hpp>
#include "base/small_hash.hpp"
#include "image/image.hpp"
#include "image/media_types.hpp"

namespace berth::image {
namespace {

using nlohmann::json;
constexpr std::size_t max_manifest_bytes = std::size_t{4} << 20; // the distribution spec's 4 MiB
constexpr std::size_t max_config_bytes = std::size_t{8} << 20;
constexpr std::size_t max_layers = 1000;

Result<json> parse_object(std::string_view text, std::size_t cap, std::string_view what)
{
    if (text.size() > cap)
        return Error::with_code(EFBIG, what, " larger than ", cap, " bytes");
    auto j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return Error::invalid(what, ": not a JSON object");
    return j;
}

std::string string_field(const json& j, const char* key)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

Result<Descriptor> parse_descriptor(const json& j, std::string_view what)
{
    if (!j.is_object())
        return Error::invalid(what, ": descriptor is not an object");
    Descriptor d;
    d.media_type = string_field(j, "mediaType");
    d.digest = string_field(j, "digest");
    if (!is_valid_digest(d.digest))
        return Error::invalid(what, ": digest ", quoted(d.digest), " is not sha256:<64 hex>");
    const auto size = j.find("size");
    if (size == j.end() || !size->is_number_unsigned())
        return Error::invalid(what, " ", d.digest, ": size missing or negative");
    d.size = size->get<std::uint64_t>();
    if (const auto p = j.find("platform"); p != j.end() && p->is_object()) {
        Platform platform{string_field(*p, "os"), string_field(*p, "architecture"),
                          string_field(*p, "variant")};
        d.platform = std::move(platform);
    }
    return d;
}

std::string effective_type(const json& j, std::string_view header_type)
{
    auto body = string_field(j, "mediaType");
    return body.empty() ? std::string(header_type) : body;
}

} // namespace

bool is_index_media_type(std::string_view media_type)
{
    return media_type == oci_index || media_type == docker_list;
}

Result<Manifest> parse_manifest(std::string_view text, std::string_view media_type)
{
    auto j = parse_object(text, max_manifest_bytes, "manifest");
    if (!j)
        return std::move(j).error();
    Manifest m;
    m.media_type = effective_type(*j, media_type);
    if (m.media_type.empty() && j->contains("layers"))
        m.media_type = oci_manifest; // OCI allows an absent mediaType
    if (m.media_type != oci_manifest && m.media_type != docker_manifest)
        return Error::invalid("manifest: unsupported media type ", quoted(m.media_type));
    const auto config = j->find("config");
    if (config == j->end())
        return Error::invalid("manifest: no config descriptor");
    auto c = parse_descriptor(*config, "manifest config");
    if (!c)
        return std::move(c).error();
    m.config = std::move(*c);
    const auto layers = j->find("layers");
    if (layers == j->end() || !layers->is_array() || layers->size() > max_layers)
        return Error::invalid("manifest: layers missing, not a list or more than ", max_layers);
    for (const auto& l : *layers) {
        auto d = parse_descriptor(l, "manifest layer");
        if (!d)
            return std::move(d).error();
        if (layer_compression(d->media_type) == Compression::Unknown)
            return Error::invalid("layer ", d->digest, ": unsupported media type ",
                                  quoted(d->media_type));
        m.layers.push_back(std::move(*d));
    }
    return m;
}

Result<Index> parse_index(std::string_view text, std::string_view media_type)
{
    auto j = parse_object(text, max_manifest_bytes, "index");
    if (!j)
        return std::move(j).error();
    Index index;
    index.media_type = effective_type(*j, media_type);
    if (index.media_type.empty() && j->contains("manifests"))
        index.media_type = oci_index;
    if (!is_index_media_type(index.media_type))
        return Error::invalid("index: unsupported media type ", quoted(index.media_type));
    const auto list = j->find("manifests");
    if (list == j->end() || !list->is_array() || list->size() > max_layers)
        return Error::invalid("index: manifests missing, not a list or too many");
    for (const auto& entry : *list) {
        auto d = parse_descriptor(entry, "index entry");
        if (!d)
            return std::move(d).error();
        index.manifests.push_back(std::move(*d));
    }
    return index;
}

Result<ImageConfig> parse_image_config(std::string_view text)
{
    auto j = parse_object(text, max_config_bytes, "image config");
    if (!j)
        return std::move(j).error();
    ImageConfig c;
    c.platform = {string_field(*j, "os"), string_field(*j, "architecture"),
                  string_field(*j, "variant")};
    const auto rootfs = j->find("rootfs");
    if (rootfs == j->end() || !rootfs->is_object())
        return Error::invalid("image config: no rootfs");
    const auto diffs = rootfs->find("diff_ids");
    if (diffs == rootfs->end() || !diffs->is_array() || diffs->size() > max_layers)
        return Error::invalid("image config: rootfs.diff_ids missing or not a list");
    for (const auto& d : *diffs) {
        if (!d.is_string() || !is_valid_digest(d.get<std::string>()))
            return Error::invalid("image config: a diff_id is not sha256:<64 hex>");
        c.diff_ids.push_back(d.get<std::string>());
    }
    return c;
}

Result<Descriptor> select_platform(const Index& index, const Platform& want)
{
    const Descriptor* loose = nullptr;
    std::string seen;
    for (const auto& d : index.manifests) {
        if (!d.platform)
            continue;
        const auto& p = *d.platform;
        seen += cat(seen.empty() ? "" : ", ", p.os, "/", p.architecture,
                    p.variant.empty() ? "" : "/", p.variant);
        if (p.os != want.os || p.architecture != want.architecture)
            continue;
        if (p.variant == want.variant)
            return d;
        if (!loose && (p.variant.empty() || want.variant.empty()))
            loose = &d;
    }
    if (loose)
        return *loose;
    return Error::with_code(ENOENT, "no manifest for platform ", want.os, "/", want.architecture,
                            want.variant.empty() ? "" : "/", want.variant,
                            " (index has: ", seen.empty() ? "none" : seen, ")");
}

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids)
{
    std::vector<std::string> chain;
    chain.reserve(diff_ids.size());
    for (const auto& d : diff_ids) {
        if (chain.empty())
            chain.push_back(d);
        else
            chain.push_back("sha256:" +
                            small_hash::hex(small_hash::sha256({chain.back(), " ", d})));
    }
    return chain;
}

} // namespace berth::image

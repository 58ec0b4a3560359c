// image/archive_index.cpp — parsers of an image archive's own index files (archive.hpp) and its
// member paths. nlohmann::json in its non-throwing mode; every field's type checked.
#include <nlohmann/json.hpp>
#include "image/archive.hpp"

namespace berth::image {
namespace {

using nlohmann::json;
constexpr std::size_t max_index_bytes = std::size_t{4} << 20;
constexpr std::size_t max_entries = 10000;

Result<json> parse_json(std::string_view text, std::string_view what)
{
    if (text.size() > max_index_bytes)
        return Error::with_code(EFBIG, what, " larger than ", max_index_bytes, " bytes");
    auto j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded())
        return Error::invalid(what, ": not JSON");
    return j;
}

std::string string_at(const json& j, const char* key)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

Result<std::vector<std::string>> strings_at(const json& j, const char* key, std::string_view what)
{
    std::vector<std::string> out;
    const auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return out;
    if (!it->is_array() || it->size() > max_entries)
        return Error::invalid(what, ": ", key, " is not a list of strings");
    for (const auto& s : *it) {
        if (!s.is_string())
            return Error::invalid(what, ": ", key, " is not a list of strings");
        out.push_back(s.get<std::string>());
    }
    return out;
}

Result<LayoutEntry> layout_entry(const json& m, std::size_t i)
{
    const auto what = cat("index.json manifests[", i, "]");
    if (!m.is_object())
        return Error::invalid(what, ": not an object");
    LayoutEntry e;
    e.descriptor.media_type = string_at(m, "mediaType");
    e.descriptor.digest = string_at(m, "digest");
    if (!is_valid_digest(e.descriptor.digest))
        return Error::invalid(what, ": digest ", quoted(e.descriptor.digest),
                              " is not sha256:<64 hex>");
    const auto size = m.find("size");
    if (size == m.end() || !size->is_number_unsigned())
        return Error::invalid(what, ": size missing or negative");
    e.descriptor.size = size->get<std::uint64_t>();
    if (const auto a = m.find("annotations"); a != m.end()) {
        if (!a->is_object())
            return Error::invalid(what, ": annotations is not an object");
        e.name = string_at(*a, "io.containerd.image.name");
        if (e.name.empty())
            e.name = string_at(*a, "org.opencontainers.image.ref.name");
    }
    return e;
}

} // namespace

Result<std::vector<LayoutEntry>> parse_layout_index(std::string_view index_json)
{
    auto j = parse_json(index_json, "index.json");
    if (!j)
        return std::move(j).error();
    if (!j->is_object())
        return Error::invalid("index.json: not a JSON object");
    const auto manifests = j->find("manifests");
    if (manifests == j->end() || !manifests->is_array())
        return Error::invalid("index.json: no manifests list");
    if (manifests->empty() || manifests->size() > max_entries)
        return Error::invalid("index.json: ", manifests->size(), " manifests (1 to ", max_entries,
                              " expected)");
    std::vector<LayoutEntry> out;
    for (std::size_t i = 0; i < manifests->size(); ++i) {
        auto e = layout_entry((*manifests)[i], i);
        if (!e)
            return std::move(e).error();
        out.push_back(std::move(*e));
    }
    return out;
}

Result<void> check_oci_layout(std::string_view oci_layout)
{
    auto j = parse_json(oci_layout, "oci-layout");
    if (!j)
        return std::move(j).error();
    const auto version = j->is_object() ? string_at(*j, "imageLayoutVersion") : std::string{};
    if (!version.starts_with("1."))
        return Error::invalid("oci-layout: imageLayoutVersion ", quoted(version), " is not 1.x");
    return {};
}

Result<std::vector<DockerArchiveImage>> parse_docker_manifest(std::string_view manifest_json)
{
    auto j = parse_json(manifest_json, "manifest.json");
    if (!j)
        return std::move(j).error();
    if (!j->is_array() || j->empty() || j->size() > max_entries)
        return Error::invalid("manifest.json: not a non-empty list of images");
    std::vector<DockerArchiveImage> out;
    for (std::size_t i = 0; i < j->size(); ++i) {
        const auto& m = (*j)[i];
        const auto what = cat("manifest.json[", i, "]");
        if (!m.is_object())
            return Error::invalid(what, ": not an object");
        DockerArchiveImage image;
        image.config = string_at(m, "Config");
        if (image.config.empty())
            return Error::invalid(what, ": no Config path");
        auto layers = strings_at(m, "Layers", what);
        if (!layers)
            return std::move(layers).error();
        auto tags = strings_at(m, "RepoTags", what);
        if (!tags)
            return std::move(tags).error();
        image.layers = std::move(*layers);
        image.repo_tags = std::move(*tags);
        out.push_back(std::move(image));
    }
    return out;
}

Result<std::string> archive_path(std::string_view path)
{
    if (path.starts_with('/'))
        return Error::invalid("archive member ", quoted(path), ": absolute path");
    std::string out;
    for (auto part : split(path, '/')) {
        if (part.empty() || part == ".")
            continue;
        if (part == "..")
            return Error::invalid("archive member ", quoted(path), ": path climbs out with '..'");
        if (!out.empty())
            out += '/';
        out += part;
    }
    if (out.size() > 4095)
        return Error::invalid("archive member ", quoted(path.substr(0, 64)), "...: path too long");
    return out;
}

std::string resolve_link(std::string_view link_path, std::string_view target)
{
    if (target.starts_with('/'))
        return {};
    std::vector<std::string_view> parts;
    // The link's own directory and then its target, each ".." taking one step back: a link path
    // that is not canonical ("a/../../b") cannot lend the target a way out either.
    auto walk = [&parts](std::string_view path) {
        for (auto p : split(path, '/')) {
            if (p.empty() || p == ".")
                continue;
            if (p == "..") {
                if (parts.empty())
                    return false; // climbs out of the archive
                parts.pop_back();
            } else {
                parts.push_back(p);
            }
        }
        return true;
    };
    const auto slash = link_path.rfind('/');
    if (slash != std::string_view::npos && !walk(link_path.substr(0, slash)))
        return {};
    if (!walk(target))
        return {};
    std::string out;
    for (auto p : parts)
        out += (out.empty() ? "" : "/") + std::string(p);
    return out;
}

} // namespace berth::image

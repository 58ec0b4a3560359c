// tests/root/image_archive_support.hpp — image archives built byte by byte for the archive and gc
// tests: an OCI image layout, a legacy `docker save` (<id>/layer.tar, <hex>.json, manifest.json,
// repositories, a symlinked duplicate layer) and Docker 25's OCI layout with manifest.json. The
// members are a list a test can edit (to corrupt, truncate or add hostile entries) before tar().
#pragma once
#include <algorithm>
#include <string>
#include <utility>
#include <vector>
#include <nlohmann/json.hpp>
#include "image/internal.hpp"
#include "tests/support/tar_builder.hpp"

namespace berth::test {

using Members = std::vector<std::pair<std::string, std::string>>; // name -> bytes, in order

struct ArchiveImage {
    ArchiveImage(std::string n, std::vector<std::string> l, bool g = true)
        : name(std::move(n)), layers(std::move(l)), gzip(g)
    {
    }
    std::string name;                // "" for none
    std::vector<std::string> layers; // uncompressed tars
    bool gzip = true;
    std::vector<std::string> claimed_diff_ids; // what the config says instead, if set
};

struct BuiltImage {
    std::string manifest_json, manifest, config_json, config;
    std::vector<std::string> layer_blobs, layer_digests, diff_ids;
};

inline BuiltImage build_image(const ArchiveImage& image)
{
    BuiltImage b;
    auto layers = nlohmann::json::array(), diff_ids = nlohmann::json::array();
    for (const auto& tar : image.layers) {
        b.layer_blobs.push_back(image.gzip ? gzip_bytes(tar) : tar);
        b.layer_digests.push_back(image::sha256_digest(b.layer_blobs.back()));
        b.diff_ids.push_back(image::sha256_digest(tar));
        diff_ids.push_back(image.claimed_diff_ids.empty()
                               ? b.diff_ids.back()
                               : image.claimed_diff_ids[b.diff_ids.size() - 1]);
        layers.push_back({{"mediaType", image.gzip ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                                   : "application/vnd.oci.image.layer.v1.tar"},
                          {"digest", b.layer_digests.back()},
                          {"size", b.layer_blobs.back().size()}});
    }
    b.config_json = nlohmann::json{{"architecture", image::host_platform().architecture},
                                   {"os", "linux"},
                                   {"config", {{"Cmd", {"/bin/sh"}}}},
                                   {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
                        .dump();
    b.config = image::sha256_digest(b.config_json);
    b.manifest_json = nlohmann::json{
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
          {"digest", b.config},
          {"size", b.config_json.size()}}},
        {"layers",
         layers}}.dump();
    b.manifest = image::sha256_digest(b.manifest_json);
    return b;
}

inline std::string blob_name(const std::string& digest)
{
    return "blobs/sha256/" + digest.substr(7);
}

// An OCI image layout; with docker_manifest, also Docker 25's manifest.json.
inline Members oci_members(const std::vector<ArchiveImage>& images, bool docker_manifest = false)
{
    Members blobs;
    auto index = nlohmann::json::array(), docker = nlohmann::json::array();
    for (const auto& image : images) {
        const auto b = build_image(image);
        nlohmann::json entry = {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                {"digest", b.manifest},
                                {"size", b.manifest_json.size()}};
        if (!image.name.empty())
            entry["annotations"] = {{"io.containerd.image.name", image.name},
                                    {"org.opencontainers.image.ref.name", image.name}};
        index.push_back(entry);
        blobs.emplace_back(blob_name(b.manifest), b.manifest_json);
        blobs.emplace_back(blob_name(b.config), b.config_json);
        auto layer_paths = nlohmann::json::array();
        for (std::size_t i = 0; i < b.layer_blobs.size(); ++i) {
            blobs.emplace_back(blob_name(b.layer_digests[i]), b.layer_blobs[i]);
            layer_paths.push_back(blob_name(b.layer_digests[i]));
        }
        docker.push_back({{"Config", blob_name(b.config)},
                          {"RepoTags", image.name.empty() ? nlohmann::json::array()
                                                          : nlohmann::json::array({image.name})},
                          {"Layers", layer_paths}});
    }
    Members m{{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
              {"index.json", nlohmann::json{{"schemaVersion", 2}, {"manifests", index}}.dump()}};
    if (docker_manifest)
        m.emplace_back("manifest.json", docker.dump());
    for (const auto& blob : blobs) // images share layers: each blob once, as in a real layout
        if (std::find(m.begin(), m.end(), blob) == m.end())
            m.push_back(blob);
    return m;
}

// Legacy docker save: uncompressed layer.tar files in per-layer directories, the config as
// <hex>.json, manifest.json last (as docker writes it); a layer repeated within an image is a
// symlink to the first copy, as docker writes it.
inline Members docker_legacy_members(const std::vector<ArchiveImage>& images)
{
    Members m;
    auto manifest = nlohmann::json::array();
    int n = 0;
    for (const auto& image : images) {
        auto plain = image;
        plain.gzip = false;
        const auto b = build_image(plain);
        auto layers = nlohmann::json::array();
        std::vector<std::string> seen;
        for (std::size_t i = 0; i < b.layer_blobs.size(); ++i) {
            const auto id = std::to_string(++n) + std::string(40, 'f');
            m.emplace_back(id + "/VERSION", "1.0");
            bool dup = false;
            for (std::size_t j = 0; j < i; ++j)
                if (b.diff_ids[j] == b.diff_ids[i]) {
                    m.emplace_back("symlink:" + id + "/layer.tar", "../" + seen[j] + "/layer.tar");
                    dup = true;
                }
            if (!dup)
                m.emplace_back(id + "/layer.tar", b.layer_blobs[i]);
            seen.push_back(id);
            layers.push_back(id + "/layer.tar");
        }
        m.emplace_back(b.config.substr(7) + ".json", b.config_json);
        manifest.push_back({{"Config", b.config.substr(7) + ".json"},
                            {"RepoTags", image.name.empty() ? nlohmann::json::array()
                                                            : nlohmann::json::array({image.name})},
                            {"Layers", layers}});
    }
    m.emplace_back("repositories", "{}");
    m.emplace_back("manifest.json", manifest.dump());
    return m;
}

// Members named "symlink:<path>" become symlinks to their bytes; "hardlink:<path>" hardlinks.
inline std::string tar_of(const Members& members)
{
    TarBuilder t;
    for (const auto& [name, bytes] : members) {
        if (name.rfind("symlink:", 0) == 0)
            t.symlink(name.substr(8), bytes);
        else if (name.rfind("hardlink:", 0) == 0)
            t.hardlink(name.substr(9), bytes);
        else
            t.file(name, bytes);
    }
    return t.finish();
}

} // namespace berth::test

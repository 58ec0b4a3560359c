// image/save.cpp — Store::save: the images as one OCI image layout tar (oci-layout, index.json,
// blobs/sha256/<hex>), streamed blob by blob and re-hashed on the way out. index.json names each
// image by its full reference under both io.containerd.image.name and
// org.opencontainers.image.ref.name, which berth load, skopeo, podman and ctr all read.
// The same tar also holds a `docker save` manifest.json over the same blobs, as Docker 25+ writes
// its own archives: loaders that only know the older format (docker load before 25, skopeo's
// docker-archive:) read that one; a layer blob may be compressed, which they detect.
#include <fcntl.h>
#include <sys/stat.h>
#include <set>
#include <nlohmann/json.hpp>
#include "base/files.hpp"
#include "base/strings.hpp"
#include "image/archive.hpp"
#include "image/store_fs.hpp"

namespace berth::image {
namespace {

Result<std::uint64_t> blob_size(const Store& store, const std::string& digest)
{
    struct stat st {};
    if (::stat(store.blob_path(digest).c_str(), &st) < 0)
        return Error::from_errno("blob ", digest, " is not in the store");
    return static_cast<std::uint64_t>(st.st_size);
}

Result<nlohmann::json> index_entry(const Store& store, const ImageRecord& record)
{
    auto text = read_file(store.blob_path(record.manifest_digest), std::size_t{4} << 20);
    if (!text)
        return std::move(text).error().wrap(cat("manifest ", record.manifest_digest));
    auto manifest = parse_manifest(*text);
    if (!manifest)
        return std::move(manifest).error().wrap(cat("manifest ", record.manifest_digest));
    return nlohmann::json{{"mediaType", manifest->media_type},
                          {"digest", record.manifest_digest},
                          {"size", text->size()},
                          {"annotations",
                           {{"io.containerd.image.name", record.reference},
                            {"org.opencontainers.image.ref.name", record.reference}}}};
}

// manifest.json's entry for one image: its config and layers as paths in the tar, and its
// reference as a tag when it has one (a reference pinned by digest alone has none).
Result<nlohmann::json> docker_entry(const ImageRecord& record)
{
    auto layers = nlohmann::json::array();
    for (const auto& layer : record.layers)
        layers.push_back(cat("blobs/sha256/", digest_hex(layer)));
    auto tags = nlohmann::json::array();
    auto ref = parse_reference(record.reference);
    if (!ref)
        return std::move(ref).error().wrap(cat("image ", quoted(record.reference)));
    if (!ref->tag.empty())
        tags.push_back(cat(ref->domain, "/", ref->repository, ":", ref->tag));
    return nlohmann::json{{"Config", cat("blobs/sha256/", digest_hex(record.config_digest))},
                          {"RepoTags", tags},
                          {"Layers", layers}};
}

Result<void> write_blob(const Store& store, TarWriter& tar, const std::string& digest)
{
    auto size = blob_size(store, digest);
    if (!size)
        return std::move(size).error();
    auto fd = open_at(AT_FDCWD, store.blob_path(digest), O_RDONLY);
    if (!fd)
        return std::move(fd).error();
    return tar.file_from(cat("blobs/sha256/", digest_hex(digest)), fd->get(), *size, digest);
}

} // namespace

Result<void> Store::save(const std::vector<std::string>& references, int fd) const
{
    if (references.empty())
        return Error::invalid("save: no images named");
    std::vector<ImageRecord> records;
    auto manifests = nlohmann::json::array();
    auto docker = nlohmann::json::array();
    std::vector<std::string> blobs; // in order, each once
    std::set<std::string> seen;
    for (const auto& reference : references) {
        auto record = find(reference);
        if (!record)
            return std::move(record).error().wrap("save");
        auto entry = index_entry(*this, *record);
        if (!entry)
            return std::move(entry).error().wrap(cat("save ", record->reference));
        manifests.push_back(std::move(*entry));
        auto docker_image = docker_entry(*record);
        if (!docker_image)
            return std::move(docker_image).error().wrap("save");
        docker.push_back(std::move(*docker_image));
        std::vector<std::string> digests{record->manifest_digest, record->config_digest};
        digests.insert(digests.end(), record->layers.begin(), record->layers.end());
        for (auto& d : digests)
            if (seen.insert(d).second)
                blobs.push_back(std::move(d));
    }
    const nlohmann::json index = {{"schemaVersion", 2},
                                  {"mediaType", "application/vnd.oci.image.index.v1+json"},
                                  {"manifests", manifests}};
    TarWriter tar(fd);
    auto r = tar.file("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
    if (r)
        r = tar.file("index.json", index.dump());
    if (r)
        r = tar.file("manifest.json", docker.dump());
    if (r)
        r = tar.directory("blobs/");
    if (r)
        r = tar.directory("blobs/sha256/");
    for (std::size_t i = 0; r && i < blobs.size(); ++i)
        r = write_blob(*this, tar, blobs[i]);
    if (r)
        r = tar.finish();
    if (!r)
        return std::move(r).error().wrap("save");
    return {};
}

} // namespace berth::image

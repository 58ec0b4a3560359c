// image/load.cpp — Store::load: (1) stream the archive into a staging directory under ingest/,
// every member hashed (stage_archive); (2) plan each image from index.json (OCI layout, also
// written by Docker 25+) or manifest.json (legacy `docker save`), checking every descriptor's
// digest and size against what was staged; (3) unpack each new layer into staging, checking its
// diffID; (4) only then commit: link blobs, rename snapshots, write records. A failure before (4)
// leaves the store as it was; the staging directory goes with the Staging object, or with
// recover() after a crash (its lock file tells a live load from a dead one).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ctime>
#include <random>
#include <set>
#include <nlohmann/json.hpp>
#include "base/files.hpp"
#include "image/archive.hpp"
#include "image/decompress.hpp"
#include "image/digest.hpp"
#include "image/lease.hpp"
#include "image/media_types.hpp"
#include "image/records.hpp"
#include "image/store_fs.hpp"
#include "image/writer.hpp"

namespace berth::image {
namespace {

constexpr std::size_t max_json = std::size_t{8} << 20;

struct Staging { // ingest/load-<random>, locked while this load runs
    std::string dir, lock_path;
    Fd lock;
    Staging() = default;
    Staging(const Staging&) = delete;
    Staging& operator=(const Staging&) = delete;
    ~Staging()
    {
        if (dir.empty())
            return;
        (void)remove_tree(dir);
        ::unlink(lock_path.c_str());
    }
};

Result<void> make_staging(const Store& store, Staging& s)
{
    std::random_device rd;
    const auto name = cat("load-", std::hex, rd(), rd());
    s.lock_path = cat(store.root(), "/locks/", name, ".lock");
    auto lock = lock_exclusive(s.lock_path);
    if (!lock)
        return std::move(lock).error();
    s.lock = std::move(*lock);
    const auto dir = cat(store.root(), "/ingest/", name);
    if (::mkdir(dir.c_str(), 0700) < 0)
        return Error::from_errno("mkdir ", quoted(dir));
    s.dir = dir;
    if (::mkdir((dir + "/blobs").c_str(), 0700) < 0)
        return Error::from_errno("mkdir ", quoted(dir + "/blobs"));
    return {};
}

struct Planned { // one image, every blob of it staged and checked
    ImageRecord record;
    std::vector<Descriptor> layers;
    std::vector<std::string> diff_ids;
    std::vector<std::string> extra_blobs; // an index the archive routed through
};

Result<std::string> staged_text(const ArchiveStager& st, const Descriptor& d, std::string_view what)
{
    if (!st.has_digest(d.digest))
        return Error::with_code(ENOENT, what, " ", d.digest, " is not in the archive");
    auto text = read_file(st.file_of(d.digest), max_json);
    if (!text)
        return std::move(text).error().wrap(cat(what, " ", d.digest));
    if (d.size != text->size())
        return Error::with_code(EBADMSG, what, " ", d.digest, " is ", text->size(),
                                " bytes, its descriptor says ", d.size);
    return text;
}

Result<std::string> image_name(std::string_view given, const LoadOptions& o, std::string_view what)
{
    std::string text(given);
    if (given.empty() && o.name.empty())
        return Error::invalid(what, " has no name in the archive: give one (berth load --name)");
    if (given.empty())
        text = o.name;
    else if (given.find_first_of("/:@") == std::string_view::npos) { // a tag alone
        if (o.name.empty())
            return Error::invalid(what, " is named only by the tag ", quoted(given),
                                  ": give the repository (berth load --name)");
        text = cat(o.name, ":", given);
    }
    auto ref = parse_reference(text);
    if (!ref)
        return std::move(ref).error().wrap(what);
    return ref->str();
}

// The manifest's config and layers: staged, sizes right, compression known, diffIDs counted.
Result<Planned> plan_manifest(const ArchiveStager& st, const Descriptor& md,
                              const std::string& text, std::string name)
{
    auto manifest = parse_manifest(text, md.media_type);
    if (!manifest)
        return std::move(manifest).error().wrap(cat("manifest ", md.digest));
    auto config_text = staged_text(st, manifest->config, "config");
    if (!config_text)
        return std::move(config_text).error();
    auto config = parse_image_config(*config_text);
    if (!config)
        return std::move(config).error().wrap(cat("config ", manifest->config.digest));
    if (config->diff_ids.size() != manifest->layers.size())
        return Error::invalid("config ", manifest->config.digest, " lists ",
                              config->diff_ids.size(), " layers, the manifest ",
                              manifest->layers.size());
    Planned p;
    p.record = {std::move(name),
                md.digest,
                manifest->config.digest,
                {},
                chain_ids(config->diff_ids),
                manifest->config.size,
                std::time(nullptr)};
    for (const auto& layer : manifest->layers) {
        if (layer_compression(layer.media_type) == Compression::Unknown)
            return Error::invalid("layer ", layer.digest, ": unsupported media type ",
                                  quoted(layer.media_type));
        if (!st.has_digest(layer.digest))
            return Error::with_code(ENOENT, "layer ", layer.digest, " is not in the archive");
        struct stat s {};
        if (::stat(st.file_of(layer.digest).c_str(), &s) < 0 ||
            static_cast<std::uint64_t>(s.st_size) != layer.size)
            return Error::with_code(EBADMSG, "layer ", layer.digest, " is ", s.st_size,
                                    " bytes, its descriptor says ", layer.size);
        p.record.layers.push_back(layer.digest);
        p.record.size += layer.size;
    }
    p.layers = manifest->layers;
    p.diff_ids = config->diff_ids;
    return p;
}

Result<std::vector<Planned>> plan_layout(const ArchiveStager& st, const LoadOptions& o)
{
    if (st.has("oci-layout")) {
        auto f = st.find("oci-layout");
        auto text = read_file(st.file_of(f->digest), max_json);
        if (!text)
            return std::move(text).error();
        if (auto r = check_oci_layout(*text); !r)
            return r.error();
    }
    auto index_file = st.find("index.json");
    auto index_text = read_file(st.file_of(index_file->digest), max_json);
    if (!index_text)
        return std::move(index_text).error();
    auto entries = parse_layout_index(*index_text);
    if (!entries)
        return std::move(entries).error();
    std::vector<Planned> out;
    for (std::size_t i = 0; i < entries->size(); ++i) {
        auto& e = (*entries)[i];
        const auto what = cat("index.json manifests[", i, "]");
        auto name = image_name(e.name, o, what);
        if (!name)
            return std::move(name).error();
        auto text = staged_text(st, e.descriptor, "manifest");
        if (!text)
            return std::move(text).error().wrap(what);
        std::vector<std::string> extra;
        Descriptor md = e.descriptor;
        if (is_index_media_type(md.media_type) ||
            (md.media_type.empty() && text->find("\"manifests\"") != std::string::npos)) {
            auto index = parse_index(*text, md.media_type);
            if (!index)
                return std::move(index).error().wrap(what);
            auto chosen = select_platform(*index, o.platform.value_or(host_platform()));
            if (!chosen)
                return std::move(chosen).error().wrap(what);
            extra.push_back(md.digest);
            md = *chosen;
            text = staged_text(st, md, "manifest");
            if (!text)
                return std::move(text).error().wrap(what);
        }
        auto p = plan_manifest(st, md, *text, std::move(*name));
        if (!p)
            return std::move(p).error().wrap(what);
        p->extra_blobs = std::move(extra);
        out.push_back(std::move(*p));
    }
    return out;
}

std::string_view sniff_layer_type(const std::string& path)
{
    unsigned char magic[4] = {};
    const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.valid() && ::read(fd.get(), magic, sizeof magic) == 4) {
        if (magic[0] == 0x1f && magic[1] == 0x8b)
            return "application/vnd.docker.image.rootfs.diff.tar.gzip";
        if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
            return "application/vnd.oci.image.layer.v1.tar+zstd";
    }
    return "application/vnd.docker.image.rootfs.diff.tar";
}

// Legacy docker save: no manifest blob, so berth writes the Docker schema 2 manifest that
// describes the staged config and layers (as containerd's import does) and stages it too.
Result<Planned> plan_docker_image(const ArchiveStager& st, const std::string& staging,
                                  const DockerArchiveImage& image, std::string name)
{
    auto config = st.find(image.config);
    if (!config)
        return std::move(config).error();
    const auto base = image.config.substr(image.config.rfind('/') + 1);
    if (base.size() == 69 && base.ends_with(".json") &&
        is_valid_digest("sha256:" + base.substr(0, 64)) &&
        config->digest != "sha256:" + base.substr(0, 64))
        return Error::with_code(EBADMSG, "config ", quoted(image.config), ": content has digest ",
                                config->digest, " (digest mismatch)");
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& path : image.layers) {
        auto layer = st.find(path);
        if (!layer)
            return std::move(layer).error();
        layers.push_back({{"mediaType", sniff_layer_type(st.file_of(layer->digest))},
                          {"size", layer->size},
                          {"digest", layer->digest}});
    }
    const nlohmann::json manifest = {
        {"schemaVersion", 2},
        {"mediaType", docker_manifest},
        {"config",
         {{"mediaType", "application/vnd.docker.container.image.v1+json"},
          {"size", config->size},
          {"digest", config->digest}}},
        {"layers", layers}};
    const auto text = manifest.dump();
    const auto digest = sha256_digest(text);
    if (auto r = write_verified(staging, cat(staging, "/", digest_hex(digest)), text); !r)
        return r.error();
    return plan_manifest(st, {std::string(docker_manifest), digest, text.size(), {}}, text,
                         std::move(name));
}

Result<std::vector<Planned>> plan_docker(const ArchiveStager& st, const std::string& staging,
                                         const LoadOptions& o)
{
    auto file = st.find("manifest.json");
    auto text = read_file(st.file_of(file->digest), max_json);
    if (!text)
        return std::move(text).error();
    auto images = parse_docker_manifest(*text);
    if (!images)
        return std::move(images).error();
    std::vector<Planned> out;
    for (std::size_t i = 0; i < images->size(); ++i) {
        const auto what = cat("manifest.json[", i, "]");
        auto tags = (*images)[i].repo_tags;
        if (tags.empty())
            tags.emplace_back(); // unnamed: LoadOptions::name or an error
        for (const auto& tag : tags) {
            auto name = image_name(tag, o, what);
            if (!name)
                return std::move(name).error();
            auto p = plan_docker_image(st, staging, (*images)[i], std::move(*name));
            if (!p)
                return std::move(p).error().wrap(what);
            out.push_back(std::move(*p));
        }
    }
    return out;
}

// One layer from its staged blob into dir: inflate, diffID, tar, confined writer.
Result<void> unpack_layer(const std::string& blob, const Descriptor& layer,
                          const std::string& diff_id, const std::string& dir, std::uint64_t max)
{
    if (::mkdir(dir.c_str(), 0755) < 0)
        return Error::from_errno("mkdir ", quoted(dir));
    auto root = open_at(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
    auto in = open_at(AT_FDCWD, blob, O_RDONLY);
    if (!root || !in)
        return !root ? std::move(root).error() : std::move(in).error();
    LayerWriter writer(std::move(*root), max);
    TarParser tar(writer);
    Sha256 sha;
    std::uint64_t inflated = 0;
    auto inflater = Decompressor::create(layer_compression(layer.media_type));
    const ByteSink sink = [&](const char* d, std::size_t n) -> Result<void> {
        if ((inflated += n) > max)
            return Error::with_code(EFBIG, "uncompressed size over the limit of ", max, " bytes");
        sha.update(d, n);
        return tar.feed(d, n);
    };
    std::vector<char> buffer(std::size_t{1} << 20);
    for (;;) {
        const auto n = ::read(in->get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("read ", quoted(blob));
        if (n == 0)
            break;
        if (auto r = inflater->feed(buffer.data(), static_cast<std::size_t>(n), sink); !r)
            return r;
    }
    if (auto r = inflater->finish(); !r)
        return r;
    if (auto r = tar.finish(); !r)
        return r;
    if (const auto got = sha.digest(); got != diff_id)
        return Error::with_code(EBADMSG, "uncompressed content has digest ", got,
                                ", the config says ", diff_id);
    return writer.finish();
}

Result<void> commit(const Store& store, const std::string& staging,
                    const std::vector<Planned>& plans, const std::set<std::string>& unpacked)
{
    for (const auto& p : plans) {
        std::vector<std::string> blobs{p.record.manifest_digest, p.record.config_digest};
        blobs.insert(blobs.end(), p.record.layers.begin(), p.record.layers.end());
        blobs.insert(blobs.end(), p.extra_blobs.begin(), p.extra_blobs.end());
        for (const auto& d : blobs) {
            const auto from = cat(staging, "/blobs/", digest_hex(d));
            if (::link(from.c_str(), store.blob_path(d).c_str()) < 0 && errno != EEXIST)
                return Error::from_errno("store blob ", d);
        }
    }
    for (const auto& chain : unpacked) {
        const auto hex = digest_hex(chain);
        auto lock = lock_exclusive(cat(store.root(), "/locks/", hex, ".lock"));
        if (!lock)
            return std::move(lock).error();
        const auto snapshot = store.snapshot_path(chain);
        if (path_exists(snapshot))
            continue; // a pull made it meanwhile
        if (::rename(cat(staging, "/snap-", hex).c_str(), snapshot.c_str()) < 0)
            return Error::from_errno("commit snapshot ", quoted(snapshot));
    }
    auto gc = lock_gc(store.root(), false); // as in pull: gc never unlinks a record being named
    if (!gc)
        return std::move(gc).error();
    for (const auto& p : plans)
        if (auto r = replace_file(record_file(store.root(), p.record.reference),
                                  record_to_json(p.record));
            !r)
            return r;
    return {};
}

Result<std::vector<ImageRecord>> load_archive(const Store& store, int fd, const LoadOptions& o)
{
    auto lease = LiveLease::create(store.root());
    if (!lease)
        return std::move(lease).error();
    Staging staging;
    if (auto r = make_staging(store, staging); !r)
        return r.error();
    ArchiveStager stager(staging.dir + "/blobs", o.max_layer_bytes, o.max_archive_bytes,
                         o.max_members);
    if (auto r = stage_archive(fd, stager); !r)
        return r.error();
    const bool layout = stager.has("index.json"), docker = stager.has("manifest.json");
    if (!layout && !docker)
        return Error::invalid("neither index.json nor manifest.json at the top of the archive: "
                              "not an OCI image layout or docker save archive");
    auto plans = layout ? plan_layout(stager, o) : plan_docker(stager, staging.dir + "/blobs", o);
    if (!plans)
        return std::move(plans).error();
    std::vector<std::string> content;
    for (const auto& p : *plans) {
        content.insert(content.end(), {p.record.manifest_digest, p.record.config_digest});
        content.insert(content.end(), p.record.layers.begin(), p.record.layers.end());
        content.insert(content.end(), p.record.chain.begin(), p.record.chain.end());
        content.insert(content.end(), p.extra_blobs.begin(), p.extra_blobs.end());
    }
    if (auto r = lease->add(content); !r) // before looking at which snapshots exist
        return r.error();
    std::set<std::string> unpacked;
    for (const auto& p : *plans)
        for (std::size_t i = 0; i < p.layers.size(); ++i) {
            const auto& chain = p.record.chain[i];
            if (unpacked.count(chain) || path_exists(store.snapshot_path(chain)))
                continue;
            auto r = unpack_layer(stager.file_of(p.layers[i].digest), p.layers[i], p.diff_ids[i],
                                  cat(staging.dir, "/snap-", digest_hex(chain)), o.max_layer_bytes);
            if (!r)
                return std::move(r).error().wrap(
                    cat(p.record.reference, ": layer ", p.layers[i].digest));
            unpacked.insert(chain);
        }
    if (auto r = commit(store, staging.dir, *plans, unpacked); !r)
        return r.error();
    std::vector<ImageRecord> out;
    for (auto& p : *plans)
        out.push_back(std::move(p.record));
    return out;
}

} // namespace

Result<std::vector<ImageRecord>> Store::load(int fd, const LoadOptions& options)
{
    auto r = load_archive(*this, fd, options);
    if (!r)
        return std::move(r).error().wrap("load");
    return r;
}

} // namespace berth::image

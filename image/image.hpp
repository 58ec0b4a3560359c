// image/image.hpp — the only header other directories include from image/. image/ owns the
// content store (default /var/lib/berth/images): blobs by digest that are only ever renamed into
// place after their digest and size verified, one unpacked snapshot per layer chain ID, image
// records by reference, and overlayfs root filesystems assembled from snapshots. It pulls from
// OCI distribution registries (anonymous, basic and bearer auth) and unpacks layers in process,
// confined to their snapshot directory. Errors: EINVAL bad input (reference, manifest, layer),
// ENOENT not found, EACCES/EPERM refused by the registry, ECONNREFUSED/ETIMEDOUT unreachable,
// EBADMSG digest or size mismatch, EFBIG a layer over its size limit, ENOSPC disk full.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "base/result.hpp"

namespace berth::image {

// A parsed image reference with Docker's defaults: "busybox" is docker.io/library/busybox:latest.
struct Reference {
    std::string domain;           // "docker.io", "localhost:5000", "127.0.0.1:5000"
    std::string repository;       // "library/busybox"
    std::string tag;              // empty only when a digest was given without a tag
    std::string digest;           // "sha256:<64 hex>" or empty
    std::string str() const;      // the canonical form: domain/repository[:tag][@digest]
    std::string api_host() const; // docker.io is served by registry-1.docker.io
};
Result<Reference> parse_reference(std::string_view text);

struct Platform {
    std::string os = "linux";
    std::string architecture; // OCI names: amd64, arm64, arm, 386, ppc64le, s390x, riscv64
    std::string variant;      // "v8", "v7", or empty
};
Platform host_platform();
Result<Platform> parse_platform(std::string_view text); // "linux/arm64/v8"

struct Descriptor {
    std::string media_type;
    std::string digest;
    std::uint64_t size = 0;
    std::optional<Platform> platform; // in an index only
};
struct Manifest { // OCI image manifest or Docker schema 2 manifest
    std::string media_type;
    Descriptor config;
    std::vector<Descriptor> layers;
};
struct Index { // OCI index or Docker manifest list
    std::string media_type;
    std::vector<Descriptor> manifests;
};
struct ImageConfig {
    Platform platform;
    std::vector<std::string> diff_ids; // one per layer, uncompressed sha256
};
// Parsers of registry input: size-capped, every field checked, never throw.
Result<Manifest> parse_manifest(std::string_view text, std::string_view media_type = {});
Result<Index> parse_index(std::string_view text, std::string_view media_type = {});
Result<ImageConfig> parse_image_config(std::string_view text);
bool is_index_media_type(std::string_view media_type);
// The best entry for want (exact variant first, then none); ENOENT names what was there.
Result<Descriptor> select_platform(const Index& index, const Platform& want);
// "sha256:<64 lowercase hex>" only.
bool is_valid_digest(std::string_view digest);
// chain[0] = diff[0]; chain[i] = sha256(chain[i-1] + " " + diff[i]).
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

struct Challenge {      // one WWW-Authenticate challenge
    std::string scheme; // "bearer" or "basic", lowercased
    std::string realm, service, scope;
};
Result<Challenge> parse_www_authenticate(std::string_view header);

struct Credentials {
    std::string username, password; // basic; ECR's AWS:<token> is just that
    std::string identity_token;     // a refresh token from `docker login`, if any
};
// The credentials for a registry host from a Docker-style config.json (`auths` entries keyed by
// host or URL; docker.io also under https://index.docker.io/v1/). Empty when none.
Result<std::optional<Credentials>> credentials_from_config(std::string_view config_json,
                                                           std::string_view host);

struct Progress {      // reported from pull worker threads; the callback must be thread-safe
    std::string layer; // digest
    std::uint64_t done = 0, total = 0;
    bool finished = false;
};

struct PullOptions {
    std::optional<Platform> platform;       // default: host_platform()
    std::string docker_config;              // path; default $DOCKER_CONFIG or ~/.docker
    std::optional<Credentials> credentials; // overrides docker_config
    // A config.json "auths" object as text ({"registry": {"auth": ...} or {"username",
    // "password"}}: the ECS agent's ECS_ENGINE_AUTH_DATA), consulted before docker_config.
    std::string auths_json;
    // Hosts (host:port, exactly) spoken to over plain http; loopback addresses (127.0.0.0/8,
    // [::1], localhost) always are. Every other registry is https, verified.
    std::vector<std::string> plain_http;
    // A PEM bundle of CAs to verify registries' TLS against, for a private CA (libcurl's
    // CAINFO, in place of its default bundle file; verification stays on).
    std::string ca_file;
    // Registry domain ("docker.io") -> mirror hosts (host[:port]) tried first, in order, with
    // the same repository path; the origin is tried last. Digests are verified whoever serves.
    std::map<std::string, std::vector<std::string>> mirrors;
    unsigned parallel_layers = 3;
    unsigned attempts = 4;              // per request, with exponential backoff
    unsigned inactivity_timeout_s = 30; // no byte for this long: retry
    std::uint64_t max_layer_bytes = std::uint64_t{64} << 30; // uncompressed, per layer
    std::function<void(const Progress&)> progress;
};

struct ImageRecord {
    std::string reference;       // canonical
    std::string manifest_digest; // of the platform manifest
    std::string config_digest;
    std::vector<std::string> layers; // compressed digests, base first
    std::vector<std::string> chain;  // chain IDs, base first
    std::uint64_t size = 0;          // compressed bytes of config + layers
    std::int64_t created = 0;        // pull time, unix seconds
    // When a lease or a rootfs last took or let go of this manifest (unix seconds; 0: never).
    // Filled by list() and find() from <root>/used; not part of the record file.
    std::int64_t last_used = 0;
};

// A named hold on images (the agent takes one per task or container): gc never collects what a
// lease references, even after rmi. Persisted under <root>/leases.
struct Lease {
    std::string name;
    std::vector<ImageRecord> images; // as resolved when the lease was taken
    std::int64_t created = 0;
};
// The agent's periodic image cleanup, after the ECS agent's settings. An image (a manifest
// digest, with every reference naming it) is in use while a named lease holds it, a rootfs of
// its exact layer stack is mounted, or a pull or load of it runs; otherwise it has been idle
// since max(created, last_used). Idle images go oldest first: at most images_per_cycle of those
// idle for minimum_age; then, while the store's filesystem has less free space than a pressure
// threshold, more of those idle for pressure_minimum_age, until it is back above it.
struct GcPolicy {
    std::chrono::seconds minimum_age{3600}; // ECS_IMAGE_MINIMUM_CLEANUP_AGE
    unsigned images_per_cycle = 5;          // ECS_NUM_IMAGES_DELETE_PER_CYCLE
    std::uint64_t pressure_free_bytes = 0;  // 0: no byte threshold
    unsigned pressure_free_percent = 0;     // of the filesystem's size; 0: no percent threshold
    std::chrono::seconds pressure_minimum_age{120}; // a just-pulled image awaits its lease
};
struct GcOptions {
    bool unleased_images = false;   // prune --all: first remove image records no lease holds
    std::optional<GcPolicy> policy; // remove idle images by age, count and disk pressure first
    std::int64_t now = 0;           // unix seconds the policy measures idleness at; 0: the clock
};
struct GcReport {
    std::uint64_t bytes_freed = 0; // disk blocks of removed blobs and snapshots
    std::size_t blobs = 0, snapshots = 0;
    std::vector<std::string> images; // records removed (unleased_images, policy)
    std::size_t locks = 0;           // lock files of finished pulls and loads removed
    bool disk_pressure = false;      // the policy found free space below its threshold
    std::uint64_t free_bytes = 0;    // on the store's filesystem after this run
    // Container dirs from before the per-container snapshot list whose mount is not visible
    // here: what they use is unknown, so while any exists gc keeps every snapshot and the policy
    // removes no image.
    std::vector<std::string> unknown_containers;
};
struct LoadOptions {
    std::string name; // names an image the archive leaves unnamed or names by tag only
    std::optional<Platform> platform; // for an index inside the archive; default host_platform()
    std::uint64_t max_layer_bytes = std::uint64_t{64} << 30; // uncompressed, per layer
    // The whole archive once decompressed (headers and every member), and its member count:
    // a hostile archive is refused (EFBIG) before it fills the disk or the memory of the index.
    std::uint64_t max_archive_bytes = std::uint64_t{256} << 30;
    std::size_t max_members = 65536;
};

// The store: safe for several threads and processes at once (flock per blob and per image).
class Store {
public:
    static Result<Store> open(std::string root); // creates the layout if missing
    const std::string& root() const { return root_; }
    Result<ImageRecord> pull(const Reference& ref, const PullOptions& options = {});
    Result<std::vector<ImageRecord>> list() const;
    Result<ImageRecord> find(std::string_view reference) const; // by name or manifest digest
    Result<void> remove(std::string_view reference); // the record; snapshots stay until gc
    bool has_blob(std::string_view digest) const;
    std::string blob_path(std::string_view digest) const;
    std::string snapshot_path(std::string_view chain_id) const;
    // Removes half-made snapshots left by a crashed pull; those of pulls still running (their
    // layer lock held) are left alone, so this is safe to call at any time.
    Result<void> recover();

    // Loads an OCI image layout or `docker save` tarball (gzip or not) read from fd as a stream;
    // every blob and layer verified. EINVAL/EBADMSG name the entry at fault; unless all of it
    // verified, the store is left as it was.
    Result<std::vector<ImageRecord>> load(int fd, const LoadOptions& options = {});
    // Writes the images as one OCI image layout tar to fd (index.json names each reference).
    Result<void> save(const std::vector<std::string>& references, int fd) const;

    // Takes (or replaces) the named lease on these images; release_lease drops it (ENOENT).
    Result<void> take_lease(std::string_view name, const std::vector<std::string>& references);
    Result<void> release_lease(std::string_view name);
    Result<std::vector<Lease>> leases() const;
    // Removes blobs and snapshots no image record, lease, rootfs or pull in progress references,
    // after the image records the policy picks (GcPolicy). Lock files nobody holds go too.
    Result<GcReport> gc(const GcOptions& options = {});

private:
    explicit Store(std::string root) : root_(std::move(root)) {}
    std::string root_;
};

// A container root: overlayfs over the image's snapshots (up to overlayfs' 500 layers: on Linux
// 6.8+ through the new mount API's lowerdir+, before it as short relative links mounted from a
// thread with its own cwd), with its own upper and work dirs under <root>/containers/<id>.
// The destructor unmounts and removes them unless keep() was called.
class Rootfs {
public:
    static Result<Rootfs> mount(const Store& store, const ImageRecord& image,
                                const std::string& id);
    // The rootfs `id` a previous process mounted and kept (an agent restarting): an owning
    // handle again, so its destructor unmounts and removes it. ENOENT when there is none.
    static Result<Rootfs> adopt(const Store& store, const std::string& id);
    Rootfs(Rootfs&& other) noexcept;
    Rootfs& operator=(Rootfs&&) = delete;
    Rootfs(const Rootfs&) = delete;
    Rootfs& operator=(const Rootfs&) = delete;
    ~Rootfs();
    const std::string& path() const { return merged_; } // usable as the runtime's root.path
    void keep() { owned_ = false; }
    // Unmounts and removes the rootfs <id> that an earlier Rootfs kept (keep(), then a restart
    // of the agent); ENOENT when there is none. Its image's last_used becomes now.
    static Result<void> remove(const Store& store, const std::string& id);

private:
    Rootfs(std::string dir, std::string merged) : dir_(std::move(dir)), merged_(std::move(merged))
    {
    }
    std::string dir_, merged_;
    std::string store_root_, manifest_; // for last_used when the rootfs goes
    bool owned_ = true;
};

} // namespace berth::image

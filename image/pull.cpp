// image/pull.cpp — Store::pull: resolve the reference to one platform's manifest, store the
// manifest and config, pull the layers in parallel (under options.parallel_layers), then write
// the image record. Every error names the image and, for a layer, its digest.
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <thread>
#include "base/files.hpp"
#include "image/credential_helper.hpp"
#include "image/digest.hpp"
#include "image/layer_pull.hpp"
#include "image/lease.hpp"
#include "image/records.hpp"
#include "image/registry.hpp"
#include "image/store_fs.hpp"

namespace berth::image {
namespace {

constexpr std::size_t max_config = std::size_t{8} << 20;

Result<std::optional<Credentials>> find_credentials(const Reference& ref,
                                                    const PullOptions& options)
{
    if (options.credentials)
        return options.credentials;
    if (!options.auths_json.empty()) {
        auto given =
            credentials_from_config(cat("{\"auths\":", options.auths_json, "}"), ref.domain);
        if (!given)
            return std::move(given).error().wrap("the configured registry credentials");
        if (*given)
            return given;
    }
    std::string path = options.docker_config;
    if (path.empty()) {
        // NOLINTNEXTLINE(concurrency-mt-unsafe): read-only; the binary does not setenv
        const char* dir = std::getenv("DOCKER_CONFIG");
        const char* home = std::getenv("HOME"); // NOLINT(concurrency-mt-unsafe)
        path = dir ? cat(dir, "/config.json") : home ? cat(home, "/.docker/config.json") : "";
    }
    if (path.empty() || !path_exists(path))
        return std::optional<Credentials>{};
    auto text = read_file(path, std::size_t{1} << 20);
    if (!text)
        return std::move(text).error();
    // Docker's order: credHelpers[host], then credsStore, then auths. `docker login` with a
    // credential store writes the secret to the helper and only an empty marker {} to auths, so
    // the helper must be asked first. When it has nothing for this host ("credentials not
    // found"), a secret written into auths by hand still counts.
    if (auto helper = credential_helper_for(*text, ref.domain)) {
        auto from_helper = credentials_from_helper(*helper, ref.domain);
        if (!from_helper)
            return std::move(from_helper)
                .error()
                .wrap(cat("credentials for ", ref.domain, " from ", quoted(path)));
        if (*from_helper)
            return from_helper;
    }
    auto creds = credentials_from_config(*text, ref.domain);
    if (!creds)
        return std::move(creds).error().wrap(quoted(path));
    return creds;
}

// The platform manifest: through the index when the reference names one.
Result<std::pair<Manifest, std::string>> resolve(RegistryClient& client, const Reference& ref,
                                                 const Store& store, const Platform& platform,
                                                 LiveLease& lease)
{
    auto top = client.manifest(ref.digest.empty() ? ref.tag : ref.digest);
    if (!top)
        return std::move(top).error();
    auto media = top->media_type;
    if (is_index_media_type(media) ||
        (media.empty() && top->body.find("\"manifests\"") != std::string::npos)) {
        auto index = parse_index(top->body, media);
        if (!index)
            return std::move(index).error();
        auto entry = select_platform(*index, platform);
        if (!entry)
            return std::move(entry).error();
        if (auto r = lease.add({top->digest}); !r)
            return r.error();
        if (auto r = write_verified(store.root() + "/blobs/sha256", store.blob_path(top->digest),
                                    top->body);
            !r)
            return std::move(r).error();
        top = client.manifest(entry->digest);
        if (!top)
            return std::move(top).error();
        media = top->media_type;
    }
    auto manifest = parse_manifest(top->body, media);
    if (!manifest)
        return std::move(manifest).error();
    if (auto r = lease.add({top->digest}); !r)
        return r.error();
    if (auto r =
            write_verified(store.root() + "/blobs/sha256", store.blob_path(top->digest), top->body);
        !r)
        return std::move(r).error();
    return std::pair{std::move(*manifest), top->digest};
}

Result<void> pull_layers(RegistryClient& client, const Store& store,
                         const std::vector<LayerJob>& jobs, const PullOptions& options)
{
    std::atomic<std::size_t> next{0};
    std::vector<std::optional<Error>> errors(jobs.size());
    auto worker = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < jobs.size();) {
            auto r = pull_layer(client, store, jobs[i], options);
            if (!r)
                errors[i] = std::move(r).error();
        }
    };
    const auto n = std::max(
        1u, std::min<unsigned>(options.parallel_layers, static_cast<unsigned>(jobs.size())));
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < n; ++t)
        threads.emplace_back(worker);
    worker();
    for (auto& t : threads)
        t.join();
    for (std::size_t i = 0; i < jobs.size(); ++i)
        if (errors[i])
            return std::move(*errors[i]).wrap(cat("layer ", jobs[i].layer.digest));
    return {};
}

// Pulls ref (the record's name) from the registry at `at`: ref itself or a mirror of it.
Result<ImageRecord> pull_from(const Store& store, const Reference& ref, const Reference& at,
                              const PullOptions& options)
{
    auto creds = find_credentials(at, options);
    if (!creds)
        return std::move(creds).error();
    RegistryClient client(at, options, std::move(*creds));
    const auto platform = options.platform.value_or(host_platform());
    auto lease = LiveLease::create(store.root()); // gc leaves what this pull uses alone
    if (!lease)
        return std::move(lease).error();
    auto resolved = resolve(client, ref, store, platform, *lease);
    if (!resolved)
        return std::move(resolved).error();
    auto& [manifest, manifest_digest] = *resolved;
    auto config_text = client.small_blob(manifest.config, max_config);
    if (!config_text)
        return std::move(config_text).error().wrap("config");
    auto config = parse_image_config(*config_text);
    if (!config)
        return std::move(config).error().wrap(cat("config ", manifest.config.digest));
    if (config->diff_ids.size() != manifest.layers.size())
        return Error::invalid("config ", manifest.config.digest, " lists ", config->diff_ids.size(),
                              " layers, the manifest ", manifest.layers.size());
    const auto chain = chain_ids(config->diff_ids);
    std::vector<std::string> content{manifest.config.digest};
    for (const auto& l : manifest.layers)
        content.push_back(l.digest);
    content.insert(content.end(), chain.begin(), chain.end());
    if (auto r = lease->add(content); !r)
        return r.error();
    if (auto r = write_verified(store.root() + "/blobs/sha256",
                                store.blob_path(manifest.config.digest), *config_text);
        !r)
        return std::move(r).error();
    ImageRecord record{ref.str(), manifest_digest,      manifest.config.digest, {},
                       chain,     manifest.config.size, std::time(nullptr)};
    std::vector<LayerJob> jobs;
    for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
        jobs.push_back({manifest.layers[i], config->diff_ids[i], record.chain[i]});
        record.layers.push_back(manifest.layers[i].digest);
        record.size += manifest.layers[i].size;
    }
    if (auto r = pull_layers(client, store, jobs, options); !r)
        return std::move(r).error();
    // Under the shared gc lock: a gc policy removing this reference's older record decides and
    // unlinks under the exclusive lock, so it can never unlink the record written here.
    auto gc = lock_gc(store.root(), false);
    if (!gc)
        return std::move(gc).error();
    if (auto r = replace_file(record_file(store.root(), record.reference), record_to_json(record));
        !r)
        return std::move(r).error();
    return record;
}

// Each configured mirror of ref's registry first, then the origin; the origin's error names the
// mirrors' errors too.
Result<ImageRecord> pull_image(const Store& store, const Reference& ref, const PullOptions& options)
{
    std::string mirror_errors;
    if (const auto m = options.mirrors.find(ref.domain); m != options.mirrors.end())
        for (const auto& host : m->second) {
            Reference at = ref;
            at.domain = host;
            auto r = pull_from(store, ref, at, options);
            if (r)
                return r;
            mirror_errors += cat("; mirror ", host, ": ", r.error().message());
        }
    auto r = pull_from(store, ref, ref, options);
    if (!r && !mirror_errors.empty())
        return std::move(r).error().wrap(
            cat("origin ", ref.domain, " (after mirrors failed", mirror_errors, ")"));
    return r;
}

} // namespace

Result<ImageRecord> Store::pull(const Reference& ref, const PullOptions& options)
{
    auto r = pull_image(*this, ref, options);
    if (!r)
        return std::move(r).error().wrap(cat("pull ", ref.str()));
    return r;
}

} // namespace berth::image

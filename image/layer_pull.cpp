// image/layer_pull.cpp — see layer_pull.hpp.
#include "image/layer_pull.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <chrono>
#include <random>
#include <thread>
#include "base/files.hpp"
#include "image/chunk_queue.hpp"
#include "image/decompress.hpp"
#include "image/digest.hpp"
#include "image/store_fs.hpp"
#include "image/writer.hpp"

namespace berth::image {
namespace {

std::string random_suffix()
{
    std::random_device rd;
    return cat(std::hex, rd(), rd());
}

// Removes the ingest directory unless committed.
struct IngestDir {
    std::string path;
    bool committed = false;
    explicit IngestDir(std::string p) : path(std::move(p)) {}
    IngestDir(const IngestDir&) = delete;
    IngestDir& operator=(const IngestDir&) = delete;
    ~IngestDir()
    {
        if (!committed)
            (void)remove_tree(path);
    }
};

// The layer's two hashes against the manifest's digest and the config's diffID.
Result<void> check_digests(const LayerJob& job, Sha256& compressed, Sha256& uncompressed)
{
    if (const auto got = compressed.digest(); got != job.layer.digest)
        return Error::with_code(EBADMSG, "content has digest ", got, " (wrong digest)");
    if (const auto got = uncompressed.digest(); got != job.diff_id)
        return Error::with_code(EBADMSG, "uncompressed content has digest ", got,
                                ", the config says ", job.diff_id);
    return {};
}

// Two threads per layer. The download thread (curl's write callback) hashes the compressed
// bytes, stores them, inflates them and hashes the result (the diffID); the unpack thread parses
// the tar stream and makes the writer's system calls, which are most of the work (file creation
// in the kernel). Why this split: inflate and the 300 MB diffID hash cost about as much CPU as
// the download side had idle, and the writer is the one thread that cannot be split. The inflater
// writes straight into the queue's chunks (OutBuffers): no copy of the inflated stream.
struct Pipeline final : OutBuffers {
    static constexpr std::size_t chunk_bytes = std::size_t{256} << 10;
    const LayerJob& job;
    const PullOptions& options;
    Sha256 compressed, uncompressed;
    std::unique_ptr<Decompressor> inflater;
    LayerWriter writer;
    TarParser tar{writer};
    Fd blob;
    std::uint64_t received = 0, inflated = 0;
    std::chrono::steady_clock::time_point last_report{};
    ChunkQueue queue{std::size_t{8} << 20}; // at most 8 MiB of tar between the two threads
    // The chunk being filled: its first `used` bytes are inflated output, the rest room (a
    // recycled chunk keeps its size, so making room never clears memory).
    std::string pending;
    std::size_t used = 0;
    Result<void> unpacked;
    std::thread unpacker;

    Pipeline(const LayerJob& j, const PullOptions& o, Fd root, Fd blob_fd)
        : job(j), options(o), inflater(Decompressor::create(layer_compression(j.layer.media_type),
                                                            /*output_hashed=*/true)),
          writer(std::move(root), o.max_layer_bytes), blob(std::move(blob_fd))
    {
        unpacker = std::thread([this] {
            unpacked = unpack();
            if (!unpacked)
                queue.stop(); // the download sees push() fail and aborts
        });
    }
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;
    ~Pipeline() override { (void)end_of_stream(false); }

    // Runs on the unpack thread.
    Result<void> unpack()
    {
        while (auto chunk = queue.pop()) {
            if (auto r = tar.feed(chunk->data(), chunk->size()); !r)
                return r;
            queue.recycle(std::move(*chunk));
        }
        return {};
    }

    // Queues what is left of the stream when it is complete, then waits for the unpack thread
    // to drain the queue; its result.
    Result<void> end_of_stream(bool complete)
    {
        if (complete && used > 0) {
            pending.resize(used);
            (void)queue.push(std::move(pending)); // a stopped queue: unpacked says why
        }
        pending.clear();
        used = 0;
        queue.close();
        if (unpacker.joinable())
            unpacker.join();
        return unpacked;
    }

    std::span<char> next() override
    {
        if (pending.size() < chunk_bytes) {
            if (used == 0 && pending.capacity() < chunk_bytes)
                pending = queue.spare();
            pending.resize(chunk_bytes);
        }
        return std::span(pending).subspan(used);
    }

    // n more bytes of the layer's tar stream at pending[used].
    Result<void> done(std::size_t n) override
    {
        inflated += n;
        if (inflated > options.max_layer_bytes)
            return Error::with_code(EFBIG, "uncompressed size over the limit of ",
                                    options.max_layer_bytes, " bytes (decompression bomb?)");
        uncompressed.update(pending.data() + used, n);
        used += n;
        if (used == chunk_bytes) {
            used = 0;
            if (!queue.push(std::move(pending)))
                return Error::with_code(ECANCELED, "unpack stopped"); // unpacked says why
            pending.clear(); // moved from: empty, so next() takes a spare
        }
        return {};
    }

    Result<void> on_received(const char* data, std::size_t size)
    {
        compressed.update(data, size);
        if (auto r = write_all(blob.get(), std::string_view(data, size)); !r)
            return std::move(r).error().wrap("store blob");
        received += size;
        auto r = inflater->feed(data, size, static_cast<OutBuffers&>(*this));
        if (!r)
            return r;
        report(false);
        return {};
    }

    void report(bool finished)
    {
        if (!options.progress)
            return;
        const auto now = std::chrono::steady_clock::now();
        if (!finished && now - last_report < std::chrono::milliseconds(100))
            return;
        last_report = now;
        options.progress({job.layer.digest, received, job.layer.size, finished});
    }

    // After the download (inflater checks) and the unpack thread (tar checks) both ended.
    Result<void> verify()
    {
        if (auto r = tar.finish(); !r)
            return r;
        if (auto r = check_digests(job, compressed, uncompressed); !r)
            return r;
        return writer.finish(); // syncfs: the blob and the snapshot are on this filesystem
    }
};

// The layer's snapshot is here (the same content came before, in another compression or
// another image) but this image's blob is not: fetch the blob alone, verified, so that the image
// is whole in the store (save writes it; gc and leases count it). It is inflated and hashed, not
// unpacked: its diffID must be the snapshot's, or an archive saved with it would not verify.
Result<void> fetch_blob_only(RegistryClient& client, const Store& store, const LayerJob& job,
                             const PullOptions& options)
{
    auto blob = open_tmpfile(store.root() + "/blobs/sha256");
    if (!blob)
        return std::move(blob).error();
    Sha256 compressed, uncompressed;
    std::uint64_t inflated = 0;
    const auto inflater = Decompressor::create(layer_compression(job.layer.media_type),
                                               /*output_hashed=*/true);
    const ByteSink hash_output = [&](const char* data, std::size_t size) -> Result<void> {
        inflated += size;
        if (inflated > options.max_layer_bytes)
            return Error::with_code(EFBIG, "uncompressed size over the limit of ",
                                    options.max_layer_bytes, " bytes (decompression bomb?)");
        uncompressed.update(data, size);
        return {};
    };
    auto r = client.blob(job.layer, [&](const char* data, std::size_t size) -> Result<void> {
        compressed.update(data, size);
        if (auto w = write_all(blob->get(), std::string_view(data, size)); !w)
            return std::move(w).error().wrap("store blob");
        return inflater->feed(data, size, hash_output);
    });
    if (r)
        r = inflater->finish();
    if (!r)
        return r;
    if (auto d = check_digests(job, compressed, uncompressed); !d)
        return d;
    if (::fsync(blob->get()) < 0) // one file: fsync, where a whole layer gets one syncfs
        return Error::from_errno("fsync blob");
    return link_tmpfile(*blob, store.blob_path(job.layer.digest));
}

} // namespace

Result<void> pull_layer(RegistryClient& client, const Store& store, const LayerJob& job,
                        const PullOptions& options)
{
    const auto hex = digest_hex(job.chain_id);
    auto lock = lock_exclusive(cat(store.root(), "/locks/", hex, ".lock"));
    if (!lock)
        return std::move(lock).error();
    const auto snapshot = store.snapshot_path(job.chain_id);
    if (path_exists(snapshot)) { // made by another pull while we waited, or before
        if (!store.has_blob(job.layer.digest))
            if (auto r = fetch_blob_only(client, store, job, options); !r)
                return r;
        if (options.progress)
            options.progress({job.layer.digest, job.layer.size, job.layer.size, true});
        return {};
    }
    IngestDir ingest(cat(store.root(), "/ingest/", hex, ".", random_suffix()));
    if (::mkdir(ingest.path.c_str(), 0755) < 0)
        return Error::from_errno("mkdir ", quoted(ingest.path));
    auto root = open_at(AT_FDCWD, ingest.path, O_RDONLY | O_DIRECTORY);
    if (!root)
        return std::move(root).error();
    auto blob = open_tmpfile(store.root() + "/blobs/sha256");
    if (!blob)
        return std::move(blob).error();
    Pipeline p(job, options, std::move(*root), std::move(*blob));
    auto r = client.blob(
        job.layer, [&p](const char* data, std::size_t size) { return p.on_received(data, size); });
    if (r)
        r = p.inflater->finish();
    if (auto u = p.end_of_stream(r.has_value()); !u)
        return u; // the unpack error explains an aborted download better than the abort
    if (r)
        r = p.verify();
    if (!r)
        return std::move(r).error();
    if (auto l = link_tmpfile(p.blob, store.blob_path(job.layer.digest)); !l)
        return l;
    if (::rename(ingest.path.c_str(), snapshot.c_str()) < 0)
        return Error::from_errno("commit snapshot ", quoted(snapshot));
    ingest.committed = true;
    p.report(true);
    return {};
}

} // namespace berth::image

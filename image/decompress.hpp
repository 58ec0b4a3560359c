// image/decompress.hpp — streaming decompression in process: ISA-L isal_inflate for gzip (about
// 1.8x zlib here), libzstd for zstd, pass-through for plain tar. Never an external process.
// Internal to image/.
#pragma once
#include <functional>
#include <memory>
#include <span>
#include <vector>
#include "base/result.hpp"
#include "image/media_types.hpp"

namespace berth::image {

using ByteSink = std::function<Result<void>(const char* data, std::size_t size)>;

// Buffers a decompressor writes into in place, for a consumer that keeps the output in buffers of
// its own (a layer pull's chunks: no copy of the whole inflated stream). next() is where the next
// output goes (never empty); done(n): n bytes were written at its start.
class OutBuffers {
public:
    virtual ~OutBuffers() = default;
    virtual std::span<char> next() = 0;
    virtual Result<void> done(std::size_t n) = 0;
};

class Decompressor {
public:
    // None/Gzip/Zstd. output_hashed: the caller checks the output's digest (a layer's diffID), so
    // a zstd frame's own checksum (XXH64) is not checked twice; an archive's envelope keeps it.
    static std::unique_ptr<Decompressor> create(Compression compression,
                                                bool output_hashed = false);
    virtual ~Decompressor() = default;
    // Output in 256 KiB pieces of a buffer of the decompressor's own: the OutBuffers feed below
    // into that buffer (a decompressor that can hand its input on as it is overrides it).
    virtual Result<void> feed(const char* data, std::size_t size, const ByteSink& out);
    virtual Result<void> feed(const char* data, std::size_t size, OutBuffers& out) = 0;
    virtual Result<void> finish() = 0; // the compressed stream must be complete

private:
    std::vector<char> chunk_; // the ByteSink feed's buffer, made at its first use
};

} // namespace berth::image

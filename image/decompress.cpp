// image/decompress.cpp — see decompress.hpp. Output goes out in 256 KiB chunks (ByteSink) or in
// the consumer's buffers (OutBuffers).
#include "image/decompress.hpp"
#include <isa-l/igzip_lib.h>
#include <zstd.h>
#include <algorithm>
#include <cstring>
#include <vector>

namespace berth::image {
namespace {

constexpr std::size_t out_chunk = std::size_t{256} * 1024;

class Plain final : public Decompressor {
public:
    Result<void> feed(const char* data, std::size_t size, const ByteSink& out) override
    {
        return out(data, size);
    }
    Result<void> feed(const char* data, std::size_t size, OutBuffers& out) override
    {
        while (size > 0) {
            const auto to = out.next();
            const auto n = std::min(size, to.size());
            std::memcpy(to.data(), data, n);
            if (auto r = out.done(n); !r)
                return r;
            data += n;
            size -= n;
        }
        return {};
    }
    Result<void> finish() override { return {}; }
};

class Gzip final : public Decompressor {
public:
    Gzip() : out_(out_chunk)
    {
        isal_inflate_init(&state_);
        state_.crc_flag = ISAL_GZIP; // parses the gzip header and checks the CRC trailer
    }
    Result<void> feed(const char* data, std::size_t size, const ByteSink& out) override
    {
        return run(
            data, size,
            [this] { return std::span(reinterpret_cast<char*>(out_.data()), out_.size()); },
            [&](const char* d, std::size_t n) { return out(d, n); });
    }
    Result<void> feed(const char* data, std::size_t size, OutBuffers& out) override
    {
        return run(
            data, size, [&] { return out.next(); },
            [&](const char*, std::size_t n) { return out.done(n); });
    }
    Result<void> finish() override
    {
        if (state_.block_state != ISAL_BLOCK_FINISH)
            return Error::invalid("gzip stream ends early (truncated layer)");
        return {};
    }

private:
    // Inflates into the buffers next() gives; emit(start, n) for each n bytes produced.
    template <typename Next, typename Emit>
    Result<void> run(const char* data, std::size_t size, Next next, Emit emit)
    {
        state_.next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(data));
        state_.avail_in = static_cast<std::uint32_t>(size);
        while (state_.avail_in > 0 || state_.block_state != ISAL_BLOCK_FINISH) {
            if (state_.block_state == ISAL_BLOCK_FINISH) { // another gzip member follows
                const auto* in = state_.next_in;
                const auto left = state_.avail_in;
                isal_inflate_reset(&state_);
                state_.crc_flag = ISAL_GZIP;
                state_.next_in = const_cast<std::uint8_t*>(in);
                state_.avail_in = left;
            }
            const std::span<char> to = next();
            state_.next_out = reinterpret_cast<std::uint8_t*>(to.data());
            state_.avail_out = static_cast<std::uint32_t>(to.size());
            const int rc = isal_inflate(&state_);
            if (rc < 0 || rc == ISAL_NEED_DICT)
                return Error::invalid("gzip stream is corrupt (isal_inflate error ", rc, ")");
            const auto produced = to.size() - state_.avail_out;
            if (produced > 0) {
                if (auto r = emit(to.data(), produced); !r)
                    return r;
            } else if (state_.avail_in == 0) {
                break; // needs more input
            }
        }
        return {};
    }

    inflate_state state_{};
    std::vector<std::uint8_t> out_;
};

class Zstd final : public Decompressor {
public:
    Zstd() : ctx_(ZSTD_createDCtx()), out_(out_chunk) {}
    ~Zstd() override { ZSTD_freeDCtx(ctx_); }
    Zstd(const Zstd&) = delete;
    Zstd& operator=(const Zstd&) = delete;
    Result<void> feed(const char* data, std::size_t size, const ByteSink& out) override
    {
        return run(
            data, size, [this] { return std::span(out_); },
            [&](const char* d, std::size_t n) { return out(d, n); });
    }
    Result<void> feed(const char* data, std::size_t size, OutBuffers& out) override
    {
        return run(
            data, size, [&] { return out.next(); },
            [&](const char*, std::size_t n) { return out.done(n); });
    }
    Result<void> finish() override
    {
        if (last_ != 0)
            return Error::invalid("zstd stream ends early (truncated layer)");
        return {};
    }

private:
    template <typename Next, typename Emit>
    Result<void> run(const char* data, std::size_t size, Next next, Emit emit)
    {
        ZSTD_inBuffer in{data, size, 0};
        for (;;) {
            const std::span<char> to = next();
            ZSTD_outBuffer o{to.data(), to.size(), 0};
            last_ = ZSTD_decompressStream(ctx_, &o, &in);
            if (ZSTD_isError(last_))
                return Error::invalid("zstd stream is corrupt: ", ZSTD_getErrorName(last_));
            if (o.pos > 0)
                if (auto r = emit(to.data(), o.pos); !r)
                    return r;
            if (in.pos == in.size && o.pos < o.size)
                return {};
        }
    }

    ZSTD_DCtx* ctx_;
    std::vector<char> out_;
    std::size_t last_ = 1;
};

} // namespace

std::unique_ptr<Decompressor> Decompressor::create(Compression compression)
{
    switch (compression) {
    case Compression::Gzip: return std::make_unique<Gzip>();
    case Compression::Zstd: return std::make_unique<Zstd>();
    default: return std::make_unique<Plain>();
    }
}

} // namespace berth::image

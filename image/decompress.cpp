// image/decompress.cpp — see decompress.hpp. Output goes out in 256 KiB chunks.
#include "image/decompress.hpp"
#include <isa-l/igzip_lib.h>
#include <zstd.h>
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
        state_.next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(data));
        state_.avail_in = static_cast<std::uint32_t>(size);
        while (state_.avail_in > 0 || state_.block_state != ISAL_BLOCK_FINISH) {
            if (state_.block_state == ISAL_BLOCK_FINISH) { // another gzip member follows
                const auto* next = state_.next_in;
                const auto left = state_.avail_in;
                isal_inflate_reset(&state_);
                state_.crc_flag = ISAL_GZIP;
                state_.next_in = const_cast<std::uint8_t*>(next);
                state_.avail_in = left;
            }
            state_.next_out = out_.data();
            state_.avail_out = static_cast<std::uint32_t>(out_.size());
            const int rc = isal_inflate(&state_);
            if (rc < 0 || rc == ISAL_NEED_DICT)
                return Error::invalid("gzip stream is corrupt (isal_inflate error ", rc, ")");
            const auto produced = out_.size() - state_.avail_out;
            if (produced > 0) {
                if (auto r = out(reinterpret_cast<const char*>(out_.data()), produced); !r)
                    return r;
            } else if (state_.avail_in == 0) {
                break; // needs more input
            }
        }
        return {};
    }
    Result<void> finish() override
    {
        if (state_.block_state != ISAL_BLOCK_FINISH)
            return Error::invalid("gzip stream ends early (truncated layer)");
        return {};
    }

private:
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
        ZSTD_inBuffer in{data, size, 0};
        for (;;) {
            ZSTD_outBuffer o{out_.data(), out_.size(), 0};
            last_ = ZSTD_decompressStream(ctx_, &o, &in);
            if (ZSTD_isError(last_))
                return Error::invalid("zstd stream is corrupt: ", ZSTD_getErrorName(last_));
            if (o.pos > 0)
                if (auto r = out(out_.data(), o.pos); !r)
                    return r;
            if (in.pos == in.size && o.pos < o.size)
                return {};
        }
    }
    Result<void> finish() override
    {
        if (last_ != 0)
            return Error::invalid("zstd stream ends early (truncated layer)");
        return {};
    }

private:
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

// image/digest.hpp — incremental sha256 (OpenSSL's SHA256_* functions) producing "sha256:<hex>"
// digests.
#pragma once
#include <memory>
#include <string>
#include <string_view>

struct SHA256state_st; // OpenSSL's SHA256_CTX

namespace berth::image {

class Sha256 {
public:
    Sha256();
    Sha256(Sha256&&) noexcept = default;
    Sha256& operator=(Sha256&&) noexcept = default;
    ~Sha256();
    void update(const void* data, std::size_t size);
    void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
    std::string digest(); // "sha256:<64 hex>"; the object is spent afterwards

private:
    struct Free {
        void operator()(SHA256state_st* ctx) const;
    };
    std::unique_ptr<SHA256state_st, Free> ctx_;
};

std::string sha256_digest(std::string_view bytes);

} // namespace berth::image

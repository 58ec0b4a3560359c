// agent/api/metadata_id.cpp — the per-container path component of the task metadata endpoint
// (/v4/<id>). A container must not be able to read another task's metadata by guessing, so the
// id is HMAC-SHA256(node key, task ARN, container name) shaped as a v4 UUID (as the ECS agent's
// ids look): unguessable without the key, and the same after a berthd restart without storing a
// row per container, because the key is kept in <state_dir>/metadata.key (mode 0600, root).
#include <sys/random.h>
#include <array>
#include <cerrno>
#include "agent/api/api.hpp"
#include "base/files.hpp"
#include "base/small_hash.hpp"
#include "base/strings.hpp"

namespace berth::api {
namespace {

constexpr std::size_t key_bytes = 32;
constexpr char hex_digits[] = "0123456789abcdef";

bool is_hex_key(std::string_view text)
{
    if (text.size() != 2 * key_bytes)
        return false;
    for (const char ch : text)
        if (std::string_view(hex_digits).find(ch) == std::string_view::npos)
            return false;
    return true;
}

Result<std::string> new_key()
{
    std::array<unsigned char, key_bytes> bytes{};
    std::size_t got = 0;
    while (got < bytes.size()) {
        const auto n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("getrandom for the metadata key");
        got += static_cast<std::size_t>(n);
    }
    std::string text;
    for (const unsigned char b : bytes) {
        text += hex_digits[b >> 4U];
        text += hex_digits[b & 0xfU];
    }
    return text;
}

} // namespace

Result<std::string> load_metadata_key(const std::string& path)
{
    auto text = read_file(path);
    if (text) {
        const auto key = trim(*text);
        if (!is_hex_key(key))
            return Error::invalid(path, ": not a metadata key (", 2 * key_bytes,
                                  " hex digits); remove it to make a new one (every running "
                                  "container's metadata URI then stops answering)");
        return std::string(key);
    }
    if (text.error().code != ENOENT)
        return std::move(text).error().wrap("read the metadata key");
    auto key = new_key();
    if (!key)
        return key;
    if (auto r = write_file_durable(path, *key + "\n", 0600); !r)
        return std::move(r).error().wrap("write the metadata key");
    return key;
}

std::string metadata_id(std::string_view key, std::string_view task_arn, std::string_view container)
{
    // base/small_hash.hpp (the kernel's HMAC, or libmd's): a task's start maps no libcrypto.
    auto mac = small_hash::hmac_sha256(key, {task_arn, "\n", container});
    mac[6] = static_cast<unsigned char>((mac[6] & 0x0fU) | 0x40U); // version 4
    mac[8] = static_cast<unsigned char>((mac[8] & 0x3fU) | 0x80U); // RFC 4122 variant
    std::string id;
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            id += '-';
        id += hex_digits[mac[i] >> 4U];
        id += hex_digits[mac[i] & 0xfU];
    }
    return id;
}

std::vector<std::string> metadata_environment(std::string_view key, std::string_view task_arn,
                                              std::string_view container)
{
    const auto id = metadata_id(key, task_arn, container);
    return {cat("ECS_CONTAINER_METADATA_URI_V4=http://", metadata_address, "/v4/", id),
            cat("ECS_CONTAINER_METADATA_URI=http://", metadata_address, "/v3/", id)};
}

} // namespace berth::api

// image/archive_write.cpp — TarWriter (archive.hpp): ustar members with fixed owner, mode and
// time, so saving the same images twice gives the same bytes.
#include <unistd.h>
#include <algorithm>
#include <cstring>
#include <iterator>
#include <vector>
#include "base/files.hpp"
#include "image/archive.hpp"
#include "image/digest.hpp"

namespace berth::image {
namespace {

constexpr std::size_t block = 512;

void octal(char* field, std::size_t width, std::uint64_t value)
{
    // width-1 octal digits, zero padded, then NUL; callers keep values in range.
    for (std::size_t i = width - 1; i-- > 0; value >>= 3)
        field[i] = static_cast<char>('0' + (value & 7));
    field[width - 1] = '\0';
}

} // namespace

Result<void> TarWriter::header(std::string_view name, char type, std::uint64_t size, unsigned mode)
{
    if (name.size() >= 100)
        return Error::invalid("tar member name ", quoted(name), " is 100 bytes or longer");
    char h[block] = {};
    std::memcpy(h, name.data(), name.size());
    octal(h + 100, 8, mode);
    octal(h + 108, 8, 0);
    octal(h + 116, 8, 0);
    if (size >= (std::uint64_t{1} << 33)) { // GNU base-256 for members of 8 GiB and more
        h[124] = static_cast<char>(0x80);
        for (int i = 0; i < 8; ++i)
            h[135 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
    } else {
        octal(h + 124, 12, size);
    }
    octal(h + 136, 12, 0);
    h[156] = type;
    // magic "ustar\0" and version "00": fixed bytes, not C strings
    constexpr char magic_and_version[8] = {'u', 's', 't', 'a', 'r', '\0', '0', '0'};
    std::copy(std::begin(magic_and_version), std::end(magic_and_version), h + 257);
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (char c : h)
        sum += static_cast<unsigned char>(c);
    octal(h + 148, 7, sum); // six digits, NUL, then the space already there

    return write_all(fd_, std::string_view(h, block));
}

Result<void> TarWriter::pad(std::uint64_t size)
{
    static const char zeros[block] = {};
    const auto n = (block - size % block) % block;
    return write_all(fd_, std::string_view(zeros, n));
}

Result<void> TarWriter::directory(std::string_view name)
{
    return header(name, '5', 0, 0755);
}

Result<void> TarWriter::file(std::string_view name, std::string_view bytes)
{
    if (auto r = header(name, '0', bytes.size(), 0644); !r)
        return r;
    if (auto r = write_all(fd_, bytes); !r)
        return r;
    return pad(bytes.size());
}

Result<void> TarWriter::file_from(std::string_view name, int src, std::uint64_t size,
                                  std::string_view digest)
{
    if (auto r = header(name, '0', size, 0644); !r)
        return r;
    std::vector<char> buffer(std::size_t{1} << 20);
    Sha256 sha;
    std::uint64_t left = size;
    while (left > 0) {
        const auto n = ::read(src, buffer.data(), std::min<std::uint64_t>(left, buffer.size()));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? Error::from_errno("read ", name)
                         : Error::with_code(EBADMSG, name, ": shorter than ", size, " bytes");
        sha.update(buffer.data(), static_cast<std::size_t>(n));
        if (auto r = write_all(fd_, std::string_view(buffer.data(), static_cast<std::size_t>(n)));
            !r)
            return std::move(r).error().wrap("write the archive");
        left -= static_cast<std::uint64_t>(n);
    }
    if (const auto got = sha.digest(); got != digest)
        return Error::with_code(EBADMSG, name, ": the stored blob now has digest ", got,
                                " (corrupt store)");
    return pad(size);
}

Result<void> TarWriter::finish()
{
    static const char zeros[2 * block] = {};
    return write_all(fd_, std::string_view(zeros, sizeof zeros));
}

} // namespace berth::image

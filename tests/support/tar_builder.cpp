// tests/support/tar_builder.cpp — see tar_builder.hpp.
#include "tests/support/tar_builder.hpp"
#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace berth::test {
namespace {

void octal(char* field, std::size_t width, std::uint64_t value)
{
    // width-1 octal digits, zero padded, then NUL (snprintf would warn about truncation)
    for (std::size_t i = width - 1; i-- > 0; value >>= 3)
        field[i] = static_cast<char>('0' + (value & 7));
    field[width - 1] = '\0';
}

// GNU base-256: the high bit of the first byte set, the value big-endian in the rest.
void base256(char* field, std::size_t width, std::uint64_t value)
{
    field[0] = static_cast<char>(0x80);
    for (std::size_t i = width - 1; i >= 1; --i, value >>= 8)
        field[i] = static_cast<char>(value & 0xff);
}

void number(char* field, std::size_t width, std::uint64_t value)
{
    if (value >> (3 * (width - 1)))
        base256(field, width, value);
    else
        octal(field, width, value);
}

void seal(char* h) // the checksum, over the block with its own field as spaces
{
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (std::size_t i = 0; i < 512; ++i)
        sum += static_cast<unsigned char>(h[i]);
    octal(h + 148, 7, sum);
}

std::string pax_record(std::string_view key, std::string_view value)
{
    const auto body = std::string(key) + "=" + std::string(value) + "\n";
    auto len = body.size() + 2;
    while (std::to_string(len).size() + 1 + body.size() != len)
        ++len;
    return std::to_string(len) + " " + body;
}

std::string through(const char* command, const std::string& data)
{
    char in[] = "/tmp/berth-tar-XXXXXX";
    const int fd = ::mkstemp(in);
    if (fd < 0)
        throw std::runtime_error("mkstemp");
    ::close(fd);
    std::ofstream(in, std::ios::binary) << data;
    const std::string cmd = std::string(command) + " < " + in + " > " + in + ".out";
    if (std::system(cmd.c_str()) != 0) // NOLINT(cert-env33-c): tests only, fixed commands
        throw std::runtime_error(cmd);
    std::ifstream f(std::string(in) + ".out", std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    ::unlink(in);
    ::unlink((std::string(in) + ".out").c_str());
    return s.str();
}

} // namespace

void TarBuilder::header(char type, std::string_view name, std::uint64_t size, std::string_view link,
                        unsigned mode, unsigned uid, unsigned gid, unsigned major, unsigned minor)
{
    if (name.size() >= 100 || link.size() >= 100) {
        std::string records;
        if (name.size() >= 100)
            records += pax_record("path", name);
        if (link.size() >= 100)
            records += pax_record("linkpath", link);
        pending_pax_ += records;
        name = name.substr(0, 99);
        link = link.substr(0, 99);
    }
    if (!pending_pax_.empty()) {
        const auto records = std::move(pending_pax_);
        pending_pax_.clear();
        pax(records);
    }
    char h[512] = {};
    std::copy_n(name.data(), name.size(), h);
    octal(h + 100, 8, mode);
    number(h + 108, 8, uid); // over 7 octal digits: GNU base-256, as GNU tar writes it
    number(h + 116, 8, gid);
    number(h + 124, 12, size);
    octal(h + 136, 12, 1700000000);
    h[156] = type;
    std::copy_n(link.data(), link.size(), h + 157);
    std::copy_n("ustar", 6, h + 257);
    std::copy_n("00", 2, h + 263);
    octal(h + 329, 8, major);
    octal(h + 337, 8, minor);
    seal(h);
    out_.append(h, sizeof h);
}

void TarBuilder::data(std::string_view bytes)
{
    out_ += bytes;
    out_.append((512 - bytes.size() % 512) % 512, '\0');
}

void TarBuilder::pax(const std::string& records)
{
    char h[512] = {};
    std::copy_n("PaxHeader", 9, h);
    octal(h + 100, 8, 0644);
    octal(h + 124, 12, records.size());
    h[156] = 'x';
    std::copy_n("ustar", 6, h + 257);
    std::copy_n("00", 2, h + 263);
    seal(h);
    out_.append(h, sizeof h);
    data(records);
}

TarBuilder& TarBuilder::file(std::string_view name, std::string_view data, unsigned mode,
                             unsigned uid, unsigned gid)
{
    header('0', name, data.size(), {}, mode, uid, gid);
    this->data(data);
    return *this;
}

TarBuilder& TarBuilder::dir(std::string_view name, unsigned mode, unsigned uid, unsigned gid)
{
    header('5', name, 0, {}, mode, uid, gid);
    return *this;
}

TarBuilder& TarBuilder::symlink(std::string_view name, std::string_view target)
{
    header('2', name, 0, target, 0777, 0, 0);
    return *this;
}

TarBuilder& TarBuilder::hardlink(std::string_view name, std::string_view target)
{
    header('1', name, 0, target, 0644, 0, 0);
    return *this;
}

TarBuilder& TarBuilder::fifo(std::string_view name)
{
    header('6', name, 0, {}, 0644, 0, 0);
    return *this;
}

TarBuilder& TarBuilder::chardev(std::string_view name, unsigned major, unsigned minor)
{
    header('3', name, 0, {}, 0666, 0, 0, major, minor);
    return *this;
}

TarBuilder& TarBuilder::blockdev(std::string_view name, unsigned major, unsigned minor)
{
    header('4', name, 0, {}, 0660, 0, 0, major, minor);
    return *this;
}

TarBuilder& TarBuilder::header_only(std::string_view name, std::uint64_t size)
{
    header('0', name, size, {}, 0644, 0, 0);
    return *this;
}

TarBuilder& TarBuilder::pax_xattr(std::string_view key, std::string_view value)
{
    pending_pax_ += pax_record("SCHILY.xattr." + std::string(key), value);
    return *this;
}

TarBuilder& TarBuilder::pax_key(std::string_view key, std::string_view value)
{
    pending_pax_ += pax_record(key, value);
    return *this;
}

TarBuilder& TarBuilder::gnu_longname(std::string_view name)
{
    header('L', "././@LongLink", name.size() + 1, {}, 0644, 0, 0);
    data(std::string(name) + '\0');
    return *this;
}

TarBuilder& TarBuilder::gnu_longlink(std::string_view target)
{
    header('K', "././@LongLink", target.size() + 1, {}, 0644, 0, 0);
    data(std::string(target) + '\0');
    return *this;
}

TarBuilder& TarBuilder::gnu_sparse(std::string_view name, std::uint64_t size,
                                   const std::vector<std::pair<std::uint64_t, std::uint64_t>>& map,
                                   std::string_view packed)
{
    header('S', name, packed.size(), {}, 0644, 0, 0);
    char* h = out_.data() + out_.size() - 512;
    std::copy_n("ustar  ", 8, h + 257); // the old GNU magic: no prefix field
    std::vector<std::string> blocks;    // the extension blocks
    for (std::size_t i = 0; i < map.size(); ++i) {
        char* slot = nullptr;
        if (i < 4) {
            slot = h + 386 + 24 * i;
        } else {
            const auto k = (i - 4) % 21;
            if (k == 0) {
                if (!blocks.empty())
                    blocks.back()[504] = 1; // isextended: another block follows
                blocks.emplace_back(512, '\0');
            }
            slot = blocks.back().data() + 24 * k;
        }
        number(slot, 12, map[i].first);
        number(slot + 12, 12, map[i].second);
    }
    h[482] = blocks.empty() ? '\0' : '\1';
    number(h + 483, 12, size);
    seal(h);
    for (const auto& b : blocks)
        out_ += b;
    data(packed);
    return *this;
}

std::string TarBuilder::finish()
{
    out_.append(1024, '\0');
    return out_;
}

std::string gzip_bytes(const std::string& data)
{
    return through("gzip -n -c", data);
}

std::string zstd_bytes(const std::string& data)
{
    return through("zstd -q -c", data);
}

} // namespace berth::test

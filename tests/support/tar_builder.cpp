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
    octal(h + 108, 8, uid);
    octal(h + 116, 8, gid);
    if (size >> 33) { // over 11 octal digits: GNU base-256, as GNU tar writes it
        h[124] = static_cast<char>(0x80);
        for (int i = 11; i >= 1; --i, size >>= 8)
            h[124 + i] = static_cast<char>(size & 0xff);
    } else {
        octal(h + 124, 12, size);
    }
    octal(h + 136, 12, 1700000000);
    h[156] = type;
    std::copy_n(link.data(), link.size(), h + 157);
    std::copy_n("ustar", 6, h + 257);
    std::copy_n("00", 2, h + 263);
    octal(h + 329, 8, major);
    octal(h + 337, 8, minor);
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h)
        sum += c;
    octal(h + 148, 7, sum);
    out_.append(h, sizeof h);
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
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h)
        sum += c;
    octal(h + 148, 7, sum);
    out_.append(h, sizeof h);
    out_ += records;
    out_.append((512 - records.size() % 512) % 512, '\0');
}

TarBuilder& TarBuilder::file(std::string_view name, std::string_view data, unsigned mode,
                             unsigned uid, unsigned gid)
{
    header('0', name, data.size(), {}, mode, uid, gid);
    out_ += data;
    out_.append((512 - data.size() % 512) % 512, '\0');
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

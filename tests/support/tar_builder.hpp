// tests/support/tar_builder.hpp — builds tar streams byte by byte for image tests, including
// ones no honest tool would write (../ paths, links out, absurd sizes). Names over 100 bytes get
// a PAX path record.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace berth::test {

class TarBuilder {
public:
    TarBuilder& file(std::string_view name, std::string_view data, unsigned mode = 0644,
                     unsigned uid = 0, unsigned gid = 0);
    TarBuilder& dir(std::string_view name, unsigned mode = 0755, unsigned uid = 0,
                    unsigned gid = 0);
    TarBuilder& symlink(std::string_view name, std::string_view target);
    TarBuilder& hardlink(std::string_view name, std::string_view target);
    TarBuilder& fifo(std::string_view name);
    TarBuilder& chardev(std::string_view name, unsigned major, unsigned minor);
    // A header claiming size bytes, followed by no data (a lie only the parser can catch).
    TarBuilder& header_only(std::string_view name, std::uint64_t size);
    TarBuilder& pax_xattr(std::string_view key, std::string_view value); // for the next entry
    TarBuilder& pax_key(std::string_view key, std::string_view value);   // any PAX record, ditto
    std::string finish();                                                // two zero blocks
    const std::string& bytes() const { return out_; }

private:
    void header(char type, std::string_view name, std::uint64_t size, std::string_view link,
                unsigned mode, unsigned uid, unsigned gid, unsigned major = 0, unsigned minor = 0);
    void pax(const std::string& records);
    std::string out_, pending_pax_;
};

// Compressed with the gzip / zstd command-line tools (tests only: berth itself never runs one).
std::string gzip_bytes(const std::string& data);
std::string zstd_bytes(const std::string& data);

} // namespace berth::test

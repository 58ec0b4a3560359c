// tests/support/tar_builder.hpp — builds tar streams byte by byte for image tests, including
// ones no honest tool would write (../ paths, links out, absurd sizes). Names over 100 bytes get
// a PAX path record; ids over 7 octal digits and sizes over 11 are written in GNU base-256.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
    TarBuilder& blockdev(std::string_view name, unsigned major, unsigned minor);
    // A header claiming size bytes, followed by no data (a lie only the parser can catch).
    TarBuilder& header_only(std::string_view name, std::uint64_t size);
    TarBuilder& pax_xattr(std::string_view key, std::string_view value); // for the next entry
    TarBuilder& pax_key(std::string_view key, std::string_view value);   // any PAX record, ditto
    // GNU long name / link entries ('L' / 'K', as GNU tar's default format writes them) for the
    // next entry, whose own header holds what is given there.
    TarBuilder& gnu_longname(std::string_view name);
    TarBuilder& gnu_longlink(std::string_view target);
    // An old GNU sparse file ('S'): map holds (offset, length) segments of a size-byte file,
    // packed their bytes one after the other; segments past the header's 4 go to extension blocks.
    TarBuilder& gnu_sparse(std::string_view name, std::uint64_t size,
                           const std::vector<std::pair<std::uint64_t, std::uint64_t>>& map,
                           std::string_view packed);
    std::string finish(); // two zero blocks
    const std::string& bytes() const { return out_; }

private:
    void header(char type, std::string_view name, std::uint64_t size, std::string_view link,
                unsigned mode, unsigned uid, unsigned gid, unsigned major = 0, unsigned minor = 0);
    void pax(const std::string& records);
    void data(std::string_view bytes); // padded to a block
    std::string out_, pending_pax_;
};

// Compressed with the gzip / zstd command-line tools (tests only: berth itself never runs one).
std::string gzip_bytes(const std::string& data);
std::string zstd_bytes(const std::string& data);

} // namespace berth::test

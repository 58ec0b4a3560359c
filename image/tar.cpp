// image/tar.cpp — see tar.hpp. The stream is consumed in whatever chunks the inflater produces;
// only a header block (512 bytes) and extended-header payloads are ever buffered.
#include "image/tar.hpp"
#include "image/tar_sparse.hpp"
#include <algorithm>
#include <cstring>

namespace berth::image {
namespace {

constexpr std::size_t block = 512;
constexpr std::size_t max_extended = std::size_t{1} << 20;

std::string_view field(const char* b, std::size_t offset, std::size_t length)
{
    std::string_view f(b + offset, length);
    return f.substr(0, f.find('\0'));
}

} // namespace

// Octal with optional spaces/NULs, or GNU base-256 (high bit of the first byte set).
std::optional<std::uint64_t> tar_number(const char* b, std::size_t offset, std::size_t length)
{
    const auto* p = reinterpret_cast<const unsigned char*>(b + offset);
    if (p[0] & 0x80) {
        if (p[0] & 0x40)
            return std::nullopt; // negative
        std::uint64_t v = p[0] & 0x3f;
        for (std::size_t i = 1; i < length; ++i) {
            if (v >> 56)
                return std::nullopt;
            v = (v << 8) | p[i];
        }
        return v;
    }
    auto text = trim(field(b, offset, length));
    if (text.empty())
        return 0;
    return parse_int<std::uint64_t>(text, 8);
}

namespace {

bool checksum_ok(const char* b)
{
    auto stored = tar_number(b, 148, 8);
    if (!stored)
        return false;
    // All 512 bytes, then the checksum field counted as spaces: a loop without a branch, which
    // the compiler vectorises (once per entry: about 3% of the writer thread's user time).
    const auto* p = reinterpret_cast<const unsigned char*>(b);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < block; ++i)
        sum += p[i];
    for (std::size_t i = 148; i < 156; ++i)
        sum = sum - p[i] + ' ';
    return sum == *stored;
}

} // namespace

TarParser::TarParser(TarHandler& handler) : handler_(handler)
{
}

TarParser::~TarParser() = default;

Result<void> TarParser::feed(const char* data, std::size_t size)
{
    // A sparse map's error drops the map mid-entry: the stream cannot go on from there.
    if ((state_ == State::SparseMap || state_ == State::SparseExtension) && !sparse_)
        return Error::invalid("tar stream fed again after an error in a sparse map");
    while (size > 0) {
        switch (state_) {
        case State::End: return {}; // after the end-of-archive blocks: ignore the zero padding
        case State::Header:
        case State::SparseExtension: {
            const auto n = std::min(size, block - have_);
            std::memcpy(block_ + have_, data, n);
            have_ += n;
            data += n;
            size -= n;
            if (have_ == block) {
                have_ = 0;
                auto r = state_ == State::Header ? on_header() : on_sparse_extension();
                if (!r)
                    return r;
            }
            break;
        }
        case State::SparseMap: { // block by block: the map ends on a block boundary
            const auto n = static_cast<std::size_t>(
                std::min<std::uint64_t>({size, remaining_, block - sparse_->map_bytes % block}));
            if (sparse_->text.size() + n > max_extended)
                return Error::invalid("tar entry ", quoted(sparse_entry_.path),
                                      ": sparse map over 1 MiB");
            sparse_->text.append(data, n);
            sparse_->map_bytes += n;
            remaining_ -= n;
            data += n;
            size -= n;
            if (sparse_->map_bytes % block == 0 || remaining_ == 0)
                if (auto r = on_sparse_map(); !r)
                    return r;
            break;
        }
        case State::Data:
        case State::Extended: {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size, remaining_));
            if (state_ == State::Data) {
                auto r = segments_.empty() ? handler_.data(data, n) : sparse_data(data, n);
                if (!r)
                    return r;
            } else {
                extended_.append(data, n);
            }
            remaining_ -= n;
            data += n;
            size -= n;
            if (remaining_ == 0) {
                if (state_ == State::Data) {
                    if (auto r = handler_.end(); !r)
                        return r;
                } else if (auto r = on_extended(); !r) {
                    return r;
                }
                state_ = padding_ ? State::Padding : State::Header;
            }
            break;
        }
        case State::Padding: {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size, padding_));
            padding_ -= n;
            data += n;
            size -= n;
            if (padding_ == 0)
                state_ = State::Header;
            break;
        }
        }
    }
    return {};
}

Result<void> TarParser::finish() const
{
    if (state_ == State::End || (state_ == State::Header && have_ == 0))
        return {};
    return Error::invalid("tar stream ends inside an entry (truncated layer)");
}

Result<void> TarParser::on_header()
{
    if (std::all_of(block_, block_ + block, [](char c) { return c == 0; })) {
        if (++zero_blocks_ == 2)
            state_ = State::End;
        return {};
    }
    zero_blocks_ = 0;
    if (!checksum_ok(block_))
        return Error::invalid("tar header checksum mismatch after ", entries_, " entries");
    auto size = tar_number(block_, 124, 12);
    if (!size)
        return Error::invalid("tar header: bad size field");
    const char type = block_[156];
    const std::uint64_t data_size = pending_size_ ? pending_.size : *size;
    padding_ = (block - data_size % block) % block;
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
        if (*size > max_extended)
            return Error::invalid("tar extended header of ", *size, " bytes (limit 1 MiB)");
        extended_type_ = type;
        extended_.clear();
        remaining_ = *size;
        padding_ = (block - *size % block) % block;
        state_ = remaining_ ? State::Extended : State::Header;
        if (remaining_ == 0)
            return on_extended();
        return {};
    }
    // Sized from the array: a string_view made from the pointer would end at the '\0' (old-style
    // regular files), and drop it and '7' with it. 'S': an old GNU sparse file.
    static constexpr char known_types[] = "0123456\0"
                                          "7S";
    static constexpr std::string_view known(known_types, sizeof known_types - 1);
    if (known.find(type) == std::string_view::npos)
        return Error::invalid("tar entry ", quoted(field(block_, 0, 100)), ": unsupported type ",
                              quoted(std::string_view(&type, 1)));
    TarEntry e = std::move(pending_);
    pending_ = {};
    e.type = (type == '\0' || type == '7' || type == 'S') ? '0' : type;
    if (e.path.empty()) {
        e.path = std::string(field(block_, 0, 100));
        const auto prefix = field(block_, 345, 155);
        if (std::memcmp(block_ + 257, "ustar", 5) == 0 && block_[262] == '\0' && !prefix.empty())
            e.path = std::string(prefix) + "/" + e.path;
    }
    if (type == '\0' && e.path.ends_with('/'))
        e.type = '5'; // pre-POSIX tar marks a directory by its name alone
    if (e.link.empty())
        e.link = std::string(field(block_, 157, 100));
    const auto mode = tar_number(block_, 100, 8), uid = tar_number(block_, 108, 8),
               gid = tar_number(block_, 116, 8), mtime = tar_number(block_, 136, 12),
               major = tar_number(block_, 329, 8), minor = tar_number(block_, 337, 8);
    if (!mode || !uid || !gid || !mtime || !major || !minor || *uid > UINT32_MAX ||
        *gid > UINT32_MAX || *major > 0xfff || *minor > 0xfffff)
        return Error::invalid("tar entry ", quoted(e.path), ": bad numeric field");
    e.mode = static_cast<std::uint32_t>(*mode & 07777);
    if (!pax_uid_)
        e.uid = static_cast<std::uint32_t>(*uid);
    if (!pax_gid_)
        e.gid = static_cast<std::uint32_t>(*gid);
    if (!pax_mtime_)
        e.mtime = static_cast<std::int64_t>(*mtime & 0x7fffffffffffffff);
    pax_uid_ = pax_gid_ = pax_mtime_ = false;
    e.size = (e.type == '0') ? data_size : 0; // only regular files carry data
    e.dev_major = static_cast<std::uint32_t>(*major);
    e.dev_minor = static_cast<std::uint32_t>(*minor);
    pending_size_ = false;
    if (type == 'S' || sparse_)
        return on_sparse_header(std::move(e), type, data_size);
    return start_entry(e, data_size);
}

Result<void> TarParser::start_entry(const TarEntry& e, std::uint64_t data_size)
{
    ++entries_;
    segments_ = e.sparse ? e.sparse_map : std::vector<SparseSegment>{};
    segment_ = 0;
    segment_done_ = 0;
    if (auto r = handler_.begin(e); !r)
        return r;
    remaining_ = data_size;
    if (data_size == 0) {
        state_ = padding_ ? State::Padding : State::Header; // padding: after a PAX 1.0 map
        return handler_.end();
    }
    if (e.size == 0) { // data on a non-file (a hardlink with a size): skip it
        padding_ += remaining_;
        remaining_ = 0;
        state_ = State::Padding;
        return handler_.end();
    }
    state_ = State::Data;
    return {};
}

// A sparse file (old GNU 'S', or PAX GNU.sparse.* records): its map is complete once read from
// the PAX records, the 'S' header and its extension blocks, or the start of the data (PAX 1.0).
// As it stands the entry would unpack as its packed data (PAX: under GNUSparseFile.N/, the 1.0
// map first): wrong bytes the diffID still verifies. Handlers that take no sparse files refuse it.
Result<void> TarParser::on_sparse_header(TarEntry e, char type, std::uint64_t data_size)
{
    const auto name = sparse_ && !sparse_->name.empty() ? sparse_->name : e.path;
    auto fail = [&](Error error) {
        sparse_.reset();
        return std::move(error).wrap(cat("tar entry ", quoted(name)));
    };
    if (!handler_.accepts_sparse())
        return fail(Error::invalid("GNU sparse files are not supported here"));
    if (e.type != '0')
        return fail(Error::invalid("GNU sparse records on a type ",
                                   quoted(std::string_view(&type, 1)), " entry"));
    e.path = name;
    e.sparse = true;
    if (type == 'S') {
        if (sparse_)
            return fail(Error::invalid("both GNU.sparse records and a GNU sparse header"));
        sparse_ = std::make_unique<SparseHeader>();
        const auto realsize = tar_number(block_, 483, 12);
        auto more = old_gnu_segments(block_, 386, 4, sparse_->map);
        if (!realsize || !more)
            return fail(!more ? std::move(more).error()
                              : Error::invalid("GNU sparse header: bad real size"));
        sparse_->realsize = *realsize;
        sparse_entry_ = std::move(e);
        if (*more) { // extension blocks follow, before the data
            remaining_ = data_size;
            state_ = State::SparseExtension;
            return {};
        }
        return start_sparse(data_size);
    }
    if (auto r = check_sparse_version(*sparse_); !r)
        return fail(std::move(r).error());
    sparse_entry_ = std::move(e);
    if (!sparse_->map_in_data())
        return start_sparse(data_size);
    if (data_size == 0)
        return fail(Error::invalid("GNU sparse 1.0 file without its map"));
    remaining_ = data_size;
    state_ = State::SparseMap;
    return {};
}

Result<void> TarParser::on_sparse_extension()
{
    auto more = old_gnu_segments(block_, 0, 21, sparse_->map);
    if (!more) {
        sparse_.reset();
        return std::move(more).error().wrap(cat("tar entry ", quoted(sparse_entry_.path)));
    }
    return *more ? Result<void>{} : start_sparse(remaining_);
}

Result<void> TarParser::on_sparse_map()
{
    auto done = parse_sparse_lines(*sparse_);
    if (done && !*done && remaining_ == 0)
        done = Error::invalid("sparse map cut short by the end of the data");
    if (!done) {
        sparse_.reset();
        return std::move(done).error().wrap(cat("tar entry ", quoted(sparse_entry_.path)));
    }
    return *done ? start_sparse(remaining_) : Result<void>{};
}

// The map is complete: checked against the file's size and the stored bytes, then delivered.
Result<void> TarParser::start_sparse(std::uint64_t stored)
{
    TarEntry e = std::move(sparse_entry_);
    sparse_entry_ = {};
    e.size = *sparse_->realsize;
    e.sparse_map = std::move(sparse_->map);
    sparse_.reset();
    if (auto r = check_sparse_map(e.sparse_map, e.size, stored); !r)
        return std::move(r).error().wrap(cat("tar entry ", quoted(e.path)));
    return start_entry(e, stored);
}

// Stored bytes to the handler at their offsets, split where segments end (the sum of the
// segments is the stored size: checked).
Result<void> TarParser::sparse_data(const char* data, std::size_t size)
{
    while (size > 0) {
        while (segment_ < segments_.size() && segment_done_ == segments_[segment_].length) {
            ++segment_;
            segment_done_ = 0;
        }
        if (segment_ == segments_.size())
            return Error::invalid("tar: sparse data past its map"); // unreachable: checked
        const auto& s = segments_[segment_];
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(size, s.length - segment_done_));
        if (auto r = handler_.data_at(s.offset + segment_done_, data, n); !r)
            return r;
        segment_done_ += n;
        data += n;
        size -= n;
    }
    return {};
}

Result<void> TarParser::on_extended()
{
    const std::string_view text(extended_); // cleared by the next extended header
    switch (extended_type_) {
    case 'L': pending_.path = std::string(text.substr(0, text.find('\0'))); return {};
    case 'K': pending_.link = std::string(text.substr(0, text.find('\0'))); return {};
    case 'g': return {}; // global headers carry nothing layers need
    default: return apply_pax(text);
    }
}

// "<len> key=value\n" records; len counts the whole record.
Result<void> TarParser::apply_pax(std::string_view records)
{
    while (!records.empty()) {
        const auto space = records.find(' ');
        const auto len = space == std::string_view::npos
                             ? std::nullopt
                             : parse_int<std::size_t>(records.substr(0, space));
        if (!len || *len <= space + 1 || *len > records.size() || records[*len - 1] != '\n')
            return Error::invalid("tar PAX header: malformed record");
        const auto record = records.substr(space + 1, *len - space - 2);
        records.remove_prefix(*len);
        const auto eq = record.find('=');
        if (eq == std::string_view::npos)
            return Error::invalid("tar PAX header: record without '='");
        const auto key = record.substr(0, eq);
        const auto value = record.substr(eq + 1);
        if (key == "path")
            pending_.path = std::string(value);
        else if (key == "linkpath")
            pending_.link = std::string(value);
        else if (key == "size" || key == "uid" || key == "gid") {
            const auto v = parse_int<std::uint64_t>(value);
            if (!v || (key != "size" && *v > UINT32_MAX))
                return Error::invalid("tar PAX header: bad ", key);
            if (key == "size") {
                pending_.size = *v;
                pending_size_ = true;
            } else {
                (key == "uid" ? pending_.uid : pending_.gid) = static_cast<std::uint32_t>(*v);
                (key == "uid" ? pax_uid_ : pax_gid_) = true;
            }
        } else if (key == "mtime") {
            const auto dot = value.find('.');
            if (auto s = parse_int<std::int64_t>(value.substr(0, dot))) {
                pending_.mtime = *s;
                pax_mtime_ = true;
            }
        } else if (key.starts_with("GNU.sparse.")) {
            if (!sparse_)
                sparse_ = std::make_unique<SparseHeader>();
            if (auto r = add_sparse_record(*sparse_, key, value); !r)
                return r;
        } else if (key.starts_with("SCHILY.xattr.")) {
            if (pending_.xattrs.size() < 64)
                pending_.xattrs.emplace_back(std::string(key.substr(13)), std::string(value));
        }
    }
    return {};
}

} // namespace berth::image

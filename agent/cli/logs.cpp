// agent/cli/logs.cpp — json-file log reading and following (see logs.hpp).
#include "agent/cli/logs.hpp"
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include "base/strings.hpp"

namespace berth::cli {
namespace {

constexpr std::int64_t ns_per_second = 1'000'000'000;

std::string directory_of(const std::string& path)
{
    const auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Appends the entries of the whole lines in data (after what pending held) to out.
void split_entries(std::string& pending, std::string_view data, std::vector<LogEntry>& out)
{
    pending.append(data);
    std::size_t start = 0;
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n', start)) {
        if (auto entry = parse_log_line(std::string_view(pending).substr(start, nl - start)))
            out.push_back(std::move(*entry));
        start = nl + 1;
    }
    pending.erase(0, start);
}

// Everything from fd's offset to its end.
Result<void> read_to_end(int fd, std::string& pending, std::vector<LogEntry>& out)
{
    char buffer[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("read log");
        if (n == 0)
            return {};
        split_entries(pending, std::string_view(buffer, static_cast<std::size_t>(n)), out);
    }
}

// A whole rotated file (complete by construction: the writer renamed it after its last line).
Result<void> read_file_entries(const std::string& path, std::vector<LogEntry>& out)
{
    const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return errno == ENOENT ? Result<void>{}
                               : Error::from_errno("open log ", berth::quoted(path));
    std::string pending;
    if (auto r = read_to_end(fd.get(), pending, out); !r)
        return std::move(r).error().wrap(berth::quoted(path));
    split_entries(pending, "\n", out);
    return {};
}

bool same_file(const struct stat& a, const struct stat& b)
{
    return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

constexpr std::int64_t max_duration_ns = 290LL * 365 * 24 * 3600 * ns_per_second;

// Digits and a unit, repeated: Go's time.ParseDuration without signs and fractions. nullopt when
// text is not a duration, EINVAL when it is one too long to count back from now.
std::optional<Result<std::int64_t>> parse_duration(std::string_view text)
{
    const std::string_view whole = text;
    static const std::pair<std::string_view, std::int64_t> units[] = {{"ns", 1},
                                                                      {"us", 1'000},
                                                                      {"ms", 1'000'000},
                                                                      {"s", ns_per_second},
                                                                      {"m", 60 * ns_per_second},
                                                                      {"h", 3600 * ns_per_second}};
    std::int64_t total = 0;
    if (text.empty())
        return std::nullopt;
    while (!text.empty()) {
        std::size_t digits = 0;
        while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
            ++digits;
        const auto n = parse_int<std::int64_t>(text.substr(0, digits));
        if (!n)
            return std::nullopt;
        text.remove_prefix(digits);
        std::size_t letters = 0;
        while (letters < text.size() && std::isalpha(static_cast<unsigned char>(text[letters])))
            ++letters;
        const auto unit = text.substr(0, letters);
        text.remove_prefix(letters);
        bool known = false;
        for (const auto& [name, scale] : units)
            if (unit == name) {
                // 1e9 h is 3.6e24 ns: past int64. Beyond ~292 years is refused, not wrapped.
                if (*n > (max_duration_ns - total) / scale)
                    return Error::invalid("--since ", berth::quoted(whole),
                                          ": a duration of more than 290 years");
                total += *n * scale;
                known = true;
            }
        if (!known)
            return std::nullopt;
    }
    return total;
}

std::optional<int> digits_at(std::string_view text, std::size_t at, std::size_t count)
{
    if (at + count > text.size())
        return std::nullopt;
    return parse_int<int>(text.substr(at, count));
}

} // namespace

std::optional<LogEntry> parse_log_line(std::string_view line)
{
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object())
        return std::nullopt;
    const auto log = j.find("log");
    const auto stream = j.find("stream");
    const auto time = j.find("time");
    if (log == j.end() || !log->is_string() || stream == j.end() || !stream->is_string() ||
        time == j.end() || !time->is_string())
        return std::nullopt;
    auto ns = parse_rfc3339(time->get<std::string>());
    if (!ns)
        return std::nullopt;
    return LogEntry{log->get<std::string>(), stream->get<std::string>(), *ns, std::string(line)};
}

Result<std::int64_t> parse_rfc3339(std::string_view text)
{
    auto bad = [&] {
        return Error::invalid(berth::quoted(text),
                              " is not an RFC 3339 time (2026-11-26T07:00:00Z)");
    };
    const auto year = digits_at(text, 0, 4), month = digits_at(text, 5, 2),
               day = digits_at(text, 8, 2), hour = digits_at(text, 11, 2),
               minute = digits_at(text, 14, 2), second = digits_at(text, 17, 2);
    if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' ||
        text[7] != '-' || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
        text[13] != ':' || text[16] != ':' || *month < 1 || *month > 12 || *day < 1 || *day > 31 ||
        *hour > 23 || *minute > 59 || *second > 60)
        return bad();
    std::size_t at = 19;
    std::int64_t fraction = 0;
    if (at < text.size() && text[at] == '.') {
        std::int64_t scale = ns_per_second;
        ++at;
        const std::size_t first = at;
        for (; at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])); ++at)
            if (scale /= 10; scale > 0)
                fraction += (text[at] - '0') * scale;
        if (at == first)
            return bad();
    }
    std::int64_t offset = 0;
    const auto zone = text.substr(std::min(at, text.size()));
    if (zone == "Z" || zone == "z") {
        offset = 0;
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
        const auto h = digits_at(zone, 1, 2), m = digits_at(zone, 4, 2);
        if (!h || !m || *h > 23 || *m > 59)
            return bad();
        offset = (zone[0] == '+' ? 1 : -1) * (std::int64_t{*h} * 3600 + std::int64_t{*m} * 60);
    } else {
        return bad();
    }
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    const std::int64_t seconds = ::timegm(&tm) - offset;
    return seconds * ns_per_second + fraction;
}

Result<std::int64_t> parse_since(std::string_view text, std::int64_t now_ns)
{
    if (auto seconds = parse_int<std::int64_t>(text); seconds && *seconds < (1LL << 40))
        return *seconds * ns_per_second;
    if (auto duration = parse_duration(text)) {
        if (!*duration)
            return std::move(*duration).error();
        return now_ns - **duration;
    }
    if (auto time = parse_rfc3339(text))
        return *time;
    return Error::invalid("--since ", berth::quoted(text),
                          ": want a duration (10m, 1h30m, 90s), an RFC 3339 time "
                          "(2026-11-26T07:00:00Z) or Unix seconds");
}

std::vector<std::string> log_files(const std::string& path)
{
    std::vector<std::string> rotated;
    struct stat st {};
    for (unsigned i = 1; i < 1000 && ::stat(cat(path, ".", i).c_str(), &st) == 0; ++i)
        rotated.push_back(cat(path, ".", i));
    std::vector<std::string> out(rotated.rbegin(), rotated.rend());
    if (::stat(path.c_str(), &st) == 0)
        out.push_back(path);
    return out;
}

Result<LogReader> LogReader::open(const std::string& path, const LogQuery& query, bool follow)
{
    LogReader reader;
    reader.path_ = path;
    if (follow) { // first, so a write or rotation after the reads below is seen
        reader.inotify_ = Fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
        if (!reader.inotify_.valid())
            return Error::from_errno("inotify_init1");
        const auto dir = directory_of(path);
        if (::inotify_add_watch(reader.inotify_.get(), dir.c_str(),
                                IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) <
            0)
            return Error::from_errno("watch log directory ", berth::quoted(dir));
    }
    // The current file is opened before the rotated ones are read: a rotation in between
    // moves it to .1, which after_rotation() then knows it already has.
    if (auto r = reader.open_current(); !r)
        return std::move(r).error();
    const auto files = log_files(path);
    if (files.empty() && !reader.current_.valid() && !(follow && query.may_not_exist_yet))
        return Error::with_code(ENOENT, "no log at ", berth::quoted(path));
    auto& out = reader.existing_;
    struct stat ours {};
    const bool have = reader.current_.valid() && ::fstat(reader.current_.get(), &ours) == 0;
    for (const auto& file : files) {
        struct stat st {};
        if (file == path || (have && ::stat(file.c_str(), &st) == 0 && same_file(st, ours)))
            continue; // the current file (maybe rotated meanwhile): read through current_
        if (auto r = read_file_entries(file, out); !r)
            return std::move(r).error();
    }
    if (auto r = reader.read_current(out); !r)
        return std::move(r).error();
    if (query.since_ns > 0)
        std::erase_if(out, [&](const LogEntry& e) { return e.time_ns < query.since_ns; });
    if (query.tail && out.size() > *query.tail)
        out.erase(out.begin(), out.end() - static_cast<long>(*query.tail));
    return reader;
}

Result<void> LogReader::open_current()
{
    current_ = Fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    pending_.clear();
    if (!current_.valid() && errno != ENOENT)
        return Error::from_errno("open log ", berth::quoted(path_));
    return {};
}

Result<void> LogReader::read_current(std::vector<LogEntry>& out)
{
    if (!current_.valid())
        return {};
    // With max-file=1 the writer truncates the file in place instead of renaming it: a file now
    // shorter than what was read restarts at its beginning (what it held before is gone).
    struct stat st {};
    const off_t offset = ::lseek(current_.get(), 0, SEEK_CUR);
    if (::fstat(current_.get(), &st) == 0 && offset > st.st_size) {
        if (::lseek(current_.get(), 0, SEEK_SET) < 0)
            return Error::from_errno("seek log ", berth::quoted(path_));
        pending_.clear();
    }
    if (auto r = read_to_end(current_.get(), pending_, out); !r)
        return std::move(r).error().wrap(berth::quoted(path_));
    return {};
}

// path_ names another file than current_: current_ was rotated to .j (or dropped). The files
// written after it (.j-1 ... .1) are read whole, then the new path_.
Result<void> LogReader::after_rotation(std::vector<LogEntry>& out)
{
    // What was appended to our file between the last read and its rename comes first.
    if (auto r = read_current(out); !r)
        return r;
    struct stat ours {};
    const bool have = current_.valid() && ::fstat(current_.get(), &ours) == 0;
    const auto files = log_files(path_); // oldest first
    std::size_t newer_from = 0;          // index in files of the first file newer than ours
    for (std::size_t i = 0; i < files.size() && have; ++i) {
        struct stat st {};
        if (::stat(files[i].c_str(), &st) == 0 && same_file(st, ours))
            newer_from = i + 1;
    }
    if (!have)
        newer_from = 0;
    split_entries(pending_, "\n", out); // the old file is complete
    for (std::size_t i = newer_from; i < files.size(); ++i)
        if (files[i] != path_)
            if (auto r = read_file_entries(files[i], out); !r)
                return r;
    if (auto r = open_current(); !r)
        return r;
    return read_current(out);
}

Result<std::vector<LogEntry>> LogReader::poll(int timeout_ms)
{
    std::vector<LogEntry> out;
    if (!inotify_.valid())
        return out;
    pollfd pfd{inotify_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
        return Error::from_errno("poll inotify");
    alignas(inotify_event) char events[16 * 1024];
    while (::read(inotify_.get(), events, sizeof events) > 0) {
        // Drained: which file changed does not matter, the state on disk is checked below.
    }
    if (auto r = read_current(out); !r)
        return std::move(r).error();
    struct stat named {
    }, ours{};
    const bool exists = ::stat(path_.c_str(), &named) == 0;
    const bool have = current_.valid() && ::fstat(current_.get(), &ours) == 0;
    if (exists && (!have || !same_file(named, ours)))
        if (auto r = after_rotation(out); !r)
            return std::move(r).error();
    return out;
}

} // namespace berth::cli

// agent/cli/journal_reader.cpp — a journald container's entries from the journal
// (journal_reader.hpp).
#include "agent/cli/journal_reader.hpp"
#include <cerrno>
#include <nlohmann/json.hpp>
#include <systemd/sd-journal.h>
#include "base/strings.hpp"

namespace berth::cli {
namespace {

// The value of field name in the current entry; empty when it has none.
std::string field(sd_journal* j, const char* name)
{
    const void* data = nullptr;
    std::size_t size = 0;
    if (sd_journal_get_data(j, name, &data, &size) < 0)
        return {};
    const std::string_view all(static_cast<const char*>(data), size);
    const auto eq = all.find('=');
    return eq == std::string_view::npos ? std::string() : std::string(all.substr(eq + 1));
}

std::string rfc3339(std::int64_t ns)
{
    const time_t seconds = ns / 1'000'000'000;
    tm utc{};
    ::gmtime_r(&seconds, &utc);
    char buf[64];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lldZ", static_cast<long long>(ns % 1'000'000'000));
    return std::string(buf, n) + frac;
}

LogEntry entry_of(sd_journal* j)
{
    LogEntry e;
    e.log = field(j, "MESSAGE");
    if (field(j, "CONTAINER_PARTIAL_MESSAGE") != "true")
        e.log += '\n';
    e.stream = field(j, "PRIORITY") == "6" ? "stdout" : "stderr";
    std::uint64_t usec = 0;
    if (sd_journal_get_realtime_usec(j, &usec) >= 0)
        e.time_ns = static_cast<std::int64_t>(usec) * 1000;
    e.raw = nlohmann::json{{"log", e.log}, {"stream", e.stream}, {"time", rfc3339(e.time_ns)}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    return e;
}

} // namespace

void JournalReader::Close::operator()(sd_journal* j) const
{
    sd_journal_close(j);
}

Result<JournalReader> JournalReader::open(const std::string& match, const LogQuery& query)
{
    const auto eq = match.find('=');
    if (eq == std::string::npos || eq == 0)
        return Error::invalid("journal match ", berth::quoted(match), ": not NAME=value");
    sd_journal* raw = nullptr;
    if (const int r = sd_journal_open(&raw, SD_JOURNAL_LOCAL_ONLY); r < 0)
        return Error::with_code(-r, "open the journal");
    JournalReader reader;
    reader.journal_.reset(raw);
    reader.since_ns_ = query.since_ns;
    if (const int r = sd_journal_add_match(raw, match.data(), match.size()); r < 0)
        return Error::with_code(-r, "journal match ", berth::quoted(match));
    const int r =
        query.since_ns > 0
            ? sd_journal_seek_realtime_usec(raw, static_cast<std::uint64_t>(query.since_ns / 1000))
            : sd_journal_seek_head(raw);
    if (r < 0)
        return Error::with_code(-r, "seek the journal");
    if (auto read = reader.read_new(reader.existing_); !read)
        return std::move(read).error();
    if (query.tail && reader.existing_.size() > *query.tail)
        reader.existing_.erase(reader.existing_.begin(),
                               reader.existing_.end() - static_cast<std::ptrdiff_t>(*query.tail));
    return reader;
}

Result<void> JournalReader::read_new(std::vector<LogEntry>& out)
{
    for (;;) {
        const int r = sd_journal_next(journal_.get());
        if (r < 0)
            return Error::with_code(-r, "read the journal");
        if (r == 0)
            return {};
        auto e = entry_of(journal_.get());
        if (e.time_ns >= since_ns_)
            out.push_back(std::move(e));
    }
}

Result<std::vector<LogEntry>> JournalReader::poll(int timeout_ms)
{
    std::vector<LogEntry> out;
    const int r = sd_journal_wait(journal_.get(), static_cast<std::uint64_t>(timeout_ms) * 1000);
    if (r < 0)
        return Error::with_code(-r, "wait for the journal");
    if (auto read = read_new(out); !read)
        return std::move(read).error();
    return out;
}

} // namespace berth::cli

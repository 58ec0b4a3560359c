// runtime/json_log.cpp — json-file log entries, rotation and line splitting.
#include "runtime/json_log.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include "base/files.hpp"

namespace berth::runtime {

JsonLog::JsonLog(std::string path, std::uint64_t max_bytes, unsigned max_files)
    : path_(std::move(path)), max_bytes_(max_bytes), max_files_(max_files)
{
}

std::string rfc3339_nano_now()
{
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    ::gmtime_r(&ts.tv_sec, &utc);
    char buf[64];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    std::string out(buf, n);
    if (ts.tv_nsec != 0) {
        char frac[16];
        std::snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
        std::string f(frac);
        while (f.back() == '0')
            f.pop_back();
        out += f;
    }
    return out + "Z";
}

Result<void> JsonLog::open_file()
{
    auto fd = open_at(AT_FDCWD, path_, O_WRONLY | O_CREAT | O_APPEND, 0640);
    if (!fd)
        return std::move(fd).error().wrap("open log");
    struct stat st {};
    if (::fstat(fd->get(), &st) < 0)
        return Error::from_errno("stat log ", berth::quoted(path_));
    size_ = static_cast<std::uint64_t>(st.st_size);
    file_ = std::move(*fd);
    return {};
}

// <path>.<n-1> is dropped, each <path>.<i> becomes .<i+1>, <path> becomes .1.
Result<void> JsonLog::rotate()
{
    file_.reset();
    if (max_files_ <= 1) {
        if (::truncate(path_.c_str(), 0) < 0 && errno != ENOENT)
            return Error::from_errno("truncate log ", berth::quoted(path_));
        return open_file();
    }
    for (unsigned i = max_files_ - 1; i > 0; --i) {
        const auto from = i == 1 ? path_ : cat(path_, ".", i - 1);
        const auto to = cat(path_, ".", i);
        if (::rename(from.c_str(), to.c_str()) < 0 && errno != ENOENT)
            return Error::from_errno("rotate log ", berth::quoted(from));
    }
    return open_file();
}

Result<void> JsonLog::write(std::string_view stream, std::string_view text, bool /*more*/)
{
    const nlohmann::json entry = {{"log", text}, {"stream", stream}, {"time", rfc3339_nano_now()}};
    // Invalid UTF-8 from the container becomes U+FFFD instead of an exception.
    const auto line = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (!file_.valid())
        if (auto r = open_file(); !r)
            return r;
    if (size_ > 0 && size_ + line.size() > max_bytes_)
        if (auto r = rotate(); !r)
            return r;
    if (auto r = write_all(file_.get(), line); !r)
        return std::move(r).error().wrap(cat("write log ", berth::quoted(path_)));
    size_ += line.size();
    return {};
}

Result<void> drain_lines(LogSink& log, std::string_view stream, std::string& pending,
                         std::string_view data, bool flush)
{
    pending.append(data);
    // A line that cannot be written (disk full) is dropped, not kept: pending never grows past
    // one partial line and nothing is written twice once writes work again. The first error is
    // returned for the caller to report.
    Result<void> result;
    auto emit = [&](std::size_t from, std::size_t count, bool more) {
        if (auto r = log.write(stream, std::string_view(pending).substr(from, count), more);
            !r && result)
            result = std::move(r);
    };
    std::size_t start = 0;
    for (;;) {
        const auto nl = pending.find('\n', start);
        if (nl != std::string::npos && nl - start < max_log_line) {
            emit(start, nl + 1 - start, false);
            start = nl + 1;
        } else if (pending.size() - start >= max_log_line) {
            emit(start, max_log_line, true);
            start += max_log_line;
        } else {
            break;
        }
    }
    if (flush && start < pending.size()) {
        emit(start, pending.size() - start, false);
        start = pending.size();
    }
    pending.erase(0, start);
    return result;
}

} // namespace berth::runtime

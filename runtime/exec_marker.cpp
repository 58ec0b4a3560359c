// runtime/exec_marker.cpp — see exec_marker.hpp.
#include "runtime/exec_marker.hpp"
#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include "base/files.hpp"
#include "runtime/state_store.hpp"

namespace berth::runtime {
namespace {

constexpr std::size_t max_marker_bytes = 1024;

// "exec-<pid>.json" -> pid, else 0.
pid_t pid_of_name(std::string_view name)
{
    constexpr std::string_view prefix = "exec-", suffix = ".json";
    if (!name.starts_with(prefix) || !name.ends_with(suffix))
        return 0;
    const auto digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (digits.empty() || digits.size() > 9 || digits.front() == '0' ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return 0;
    return static_cast<pid_t>(std::strtol(std::string(digits).c_str(), nullptr, 10));
}

} // namespace

std::string exec_marker_path(const Options& options, std::string_view id, pid_t pid)
{
    return cat(store::container_dir(options, id), "/exec-", pid, ".json");
}

Result<void> write_exec_marker(const Options& options, std::string_view id, pid_t pid)
{
    auto start = store::process_start_time(pid);
    if (!start)
        return std::move(start).error().wrap(cat("exec'd process ", pid));
    const nlohmann::json marker = {
        {"pid", pid}, {"startTime", *start}, {"bootId", store::current_boot_id()}};
    const auto path = exec_marker_path(options, id, pid);
    return options.durable_state ? write_file_durable(path, marker.dump())
                                 : write_file_atomic(path, marker.dump());
}

Result<std::optional<ExecMarker>> read_exec_marker(const std::string& path)
{
    auto text = read_file(path, max_marker_bytes);
    if (!text) {
        if (text.error().code == ENOENT)
            return std::optional<ExecMarker>();
        return std::move(text).error();
    }
    const auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object())
        return Error::invalid(berth::quoted(path), ": not a JSON object");
    const auto pid = j.find("pid");
    if (pid == j.end() || !pid->is_number_integer() || pid->get<std::int64_t>() <= 0 ||
        pid->get<std::int64_t>() > 0x3fffffff)
        return Error::invalid(berth::quoted(path), ": pid: a positive process id is required");
    const auto start = j.find("startTime");
    if (start == j.end() || !start->is_number_unsigned())
        return Error::invalid(berth::quoted(path), ": startTime: an unsigned integer is required");
    const auto boot = j.find("bootId");
    if (boot == j.end() || !boot->is_string() || boot->get_ref<const std::string&>().size() > 64)
        return Error::invalid(berth::quoted(path), ": bootId: a string of at most 64 is required");
    return std::optional<ExecMarker>(
        ExecMarker{pid->get<pid_t>(), start->get<std::uint64_t>(), boot->get<std::string>()});
}

Result<std::vector<pid_t>> exec_marker_pids(const Options& options, std::string_view id)
{
    const auto dir_path = store::container_dir(options, id);
    DIR* dir = ::opendir(dir_path.c_str());
    if (!dir)
        return Error::from_errno("open ", berth::quoted(dir_path));
    std::vector<pid_t> pids;
    while (const dirent* entry = ::readdir(dir))
        if (const pid_t pid = pid_of_name(entry->d_name); pid > 0)
            pids.push_back(pid);
    ::closedir(dir);
    std::sort(pids.begin(), pids.end());
    return pids;
}

Result<Fd> open_marked(const ExecMarker& marker)
{
    const auto gone = [&] {
        return Error::with_code(ESRCH, "exec'd process ", marker.pid, " is gone");
    };
    if (marker.boot_id != store::current_boot_id())
        return gone();
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, marker.pid, 0));
    if (fd < 0)
        return gone();
    Fd pidfd(fd);
    auto start = store::process_start_time(marker.pid);
    if (!start || *start != marker.start_time)
        return gone();
    return pidfd;
}

} // namespace berth::runtime

// runtime/supervisor_logs.cpp — log pipes that outlive berth-supervisor (supervisor_logs.hpp).
// Runs as root on the host, in the supervisor.
#include "runtime/supervisor_logs.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <nlohmann/json.hpp>
#include "base/files.hpp"
#include "runtime/state_store.hpp"

namespace berth::runtime {
namespace {

// journald fields (labels, env values) make it bigger than a json-file config.
constexpr std::size_t max_log_config_bytes = std::size_t{256} * 1024;

std::string log_config_path(const Options& options, const std::string& id)
{
    return store::container_dir(options, id) + "/log.json";
}

bool is_unsigned(const nlohmann::json& j, const char* key)
{
    return j.contains(key) && j.at(key).is_number_unsigned();
}

// A log.json without "driver" is json-file (as an older supervisor wrote it).
Result<LogConfig> parse_log_config(const std::string& text)
{
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("path") || !j.at("path").is_string() ||
        !is_unsigned(j, "maxBytes") || !is_unsigned(j, "maxFiles") ||
        !is_unsigned(j, "stdoutInode") || !is_unsigned(j, "stderrInode"))
        return Error::invalid("log.json: not an object of path, maxBytes, maxFiles and inodes");
    LogConfig c;
    const auto driver = j.value("driver", nlohmann::json("json-file"));
    if (driver != "json-file" && driver != "journald")
        return Error::invalid("log.json: driver: not json-file or journald");
    c.journald = driver == "journald";
    if (auto f = j.find("fields"); f != j.end()) {
        if (!f->is_array())
            return Error::invalid("log.json: fields: not an array");
        for (const auto& field : *f) {
            if (!field.is_string())
                return Error::invalid("log.json: fields: not an array of strings");
            c.fields.push_back(field.get<std::string>());
        }
    }
    if (auto ok = valid_journal_fields(c.fields); !ok)
        return std::move(ok).error().wrap("log.json");
    c.path = j.at("path").get<std::string>();
    c.max_bytes = j.at("maxBytes").get<std::uint64_t>();
    c.max_files = j.at("maxFiles").get<unsigned>();
    c.stdout_inode = j.at("stdoutInode").get<ino_t>();
    c.stderr_inode = j.at("stderrInode").get<ino_t>();
    if (!c.journald && (c.path.empty() || c.path.front() != '/'))
        return Error::invalid("log.json: path: not absolute");
    return c;
}

// fd `target` of pid, reopened read-only, if it is the pipe with that inode.
std::optional<Fd> reopen_pipe(pid_t pid, int target, ino_t inode)
{
    auto fd = open_at(AT_FDCWD, cat("/proc/", pid, "/fd/", target), O_RDONLY | O_NONBLOCK);
    if (!fd)
        return std::nullopt;
    struct stat st {};
    if (::fstat(fd->get(), &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_ino != inode)
        return std::nullopt;
    return std::move(*fd);
}

} // namespace

Result<std::array<Fd, 2>> make_log_pipe()
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0)
        return Error::from_errno("pipe");
    Fd read_end(p[0]);
    Fd write_end(p[1]);
    auto both = open_at(AT_FDCWD, cat("/proc/self/fd/", read_end.get()), O_RDWR);
    if (!both)
        return std::move(both).error().wrap("reopen log pipe read-write");
    return std::array<Fd, 2>{std::move(read_end), std::move(*both)};
}

std::shared_ptr<LogSink> make_log_sink(const LogConfig& config, JournalSender& sender)
{
    if (config.journald)
        return std::make_shared<JournalLog>(sender, config.fields);
    return std::make_shared<JsonLog>(config.path, config.max_bytes, config.max_files);
}

Result<void> save_log_config(const Options& options, const std::string& id, const LogConfig& config)
{
    const nlohmann::json j = {{"driver", config.journald ? "journald" : "json-file"},
                              {"fields", config.fields},
                              {"path", config.path},
                              {"maxBytes", config.max_bytes},
                              {"maxFiles", config.max_files},
                              {"stdoutInode", config.stdout_inode},
                              {"stderrInode", config.stderr_inode}};
    const auto text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    const auto path = log_config_path(options, id);
    auto r = options.durable_state ? write_file_durable(path, text, 0600)
                                   : write_file_atomic(path, text, 0600);
    if (!r)
        return std::move(r).error().wrap("log config");
    return {};
}

Result<std::optional<Reattached>> reattach_logs(const Options& options, const std::string& id,
                                                pid_t pid, JournalSender& sender)
{
    auto text = read_file(log_config_path(options, id), max_log_config_bytes);
    if (!text) {
        if (text.error().code == ENOENT)
            return std::optional<Reattached>();
        return std::move(text).error();
    }
    auto config = parse_log_config(*text);
    if (!config)
        return std::move(config).error();
    auto out = reopen_pipe(pid, 1, config->stdout_inode);
    auto err = reopen_pipe(pid, 2, config->stderr_inode);
    if (!out || !err)
        return std::optional<Reattached>();
    return std::optional<Reattached>(
        Reattached{std::move(*out), std::move(*err), make_log_sink(*config, sender)});
}

} // namespace berth::runtime

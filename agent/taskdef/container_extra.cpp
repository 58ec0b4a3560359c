// agent/taskdef/container_extra.cpp — the nested objects of a container definition: healthCheck,
// ulimits, linuxParameters, logConfiguration. Ranges and names as ECS documents them.
#include <algorithm>
#include <array>
#include "agent/taskdef/internal.hpp"

namespace berth::taskdef::internal {

using json_read::Fields;
using nlohmann::json;

namespace {

using json_read::max_int32;
using json_read::parse_items;

constexpr auto ulimit_names = std::to_array<std::string_view>(
    {"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
     "rss", "rtprio", "rttime", "sigpending", "stack"});

// ECS's list of tmpfs mountOptions; the last six take "=value".
constexpr auto tmpfs_words = std::to_array<std::string_view>(
    {"defaults",   "ro",          "rw",         "suid",        "nosuid",        "dev",     "nodev",
     "exec",       "noexec",      "sync",       "async",       "dirsync",       "remount", "mand",
     "nomand",     "atime",       "noatime",    "diratime",    "nodiratime",    "bind",    "rbind",
     "unbindable", "runbindable", "private",    "rprivate",    "shared",        "rshared", "slave",
     "rslave",     "relatime",    "norelatime", "strictatime", "nostrictatime", "mode",    "uid",
     "gid",        "nr_inodes"});
constexpr auto tmpfs_valued =
    std::to_array<std::string_view>({"mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"});

template <class List>
bool contains(const List& list, std::string_view word)
{
    return std::find(list.begin(), list.end(), word) != list.end();
}

Result<void> check_capabilities(const std::vector<std::string>& names, const std::string& path)
{
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] == "ALL")
            continue;
        if (auto cap = runtime::capability_from_name(cat("CAP_", names[i])); !cap)
            return Error::invalid(json_read::index(path, i), ": unknown capability ",
                                  berth::quoted(names[i]),
                                  " (ECS names: SYS_ADMIN, NET_ADMIN, ALL...)");
    }
    return {};
}

Result<void> parse_capabilities(Fields& f, LinuxParameters& l)
{
    const json* v = f.get("capabilities");
    if (v == nullptr)
        return {};
    auto caps = Fields::of(*v, f.at("capabilities"));
    if (!caps)
        return std::move(caps).error();
    auto add = caps->strings("add");
    if (!add)
        return std::move(add).error();
    if (auto ok = check_capabilities(*add, caps->at("add")); !ok)
        return std::move(ok).error();
    auto drop = caps->strings("drop");
    if (!drop)
        return std::move(drop).error();
    if (auto ok = check_capabilities(*drop, caps->at("drop")); !ok)
        return std::move(ok).error();
    l.cap_add = std::move(*add);
    l.cap_drop = std::move(*drop);
    return caps->finish();
}

Result<void> check_tmpfs_option(const std::string& option, const std::string& path)
{
    const auto eq = option.find('=');
    const std::string_view word = std::string_view(option).substr(0, eq);
    if (eq == std::string::npos ? !contains(tmpfs_words, word) || contains(tmpfs_valued, word)
                                : !contains(tmpfs_valued, word) || eq + 1 == option.size())
        return Error::invalid(path, ": ", berth::quoted(option),
                              " is not a tmpfs mount option ECS allows");
    return {};
}

Result<Tmpfs> parse_tmpfs(const json& item, const std::string& path)
{
    auto f = Fields::of(item, path);
    if (!f)
        return std::move(f).error();
    Tmpfs t;
    auto target = f->required_path("containerPath");
    if (!target)
        return std::move(target).error();
    t.container_path = std::move(*target);
    auto size = f->integer("size", 1, max_int32);
    if (!size)
        return std::move(size).error();
    if (!*size)
        return Error::invalid(f->at("size"), ": required (MiB)");
    t.size_mib = static_cast<std::uint32_t>(**size);
    auto options = f->strings("mountOptions");
    if (!options)
        return std::move(options).error();
    for (std::size_t i = 0; i < options->size(); ++i)
        if (auto ok = check_tmpfs_option((*options)[i], json_read::index(f->at("mountOptions"), i));
            !ok)
            return std::move(ok).error();
    t.mount_options = std::move(*options);
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return t;
}

Result<DeviceMapping> parse_device(const json& item, const std::string& path)
{
    auto f = Fields::of(item, path);
    if (!f)
        return std::move(f).error();
    DeviceMapping d;
    auto host = f->required_path("hostPath");
    if (!host)
        return std::move(host).error();
    d.host_path = std::move(*host);
    auto target = f->string("containerPath");
    if (!target)
        return std::move(target).error();
    d.container_path = target->value_or(d.host_path);
    if (d.container_path.empty() || d.container_path.front() != '/')
        return Error::invalid(f->at("containerPath"), ": ", berth::quoted(d.container_path),
                              " is not an absolute path");
    auto permissions = f->strings("permissions", 3);
    if (!permissions)
        return std::move(permissions).error();
    for (std::size_t i = 0; i < permissions->size(); ++i) {
        const auto& p = (*permissions)[i];
        if (p != "read" && p != "write" && p != "mknod")
            return Error::invalid(json_read::index(f->at("permissions"), i), ": ", berth::quoted(p),
                                  " is not read, write or mknod");
    }
    d.permissions = std::move(*permissions);
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return d;
}

// Docker's max-size: bytes, or a count of KiB / MiB / GiB ("10k", "20m", "1g"; either case).
std::optional<std::uint64_t> parse_log_size(std::string_view text)
{
    std::uint64_t unit = 1;
    if (!text.empty()) {
        switch (text.back()) {
        case 'k':
        case 'K': unit = std::uint64_t{1} << 10; break;
        case 'm':
        case 'M': unit = std::uint64_t{1} << 20; break;
        case 'g':
        case 'G': unit = std::uint64_t{1} << 30; break;
        default: break;
        }
        if (unit != 1)
            text.remove_suffix(1);
    }
    auto n = parse_int<std::uint64_t>(text);
    constexpr std::uint64_t limit = std::uint64_t{1} << 40; // 1 TiB: far past any log
    if (!n || *n == 0 || *n > limit / unit)
        return std::nullopt;
    return *n * unit;
}

std::optional<unsigned> parse_log_count(std::string_view text)
{
    auto n = parse_int<unsigned>(text);
    if (!n || *n == 0 || *n > 1000)
        return std::nullopt;
    return n;
}

Result<void> check_log_option(const std::string& key, const std::string& value,
                              const std::string& path)
{
    if (key == "max-file") {
        if (!parse_log_count(value))
            return Error::invalid(path, ": ", berth::quoted(value),
                                  " is not a count from 1 to 1000");
        return {};
    }
    if (key == "max-size") {
        if (!parse_log_size(value))
            return Error::invalid(path, ": ", berth::quoted(value),
                                  " is not a size such as 10m (bytes, or k, m, g; at most 1 TiB)");
        return {};
    }
    return Error::invalid(path, ": not supported by berth (json-file: max-size, max-file)");
}

} // namespace

Result<Ulimit> parse_ulimit(const json& value, const std::string& path)
{
    auto f = Fields::of(value, path);
    if (!f)
        return std::move(f).error();
    Ulimit u;
    auto name = f->required_string("name");
    if (!name)
        return std::move(name).error();
    if (!contains(ulimit_names, *name))
        return Error::invalid(f->at("name"), ": ", berth::quoted(*name),
                              " is not an ulimit ECS knows");
    u.name = std::move(*name);
    // -1 is "unlimited", as Docker takes it (memlock: -1 is common in ECS task definitions).
    auto soft = f->integer("softLimit", -1, max_int32);
    if (!soft)
        return std::move(soft).error();
    auto hard = f->integer("hardLimit", -1, max_int32);
    if (!hard)
        return std::move(hard).error();
    if (!*soft)
        return Error::invalid(f->at("softLimit"), ": required");
    if (!*hard)
        return Error::invalid(f->at("hardLimit"), ": required");
    u.soft = **soft;
    u.hard = **hard;
    const auto as_rlim = [](std::int64_t v) {
        return v < 0 ? ~std::uint64_t{0} : static_cast<std::uint64_t>(v);
    };
    if (as_rlim(u.soft) > as_rlim(u.hard))
        return Error::invalid(f->at("softLimit"), ": ", u.soft, " is above hardLimit ", u.hard);
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return u;
}

Result<HealthCheck> parse_health_check(const json& value, const std::string& path)
{
    auto f = Fields::of(value, path);
    if (!f)
        return std::move(f).error();
    HealthCheck h;
    auto command = f->strings("command");
    if (!command)
        return std::move(command).error();
    if (command->empty())
        return Error::invalid(f->at("command"), ": required");
    const auto& kind = command->front();
    if (kind == "CMD-SHELL" ? command->size() != 2 : kind != "CMD" || command->size() < 2)
        return Error::invalid(f->at("command"),
                              ": expected [\"CMD\", program, args...] or [\"CMD-SHELL\", "
                              "\"shell command\"]");
    h.command = std::move(*command);
    struct Range {
        const char* key;
        std::int64_t min, max;
        int* target;
    };
    for (const Range& r :
         {Range{"interval", 5, 300, &h.interval}, Range{"timeout", 2, 60, &h.timeout},
          Range{"retries", 1, 10, &h.retries}}) {
        auto n = f->integer(r.key, r.min, r.max);
        if (!n)
            return std::move(n).error();
        if (*n)
            *r.target = static_cast<int>(**n);
    }
    auto start = f->integer("startPeriod", 0, 300);
    if (!start)
        return std::move(start).error();
    if (*start)
        h.start_period = static_cast<int>(**start);
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return h;
}

Result<LinuxParameters> parse_linux_parameters(const json& value, const std::string& path)
{
    auto f = Fields::of(value, path);
    if (!f)
        return std::move(f).error();
    LinuxParameters l;
    if (auto ok = parse_capabilities(*f, l); !ok)
        return std::move(ok).error();
    auto init = f->boolean("initProcessEnabled");
    if (!init)
        return std::move(init).error();
    l.init_process_enabled = *init;
    auto tmpfs = parse_items<Tmpfs>(f->get("tmpfs"), f->at("tmpfs"), parse_tmpfs);
    if (!tmpfs)
        return std::move(tmpfs).error();
    l.tmpfs = std::move(*tmpfs);
    auto shm = f->integer("sharedMemorySize", 1, max_int32);
    if (!shm)
        return std::move(shm).error();
    if (*shm)
        l.shared_memory_size = static_cast<std::uint32_t>(**shm);
    auto devices = parse_items<DeviceMapping>(f->get("devices"), f->at("devices"), parse_device);
    if (!devices)
        return std::move(devices).error();
    l.devices = std::move(*devices);
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return l;
}

Result<LogConfiguration> parse_log_configuration(const json& value, const std::string& path)
{
    auto f = Fields::of(value, path);
    if (!f)
        return std::move(f).error();
    LogConfiguration l;
    auto driver = f->required_string("logDriver");
    if (!driver)
        return std::move(driver).error();
    // ECS's two local drivers, both written by berth-supervisor (awslogs, splunk, ... are not).
    if (*driver != "json-file" && *driver != "journald")
        return Error::invalid(f->at("logDriver"), ": ", berth::quoted(*driver),
                              " not supported by berth (json-file, journald)");
    l.driver = *driver == "journald" ? LogDriver::Journald : LogDriver::JsonFile;
    auto options = f->string_map("options");
    if (!options)
        return std::move(options).error();
    for (const auto& [key, option] : *options) {
        const auto at = json_read::join(f->at("options"), key);
        auto ok = l.driver == LogDriver::Journald ? check_journald_option(key, option, at)
                                                  : check_log_option(key, option, at);
        if (!ok)
            return std::move(ok).error();
    }
    l.options = std::move(*options);
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return l;
}

} // namespace berth::taskdef::internal

namespace berth::taskdef {

Result<LogRotation> log_rotation(const ContainerDefinition& container)
{
    LogRotation rotation;
    if (!container.log_configuration)
        return rotation;
    const auto& options = container.log_configuration->options;
    const auto path = cat("containerDefinitions ", container.name, ": logConfiguration.options.");
    if (auto it = options.find("max-size"); it != options.end()) {
        rotation.max_bytes = internal::parse_log_size(it->second);
        if (!rotation.max_bytes)
            return Error::invalid(path, "max-size: ", berth::quoted(it->second), " is not a size");
    }
    if (auto it = options.find("max-file"); it != options.end()) {
        rotation.max_files = internal::parse_log_count(it->second);
        if (!rotation.max_files)
            return Error::invalid(path, "max-file: ", berth::quoted(it->second), " is not a count");
    }
    return rotation;
}

} // namespace berth::taskdef

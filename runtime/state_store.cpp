// runtime/state_store.cpp — state.json serialization, strict parsing, id rules, status derivation.
#include "runtime/state_store.hpp"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <nlohmann/json.hpp>
#include "base/files.hpp"

namespace berth::runtime::store {

using nlohmann::json;

Result<void> check_id(std::string_view id)
{
    if (id.empty())
        return Error::invalid("container id is empty");
    if (id.size() > 1024)
        return Error::invalid("container id is longer than 1024 bytes");
    if (id == "." || id == "..")
        return Error::invalid("invalid container id ", berth::quoted(id));
    for (const char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '+' || c == '-';
        if (!ok)
            return Error::invalid("invalid container id ", berth::quoted(id),
                                  ": only [A-Za-z0-9_.+-] are allowed");
    }
    return {};
}

std::string serialize_state(const Record& record)
{
    json j = {
        {"version", state_format_version},
        {"ociVersion", record.oci_version},
        {"id", record.id},
        {"pid", record.pid},
        {"startTime", record.start_time},
        {"bundle", record.bundle},
        {"rootfs", record.rootfs},
        {"created", record.created_ns},
        {"owner", record.owner},
        {"cgroupPath", record.cgroup_path},
        {"cgroupCreated", record.cgroup.created},
        {"cgroupMade", record.cgroup.made},
        {"annotations", record.annotations},
    };
    if (!record.boot_id.empty())
        j["bootId"] = record.boot_id;
    if (record.hooks)
        j["hooks"] = {{"poststart", record.hooks->poststart}, {"poststop", record.hooks->poststop}};
    return j.dump(2) + "\n";
}

namespace {

constexpr std::size_t max_string_bytes = std::size_t{64} * 1024;
constexpr std::size_t max_annotations = 4096;

Result<std::string> get_string(const json& j, const char* key, bool allow_empty)
{
    const auto& v = j.at(key);
    if (!v.is_string())
        return Error::invalid("state: ", key, ": not a string");
    auto s = v.get<std::string>();
    if (s.size() > max_string_bytes)
        return Error::invalid("state: ", key, ": longer than ", max_string_bytes, " bytes");
    if (!allow_empty && s.empty())
        return Error::invalid("state: ", key, ": empty");
    if (s.find('\0') != std::string::npos)
        return Error::invalid("state: ", key, ": contains a NUL byte");
    return s;
}

Result<std::string> get_path(const json& j, const char* key)
{
    auto s = get_string(j, key, false);
    if (!s)
        return s;
    if (s->front() != '/')
        return Error::invalid("state: ", key, ": not an absolute path: ", berth::quoted(*s));
    return s;
}

template <class Int>
Result<Int> get_int(const json& j, const char* key, Int low)
{
    const auto& v = j.at(key);
    if (!v.is_number_integer())
        return Error::invalid("state: ", key, ": not an integer");
    if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<Int>::max()))
            return Error::invalid("state: ", key, ": out of range");
        return static_cast<Int>(u);
    }
    const auto s = v.get<std::int64_t>();
    if (s < static_cast<std::int64_t>(low) ||
        (std::is_signed_v<Int> && s > static_cast<std::int64_t>(std::numeric_limits<Int>::max())))
        return Error::invalid("state: ", key, ": out of range");
    return static_cast<Int>(s);
}

Result<std::map<std::string, std::string>> get_annotations(const json& j)
{
    const auto& v = j.at("annotations");
    if (!v.is_object())
        return Error::invalid("state: annotations: not an object");
    if (v.size() > max_annotations)
        return Error::invalid("state: annotations: more than ", max_annotations, " entries");
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : v.items()) {
        if (!value.is_string())
            return Error::invalid("state: annotations.", berth::quoted(key), ": not a string");
        out[key] = value.get<std::string>();
    }
    return out;
}

Result<void> check_keys(const json& j)
{
    static const char* const required[] = {"version",   "ociVersion", "id",         "pid",
                                           "startTime", "bundle",     "rootfs",     "created",
                                           "owner",     "cgroupPath", "annotations"};
    // Absent in states written before berth recorded cgroup ownership: adopted, nothing made.
    // bootId: absent in states written before berth recorded it (then pid + start time only).
    // hooks: absent before berth recorded it (then config.json says which hooks there are).
    static const char* const optional[] = {"cgroupCreated", "cgroupMade", "bootId", "hooks"};
    for (const auto& [key, value] : j.items()) {
        bool found = false;
        for (const char* k : required)
            found = found || key == k;
        for (const char* k : optional)
            found = found || key == k;
        if (!found)
            return Error::invalid("state: unknown key ", berth::quoted(key));
    }
    for (const char* k : required)
        if (!j.contains(k))
            return Error::invalid("state: missing key ", berth::quoted(k));
    return {};
}

constexpr std::size_t max_made_dirs = 256;

// cgroupCreated and cgroupMade: a bool and absolute directories under /sys/fs/cgroup, since they
// are rmdir'ed on delete.
Result<cgroups::Ownership> get_ownership(const json& j)
{
    cgroups::Ownership ownership;
    if (j.contains("cgroupCreated")) {
        if (!j.at("cgroupCreated").is_boolean())
            return Error::invalid("state: cgroupCreated: not a boolean");
        ownership.created = j.at("cgroupCreated").get<bool>();
    }
    if (!j.contains("cgroupMade"))
        return ownership;
    const auto& made = j.at("cgroupMade");
    if (!made.is_array())
        return Error::invalid("state: cgroupMade: not an array");
    if (made.size() > max_made_dirs)
        return Error::invalid("state: cgroupMade: more than ", max_made_dirs, " entries");
    for (const auto& entry : made) {
        if (!entry.is_string())
            return Error::invalid("state: cgroupMade: not a string");
        auto dir = entry.get<std::string>();
        auto normalized = cgroups::normalize_path(dir);
        if (!normalized || *normalized != dir || !cgroups::path_within(dir, "/sys/fs/cgroup") ||
            dir == "/sys/fs/cgroup")
            return Error::invalid("state: cgroupMade: ", berth::quoted(dir),
                                  " is not a directory below /sys/fs/cgroup");
        ownership.made.push_back(std::move(dir));
    }
    return ownership;
}

Result<Record::Hooks> get_hooks(const json& j)
{
    if (!j.is_object() || j.size() != 2 || !j.contains("poststart") || !j.contains("poststop") ||
        !j.at("poststart").is_boolean() || !j.at("poststop").is_boolean())
        return Error::invalid("state: hooks: not an object of the booleans poststart, poststop");
    return Record::Hooks{j.at("poststart").get<bool>(), j.at("poststop").get<bool>()};
}

Result<Record> parse_object(const json& j)
{
    if (!j.is_object())
        return Error::invalid("state: not a JSON object");
    if (auto r = check_keys(j); !r)
        return std::move(r).error();
    auto version = get_int<int>(j, "version", 0);
    if (!version)
        return std::move(version).error();
    if (*version != state_format_version)
        return Error::invalid("state: unsupported version ", *version);
    Record record;
    auto oci = get_string(j, "ociVersion", true);
    auto id = get_string(j, "id", false);
    auto pid = get_int<pid_t>(j, "pid", 0);
    auto start = get_int<std::uint64_t>(j, "startTime", 0);
    auto bundle = get_path(j, "bundle");
    auto rootfs = get_path(j, "rootfs");
    auto created = get_int<std::int64_t>(j, "created", 0);
    auto owner = get_string(j, "owner", true);
    auto cgroup = get_path(j, "cgroupPath");
    auto ownership = get_ownership(j);
    auto annotations = get_annotations(j);
    for (const Error* e :
         {oci ? nullptr : &oci.error(), id ? nullptr : &id.error(), pid ? nullptr : &pid.error(),
          start ? nullptr : &start.error(), bundle ? nullptr : &bundle.error(),
          rootfs ? nullptr : &rootfs.error(), created ? nullptr : &created.error(),
          owner ? nullptr : &owner.error(), cgroup ? nullptr : &cgroup.error(),
          ownership ? nullptr : &ownership.error(), annotations ? nullptr : &annotations.error()})
        if (e)
            return *e;
    if (auto r = check_id(*id); !r)
        return std::move(r).error().wrap("state: id");
    record.oci_version = std::move(*oci);
    record.id = std::move(*id);
    record.pid = *pid;
    record.start_time = *start;
    record.bundle = std::move(*bundle);
    record.rootfs = std::move(*rootfs);
    record.created_ns = *created;
    record.owner = std::move(*owner);
    record.cgroup_path = std::move(*cgroup);
    record.cgroup = std::move(*ownership);
    record.annotations = std::move(*annotations);
    if (j.contains("bootId")) {
        auto boot = get_string(j, "bootId", false);
        if (!boot)
            return std::move(boot).error();
        record.boot_id = std::move(*boot);
    }
    if (j.contains("hooks")) {
        auto hooks = get_hooks(j.at("hooks"));
        if (!hooks)
            return std::move(hooks).error();
        record.hooks = *hooks;
    }
    return record;
}

} // namespace

Result<Record> parse_state_file(std::string_view content)
{
    if (content.size() > max_state_bytes)
        return Error::invalid("state: longer than ", max_state_bytes, " bytes");
    try {
        // Depth is bounded by the parser callback: state files are two levels deep.
        const json j = json::parse(content, [](int depth, json::parse_event_t, json&) {
            if (depth > 8)
                throw std::invalid_argument("nested too deeply");
            return true;
        });
        return parse_object(j);
    } catch (const std::exception& e) {
        return Error::invalid("state: ", e.what());
    }
}

Result<std::uint64_t> parse_stat_start_time(std::string_view stat)
{
    // "pid (comm) S ppid ..." — comm may contain ") ", so split after the last ')'.
    const auto close = stat.rfind(')');
    if (close == std::string_view::npos)
        return Error::invalid("stat: no ')' after the command name");
    auto fields = split(trim(stat.substr(close + 1)), ' ');
    // After comm, field 3 (state) is fields[0]; field 22 is fields[19].
    if (fields.size() < 20)
        return Error::invalid("stat: only ", fields.size() + 2, " fields");
    auto value = parse_int<std::uint64_t>(fields[19]);
    if (!value)
        return Error::invalid("stat: start time ", berth::quoted(fields[19]), " is not a number");
    return *value;
}

Result<std::uint64_t> process_start_time(pid_t pid)
{
    if (pid <= 0)
        return Error::with_code(ESRCH, "process ", pid);
    auto stat = read_file(cat("/proc/", pid, "/stat"), std::size_t{64} * 1024);
    if (!stat) {
        if (stat.error().code == ENOENT)
            return Error::with_code(ESRCH, "process ", pid);
        return std::move(stat).error();
    }
    // A zombie has exited: for the container's purposes it is stopped.
    const auto close = stat->rfind(')');
    if (close != std::string::npos && close + 2 < stat->size() &&
        ((*stat)[close + 2] == 'Z' || (*stat)[close + 2] == 'X'))
        return Error::with_code(ESRCH, "process ", pid, " is a zombie");
    return parse_stat_start_time(*stat);
}

Status derive_status(const Record& record, const Observed& observed)
{
    if (record.pid <= 0 || !observed.same_boot || !observed.start_time ||
        *observed.start_time != record.start_time)
        return Status::Stopped;
    if (observed.fifo_exists)
        return Status::Created;
    if (observed.frozen)
        return Status::Paused;
    return Status::Running;
}

std::string container_dir(const Options& options, std::string_view id)
{
    return cat(options.root, "/", id);
}

std::string state_path(const Options& options, std::string_view id)
{
    return cat(options.root, "/", id, "/state.json");
}

std::string config_copy_path(const Options& options, std::string_view id)
{
    return cat(options.root, "/", id, "/config.json");
}

std::string fifo_path(const Options& options, std::string_view id)
{
    return cat(options.root, "/", id, "/exec.fifo");
}

Result<Record> load(const Options& options, std::string_view id)
{
    if (auto r = check_id(id); !r)
        return std::move(r).error();
    auto content = read_file(state_path(options, id), max_state_bytes);
    if (!content) {
        if (content.error().code == ENOENT)
            return Error::with_code(ENOENT, "container ", berth::quoted(id), " does not exist");
        return std::move(content).error();
    }
    auto record = parse_state_file(*content);
    if (!record)
        return std::move(record).error().wrap(state_path(options, id));
    if (record->id != id)
        return Error::invalid(state_path(options, id), ": id ", berth::quoted(record->id),
                              " does not match the directory");
    return record;
}

namespace {

Result<void> replace(const Options& options, const std::string& path, std::string_view bytes)
{
    if (options.durable_state)
        return write_file_durable(path, bytes);
    return write_file_atomic(path, bytes);
}

} // namespace

Result<void> save(const Options& options, const Record& record)
{
    return replace(options, state_path(options, record.id), serialize_state(record));
}

Result<void> save_config(const Options& options, std::string_view id, std::string_view bytes)
{
    return replace(options, config_copy_path(options, id), bytes);
}

Result<Spec> load_config(const Options& options, std::string_view id)
{
    const auto path = config_copy_path(options, id);
    auto bytes = read_file(path, max_spec_bytes);
    if (!bytes)
        return std::move(bytes).error().wrap("stored config");
    auto spec = parse_spec(*bytes);
    if (!spec)
        return std::move(spec).error().wrap(path);
    return spec;
}

bool locked(const Options& options, std::string_view id)
{
    auto dir = open_at(AT_FDCWD, container_dir(options, id), O_RDONLY | O_DIRECTORY);
    if (!dir)
        return false;
    if (::flock(dir->get(), LOCK_SH | LOCK_NB) == 0)
        return false; // closing the fd drops this probe's lock
    return errno == EWOULDBLOCK;
}

const std::string& current_boot_id()
{
    // Read once: the boot id cannot change while this process lives.
    static const std::string id = [] {
        auto text = read_file("/proc/sys/kernel/random/boot_id", 64);
        return text ? std::string(berth::trim(*text)) : std::string();
    }();
    return id;
}

bool same_boot(const Record& record)
{
    return record.boot_id.empty() || record.boot_id == current_boot_id();
}

Result<Fd> open_init(const Record& record)
{
    const auto gone = [&] {
        return Error::with_code(ESRCH, "container init ", record.pid, " is gone");
    };
    if (record.pid <= 0 || !same_boot(record))
        return gone();
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, record.pid, 0));
    if (fd < 0)
        return gone();
    Fd pidfd(fd);
    auto start = process_start_time(record.pid);
    if (!start || *start != record.start_time)
        return gone();
    return pidfd;
}

Result<Fd> lock(const Options& options, std::string_view id)
{
    auto dir = open_at(AT_FDCWD, container_dir(options, id), O_RDONLY | O_DIRECTORY);
    if (!dir) {
        if (dir.error().code == ENOENT)
            return Error::with_code(ENOENT, "container ", berth::quoted(id), " does not exist");
        return std::move(dir).error();
    }
    while (::flock(dir->get(), LOCK_EX) < 0)
        if (errno != EINTR)
            return Error::from_errno("lock ", berth::quoted(container_dir(options, id)));
    return dir;
}

State to_state(const Record& record, Status status)
{
    State s;
    s.oci_version = record.oci_version;
    s.id = record.id;
    s.status = status;
    s.pid = status == Status::Stopped ? 0 : record.pid;
    s.bundle = record.bundle;
    s.rootfs = record.rootfs;
    s.created = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(record.created_ns)));
    s.owner = record.owner;
    s.annotations = record.annotations;
    return s;
}

} // namespace berth::runtime::store

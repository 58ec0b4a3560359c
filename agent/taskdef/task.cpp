// agent/taskdef/task.cpp — the top level of a task definition: family, task cpu/memory, modes,
// volumes, tags; then the cross-field checks. Server fields only where the input is a described
// definition (from_json), never in a RegisterTaskDefinition request.
#include "agent/taskdef/internal.hpp"

namespace berth::taskdef::internal {

using json_read::Fields;
using nlohmann::json;

namespace {

// "1 vcpu", "0.5GB": a decimal number (at most 12 digits) and an optional unit, case-insensitive,
// space optional. Kept as an exact fraction (digits / 10^decimals): 0.125 vcpu is 128 units
// exactly, where a double would be off by one ulp and fail the whole-number check.
struct Quantity {
    std::uint64_t digits = 0; // all digits, the decimal point removed
    int decimals = 0;         // digits after the point
    std::string unit;         // lowercased, "" if none
};

std::optional<Quantity> parse_quantity(std::string_view text)
{
    text = trim(text);
    Quantity q;
    std::size_t end = 0, count = 0;
    bool dot = false;
    for (; end < text.size(); ++end) {
        const char c = text[end];
        if (c == '.' && !dot) {
            dot = true;
        } else if (c >= '0' && c <= '9') {
            if (++count > 12)
                return std::nullopt;
            q.digits = q.digits * 10 + static_cast<std::uint64_t>(c - '0');
            q.decimals += dot ? 1 : 0;
        } else {
            break;
        }
    }
    if (count == 0)
        return std::nullopt;
    for (char c : trim(text.substr(end)))
        q.unit.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    return q;
}

Result<int> scaled(std::string_view text, const std::string& path, std::string_view unit, int min,
                   int max, std::string_view what, std::string_view whole_of)
{
    auto q = parse_quantity(text);
    if (!q || (!q->unit.empty() && q->unit != unit))
        return Error::invalid(path, ": ", berth::quoted(text), " is not ", what);
    std::uint64_t scale = 1;
    for (int i = 0; i < q->decimals; ++i)
        scale *= 10;
    const std::uint64_t numerator = q->digits * (q->unit.empty() ? 1 : 1024); // < 2^50
    if (numerator % scale != 0)
        return Error::invalid(path, ": ", berth::quoted(text), " is not a whole number of ",
                              whole_of);
    const std::uint64_t value = numerator / scale;
    if (value < static_cast<std::uint64_t>(min) || value > static_cast<std::uint64_t>(max))
        return Error::invalid(path, ": ", berth::quoted(text), " is out of range (", min, "..", max,
                              ")");
    return static_cast<int>(value);
}

Result<DockerVolume> parse_docker_volume(const json& value, const std::string& path)
{
    auto f = Fields::of(value, path);
    if (!f)
        return std::move(f).error();
    DockerVolume d;
    auto scope = f->string("scope");
    if (!scope)
        return std::move(scope).error();
    if (*scope && **scope == "shared")
        d.scope = VolumeScope::Shared;
    else if (*scope && **scope != "task")
        return Error::invalid(f->at("scope"), ": ", berth::quoted(**scope),
                              " is not 'task' or 'shared'");
    auto autoprovision = f->boolean("autoprovision");
    if (!autoprovision)
        return std::move(autoprovision).error();
    if (autoprovision->value_or(false) && d.scope != VolumeScope::Shared)
        return Error::invalid(f->at("autoprovision"), ": only with scope 'shared'");
    d.autoprovision = *autoprovision;
    auto driver = f->string("driver");
    if (!driver)
        return std::move(driver).error();
    if (*driver && **driver != "local")
        return Error::invalid(f->at("driver"), ": ", berth::quoted(**driver),
                              " not supported by berth (only 'local')");
    auto labels = f->string_map("labels");
    if (!labels)
        return std::move(labels).error();
    d.labels = std::move(*labels);
    // driverOpts would ask the local driver to mount something (nfs, a device): not done here,
    // so a non-empty driverOpts is refused by finish() as an unsupported field.
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return d;
}

Result<std::optional<std::string>> parse_host(const json& value, const std::string& path)
{
    auto f = Fields::of(value, path);
    if (!f)
        return std::move(f).error();
    auto source = f->string("sourcePath");
    if (!source)
        return std::move(source).error();
    if (*source && ((*source)->empty() || (*source)->front() != '/'))
        return Error::invalid(f->at("sourcePath"), ": ", berth::quoted(**source),
                              " is not an absolute path");
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return std::move(*source);
}

} // namespace

Result<int> parse_task_cpu(std::string_view text, const std::string& path)
{
    // EC2 and external instances: 0.125 to 192 vCPU.
    return scaled(text, path, "vcpu", 128, 196608, "CPU units (\"256\") or vCPUs (\"1 vcpu\")",
                  "CPU units");
}

Result<int> parse_task_memory(std::string_view text, const std::string& path)
{
    return scaled(text, path, "gb", 6, json_read::max_int32, "MiB (\"512\") or GB (\"0.5 GB\")",
                  "MiB");
}

Result<Volume> parse_volume(const json& value, const std::string& path)
{
    auto f = Fields::of(value, path);
    if (!f)
        return std::move(f).error();
    Volume v;
    auto name = f->required_string("name");
    if (!name)
        return std::move(name).error();
    if (!is_valid_name(*name))
        return Error::invalid(f->at("name"), ": ", berth::quoted(*name),
                              " is not 1..255 letters, digits, '-' or '_'");
    v.name = std::move(*name);
    if (const json* host = f->get("host")) {
        auto source = parse_host(*host, f->at("host"));
        if (!source)
            return std::move(source).error();
        v.host_source_path = std::move(*source);
    }
    if (const json* docker = f->get("dockerVolumeConfiguration")) {
        if (v.host_source_path)
            return Error::invalid(f->at("dockerVolumeConfiguration"),
                                  ": cannot be given with host.sourcePath");
        auto d = parse_docker_volume(*docker, f->at("dockerVolumeConfiguration"));
        if (!d)
            return std::move(d).error();
        v.docker = std::move(*d);
    }
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return v;
}

} // namespace berth::taskdef::internal

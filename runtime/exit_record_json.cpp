// runtime/exit_record_json.cpp — ExitRecord <-> JSON. Parsing is strict and bounded: the file sits
// on disk between runs (a crash, corruption); fuzzed (tests/fuzz/exit_record_fuzz.cpp). No
// process or cgroup code here, so the fuzz harness links it alone.
#include <limits>
#include <nlohmann/json.hpp>
#include "runtime/exit_record.hpp"

namespace berth::runtime {

using nlohmann::json;

std::string exit_record_to_json(const ExitRecord& record)
{
    const json j = {{"pid", record.pid},
                    {"exitCode", record.exit_code},
                    {"signal", record.signal},
                    {"coreDumped", record.core_dumped},
                    {"oomKilled", record.oom_killed},
                    {"finished", record.finished_ns},
                    {"bootId", record.boot_id},
                    {"exitUnknown", record.exit_unknown}};
    return j.dump() + "\n";
}

namespace {

template <class Int>
Result<Int> get_int(const json& j, const char* key, std::int64_t low, std::int64_t high)
{
    if (!j.contains(key) || !j.at(key).is_number_integer())
        return Error::invalid("exit record: ", key, ": missing or not an integer");
    const auto v = j.at(key).get<std::int64_t>();
    if (v < low || v > high || (j.at(key).is_number_unsigned() && v < 0))
        return Error::invalid("exit record: ", key, ": out of range");
    return static_cast<Int>(v);
}

Result<bool> get_bool(const json& j, const char* key)
{
    if (!j.contains(key) || !j.at(key).is_boolean())
        return Error::invalid("exit record: ", key, ": missing or not a boolean");
    return j.at(key).get<bool>();
}

Result<ExitRecord> parse_object(const json& j)
{
    // exitUnknown is newer: a record written before it has the other 7 fields alone.
    const std::size_t fields = j.is_object() && j.contains("exitUnknown") ? 8 : 7;
    if (!j.is_object() || j.size() != fields)
        return Error::invalid("exit record: not an object of the known fields");
    ExitRecord r;
    if (fields == 8) {
        auto unknown = get_bool(j, "exitUnknown");
        if (!unknown)
            return std::move(unknown).error();
        r.exit_unknown = *unknown;
    }
    auto pid = get_int<pid_t>(j, "pid", 1, std::numeric_limits<pid_t>::max());
    auto code = get_int<int>(j, "exitCode", 0, 255);
    auto sig = get_int<int>(j, "signal", 0, 64);
    auto core = get_bool(j, "coreDumped");
    auto oom = get_bool(j, "oomKilled");
    auto finished =
        get_int<std::int64_t>(j, "finished", 0, std::numeric_limits<std::int64_t>::max());
    for (const Error* e : {pid ? nullptr : &pid.error(), code ? nullptr : &code.error(),
                           sig ? nullptr : &sig.error(), core ? nullptr : &core.error(),
                           oom ? nullptr : &oom.error(), finished ? nullptr : &finished.error()})
        if (e)
            return *e;
    if (!j.contains("bootId") || !j.at("bootId").is_string() ||
        j.at("bootId").get<std::string>().size() > 64)
        return Error::invalid("exit record: bootId: missing, not a string or too long");
    r.pid = *pid;
    r.exit_code = *code;
    r.signal = *sig;
    r.core_dumped = *core;
    r.oom_killed = *oom;
    r.finished_ns = *finished;
    r.boot_id = j.at("bootId").get<std::string>();
    return r;
}

} // namespace

Result<ExitRecord> parse_exit_record(std::string_view text)
{
    if (text.size() > max_exit_record_bytes)
        return Error::invalid("exit record: longer than ", max_exit_record_bytes, " bytes");
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded())
        return Error::invalid("exit record: not valid JSON");
    return parse_object(j);
}

} // namespace berth::runtime

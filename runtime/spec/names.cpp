// runtime/spec/names.cpp — capability and rlimit names to kernel values.
#include <sys/capability.h>
#include <sys/resource.h>
#include <array>
#include "runtime/spec.hpp"

namespace berth::runtime {

namespace {

constexpr std::array<std::pair<std::string_view, int>, 16> rlimit_names = {{
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
}};

} // namespace

Result<int> capability_from_name(std::string_view name)
{
    // The spec spells capabilities "CAP_SYS_ADMIN"; libcap also takes "cap_sys_admin" and bare
    // numbers, which the spec does not allow.
    constexpr std::string_view prefix = "CAP_";
    if (!name.starts_with(prefix) || name.size() == prefix.size() || name.size() > 64)
        return Error::invalid("unknown capability ", berth::quoted(name), " (expected CAP_...)");
    std::string lower(name);
    for (auto& c : lower) {
        if ((c < 'A' || c > 'Z') && c != '_' && (c < '0' || c > '9'))
            return Error::invalid("unknown capability ", berth::quoted(name));
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    cap_value_t value = 0;
    if (cap_from_name(lower.c_str(), &value) != 0)
        return Error::invalid("unknown capability ", berth::quoted(name));
    // cap_max_bits() is what the running kernel supports; libcap may know newer ones.
    if (value < 0 || static_cast<long>(value) >= static_cast<long>(cap_max_bits()))
        return Error::invalid("capability ", berth::quoted(name),
                              " is not supported by this kernel");
    return static_cast<int>(value);
}

Result<int> rlimit_from_name(std::string_view name)
{
    for (const auto& [text, value] : rlimit_names)
        if (text == name)
            return value;
    return Error::invalid("unknown rlimit ", berth::quoted(name));
}

Result<std::string> capability_name(int value)
{
    // cap_to_name() spells a number libcap has no name for as the number itself.
    char* text = value >= 0 ? cap_to_name(static_cast<cap_value_t>(value)) : nullptr;
    std::string name = text ? text : "";
    cap_free(text);
    if (!name.starts_with("cap_"))
        return Error::invalid("no name for capability ", value);
    for (auto& c : name)
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
    return name;
}

Result<std::string_view> rlimit_name(int resource)
{
    for (const auto& [text, value] : rlimit_names)
        if (value == resource)
            return text;
    return Error::invalid("no name for rlimit ", resource);
}

} // namespace berth::runtime

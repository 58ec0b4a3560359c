// runtime/spec/spec_seccomp.cpp — linux.seccomp: names of actions, operators, architectures and
// flags resolved and checked. Syscall names are resolved later, by compile_seccomp(), against
// libseccomp's tables for the filter's architectures.
#include <seccomp.h>
#include <cctype>
#include "runtime/spec/spec_parts.hpp"

namespace berth::runtime::spec_parts {

using spec_json::Decoder;
using spec_json::Object;

namespace {

using A = SeccompAction;
using O = SeccompOp;
// The first name of an action is the one spec_to_json writes.
constexpr std::pair<std::string_view, SeccompAction> action_names[] = {
    {"SCMP_ACT_KILL", A::KillThread},
    {"SCMP_ACT_KILL_THREAD", A::KillThread},
    {"SCMP_ACT_KILL_PROCESS", A::KillProcess},
    {"SCMP_ACT_TRAP", A::Trap},
    {"SCMP_ACT_ERRNO", A::Errno},
    {"SCMP_ACT_TRACE", A::Trace},
    {"SCMP_ACT_ALLOW", A::Allow},
    {"SCMP_ACT_LOG", A::Log},
    {"SCMP_ACT_NOTIFY", A::Notify},
};
constexpr std::pair<std::string_view, SeccompOp> op_names[] = {
    {"SCMP_CMP_NE", O::NotEqual},           {"SCMP_CMP_LT", O::LessThan},
    {"SCMP_CMP_LE", O::LessEqual},          {"SCMP_CMP_EQ", O::Equal},
    {"SCMP_CMP_GE", O::GreaterEqual},       {"SCMP_CMP_GT", O::GreaterThan},
    {"SCMP_CMP_MASKED_EQ", O::MaskedEqual},
};
// libseccomp's architecture names (2.5 and 2.6): spec_to_json finds a token's name here.
constexpr std::string_view architecture_names[] = {
    "x86",    "x86_64",  "x32",      "arm",       "aarch64",     "loongarch64", "m68k",     "mips",
    "mipsel", "mips64",  "mipsel64", "mips64n32", "mipsel64n32", "parisc",      "parisc64", "ppc",
    "ppc64",  "ppc64le", "s390",     "s390x",     "riscv64",     "sheb",        "sh",
};

template <class Value, std::size_t N>
Result<Value> lookup(const At& at, std::string_view what,
                     const std::pair<std::string_view, Value> (&table)[N])
{
    auto name = Decoder<std::string>::decode(at);
    if (!name)
        return std::move(name).error();
    for (const auto& [text, value] : table)
        if (text == *name)
            return value;
    return at.invalid("unknown ", what, ' ', berth::quoted(*name));
}

template <class Value, std::size_t N>
std::string_view name_of(Value value, const std::pair<std::string_view, Value> (&table)[N])
{
    for (const auto& [text, candidate] : table)
        if (candidate == value)
            return text;
    return "";
}

Result<SeccompAction> parse_action(const At& at)
{
    return lookup(at, "seccomp action", action_names);
}

Result<SeccompOp> parse_op(const At& at)
{
    return lookup(at, "seccomp operator", op_names);
}

Result<std::uint32_t> parse_architecture(const At& at)
{
    auto name = Decoder<std::string>::decode(at);
    if (!name)
        return std::move(name).error();
    constexpr std::string_view prefix = "SCMP_ARCH_";
    if (!name->starts_with(prefix) || name->size() == prefix.size())
        return at.invalid("unknown architecture ", berth::quoted(*name));
    std::string lower = name->substr(prefix.size());
    for (auto& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::uint32_t token = seccomp_arch_resolve_name(lower.c_str());
    if (token == 0)
        return at.invalid("unknown architecture ", berth::quoted(*name));
    return token;
}

Result<std::string> parse_flag(const At& at)
{
    auto name = Decoder<std::string>::decode(at);
    if (!name)
        return name;
    for (const std::string_view known :
         {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"})
        if (*name == known)
            return name;
    return at.invalid("unknown seccomp flag ", berth::quoted(*name));
}

// errnoRet is the errno for ERRNO and the tracer's message for TRACE; nothing else takes it.
Result<void> check_errno_ret(const At& at, SeccompAction action,
                             const std::optional<unsigned>& errno_ret)
{
    if (!errno_ret)
        return {};
    if (action != SeccompAction::Errno && action != SeccompAction::Trace)
        return at.invalid("only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take a return value");
    const unsigned max = action == SeccompAction::Errno ? 4095 : 65535;
    if (*errno_ret > max)
        return at.invalid("must be at most ", max, ", got ", *errno_ret);
    return {};
}

Result<SeccompArg> parse_arg(const At& at)
{
    SeccompArg arg;
    Object obj(at);
    obj.require("index", arg.index);
    obj.require("value", arg.value);
    obj.read("valueTwo", arg.value_two);
    obj.require("op", arg.op, parse_op);
    if (!obj.ok())
        return std::move(obj).error();
    if (arg.index > 5)
        return at.member("index", at.json).invalid("must be within 0..5, got ", arg.index);
    return arg;
}

Result<std::vector<std::string>> parse_names(const At& at)
{
    auto names = Decoder<std::vector<std::string>>::decode(at);
    if (!names)
        return names;
    if (names->empty())
        return at.invalid("must not be empty");
    for (std::size_t i = 0; i < names->size(); ++i)
        if ((*names)[i].empty())
            return at.element(i, at.json).invalid("empty syscall name");
    return names;
}

Result<SeccompRule> parse_rule(const At& at)
{
    SeccompRule rule;
    Object obj(at);
    obj.require("names", rule.names, parse_names);
    obj.require("action", rule.action, parse_action);
    obj.read("errnoRet", rule.errno_ret);
    obj.read("args", rule.args,
             [](const At& a) { return spec_json::decode_array<SeccompArg>(a, parse_arg); });
    if (!obj.ok())
        return std::move(obj).error();
    auto ret = check_errno_ret(at.member("errnoRet", at.json), rule.action, rule.errno_ret);
    if (!ret)
        return std::move(ret).error();
    // runc refuses this too: the runtime itself writes to the container's pipes after the
    // filter is loaded and before anyone answers notifications.
    if (rule.action == SeccompAction::Notify)
        for (std::size_t i = 0; i < rule.names.size(); ++i)
            if (rule.names[i] == "write")
                return at.member("names", at.json)
                    .element(i, at.json)
                    .invalid("SCMP_ACT_NOTIFY cannot be used for 'write'");
    return rule;
}

Result<void> check_notify(const At& at, const Seccomp& seccomp)
{
    bool notifies = false;
    for (const auto& rule : seccomp.syscalls)
        notifies = notifies || rule.action == SeccompAction::Notify;
    if (notifies && seccomp.listener_path.empty())
        return at.member("listenerPath", at.json).invalid("required by SCMP_ACT_NOTIFY rules");
    if (!notifies && !seccomp.listener_path.empty())
        return at.member("listenerPath", at.json).invalid("set, but no rule uses SCMP_ACT_NOTIFY");
    if (!seccomp.listener_path.empty() && !spec_json::is_absolute(seccomp.listener_path))
        return at.member("listenerPath", at.json)
            .invalid("must be an absolute path, got ", berth::quoted(seccomp.listener_path));
    return {};
}

} // namespace

std::string_view action_name(SeccompAction action)
{
    return name_of(action, action_names);
}

std::string_view op_name(SeccompOp op)
{
    return name_of(op, op_names);
}

Result<std::string> architecture_name(std::uint32_t token)
{
    for (const auto name : architecture_names)
        if (seccomp_arch_resolve_name(std::string(name).c_str()) == token) {
            std::string upper(name);
            for (auto& c : upper)
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            return cat("SCMP_ARCH_", upper);
        }
    return Error::invalid("no name for seccomp architecture token ", token);
}

Result<Seccomp> parse_seccomp(const At& at)
{
    Seccomp seccomp;
    Object obj(at);
    obj.require("defaultAction", seccomp.default_action, parse_action);
    obj.read("defaultErrnoRet", seccomp.default_errno_ret);
    obj.read("architectures", seccomp.architectures, [](const At& a) {
        return spec_json::decode_array<std::uint32_t>(a, parse_architecture);
    });
    obj.read("flags", seccomp.flags,
             [](const At& a) { return spec_json::decode_array<std::string>(a, parse_flag); });
    obj.read("listenerPath", seccomp.listener_path);
    obj.read("listenerMetadata", seccomp.listener_metadata);
    obj.read("syscalls", seccomp.syscalls,
             [](const At& a) { return spec_json::decode_array<SeccompRule>(a, parse_rule); });
    if (!obj.ok())
        return std::move(obj).error();
    if (seccomp.default_action == SeccompAction::Notify)
        return at.member("defaultAction", at.json)
            .invalid("SCMP_ACT_NOTIFY cannot be the default action");
    auto ret = check_errno_ret(at.member("defaultErrnoRet", at.json), seccomp.default_action,
                               seccomp.default_errno_ret);
    if (!ret)
        return std::move(ret).error();
    auto notify = check_notify(at, seccomp);
    if (!notify)
        return std::move(notify).error();
    return seccomp;
}

} // namespace berth::runtime::spec_parts

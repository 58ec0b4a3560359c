// runtime/seccomp.cpp — compile_seccomp() (parent, libseccomp) and load_seccomp() (child, one
// raw system call). See seccomp.hpp for the choices about unknown names and default actions.
#include "runtime/seccomp.hpp"
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cstring>
#include <memory>
#include "base/fd.hpp"
#include "base/files.hpp"

namespace berth::runtime {

namespace {

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif

constexpr std::size_t max_instructions = 4096; // BPF_MAXINSNS: the kernel refuses longer

struct ContextRelease {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextRelease>;

std::uint32_t action_value(SeccompAction action, const std::optional<unsigned>& ret)
{
    const auto data = static_cast<std::uint16_t>(ret.value_or(EPERM)); // runc's default
    switch (action) {
    case SeccompAction::KillThread: return SCMP_ACT_KILL_THREAD;
    case SeccompAction::KillProcess: return SCMP_ACT_KILL_PROCESS;
    case SeccompAction::Trap: return SCMP_ACT_TRAP;
    case SeccompAction::Errno: return SCMP_ACT_ERRNO(data);
    case SeccompAction::Trace: return SCMP_ACT_TRACE(data);
    case SeccompAction::Allow: return SCMP_ACT_ALLOW;
    case SeccompAction::Log: return SCMP_ACT_LOG;
    case SeccompAction::Notify: return SCMP_ACT_NOTIFY;
    }
    return SCMP_ACT_KILL_PROCESS;
}

scmp_compare compare_op(SeccompOp op)
{
    switch (op) {
    case SeccompOp::NotEqual: return SCMP_CMP_NE;
    case SeccompOp::LessThan: return SCMP_CMP_LT;
    case SeccompOp::LessEqual: return SCMP_CMP_LE;
    case SeccompOp::Equal: return SCMP_CMP_EQ;
    case SeccompOp::GreaterEqual: return SCMP_CMP_GE;
    case SeccompOp::GreaterThan: return SCMP_CMP_GT;
    case SeccompOp::MaskedEqual: return SCMP_CMP_MASKED_EQ;
    }
    return SCMP_CMP_EQ;
}

// libseccomp ANDs the conditions of one rule and allows one condition per argument. Like
// runc, a rule that tests one argument twice becomes one rule per condition (OR).
std::vector<std::vector<scmp_arg_cmp>> condition_sets(const SeccompRule& rule)
{
    std::vector<scmp_arg_cmp> all;
    unsigned seen[6] = {};
    bool repeated = false;
    for (const auto& arg : rule.args) {
        all.push_back({arg.index, compare_op(arg.op), arg.value, arg.value_two});
        repeated = repeated || ++seen[arg.index] > 1;
    }
    if (!repeated)
        return {all};
    std::vector<std::vector<scmp_arg_cmp>> sets;
    sets.reserve(all.size());
    for (const auto& condition : all)
        sets.push_back({condition});
    return sets;
}

Result<void> add_rule(void* ctx, const SeccompRule& rule, std::size_t index)
{
    const auto action = action_value(rule.action, rule.errno_ret);
    for (std::size_t n = 0; n < rule.names.size(); ++n) {
        const auto& name = rule.names[n];
        const auto where = cat("linux.seccomp.syscalls[", index, "].names[", n, "]");
        // Resolves for the native arch, or to a pseudo number for a name another arch has.
        const int number = seccomp_syscall_resolve_name(name.c_str());
        if (number == __NR_SCMP_ERROR)
            return Error::invalid(where, ": unknown syscall ", berth::quoted(name));
        for (const auto& conditions : condition_sets(rule)) {
            const int rc = seccomp_rule_add_array(
                ctx, action, number, static_cast<unsigned>(conditions.size()), conditions.data());
            if (rc < 0)
                return Error::with_code(-rc, where, ": add rule for ", berth::quoted(name));
        }
    }
    return {};
}

Result<unsigned> filter_flags(const Seccomp& spec, bool needs_listener)
{
    unsigned flags = 0;
    for (const auto& name : spec.flags) {
        if (name == "SECCOMP_FILTER_FLAG_TSYNC")
            flags |= SECCOMP_FILTER_FLAG_TSYNC;
        else if (name == "SECCOMP_FILTER_FLAG_LOG")
            flags |= SECCOMP_FILTER_FLAG_LOG;
        else if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW")
            flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        else
            return Error::invalid("linux.seccomp.flags: unknown flag ", berth::quoted(name));
    }
    if (needs_listener) {
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        // TSYNC reports a failing thread's id in the return value, which would collide with
        // the listener fd; TSYNC_ESRCH makes that an ESRCH error instead.
        if (flags & SECCOMP_FILTER_FLAG_TSYNC)
            flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }
    return flags;
}

Result<Context> build_context(const Seccomp& spec)
{
    Context ctx(seccomp_init(action_value(spec.default_action, spec.default_errno_ret)));
    if (!ctx)
        return Error::invalid("linux.seccomp: libseccomp refused the default action");
    // A binary tree of syscalls keeps big allow-lists (the default profile) fast to evaluate.
    (void)seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
    for (std::size_t i = 0; i < spec.architectures.size(); ++i) {
        const int rc = seccomp_arch_add(ctx.get(), spec.architectures[i]);
        if (rc < 0 && rc != -EEXIST)
            return Error::with_code(-rc, "linux.seccomp.architectures[", i, "]: add");
    }
    for (std::size_t i = 0; i < spec.syscalls.size(); ++i) {
        const auto& rule = spec.syscalls[i];
        const bool same_as_default =
            rule.action == spec.default_action &&
            rule.errno_ret.value_or(EPERM) == spec.default_errno_ret.value_or(EPERM);
        if (same_as_default)
            continue;
        auto added = add_rule(ctx.get(), rule, i);
        if (!added)
            return std::move(added).error();
    }
    return ctx;
}

// libseccomp writes the program to an fd; a memfd turns that into memory without a file.
Result<std::vector<sock_filter>> export_program(void* ctx)
{
    Fd memfd(::memfd_create("berth-seccomp", MFD_CLOEXEC));
    if (!memfd.valid())
        return Error::from_errno("seccomp: memfd_create");
    const int rc = seccomp_export_bpf(ctx, memfd.get());
    if (rc < 0)
        return Error::with_code(-rc, "seccomp: export the filter");
    if (::lseek(memfd.get(), 0, SEEK_SET) < 0)
        return Error::from_errno("seccomp: rewind the exported filter");
    auto bytes = read_fd(memfd.get(), std::size_t{1} << 20);
    if (!bytes)
        return std::move(bytes).error().wrap("seccomp: read the exported filter");
    const auto count = bytes->size() / sizeof(sock_filter);
    if (bytes->size() % sizeof(sock_filter) != 0 || count == 0)
        return Error::invalid("seccomp: exported filter has a bad size: ", bytes->size());
    if (count > max_instructions)
        return Error::invalid("linux.seccomp: the filter needs ", count,
                              " instructions, more than the kernel's ", max_instructions);
    std::vector<sock_filter> program(count);
    std::memcpy(program.data(), bytes->data(), bytes->size());
    return program;
}

} // namespace

Result<SeccompProgram> compile_seccomp(const Seccomp& spec)
{
    SeccompProgram program;
    for (const auto& rule : spec.syscalls)
        program.needs_listener = program.needs_listener || rule.action == SeccompAction::Notify;
    auto flags = filter_flags(spec, program.needs_listener);
    if (!flags)
        return std::move(flags).error();
    program.flags = *flags;
    auto ctx = build_context(spec);
    if (!ctx)
        return std::move(ctx).error();
    auto filter = export_program(ctx->get());
    if (!filter)
        return std::move(filter).error();
    program.filter = std::move(*filter);
    return program;
}

int load_seccomp(const SeccompProgram& program) noexcept
{
    // Async-signal-safe: only reads the program the parent built; no allocation.
    if (program.filter.empty() || program.filter.size() > max_instructions) {
        errno = EINVAL; // prog.len is 16 bits: never hand the kernel a truncated program
        return -1;
    }
    struct sock_fprog prog {};
    prog.len = static_cast<unsigned short>(program.filter.size());
    prog.filter = const_cast<struct sock_filter*>(program.filter.data());
    const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.flags, &prog);
    if (rc < 0)
        return -1;
    return program.needs_listener ? static_cast<int>(rc) : 0;
}

} // namespace berth::runtime

// cgroups/device_bpf.cpp — the v2 devices controller: a BPF_PROG_TYPE_CGROUP_DEVICE program
// compiled by hand from the OCI device rules (as crun and runc do; no libbpf), loaded and
// attached to the cgroup directory with raw bpf() calls. Runs as root on the host.
#include <sys/syscall.h>
#include <unistd.h>
#include <cstring>
#include "cgroups/internal.hpp"

namespace berth::cgroups::internal {

namespace {

// Registers of the program. R1 holds the context on entry (struct bpf_cgroup_dev_ctx).
enum : std::uint8_t { R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5 };

bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off,
              std::int32_t imm)
{
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

bpf_insn load_word(std::uint8_t dst, std::int16_t offset)
{
    return insn(BPF_LDX | BPF_MEM | BPF_W, dst, R1, offset, 0);
}

bpf_insn jump_if_not_equal(std::uint8_t reg, std::int32_t value)
{
    return insn(BPF_JMP | BPF_JNE | BPF_K, reg, 0, 0, value); // off patched per rule
}

std::int32_t access_bits(const std::string& access)
{
    std::int32_t bits = 0;
    for (char c : access)
        bits |= c == 'r'   ? BPF_DEVCG_ACC_READ
                : c == 'w' ? BPF_DEVCG_ACC_WRITE
                           : BPF_DEVCG_ACC_MKNOD;
    return bits;
}

bool matches_everything(const DeviceRule& rule)
{
    return rule.type == 'a' && !rule.major && !rule.minor &&
           access_bits(rule.access) ==
               (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD);
}

// One rule: a run of "if the field differs, skip this rule" tests, then "return verdict".
void append_rule(const DeviceRule& rule, std::vector<bpf_insn>& program)
{
    std::vector<bpf_insn> block;
    if (rule.type != 'a')
        block.push_back(
            jump_if_not_equal(R2, rule.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
    const std::int32_t bits = access_bits(rule.access);
    if (bits != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
        // The requested access must be a subset of the rule's: (R3 & bits) == R3.
        block.push_back(insn(BPF_ALU | BPF_MOV | BPF_X, R1, R3, 0, 0));
        block.push_back(insn(BPF_ALU | BPF_AND | BPF_K, R1, 0, 0, bits));
        block.push_back(insn(BPF_JMP | BPF_JNE | BPF_X, R1, R3, 0, 0));
    }
    if (rule.major)
        block.push_back(jump_if_not_equal(R4, static_cast<std::int32_t>(*rule.major)));
    if (rule.minor)
        block.push_back(jump_if_not_equal(R5, static_cast<std::int32_t>(*rule.minor)));
    block.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, rule.allow ? 1 : 0));
    block.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    // Every conditional jump lands just past this block, on the next rule.
    const auto size = static_cast<std::int16_t>(block.size());
    for (std::int16_t i = 0; i < size; ++i)
        if (BPF_CLASS(block[i].code) == BPF_JMP && BPF_OP(block[i].code) == BPF_JNE)
            block[i].off = static_cast<std::int16_t>(size - i - 1);
    program.insert(program.end(), block.begin(), block.end());
}

long bpf(int command, bpf_attr& attr)
{
    return ::syscall(SYS_bpf, command, &attr, sizeof attr);
}

} // namespace

Result<std::vector<bpf_insn>> device_program(const std::vector<DeviceRule>& rules)
{
    std::vector<bpf_insn> program = {
        load_word(R2, 0), // access_type: (access << 16) | type
        insn(BPF_ALU | BPF_AND | BPF_K, R2, 0, 0, 0xffff),
        load_word(R3, 0),
        insn(BPF_ALU | BPF_RSH | BPF_K, R3, 0, 0, 16),
        load_word(R4, 4), // major
        load_word(R5, 8), // minor
    };
    // The last matching rule wins, so test the rules last to first and return on the first
    // match. A rule that matches everything ends the program: the verifier rejects code after it
    // as unreachable.
    for (auto rule = rules.rbegin(); rule != rules.rend(); ++rule) {
        if (auto r = validate_device_rule(*rule); !r)
            return std::move(r).error();
        append_rule(*rule, program);
        if (matches_everything(*rule))
            return program;
    }
    program.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0)); // no rule matched: deny
    program.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    return program;
}

namespace {

Result<Fd> load(const std::vector<bpf_insn>& program)
{
    static const char license[] = "GPL";
    bpf_attr attr{};
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = reinterpret_cast<std::uintptr_t>(program.data());
    attr.insn_cnt = static_cast<std::uint32_t>(program.size());
    attr.license = reinterpret_cast<std::uintptr_t>(license);
    long fd = bpf(BPF_PROG_LOAD, attr);
    if (fd >= 0)
        return Fd(static_cast<int>(fd));
    // Load again with the verifier log, only to explain the failure.
    auto error = Error::from_errno("load device eBPF program (", program.size(), " instructions)");
    std::string log(16384, '\0');
    attr.log_buf = reinterpret_cast<std::uintptr_t>(log.data());
    attr.log_size = static_cast<std::uint32_t>(log.size());
    attr.log_level = 1;
    if (bpf(BPF_PROG_LOAD, attr) < 0 && log[0] != '\0')
        error.context += cat(" [verifier: ", quoted(trim(log.c_str())), "]");
    return error;
}

// Ids of the device programs attached to the cgroup itself (not inherited ones).
Result<std::vector<std::uint32_t>> attached_programs(int cgroup_fd)
{
    std::vector<std::uint32_t> ids(64);
    bpf_attr attr{};
    attr.query.target_fd = static_cast<std::uint32_t>(cgroup_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<std::uintptr_t>(ids.data());
    attr.query.prog_cnt = static_cast<std::uint32_t>(ids.size());
    if (bpf(BPF_PROG_QUERY, attr) < 0)
        return Error::from_errno("query device eBPF programs");
    ids.resize(attr.query.prog_cnt);
    return ids;
}

Result<void> detach(int cgroup_fd, std::uint32_t id)
{
    bpf_attr attr{};
    attr.prog_id = id;
    const long fd = bpf(BPF_PROG_GET_FD_BY_ID, attr);
    if (fd < 0)
        return errno == ENOENT ? Result<void>() : Error::from_errno("open eBPF program ", id);
    Fd program(static_cast<int>(fd));
    attr = {};
    attr.target_fd = static_cast<std::uint32_t>(cgroup_fd);
    attr.attach_bpf_fd = static_cast<std::uint32_t>(program.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, attr) < 0 && errno != ENOENT)
        return Error::from_errno("detach old device eBPF program ", id);
    return {};
}

} // namespace

Result<void> install_device_program(int cgroup_dir_fd, const std::vector<bpf_insn>& program)
{
    auto old = attached_programs(cgroup_dir_fd);
    if (!old)
        return std::move(old).error();
    auto fd = load(program);
    if (!fd)
        return std::move(fd).error();
    bpf_attr attr{};
    attr.target_fd = static_cast<std::uint32_t>(cgroup_dir_fd);
    attr.attach_bpf_fd = static_cast<std::uint32_t>(fd->get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, attr) < 0)
        return Error::from_errno("attach device eBPF program");
    // The new program is in force before the old ones go: no window without a filter. The
    // attachment keeps the program alive after our fd closes.
    for (auto id : *old)
        if (auto r = detach(cgroup_dir_fd, id); !r)
            return r;
    return {};
}

} // namespace berth::cgroups::internal

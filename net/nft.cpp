// berth's nftables table, driven through libnftables (no nft process). Port mappings are
// elements of two verdict-free NAT maps, so adding or removing a task is one transaction of
// element commands: no rule handles to track, and lookups stay O(1) at thousands of ports.
// libnftables is loaded by the first transaction (net/nft_dl.cpp) and let go by release().
#include <nftables/libnftables.h>
#include "net/internal.hpp"

namespace berth::net {

namespace {

// The table with its maps and base chains. Hooks:
//   raw prerouting: drop what arrives on the bridge for 127/8 (route_localnet is on there);
//   nat prerouting/output: DNAT mapped ports (output covers the host itself and 127.0.0.1),
//     and 169.254.170.2:80 to the credentials endpoint (prerouting: from the bridge only, so
//     no other host can reach it; output: host-mode tasks);
//   nat postrouting: masquerade localhost->task, hairpin (task -> a mapped port), outbound.
std::string table_text(const TableSpec& spec)
{
    const std::string subnet = cat(format_ipv4(spec.network), "/", int{spec.prefix});
    const std::string dnat = "fib daddr type local dnat ip to meta l4proto . th dport map "
                             "@dnat_any\n    dnat ip to ip daddr . meta l4proto . th dport map "
                             "@dnat_ip\n";
    std::string credentials;
    if (spec.credentials)
        credentials = cat("ip daddr ", format_ipv4(credentials_address), " tcp dport ",
                          credentials_port, " dnat ip to ", format_ipv4(spec.credentials->address),
                          ":", spec.credentials->port, "\n    ");
    const std::string bridge = cat("\"", spec.bridge, "\"");
    return cat("table ip berth {\n"
               "  map dnat_any { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
               "  map dnat_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . "
               "inet_service; }\n"
               "  chain guard { type filter hook prerouting priority raw; policy accept;\n"
               "    iifname ",
               bridge,
               " ip daddr 127.0.0.0/8 drop\n  }\n"
               "  chain prerouting { type nat hook prerouting priority dstnat; policy accept;\n"
               "    ",
               credentials.empty() ? "" : cat("iifname ", bridge, " ", credentials), dnat,
               "  }\n"
               "  chain output { type nat hook output priority -100; policy accept;\n    ",
               credentials, dnat,
               "  }\n"
               "  chain postrouting { type nat hook postrouting priority srcnat; policy accept;\n"
               "    oifname ",
               bridge, " ip saddr 127.0.0.0/8 masquerade\n    oifname ", bridge, " ip saddr ",
               subnet, " ct status dnat masquerade\n    oifname != ", bridge, " ip saddr ", subnet,
               " masquerade\n  }\n}\n");
}

std::string element(const TaskRecord& task, const PortMapping& port, bool with_value)
{
    const std::string key = cat(protocol_name(port.protocol), " . ", port.host_port);
    const std::string value =
        with_value ? cat(" : ", format_ipv4(task.address), " . ", port.container_port) : "";
    if (port.host_ip.empty())
        return cat("dnat_any { ", key, value, " }");
    return cat("dnat_ip { ", port.host_ip, " . ", key, value, " }");
}

} // namespace

std::string nft_task_elements(const TaskRecord& task, std::string_view verb)
{
    std::string commands;
    if (task.mode != Mode::Bridge)
        return commands;
    for (const auto& port : task.ports)
        commands += cat(verb, " element ip berth ", element(task, port, verb == "add"), "\n");
    return commands;
}

Result<Nft> Nft::open()
{
    auto generation = NftGeneration::open();
    if (!generation)
        return std::move(generation).error();
    return Nft(std::move(*generation));
}

Nft::Nft(Nft&& other) noexcept
    : generation_(std::move(other.generation_)), known_(other.known_), suspect_(other.suspect_)
{
    if (other.library_)
        library_.emplace(std::move(*other.library_));
    other.library_.reset();
    ctx_ = std::exchange(other.ctx_, nullptr);
}

Nft& Nft::operator=(Nft&& other) noexcept
{
    if (this != &other) {
        release();
        if (other.library_)
            library_.emplace(std::move(*other.library_));
        other.library_.reset();
        ctx_ = std::exchange(other.ctx_, nullptr);
        generation_ = std::move(other.generation_);
        known_ = other.known_;
        suspect_ = other.suspect_;
    }
    return *this;
}

Nft::~Nft()
{
    release();
}

void Nft::release() noexcept
{
    if (ctx_ != nullptr)
        library_->ctx_free(ctx_);
    ctx_ = nullptr;
    library_.reset(); // dlclose: its pages leave berthd's RSS
}

Result<void> Nft::load()
{
    if (ctx_ != nullptr)
        return {};
    if (!library_) {
        auto library = NftLibrary::load();
        if (!library)
            return std::move(library).error().wrap("nftables");
        library_.emplace(std::move(*library));
    }
    ctx_ = library_->ctx_new(NFT_CTX_DEFAULT);
    if (ctx_ == nullptr)
        return Error::with_code(ENOMEM, "create nftables context");
    library_->buffer_output(ctx_);
    library_->buffer_error(ctx_);
    return {};
}

// One transaction. A successful one moves the generation by exactly one, a refused one not at
// all; any other step from `before` means someone else committed in between.
std::pair<Result<void>, bool> Nft::run_counted(const std::string& commands,
                                               std::optional<std::uint32_t> before)
{
    if (commands.empty())
        return {Result<void>(), false};
    if (auto loaded = load(); !loaded)
        return {std::move(loaded).error(), false};
    errno = 0; // libnftables leaves errno from the kernel's answer, if there was one
    const bool done = library_->run_cmd(ctx_, commands.c_str()) == 0;
    Result<void> result;
    if (!done) {
        const char* message = library_->error_buffer(ctx_);
        const int code = errno != 0 ? errno : EINVAL;
        result = Error::with_code(code, "nftables: ", trim(message != nullptr ? message : ""));
    }
    auto after = generation_.read();
    const bool clean = before && after && *after == *before + (done ? 1U : 0U);
    known_ = after ? std::optional<std::uint32_t>(*after) : std::nullopt;
    return {std::move(result), clean};
}

Result<bool> Nft::stale()
{
    auto now = generation_.read();
    if (!now)
        return std::move(now).error().wrap("check table ip berth");
    return suspect_ || !known_ || *now != *known_;
}

Result<void> Nft::rebuild(const TableSpec& spec, const StateFile& state)
{
    // "add table; delete table; table {...}" in one buffer is one transaction: the old table
    // (if any) and the new one never both exist, and a failure leaves the old one untouched.
    std::string commands = "add table ip berth\ndelete table ip berth\n";
    commands += table_text(spec);
    for (const auto& [id, task] : state.tasks)
        commands += nft_task_elements(task, "add");
    auto before = generation_.read();
    auto [r, clean] =
        run_counted(commands, before ? std::optional<std::uint32_t>(*before) : std::nullopt);
    if (!r) {
        suspect_ = true;
        return std::move(r).error().wrap("rebuild table ip berth");
    }
    suspect_ = !clean; // whole again, unless someone changed the ruleset meanwhile
    return {};
}

Result<void> Nft::add_task(const TaskRecord& task)
{
    auto r = run_task(nft_task_elements(task, "add"));
    if (!r)
        return std::move(r).error().wrap(cat("map ports of task ", task.id));
    return {};
}

Result<void> Nft::remove_task(const TaskRecord& task)
{
    auto r = run_task(nft_task_elements(task, "delete"));
    if (!r)
        return std::move(r).error().wrap(cat("unmap ports of task ", task.id));
    return {};
}

Result<void> Nft::run_task(const std::string& commands)
{
    if (commands.empty())
        return {};
    auto counted = run_counted(commands, known_);
    if (!counted.second)
        suspect_ = true;
    return std::move(counted.first);
}

Result<void> Nft::delete_table()
{
    suspect_ = true;
    return run_task("add table ip berth\ndelete table ip berth\n");
}

} // namespace berth::net

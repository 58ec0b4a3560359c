// net/internal.hpp — shared by net/*.cpp only; not part of the public API.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <string>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"
#include "net/net.hpp"

struct mnl_socket;
struct nft_ctx; // libnftables' context

namespace berth::net {

// Runs fn on a short-lived thread that first joins the network namespace netns_fd, so the
// calling thread never changes namespace. Sockets fn opens stay bound to that namespace.
Result<void> run_in_netns(int netns_fd, const std::function<Result<void>()>& fn);
// Unmounts (if mounted) and unlinks a netns file; absent is success.
Result<void> remove_netns_file(const std::string& path);
// Writes a /proc/sys/net value in the calling thread's netns; ENOENT (IPv6 off) is the caller's.
Result<void> write_sysctl(const std::string& path, std::string_view value);

// A task id names files and nftables set elements: [A-Za-z0-9_.-], 1..64 bytes, not . or ..
Result<void> check_task_id(std::string_view id);
// The host-side veth of a task: "bv" + the task address in hex (unique while the IP is).
std::string veth_name(std::uint32_t address);

// One task as recorded in state.json, written before the kernel work it describes.
struct TaskRecord {
    std::string id;
    Mode mode = Mode::Bridge;
    std::uint32_t address = 0; // 0 for host and none
    std::vector<PortMapping> ports;
};
struct StateFile {
    std::map<std::string, TaskRecord, std::less<>> tasks;
};
Result<StateFile> parse_state(std::string_view text);
std::string serialize_state(const StateFile& state);
Result<StateFile> load_state(const std::string& path); // a missing file is an empty state
Result<void> save_state(const std::string& path, const StateFile& state);

// The IPv6 address at offset within subnet (its host bits): a dual-stack task's IPv6 address
// is at the same offset as its IPv4 one, the bridge's at 1 (ipam.cpp).
Ipv6Address ipv6_at(const Ipv6Cidr& subnet, std::uint32_t offset);

// IPv4 address management within one subnet: .0 network, .1 the bridge, last broadcast.
class Ipam {
public:
    explicit Ipam(Ipv4Cidr subnet) : subnet_(subnet) {}
    std::uint32_t gateway() const { return network() + 1; }
    std::uint32_t network() const;
    std::uint8_t prefix() const { return subnet_.prefix; }
    bool contains(std::uint32_t address) const;
    // The next free address after the last one handed out (rotating, so a freed address is
    // not reused at once); ENOSPC when every host address is taken.
    Result<std::uint32_t> allocate(const StateFile& state);

private:
    Ipv4Cidr subnet_;
    std::uint32_t cursor_ = 0;
};

// Host ports: the dynamic range, the reserved list, and the sockets that hold a chosen port
// until its DNAT exists.
class PortAllocator {
public:
    PortAllocator(PortRange range, std::vector<std::uint16_t> reserved);
    // Fills every host_port 0 and checks static ones; on success holds a bound socket per
    // mapping in held (closed by the caller once the DNAT rules are in).
    Result<std::vector<PortMapping>> assign(const std::vector<PortMapping>& wanted,
                                            const StateFile& state, std::vector<Fd>& held);
    static PortRange default_range(); // outside ip_local_port_range

private:
    using Key = std::pair<Protocol, std::uint16_t>;
    bool reserved(std::uint16_t port) const;
    Result<std::uint16_t> pick(const PortMapping& port, const std::set<Key>& used,
                               std::vector<Fd>& held);
    PortRange range_;
    std::vector<std::uint16_t> reserved_;
    std::uint32_t cursor_ = 0;
};

// What `table ip berth` is made of besides the task elements.
struct TableSpec {
    std::string bridge;
    std::uint32_t network = 0;
    std::uint8_t prefix = 0;
    std::optional<Ipv4Endpoint> credentials; // where 169.254.170.2:80 is DNATed, if anywhere
};

// The nftables ruleset generation of the calling thread's netns (NFT_MSG_GETGEN): every
// committed transaction, by anyone, moves it by one (nft_gen.cpp).
class NftGeneration {
public:
    static Result<NftGeneration> open();
    Result<std::uint32_t> read();

private:
    struct Closer {
        void operator()(mnl_socket* socket) const noexcept;
    };
    explicit NftGeneration(mnl_socket* socket) : socket_(socket) {}
    std::unique_ptr<mnl_socket, Closer> socket_;
    std::uint32_t seq_ = 0;
};

// libnftables, loaded by load() (net/nft_dl.cpp) and unloaded by the destructor. soname nullptr:
// libnftables.so.1; another name is for tests. ENOPKG when it cannot be loaded.
class NftLibrary { // move-only
public:
    static Result<NftLibrary> load(const char* soname = nullptr);
    NftLibrary(NftLibrary&& other) noexcept;
    NftLibrary& operator=(NftLibrary&&) = delete;
    NftLibrary(const NftLibrary&) = delete;
    NftLibrary& operator=(const NftLibrary&) = delete;
    ~NftLibrary();

    nft_ctx* (*ctx_new)(std::uint32_t flags) = nullptr;
    void (*ctx_free)(nft_ctx* ctx) = nullptr;
    int (*buffer_output)(nft_ctx* ctx) = nullptr;
    int (*buffer_error)(nft_ctx* ctx) = nullptr;
    const char* (*error_buffer)(nft_ctx* ctx) = nullptr;
    int (*run_cmd)(nft_ctx* ctx, const char* buffer) = nullptr;

private:
    NftLibrary() = default;
    void* handle_ = nullptr;
};

// berth's nftables table. Each call is one libnftables transaction. libnftables is loaded by the
// first transaction and kept until release() (an idle node holds none of it). It also notices when
// someone else changed the ruleset since berth's last transaction (a firewall reload, `nft
// flush ruleset`, or any other program's change): then the table may be damaged and
// stale() is true until the next rebuild.
class Nft {
public:
    static Result<Nft> open();
    Nft(Nft&&) noexcept;
    Nft& operator=(Nft&&) noexcept;
    ~Nft();
    // Replaces `table ip berth` atomically with the base chains and every task's mappings.
    Result<void> rebuild(const TableSpec& spec, const StateFile& state);
    Result<void> add_task(const TaskRecord& task);
    Result<void> remove_task(const TaskRecord& task);
    Result<void> delete_table();
    // Frees the nftables context and unloads libnftables; the next transaction loads it again.
    void release() noexcept;
    // True when the ruleset moved since berth's last transaction for any other reason (one
    // netlink round trip), or when berth's own last transaction could not be accounted for.
    Result<bool> stale();

private:
    // One transaction; also whether the generation moved exactly as that transaction explains
    // (from before, the generation the caller expects to find).
    std::pair<Result<void>, bool> run_counted(const std::string& commands,
                                              std::optional<std::uint32_t> before);
    // Errors carry nft's own message; the table is marked suspect if the generation is off.
    Result<void> run_task(const std::string& commands);
    explicit Nft(NftGeneration generation) : generation_(std::move(generation)) {}
    Result<void> load(); // library_ and ctx_, if not loaded
    std::optional<NftLibrary> library_;
    nft_ctx* ctx_ = nullptr; // from library_, freed before it is unloaded
    NftGeneration generation_;
    std::optional<std::uint32_t> known_; // the generation right after berth's last transaction
    bool suspect_ = true;                // known_ may include someone else's change
};
std::string nft_task_elements(const TaskRecord& task, std::string_view verb);

// Deletes the host netns's IPv4 UDP conntrack entries whose original destination port is one
// of ports (conntrack.cpp); and a task's mapped UDP host ports.
Result<void> flush_udp_conntrack(const std::vector<std::uint16_t>& ports);
std::vector<std::uint16_t> udp_host_ports(const TaskRecord& task);

// Files a task's containers bind-mount at /etc: resolv.conf, hosts, hostname.
struct HostFiles {
    std::string resolv_conf;             // the host's /etc/resolv.conf
    std::optional<std::string> upstream; // /run/systemd/resolve/resolv.conf, if present
    std::string hosts;                   // the host's /etc/hosts (host mode copies it)
};
std::string task_resolv_conf(Mode mode, const HostFiles& host);
std::string task_hosts(Mode mode, const HostFiles& host, const std::string& hostname,
                       std::optional<std::uint32_t> address,
                       std::optional<Ipv6Address> address6 = std::nullopt);
Result<void> write_task_files(const std::string& dir, Mode mode, const std::string& hostname,
                              std::optional<std::uint32_t> address,
                              std::optional<Ipv6Address> address6 = std::nullopt);

} // namespace berth::net

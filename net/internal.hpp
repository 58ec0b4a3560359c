// net/internal.hpp — shared by net/*.cpp only; not part of the public API.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <string>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"
#include "net/net.hpp"

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

// berth's nftables table. Each call is one libnftables transaction.
class Nft {
public:
    static Result<Nft> open();
    Nft(Nft&&) noexcept;
    Nft& operator=(Nft&&) noexcept;
    ~Nft();
    // Replaces `table ip berth` atomically with the base chains and every task's mappings.
    Result<void> rebuild(const std::string& bridge, std::uint32_t network, std::uint8_t prefix,
                         const StateFile& state);
    Result<void> add_task(const TaskRecord& task);
    Result<void> remove_task(const TaskRecord& task);
    Result<void> delete_table();
    Result<void> run(const std::string& commands); // error carries nft's own message

private:
    explicit Nft(void* ctx) : ctx_(ctx) {}
    void* ctx_ = nullptr; // struct nft_ctx*
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
                       std::optional<std::uint32_t> address);
Result<void> write_task_files(const std::string& dir, Mode mode, const std::string& hostname,
                              std::optional<std::uint32_t> address);

} // namespace berth::net

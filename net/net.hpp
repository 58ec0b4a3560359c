// net/net.hpp — the only header other directories include from net/. net/ owns task networking
// on one host: berth's bridge, one network namespace per task (held open by a bind mount under
// the run dir, no pause process), the veth pair into it, IPv4 addresses from berth's subnet,
// host port mappings in berth's own nftables table (`table ip berth`), and the state file that
// lets recover() rebuild all of it after an agent restart. Netlink and nftables are driven
// directly (libmnl, libnftables): no `ip` or `nft` processes. Runs as root on the host and
// changes the network namespace the calling process is in (the "host" netns).
// Errors: EINVAL bad input (named in the context), EADDRINUSE a static host port is taken,
// ENOSPC the subnet or port range is exhausted, EEXIST a task id already has a network,
// ENOENT an unknown task. A failed add_task leaves nothing behind and touches no other task.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"

namespace berth::net {

struct Ipv4Cidr { // address in host byte order; prefix 0..32
    std::uint32_t address = 0;
    std::uint8_t prefix = 0;
};
// "10.213.0.0/24" (a host address with prefix, or a network). Errors name the text.
Result<Ipv4Cidr> parse_cidr(std::string_view text);
Result<std::uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(std::uint32_t address);
struct Ipv4Endpoint { // host byte order
    std::uint32_t address = 0;
    std::uint16_t port = 0;
};
// "127.0.0.1:51679": an IPv4 address and a port 1..65535. Errors name the text.
Result<Ipv4Endpoint> parse_endpoint(std::string_view text);

// IPv6 (dual stack, optional): an address in network byte order and a prefix 0..128.
using Ipv6Address = std::array<std::uint8_t, 16>;
struct Ipv6Cidr {
    Ipv6Address address{};
    std::uint8_t prefix = 0;
};
// "fd42:b::/64". Errors name the text.
Result<Ipv6Cidr> parse_cidr6(std::string_view text);
// Config::subnet6: a CIDR with a prefix /48../120, not loopback, link-local, multicast or
// IPv4-mapped (it goes on berth's bridge in the host netns). Errors name the text.
Result<Ipv6Cidr> parse_subnet6(std::string_view text);
std::string format_ipv6(const Ipv6Address& address); // the RFC 5952 form inet_ntop gives

enum class Mode { Awsvpc, Bridge, Host, None }; // the ECS networkMode values
Result<Mode> parse_mode(std::string_view text);
enum class Protocol { Tcp, Udp };
Result<Protocol> parse_protocol(std::string_view text); // "tcp" or "udp", nothing else
std::string_view protocol_name(Protocol protocol);

// A network namespace held open by a bind mount of its nsfs inode (no pause process). Move-only;
// the destructor removes the mount and the file unless keep() was called (the task lives on).
class Netns {
public:
    // A new, empty namespace at path. inside (if any) runs first on the creating thread, in
    // the new namespace (sysctls, lo up): one thread per namespace instead of two.
    static Result<Netns> create(const std::string& path,
                                const std::function<Result<void>()>& inside = {});
    static Result<Netns> open(const std::string& path); // adopt an existing bind mount
    Netns(Netns&& other) noexcept;
    Netns& operator=(Netns&& other) noexcept;
    Netns(const Netns&) = delete;
    Netns& operator=(const Netns&) = delete;
    ~Netns();
    const std::string& path() const { return path_; }
    int fd() const { return fd_.get(); } // borrowed; open for the handle's lifetime
    void keep() { owned_ = false; }
    Result<void> remove(); // unmount, unlink; the kernel frees the netns once unused

private:
    Netns(std::string path, Fd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
    std::string path_;
    Fd fd_;
    bool owned_ = true;
};

struct PortMapping {
    std::uint16_t container_port = 0;
    std::uint16_t host_port = 0; // 0: a dynamic port from Config::port_range
    Protocol protocol = Protocol::Tcp;
    std::string host_ip; // empty or "0.0.0.0": every local address
};

struct PortRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
};

struct Config {
    std::string run_dir;           // state.json and netns/<task> live here
    std::string bridge = "berth0"; // berth's own bridge; its address is the subnet's .1
    std::string subnet = "10.213.0.0/16";
    // Dual stack (optional, e.g. a ULA "fd42:b::/64"; empty: IPv4 only). The bridge gets the
    // prefix's ::1 and each bridge/awsvpc task the address at the same offset as its IPv4 one
    // in `subnet` (so no IPv6 allocation state), with a default route via the bridge. Reaches
    // the host and other tasks on the bridge; not yet routed beyond it (net/README.md).
    std::string subnet6;
    std::optional<PortRange> port_range;       // default: outside the kernel's ip_local_port_range
    std::vector<std::uint16_t> reserved_ports; // added to 22, 2375, 2376, 51678-51680
    std::optional<std::uint32_t> mtu;          // default: the MTU of the default-route interface
    // The agent's credentials/metadata listener, "ADDRESS:PORT" on this host (e.g.
    // "127.0.0.1:51679"): TCP to 169.254.170.2:80 from bridge, awsvpc and host tasks is DNATed
    // to it (none has no route). Empty: 169.254.170.2 is not redirected.
    std::string credentials_endpoint;
};

// The link-local address tasks reach the agent's credentials endpoint at (as on ECS).
inline constexpr std::uint32_t credentials_address = 0xa9feaa02; // 169.254.170.2
inline constexpr std::uint16_t credentials_port = 80;

struct TaskRequest {
    std::string task_id; // [A-Za-z0-9_.-], 1..64 bytes: it names files and nftables elements
    Mode mode = Mode::Bridge;
    std::vector<PortMapping> ports; // bridge: mapped; awsvpc: host_port 0 or == container_port
    std::string hostname;           // for /etc/hostname and /etc/hosts; default: the task id
};

struct TaskInfo { // what the runtime needs from a started task network
    std::string task_id;
    Mode mode = Mode::Bridge;
    std::string netns_path; // empty for host mode: the containers keep the host's netns
    std::optional<std::uint32_t> address;  // awsvpc and bridge
    std::vector<PortMapping> ports;        // host ports resolved (no zeros left)
    std::string files_dir;                 // resolv.conf, hosts, hostname for bind mounts
    std::optional<Ipv6Address> address6{}; // as address, when Config::subnet6 is set
};

struct RecoverReport {
    std::vector<std::string> removed_tasks; // in the state file but not alive: torn down
    std::vector<std::string> removed_links; // veths on berth's bridge that no task owns
    std::vector<std::string> removed_netns; // bind mounts under run_dir/netns that no task owns
};

// Wakes its user when anyone commits an nftables transaction in the network namespace it was
// opened in (a netlink socket subscribed to NFNLGRP_NFTABLES): fd() turns readable, for poll()
// or an event loop; drain() then reads what queued, never blocking. berth's own transactions
// wake it too: on a wake-up call Network::check_and_repair(), which tells them apart in one
// round trip, so a firewall reload is repaired at once instead of at the next poll. Notifications
// can be lost (the socket's queue overflows during a large ruleset load: drain() reports that as
// a change), so keep polling check_and_repair() slowly as well. Needs CAP_NET_ADMIN.
class RulesetWatch {
public:
    static Result<RulesetWatch> open();
    int fd() const { return fd_.get(); } // borrowed; non-blocking
    // Reads every queued notification: true if there was any (or some were lost), false if
    // none; EAGAIN never escapes.
    Result<bool> drain();

private:
    explicit RulesetWatch(Fd fd) : fd_(std::move(fd)) {}
    Fd fd_;
};

// Move-only; owns berth's bridge, nftables table and state file on this host. Not thread-safe:
// the agent calls it from one thread. open() sets net.ipv4.ip_forward=1 in the calling netns
// (bridge and awsvpc tasks are routed through the host).
class Network {
public:
    // Creates (or adopts) the bridge and the nftables table and loads the state file.
    static Result<Network> open(Config config);
    Network(Network&&) noexcept;
    Network& operator=(Network&&) noexcept;
    ~Network(); // keeps everything: task networks outlive the agent process

    Result<TaskInfo> add_task(const TaskRequest& request);
    Result<void> remove_task(std::string_view task_id); // ENOENT for an unknown id
    std::optional<TaskInfo> find_task(std::string_view task_id) const;
    std::vector<TaskInfo> tasks() const;
    // Tears down every task not in live, removes leftovers no task owns, and rebuilds berth's
    // nftables table from the state file in one transaction.
    Result<RecoverReport> recover(const std::vector<std::string>& live_task_ids);
    // Whether anyone else committed to the host's nftables ruleset since berth last wrote its
    // table (a firewall reload, `nft flush ruleset`, iptables-nft, Docker) and if so rebuilds
    // `table ip berth` from the state in one transaction (true). One netlink round trip when
    // nothing changed: the agent calls it every few seconds.
    Result<bool> check_and_repair();
    // Removes every task network, the table and the bridge (uninstall, tests).
    Result<void> destroy_all();

    struct State;

private:
    explicit Network(std::unique_ptr<State> state);
    std::unique_ptr<State> s_;
};

} // namespace berth::net

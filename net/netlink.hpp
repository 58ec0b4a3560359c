// net/netlink.hpp — rtnetlink over libmnl: the few link, address and route operations berth
// needs. A Netlink socket acts on the network namespace it was opened in, whatever thread
// later uses it. Internal to net/.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "base/result.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace berth::net {

struct LinkInfo {
    std::string name;
    int index = 0;
    int master = 0; // 0: no master
    std::uint32_t mtu = 0;
};

class Netlink {
public:
    static Result<Netlink> open(); // in the calling thread's network namespace

    Result<std::optional<LinkInfo>> link(const std::string& name);
    Result<std::vector<LinkInfo>> links();
    Result<void> create_bridge(const std::string& name, std::optional<std::uint32_t> mtu);
    // The host end named host_name, enslaved to master; the peer created directly in
    // peer_netns_fd as peer_name. Both ends get mtu and are down: up_without_ipv6() each.
    Result<void> create_veth(const std::string& host_name, const std::string& peer_name,
                             int peer_netns_fd, int master, std::uint32_t mtu);
    // Hairpin mode on (a bridge port may reflect frames) and the link up, in one request.
    Result<void> up_as_hairpin_port(const std::string& port);
    Result<void> set_multicast_snooping_off(int bridge);
    Result<void> set_up(int index);
    // Up with no IPv6 address generation (addrgenmode none): no link-local, no DAD.
    Result<void> up_without_ipv6(const std::string& name);
    Result<void> add_address(int index, std::uint32_t address, std::uint8_t prefix);
    Result<void> add_default_route(std::uint32_t gateway);
    // IPv6, without duplicate address detection (IFA_F_NODAD): usable at once.
    Result<void> add_address6(int index, const std::array<std::uint8_t, 16>& address,
                              std::uint8_t prefix);
    Result<void> add_default_route6(const std::array<std::uint8_t, 16>& gateway);
    Result<void> delete_link(const std::string& name); // absent is success
    // The MTU of the interface the main table's IPv4 default route leaves by, if any.
    Result<std::optional<std::uint32_t>> default_route_mtu();

private:
    struct Closer {
        void operator()(mnl_socket* socket) const noexcept;
    };
    explicit Netlink(mnl_socket* socket);
    Result<void> request(nlmsghdr* message, int (*callback)(const nlmsghdr*, void*) = nullptr,
                         void* data = nullptr);
    Result<void> dump(nlmsghdr* message, int (*callback)(const nlmsghdr*, void*), void* data);
    Result<void> exchange(nlmsghdr* message, std::uint16_t flags, const char* what,
                          int (*callback)(const nlmsghdr*, void*), void* data);
    std::unique_ptr<mnl_socket, Closer> socket_;
    std::uint32_t port_id_ = 0;
    std::uint32_t seq_ = 0;
};

} // namespace berth::net

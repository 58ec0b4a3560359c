// rtnetlink requests over libmnl. Each request asks for an ACK and waits for it, so an error is
// reported by the call that caused it. Runs as root in the host or a task network namespace.
#include "net/netlink.hpp"
#include "net/net.hpp"
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <array>
#include <cstring>

namespace berth::net {

namespace {

// MNL_SOCKET_BUFFER_SIZE is 8 KiB here; a link dump message is well under that.
constexpr std::size_t buffer_size = 32768;
using Buffer = std::array<char, buffer_size>;

nlmsghdr* start(Buffer& buffer, std::uint16_t type, std::uint16_t flags)
{
    nlmsghdr* message = mnl_nlmsg_put_header(buffer.data());
    message->nlmsg_type = type;
    message->nlmsg_flags = NLM_F_REQUEST | flags;
    return message;
}

ifinfomsg* put_ifinfo(nlmsghdr* message, int index = 0, unsigned flags = 0)
{
    auto* info = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(message, sizeof(ifinfomsg)));
    info->ifi_family = AF_UNSPEC;
    info->ifi_index = index;
    info->ifi_flags = flags;
    info->ifi_change = flags;
    return info;
}

// A link request naming its link (IFLA_IFNAME), with `link_flags` (IFF_UP) set.
nlmsghdr* start_link(Buffer& buffer, std::uint16_t type, std::uint16_t flags,
                     const std::string& name, unsigned link_flags = 0)
{
    nlmsghdr* message = start(buffer, type, flags);
    put_ifinfo(message, 0, link_flags);
    mnl_attr_put_strz(message, IFLA_IFNAME, name.c_str());
    return message;
}

// RTM_NEWADDR for link `index`: the address (network order) as IFA_LOCAL and IFA_ADDRESS.
nlmsghdr* new_address(Buffer& buffer, std::uint8_t family, int index, const void* address,
                      std::size_t size, std::uint8_t prefix, std::uint8_t flags)
{
    nlmsghdr* message = start(buffer, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
    auto* info = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(ifaddrmsg)));
    info->ifa_family = family;
    info->ifa_prefixlen = prefix;
    info->ifa_flags = flags;
    info->ifa_index = static_cast<std::uint32_t>(index);
    mnl_attr_put(message, IFA_LOCAL, size, address);
    mnl_attr_put(message, IFA_ADDRESS, size, address);
    return message;
}

// RTM_NEWROUTE of the default route via `gateway` (network order), as `ip route add` makes it.
nlmsghdr* new_default_route(Buffer& buffer, std::uint8_t family, const void* gateway,
                            std::size_t size)
{
    nlmsghdr* message = start(buffer, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    auto* route = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(rtmsg)));
    route->rtm_family = family;
    route->rtm_table = RT_TABLE_MAIN;
    route->rtm_protocol = RTPROT_BOOT;
    route->rtm_scope = RT_SCOPE_UNIVERSE;
    route->rtm_type = RTN_UNICAST;
    mnl_attr_put(message, RTA_GATEWAY, size, gateway);
    return message;
}

int link_attribute(const nlattr* attribute, void* data)
{
    auto* link = static_cast<LinkInfo*>(data);
    switch (mnl_attr_get_type(attribute)) {
    case IFLA_IFNAME:
        if (mnl_attr_validate(attribute, MNL_TYPE_STRING) >= 0)
            link->name = mnl_attr_get_str(attribute);
        break;
    case IFLA_MASTER:
        if (mnl_attr_validate(attribute, MNL_TYPE_U32) >= 0)
            link->master = static_cast<int>(mnl_attr_get_u32(attribute));
        break;
    case IFLA_MTU:
        if (mnl_attr_validate(attribute, MNL_TYPE_U32) >= 0)
            link->mtu = mnl_attr_get_u32(attribute);
        break;
    default: break;
    }
    return MNL_CB_OK;
}

int collect_link(const nlmsghdr* message, void* data)
{
    auto* links = static_cast<std::vector<LinkInfo>*>(data);
    const auto* info = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
    LinkInfo link;
    link.index = info->ifi_index;
    mnl_attr_parse(message, sizeof(ifinfomsg), link_attribute, &link);
    links->push_back(std::move(link));
    return MNL_CB_OK;
}

// One TX and one RX queue, asked for at creation. Without them a veth end is allocated with a
// queue per possible CPU and then cut down to one (veth_init_queues), and cutting the queues of
// a registered device waits for an RCU grace period (synchronize_net under RTNL): two per pair,
// the largest wait in a task's setup on a 2-CPU host (most of the wall time beyond CPU time).
void put_one_queue(nlmsghdr* message)
{
    mnl_attr_put_u32(message, IFLA_NUM_TX_QUEUES, 1);
    mnl_attr_put_u32(message, IFLA_NUM_RX_QUEUES, 1);
}

struct DefaultRoute {
    std::optional<int> oif;
};

int route_attribute(const nlattr* attribute, void* data)
{
    if (mnl_attr_get_type(attribute) == RTA_OIF && mnl_attr_validate(attribute, MNL_TYPE_U32) >= 0)
        static_cast<DefaultRoute*>(data)->oif = static_cast<int>(mnl_attr_get_u32(attribute));
    return MNL_CB_OK;
}

int find_default_route(const nlmsghdr* message, void* data)
{
    auto* found = static_cast<DefaultRoute*>(data);
    const auto* route = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(message));
    if (found->oif || route->rtm_dst_len != 0 || route->rtm_table != RT_TABLE_MAIN)
        return MNL_CB_OK;
    mnl_attr_parse(message, sizeof(rtmsg), route_attribute, found);
    return MNL_CB_OK;
}

} // namespace

void Netlink::Closer::operator()(mnl_socket* socket) const noexcept
{
    mnl_socket_close(socket);
}

Netlink::Netlink(mnl_socket* socket) : socket_(socket), port_id_(mnl_socket_get_portid(socket))
{
}

Result<Netlink> Netlink::open()
{
    mnl_socket* socket = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (socket == nullptr)
        return Error::from_errno("open rtnetlink socket");
    if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
        Error error = Error::from_errno("bind rtnetlink socket");
        mnl_socket_close(socket);
        return error;
    }
    return Netlink(socket);
}

Result<void> Netlink::request(nlmsghdr* message, int (*callback)(const nlmsghdr*, void*),
                              void* data)
{
    return exchange(message, NLM_F_ACK, "netlink", callback, data);
}

Result<void> Netlink::dump(nlmsghdr* message, int (*callback)(const nlmsghdr*, void*), void* data)
{
    return exchange(message, NLM_F_DUMP, "netlink dump", callback, data);
}

// Sends one message and runs callback over the answers until the kernel ends them (the ACK of
// a request, NLMSG_DONE of a dump); a netlink error message becomes the error's errno.
Result<void> Netlink::exchange(nlmsghdr* message, std::uint16_t flags, const char* what,
                               int (*callback)(const nlmsghdr*, void*), void* data)
{
    message->nlmsg_flags |= flags;
    message->nlmsg_seq = ++seq_;
    if (mnl_socket_sendto(socket_.get(), message, message->nlmsg_len) < 0)
        return Error::from_errno("netlink send");
    Buffer buffer;
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(socket_.get(), buffer.data(), buffer.size());
        if (n < 0)
            return Error::from_errno("netlink receive");
        const int r =
            mnl_cb_run(buffer.data(), static_cast<std::size_t>(n), seq_, port_id_, callback, data);
        if (r < 0)
            return Error::from_errno(what);
        if (r == MNL_CB_STOP)
            return {};
    }
}

Result<std::vector<LinkInfo>> Netlink::links()
{
    Buffer buffer;
    nlmsghdr* message = start(buffer, RTM_GETLINK, 0);
    put_ifinfo(message);
    std::vector<LinkInfo> links;
    auto r = dump(message, collect_link, &links);
    if (!r)
        return std::move(r).error().wrap("list links");
    return links;
}

Result<std::optional<LinkInfo>> Netlink::link(const std::string& name)
{
    Buffer buffer;
    nlmsghdr* message = start_link(buffer, RTM_GETLINK, 0, name);
    std::vector<LinkInfo> links;
    auto r = request(message, collect_link, &links);
    if (!r) {
        if (r.error().code == ENODEV)
            return std::optional<LinkInfo>();
        return std::move(r).error().wrap(cat("find link ", quoted(name)));
    }
    if (links.empty())
        return std::optional<LinkInfo>();
    return std::optional<LinkInfo>(std::move(links.front()));
}

Result<void> Netlink::create_bridge(const std::string& name, std::optional<std::uint32_t> mtu)
{
    Buffer buffer;
    nlmsghdr* message = start_link(buffer, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name, IFF_UP);
    if (mtu)
        mnl_attr_put_u32(message, IFLA_MTU, *mtu);
    nlattr* linkinfo = mnl_attr_nest_start(message, IFLA_LINKINFO);
    mnl_attr_put_strz(message, IFLA_INFO_KIND, "bridge");
    mnl_attr_nest_end(message, linkinfo);
    auto r = request(message);
    if (!r)
        return std::move(r).error().wrap(cat("create bridge ", quoted(name)));
    return {};
}

Result<void> Netlink::create_veth(const std::string& host_name, const std::string& peer_name,
                                  int peer_netns_fd, int master, std::uint32_t mtu)
{
    Buffer buffer;
    // Down: up_without_ipv6() brings it up.
    nlmsghdr* message = start_link(buffer, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, host_name);
    mnl_attr_put_u32(message, IFLA_MTU, mtu);
    put_one_queue(message);
    mnl_attr_put_u32(message, IFLA_MASTER, static_cast<std::uint32_t>(master));
    nlattr* linkinfo = mnl_attr_nest_start(message, IFLA_LINKINFO);
    mnl_attr_put_strz(message, IFLA_INFO_KIND, "veth");
    nlattr* data = mnl_attr_nest_start(message, IFLA_INFO_DATA);
    nlattr* peer = mnl_attr_nest_start(message, VETH_INFO_PEER);
    // The peer's ifinfomsg sits right after the nest header, then its own attributes.
    auto* peer_info =
        static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(message, sizeof(ifinfomsg)));
    // No IFF_UP for the peer: the kernel opens it before the pair is linked (ENOTCONN).
    peer_info->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(message, IFLA_IFNAME, peer_name.c_str());
    mnl_attr_put_u32(message, IFLA_MTU, mtu);
    put_one_queue(message);
    mnl_attr_put_u32(message, IFLA_NET_NS_FD, static_cast<std::uint32_t>(peer_netns_fd));
    mnl_attr_nest_end(message, peer);
    mnl_attr_nest_end(message, data);
    mnl_attr_nest_end(message, linkinfo);
    auto r = request(message);
    if (!r)
        return std::move(r).error().wrap(cat("create veth ", quoted(host_name)));
    return {};
}

Result<void> Netlink::up_as_hairpin_port(const std::string& port)
{
    // As `ip link set PORT type bridge_slave hairpin on up`, in one request (the kernel applies
    // the port option before the flags): the bridge may then send a frame back out of the port
    // it came in by. Without it, a task's packet to its own mapped port (DNATed back to the
    // task) is dropped.
    Buffer buffer;
    nlmsghdr* message = start_link(buffer, RTM_NEWLINK, 0, port, IFF_UP);
    nlattr* linkinfo = mnl_attr_nest_start(message, IFLA_LINKINFO);
    mnl_attr_put_strz(message, IFLA_INFO_SLAVE_KIND, "bridge");
    nlattr* data = mnl_attr_nest_start(message, IFLA_INFO_SLAVE_DATA);
    mnl_attr_put_u8(message, IFLA_BRPORT_MODE, 1);
    mnl_attr_nest_end(message, data);
    mnl_attr_nest_end(message, linkinfo);
    auto r = request(message);
    if (!r)
        return std::move(r).error().wrap(cat("set hairpin mode on ", quoted(port), " and up"));
    return {};
}

Result<void> Netlink::set_multicast_snooping_off(int bridge)
{
    // As `ip link set BRIDGE type bridge mcast_snooping 0`. With snooping on, enabling any port
    // re-arms the multicast timers of every port (br_port_state_selection), so each task's
    // setup cost grew with the number of tasks on the bridge. Tasks lose nothing they use:
    // multicast is flooded to every port, as on a bridge without a querier.
    Buffer buffer;
    nlmsghdr* message = start(buffer, RTM_NEWLINK, 0);
    put_ifinfo(message, bridge);
    nlattr* linkinfo = mnl_attr_nest_start(message, IFLA_LINKINFO);
    mnl_attr_put_strz(message, IFLA_INFO_KIND, "bridge");
    nlattr* data = mnl_attr_nest_start(message, IFLA_INFO_DATA);
    mnl_attr_put_u8(message, IFLA_BR_MCAST_SNOOPING, 0);
    mnl_attr_nest_end(message, data);
    mnl_attr_nest_end(message, linkinfo);
    auto r = request(message);
    if (!r)
        return std::move(r).error().wrap(cat("turn multicast snooping off on bridge ", bridge));
    return {};
}

Result<void> Netlink::up_without_ipv6(const std::string& name)
{
    // As `ip link set NAME addrgenmode none`, before the link goes up: no IPv6 link-local
    // address, so no duplicate address detection, no fe80 routes and no MLD on it. In the host
    // netns every such route lengthens the IPv6 table that the kernel walks on each link
    // change (setup time grew with the number of tasks); in a task netns it is why no sysctl
    // (accept_dad, an O(namespaces) /proc/sys lookup) is needed. Not accepted at creation.
    Buffer buffer;
    nlmsghdr* message = start_link(buffer, RTM_NEWLINK, 0, name);
    nlattr* spec = mnl_attr_nest_start(message, IFLA_AF_SPEC);
    nlattr* inet6 = mnl_attr_nest_start(message, AF_INET6);
    mnl_attr_put_u8(message, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
    mnl_attr_nest_end(message, inet6);
    mnl_attr_nest_end(message, spec);
    auto r = request(message);
    if (!r && r.error().code != EAFNOSUPPORT) // a kernel without IPv6: nothing to turn off
        return std::move(r).error().wrap(cat("turn off IPv6 addresses on ", quoted(name)));
    message = start_link(buffer, RTM_NEWLINK, 0, name, IFF_UP);
    r = request(message);
    if (!r)
        return std::move(r).error().wrap(cat("set link ", quoted(name), " up"));
    return {};
}

Result<void> Netlink::set_up(int index)
{
    Buffer buffer;
    nlmsghdr* message = start(buffer, RTM_NEWLINK, 0);
    put_ifinfo(message, index, IFF_UP);
    auto r = request(message);
    if (!r)
        return std::move(r).error().wrap(cat("set link ", index, " up"));
    return {};
}

Result<void> Netlink::add_address(int index, std::uint32_t address, std::uint8_t prefix)
{
    Buffer buffer;
    const std::uint32_t network_order = htonl(address);
    auto r = request(
        new_address(buffer, AF_INET, index, &network_order, sizeof network_order, prefix, 0));
    if (!r)
        return std::move(r).error().wrap(cat("add address ", format_ipv4(address)));
    return {};
}

Result<void> Netlink::add_default_route(std::uint32_t gateway)
{
    Buffer buffer;
    const std::uint32_t network_order = htonl(gateway);
    auto r = request(new_default_route(buffer, AF_INET, &network_order, sizeof network_order));
    if (!r)
        return std::move(r).error().wrap(cat("add default route via ", format_ipv4(gateway)));
    return {};
}

Result<void> Netlink::add_address6(int index, const std::array<std::uint8_t, 16>& address,
                                   std::uint8_t prefix)
{
    Buffer buffer;
    auto r = request(
        new_address(buffer, AF_INET6, index, address.data(), address.size(), prefix, IFA_F_NODAD));
    if (!r)
        return std::move(r).error().wrap(cat("add address ", format_ipv6(address)));
    return {};
}

Result<void> Netlink::add_default_route6(const std::array<std::uint8_t, 16>& gateway)
{
    Buffer buffer;
    auto r = request(new_default_route(buffer, AF_INET6, gateway.data(), gateway.size()));
    if (!r)
        return std::move(r).error().wrap(cat("add default route via ", format_ipv6(gateway)));
    return {};
}

Result<void> Netlink::delete_link(const std::string& name)
{
    Buffer buffer;
    nlmsghdr* message = start_link(buffer, RTM_DELLINK, 0, name);
    auto r = request(message);
    if (!r) {
        if (r.error().code == ENODEV)
            return {}; // already gone (its netns went first): the goal holds
        return std::move(r).error().wrap(cat("delete link ", quoted(name)));
    }
    return {};
}

Result<std::optional<std::uint32_t>> Netlink::default_route_mtu()
{
    Buffer buffer;
    nlmsghdr* message = start(buffer, RTM_GETROUTE, 0);
    auto* route = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(rtmsg)));
    route->rtm_family = AF_INET;
    DefaultRoute found;
    auto r = dump(message, find_default_route, &found);
    if (!r)
        return std::move(r).error().wrap("find the default route");
    if (!found.oif)
        return std::optional<std::uint32_t>();
    auto links = this->links();
    if (!links)
        return std::move(links).error();
    for (const auto& link : *links)
        if (link.index == *found.oif)
            return std::optional<std::uint32_t>(link.mtu);
    return std::optional<std::uint32_t>();
}

} // namespace berth::net

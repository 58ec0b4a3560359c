// UDP conntrack entries for a host port are flushed when its mapping is added or removed: UDP
// has no handshake, so a client that kept sending to the port before the DNAT existed (or
// after it went) keeps its old, un-NATed (or stale) entry for as long as it keeps sending.
// ctnetlink over libmnl: dump the IPv4 UDP entries, delete those whose original destination
// port matches. Acts on the calling thread's netns (the host).
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include "net/internal.hpp"

namespace berth::net {

namespace {

struct Closer {
    void operator()(mnl_socket* socket) const noexcept { mnl_socket_close(socket); }
};
using Socket = std::unique_ptr<mnl_socket, Closer>;
using Buffer = std::array<char, 65536>;

struct Match {
    const std::vector<std::uint16_t>* ports;
    std::vector<std::string> tuples; // raw CTA_TUPLE_ORIG payloads to delete
};

struct ProtoFields {
    std::optional<std::uint8_t> number;
    std::optional<std::uint16_t> port;
};

int proto_field(const nlattr* attribute, void* data)
{
    auto* fields = static_cast<ProtoFields*>(data);
    const auto type = mnl_attr_get_type(attribute);
    if (type == CTA_PROTO_NUM && mnl_attr_validate(attribute, MNL_TYPE_U8) >= 0)
        fields->number = mnl_attr_get_u8(attribute);
    if (type == CTA_PROTO_DST_PORT && mnl_attr_validate(attribute, MNL_TYPE_U16) >= 0)
        fields->port = ntohs(mnl_attr_get_u16(attribute));
    return MNL_CB_OK;
}

int tuple_field(const nlattr* attribute, void* data)
{
    if (mnl_attr_get_type(attribute) == CTA_TUPLE_PROTO)
        mnl_attr_parse_nested(attribute, proto_field, data);
    return MNL_CB_OK;
}

// CTA_TUPLE_ORIG -> CTA_TUPLE_PROTO -> {CTA_PROTO_NUM, CTA_PROTO_DST_PORT}
bool udp_to_port(const nlattr* tuple, const std::vector<std::uint16_t>& ports)
{
    ProtoFields fields;
    mnl_attr_parse_nested(tuple, tuple_field, &fields);
    return fields.number == IPPROTO_UDP && fields.port &&
           std::find(ports.begin(), ports.end(), *fields.port) != ports.end();
}

int entry_field(const nlattr* attribute, void* data)
{
    auto* match = static_cast<Match*>(data);
    if (mnl_attr_get_type(attribute) == CTA_TUPLE_ORIG && udp_to_port(attribute, *match->ports))
        match->tuples.emplace_back(static_cast<const char*>(mnl_attr_get_payload(attribute)),
                                   mnl_attr_get_payload_len(attribute));
    return MNL_CB_OK;
}

int collect(const nlmsghdr* message, void* data)
{
    mnl_attr_parse(message, sizeof(nfgenmsg), entry_field, data);
    return MNL_CB_OK;
}

nlmsghdr* start(Buffer& buffer, std::uint16_t type, std::uint16_t flags)
{
    nlmsghdr* message = mnl_nlmsg_put_header(buffer.data());
    message->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
    message->nlmsg_flags = NLM_F_REQUEST | flags;
    auto* header = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(nfgenmsg)));
    header->nfgen_family = AF_INET;
    header->version = NFNETLINK_V0;
    header->res_id = 0;
    return message;
}

Result<void> exchange(mnl_socket* socket, nlmsghdr* message, std::uint32_t seq, Match* match)
{
    message->nlmsg_seq = seq;
    if (mnl_socket_sendto(socket, message, message->nlmsg_len) < 0)
        return Error::from_errno("ctnetlink send");
    Buffer buffer;
    const std::uint32_t port_id = mnl_socket_get_portid(socket);
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(socket, buffer.data(), buffer.size());
        if (n < 0)
            return Error::from_errno("ctnetlink receive");
        const int r = mnl_cb_run(buffer.data(), static_cast<std::size_t>(n), seq, port_id,
                                 match != nullptr ? collect : nullptr, match);
        if (r < 0)
            return Error::from_errno("ctnetlink");
        if (r == MNL_CB_STOP)
            return {};
    }
}

} // namespace

Result<void> flush_udp_conntrack(const std::vector<std::uint16_t>& ports)
{
    if (ports.empty())
        return {};
    Socket socket(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
    if (!socket || mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0)
        return Error::from_errno("open ctnetlink socket");
    Buffer buffer;
    Match match{&ports, {}};
    std::uint32_t seq = 1;
    auto dumped = exchange(socket.get(), start(buffer, IPCTNL_MSG_CT_GET, NLM_F_DUMP), seq, &match);
    if (!dumped)
        return std::move(dumped).error().wrap("flush UDP conntrack: list");
    for (const auto& tuple : match.tuples) {
        nlmsghdr* message = start(buffer, IPCTNL_MSG_CT_DELETE, NLM_F_ACK);
        mnl_attr_put(message, CTA_TUPLE_ORIG | NLA_F_NESTED, tuple.size(), tuple.data());
        auto deleted = exchange(socket.get(), message, ++seq, nullptr);
        if (!deleted && deleted.error().code != ENOENT) // gone meanwhile: fine
            return std::move(deleted).error().wrap("flush UDP conntrack: delete");
    }
    return {};
}

std::vector<std::uint16_t> udp_host_ports(const TaskRecord& task)
{
    std::vector<std::uint16_t> ports;
    if (task.mode == Mode::Bridge)
        for (const auto& port : task.ports)
            if (port.protocol == Protocol::Udp)
                ports.push_back(port.host_port);
    return ports;
}

} // namespace berth::net

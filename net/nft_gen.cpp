// The nftables ruleset generation (NFT_MSG_GETGEN over nfnetlink, libmnl). The kernel moves it
// by one per committed transaction in a netns, whoever commits; berth compares it with the
// value right after its own last transaction to learn, in one round trip, that someone else
// (a firewall reload, `nft flush ruleset`, iptables-nft) touched the ruleset since.
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <array>
#include <optional>
#include "net/internal.hpp"

namespace berth::net {

namespace {

int generation_attribute(const nlattr* attribute, void* data)
{
    if (mnl_attr_get_type(attribute) == NFTA_GEN_ID &&
        mnl_attr_validate(attribute, MNL_TYPE_U32) >= 0)
        *static_cast<std::optional<std::uint32_t>*>(data) = ntohl(mnl_attr_get_u32(attribute));
    return MNL_CB_OK;
}

int generation_message(const nlmsghdr* message, void* data)
{
    mnl_attr_parse(message, sizeof(nfgenmsg), generation_attribute, data);
    return MNL_CB_OK;
}

} // namespace

void NftGeneration::Closer::operator()(mnl_socket* socket) const noexcept
{
    mnl_socket_close(socket);
}

Result<NftGeneration> NftGeneration::open()
{
    mnl_socket* socket = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (socket == nullptr)
        return Error::from_errno("open nfnetlink socket");
    NftGeneration generation(socket);
    if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0)
        return Error::from_errno("bind nfnetlink socket");
    return generation;
}

Result<std::uint32_t> NftGeneration::read()
{
    std::array<char, 8192> buffer{}; // one small message each way
    nlmsghdr* message = mnl_nlmsg_put_header(buffer.data());
    message->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
    message->nlmsg_flags = NLM_F_REQUEST;
    message->nlmsg_seq = ++seq_;
    auto* header = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(nfgenmsg)));
    header->nfgen_family = AF_UNSPEC;
    header->version = NFNETLINK_V0;
    header->res_id = 0;
    if (mnl_socket_sendto(socket_.get(), message, message->nlmsg_len) < 0)
        return Error::from_errno("nftables generation: send");
    const std::uint32_t port_id = mnl_socket_get_portid(socket_.get());
    std::optional<std::uint32_t> generation;
    while (!generation) {
        const ssize_t n = mnl_socket_recvfrom(socket_.get(), buffer.data(), buffer.size());
        if (n < 0)
            return Error::from_errno("nftables generation: receive");
        const int r = mnl_cb_run(buffer.data(), static_cast<std::size_t>(n), seq_, port_id,
                                 generation_message, &generation);
        if (r < 0)
            return Error::from_errno("nftables generation");
        if (r == MNL_CB_STOP && !generation)
            return Error::with_code(EPROTO, "nftables generation: no NFTA_GEN_ID in the answer");
    }
    return *generation;
}

} // namespace berth::net

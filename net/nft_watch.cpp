// RulesetWatch: a netlink socket in the NFNLGRP_NFTABLES multicast group. The kernel sends the
// group every object a transaction adds or deletes and, at its commit, NFT_MSG_NEWGEN, so the
// socket turns readable on any change to the ruleset by anyone. The messages themselves are not
// parsed: the user only needs to know that something changed, and Network::check_and_repair()
// finds out in one round trip whether it was someone else.
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <array>
#include "net/net.hpp"

namespace berth::net {

Result<RulesetWatch> RulesetWatch::open()
{
    Fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER));
    if (!fd.valid())
        return Error::from_errno("watch the nftables ruleset: open nfnetlink socket");
    sockaddr_nl address{};
    address.nl_family = AF_NETLINK;
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0)
        return Error::from_errno("watch the nftables ruleset: bind nfnetlink socket");
    const int group = NFNLGRP_NFTABLES;
    if (::setsockopt(fd.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0)
        return Error::from_errno("watch the nftables ruleset: join NFNLGRP_NFTABLES");
    return RulesetWatch(std::move(fd));
}

Result<bool> RulesetWatch::drain()
{
    std::array<char, 16384> buffer{}; // what is read is discarded: only its arrival matters
    bool changed = false;
    for (;;) {
        const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), MSG_TRUNC);
        if (n >= 0) {
            changed = true;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == ENOBUFS) { // the queue overflowed: notifications were lost, so a change
            changed = true;
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return changed;
        return Error::from_errno("watch the nftables ruleset: receive");
    }
}

} // namespace berth::net

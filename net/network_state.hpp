// net/network_state.hpp — what a Network holds; shared by network.cpp and recover.cpp only.
#pragma once
#include "net/internal.hpp"
#include "net/netlink.hpp"

namespace berth::net {

struct Network::State {
    Config config;
    Ipam ipam;
    PortAllocator ports;
    Nft nft;
    Netlink netlink; // in the host netns
    StateFile file;
    std::string state_path;
    std::string netns_dir;
    std::string files_dir;
    int bridge_index = 0;
    std::uint32_t mtu = 1500;
    std::optional<Ipv4Endpoint> credentials{}; // parsed Config::credentials_endpoint
    std::optional<Ipv6Cidr> subnet6{};         // parsed Config::subnet6 (dual stack)

    // A task's IPv6 address: at its IPv4 address's offset in the IPv4 subnet.
    std::optional<Ipv6Address> address6(std::uint32_t address) const
    {
        if (!subnet6 || address == 0)
            return std::nullopt;
        return ipv6_at(*subnet6, address - ipam.network());
    }

    std::string netns_path(const std::string& id) const { return cat(netns_dir, "/", id); }
    std::string task_files(const std::string& id) const { return cat(files_dir, "/", id); }
    TaskInfo info(const TaskRecord& task) const;
    TableSpec table() const { return {config.bridge, ipam.network(), ipam.prefix(), credentials}; }
    // Undoes everything of one task in the kernel and on disk; the state record stays.
    // Goes on past failures (a crash may have left any subset) and returns the first one.
    Result<void> teardown(const TaskRecord& task);
};

} // namespace berth::net

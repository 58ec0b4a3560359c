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

    std::string netns_path(const std::string& id) const { return cat(netns_dir, "/", id); }
    std::string task_files(const std::string& id) const { return cat(files_dir, "/", id); }
    TaskInfo info(const TaskRecord& task) const;
    TableSpec table() const { return {config.bridge, ipam.network(), ipam.prefix(), credentials}; }
    // Undoes everything of one task in the kernel and on disk; the state record stays.
    // Goes on past failures (a crash may have left any subset) and returns the first one.
    Result<void> teardown(const TaskRecord& task);
};

} // namespace berth::net

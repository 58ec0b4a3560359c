// IPv4 address management in berth's subnet. The allocations themselves live in state.json
// (TaskRecord::address), so there is nothing else to persist or to reclaim: removing a task's
// record frees its address.
#include <set>
#include "net/internal.hpp"

namespace berth::net {

std::uint32_t Ipam::network() const
{
    const std::uint32_t mask = subnet_.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - subnet_.prefix);
    return subnet_.address & mask;
}

bool Ipam::contains(std::uint32_t address) const
{
    const std::uint64_t size = std::uint64_t{1} << (32 - subnet_.prefix);
    return std::uint64_t{address - network()} < size;
}

Result<std::uint32_t> Ipam::allocate(const StateFile& state)
{
    // Hosts are network+2 (network+1 is the bridge) .. broadcast-1; Network::open refuses
    // prefixes above /30, so there is at least one.
    const std::uint32_t first = network() + 2;
    if (subnet_.prefix > 30)
        return Error::with_code(ENOSPC, "subnet /", int{subnet_.prefix}, " has no task addresses");
    const auto count = static_cast<std::uint32_t>((std::uint64_t{1} << (32 - subnet_.prefix)) - 3);
    std::set<std::uint32_t> used;
    for (const auto& [id, task] : state.tasks)
        used.insert(task.address);
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t candidate = first + (cursor_ + i) % count;
        if (used.count(candidate) == 0) {
            cursor_ = (candidate - first + 1) % count;
            return candidate;
        }
    }
    return Error::with_code(ENOSPC, "subnet ", format_ipv4(network()), "/", int{subnet_.prefix},
                            " is exhausted (", count, " addresses in use)");
}

Ipv6Address ipv6_at(const Ipv6Cidr& subnet, std::uint32_t offset)
{
    Ipv6Address address = subnet.address;
    for (std::size_t bit = subnet.prefix; bit < 128; ++bit) // clear the host bits
        address[bit / 8] &= static_cast<std::uint8_t>(~(0x80U >> (bit % 8)));
    for (std::size_t i = 0; i < 4; ++i) // offset < 2^(128 - prefix): checked by open()
        address[15 - i] |= static_cast<std::uint8_t>(offset >> (8 * i));
    return address;
}

} // namespace berth::net

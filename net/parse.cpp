// Parsers for configuration and task input: CIDRs, IPv4 addresses, modes, protocols. Untrusted
// (task definitions come from the control plane): every error names the text; fuzzed.
#include <arpa/inet.h>
#include <array>
#include "net/net.hpp"

namespace berth::net {

Result<std::uint32_t> parse_ipv4(std::string_view text)
{
    auto parts = split(text, '.');
    if (parts.size() != 4 || text.size() > 15)
        return Error::invalid("bad IPv4 address ", quoted(text));
    std::uint32_t address = 0;
    for (auto part : parts) {
        // No leading zeros: "010" is octal to inet_aton and decimal to others; refuse both.
        if (part.size() > 1 && part.front() == '0')
            return Error::invalid("bad IPv4 address ", quoted(text));
        auto octet = parse_int<std::uint32_t>(part);
        if (!octet || *octet > 255)
            return Error::invalid("bad IPv4 address ", quoted(text));
        address = (address << 8) | *octet;
    }
    return address;
}

Result<Ipv4Cidr> parse_cidr(std::string_view text)
{
    const auto slash = text.find('/');
    if (slash == std::string_view::npos)
        return Error::invalid("bad CIDR ", quoted(text), ": no '/prefix'");
    auto address = parse_ipv4(text.substr(0, slash));
    if (!address)
        return std::move(address).error().wrap(cat("bad CIDR ", quoted(text)));
    const auto prefix_text = text.substr(slash + 1);
    auto prefix = parse_int<std::uint32_t>(prefix_text);
    if (!prefix || *prefix > 32 || (prefix_text.size() > 1 && prefix_text.front() == '0'))
        return Error::invalid("bad CIDR ", quoted(text), ": prefix must be 0..32");
    return Ipv4Cidr{*address, static_cast<std::uint8_t>(*prefix)};
}

Result<Ipv4Endpoint> parse_endpoint(std::string_view text)
{
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return Error::invalid("bad endpoint ", quoted(text), ": no ':port'");
    auto address = parse_ipv4(text.substr(0, colon));
    if (!address)
        return std::move(address).error().wrap(cat("bad endpoint ", quoted(text)));
    const auto port_text = text.substr(colon + 1);
    auto port = parse_int<std::uint32_t>(port_text);
    if (!port || *port == 0 || *port > 65535 || port_text.front() == '0')
        return Error::invalid("bad endpoint ", quoted(text), ": port must be 1..65535");
    return Ipv4Endpoint{*address, static_cast<std::uint16_t>(*port)};
}

Result<Ipv6Cidr> parse_cidr6(std::string_view text)
{
    const auto slash = text.find('/');
    if (slash == std::string_view::npos)
        return Error::invalid("bad IPv6 CIDR ", quoted(text), ": no '/prefix'");
    const std::string address_text(text.substr(0, slash));
    Ipv6Cidr cidr;
    if (address_text.size() > 45 ||
        ::inet_pton(AF_INET6, address_text.c_str(), cidr.address.data()) != 1)
        return Error::invalid("bad IPv6 CIDR ", quoted(text), ": not an IPv6 address");
    const auto prefix_text = text.substr(slash + 1);
    auto prefix = parse_int<std::uint32_t>(prefix_text);
    if (!prefix || *prefix > 128 || (prefix_text.size() > 1 && prefix_text.front() == '0'))
        return Error::invalid("bad IPv6 CIDR ", quoted(text), ": prefix must be 0..128");
    cidr.prefix = static_cast<std::uint8_t>(*prefix);
    return cidr;
}

// The bridge gets the subnet's ::1 in the host netns, so the subnet must be one a host may
// route on a link: /0 would make ::/0 on-link (every IPv6 destination sent to the bridge), and
// loopback, link-local, multicast and IPv4-mapped ranges have meanings of their own. /48../120:
// a site's worth at most, and at least 8 host bits (the IPv4 twin check in network.cpp may ask
// for more). With the prefix at least 48, the first byte decides the class of the whole subnet.
Result<Ipv6Cidr> parse_subnet6(std::string_view text)
{
    auto cidr = parse_cidr6(text);
    if (!cidr)
        return cidr;
    if (cidr->prefix < 48 || cidr->prefix > 120)
        return Error::invalid("subnet6 ", quoted(text), ": prefix must be /48../120");
    const auto& a = cidr->address;
    if (a[0] == 0x00) // ::/8: unspecified, loopback ::1, IPv4-mapped and -compatible
        return Error::invalid("subnet6 ", quoted(text),
                              ": inside ::/8 (loopback, unspecified, IPv4-mapped)");
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return Error::invalid("subnet6 ", quoted(text), ": link-local (fe80::/10)");
    if (a[0] == 0xff)
        return Error::invalid("subnet6 ", quoted(text), ": multicast (ff00::/8)");
    return cidr;
}

std::string format_ipv6(const Ipv6Address& address)
{
    std::array<char, INET6_ADDRSTRLEN> text{};
    ::inet_ntop(AF_INET6, address.data(), text.data(), text.size());
    return text.data();
}

std::string format_ipv4(std::uint32_t address)
{
    return cat(address >> 24, '.', (address >> 16) & 0xff, '.', (address >> 8) & 0xff, '.',
               address & 0xff);
}

Result<Mode> parse_mode(std::string_view text)
{
    if (text == "awsvpc")
        return Mode::Awsvpc;
    if (text == "bridge")
        return Mode::Bridge;
    if (text == "host")
        return Mode::Host;
    if (text == "none")
        return Mode::None;
    return Error::invalid("networkMode ", quoted(text),
                          ": must be one of awsvpc, bridge, host, none");
}

Result<Protocol> parse_protocol(std::string_view text)
{
    if (text == "tcp")
        return Protocol::Tcp;
    if (text == "udp")
        return Protocol::Udp;
    return Error::invalid("port mapping protocol ", quoted(text), ": must be tcp or udp");
}

std::string_view protocol_name(Protocol protocol)
{
    return protocol == Protocol::Tcp ? "tcp" : "udp";
}

} // namespace berth::net

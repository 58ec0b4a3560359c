// tests/fuzz/net_config_fuzz.cpp — net/'s parsers of untrusted input: CIDRs (IPv4, IPv6), IPv4
// addresses and endpoints (agent configuration, task hostIp), modes and protocols (task
// definitions) and state.json (on disk, possibly torn or edited). The input is "kind-byte text".
// Properties: refusals explain themselves; what parses round-trips through format/serialize
// unchanged.
#include <cstddef>
#include <cstdint>
#include "net/internal.hpp"
#include "net/net.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

namespace {

void cidr(std::string_view text)
{
    auto parsed = net::parse_cidr(text);
    if (!parsed) {
        fuzz::require_explained(parsed.error());
        return;
    }
    fuzz::require(parsed->prefix <= 32, "a prefix is 0..32");
    const std::string again =
        net::format_ipv4(parsed->address) + "/" + std::to_string(int{parsed->prefix});
    fuzz::require(again == text, "a parsed CIDR formats back to its text");
}

// IPv6 has many spellings of one address: the property is that the canonical form parses back
// to the same address and prefix.
void cidr6(std::string_view text)
{
    auto parsed = net::parse_cidr6(text);
    if (!parsed) {
        fuzz::require_explained(parsed.error());
        return;
    }
    fuzz::require(parsed->prefix <= 128, "an IPv6 prefix is 0..128");
    const std::string canonical =
        net::format_ipv6(parsed->address) + "/" + std::to_string(int{parsed->prefix});
    auto again = net::parse_cidr6(canonical);
    fuzz::require(again.has_value() && again->address == parsed->address &&
                      again->prefix == parsed->prefix,
                  "a parsed IPv6 CIDR's canonical form parses to the same");
}

void endpoint(std::string_view text)
{
    auto parsed = net::parse_endpoint(text);
    if (!parsed) {
        fuzz::require_explained(parsed.error());
        return;
    }
    fuzz::require(parsed->port != 0, "a port is 1..65535");
    const std::string again =
        net::format_ipv4(parsed->address) + ":" + std::to_string(parsed->port);
    fuzz::require(again == text, "a parsed endpoint formats back to its text");
}

void state(std::string_view text)
{
    auto parsed = net::parse_state(text);
    if (!parsed) {
        fuzz::require_explained(parsed.error());
        return;
    }
    const std::string once = net::serialize_state(*parsed);
    auto reparsed = net::parse_state(once);
    fuzz::require(reparsed.has_value(), "serialized state parses again");
    fuzz::require(net::serialize_state(*reparsed) == once, "state round-trips");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0 || size > fuzz::max_input)
        return 0;
    const auto text = fuzz::as_text(data + 1, size - 1);
    switch (data[0] % 4) {
    case 0:
        cidr(text);
        cidr6(text);
        endpoint(text);
        break;
    case 1:
        if (auto mode = net::parse_mode(text); !mode)
            fuzz::require_explained(mode.error());
        if (auto protocol = net::parse_protocol(text); !protocol)
            fuzz::require_explained(protocol.error());
        break;
    case 2:
        if (auto id = net::check_task_id(text); !id)
            fuzz::require_explained(id.error());
        break;
    default: state(text); break;
    }
    return 0;
}

// /etc/resolv.conf, /etc/hosts and /etc/hostname for a task's containers. A loopback
// nameserver (systemd-resolved's 127.0.0.53, a local dnsmasq) answers only in the host netns,
// so a task in its own netns gets the upstream servers resolved itself uses instead.
#include <fcntl.h>
#include <sys/stat.h>
#include <cstdio>
#include "base/files.hpp"
#include "net/internal.hpp"

namespace berth::net {

namespace {

bool loopback_nameserver(std::string_view line)
{
    line = trim(line);
    if (!line.starts_with("nameserver"))
        return false;
    const auto server = trim(line.substr(10));
    return server.starts_with("127.") || server == "::1";
}

bool has_loopback_nameserver(std::string_view text)
{
    for (auto line : split(text, '\n'))
        if (loopback_nameserver(line))
            return true;
    return false;
}

std::string without_loopback_nameservers(std::string_view text)
{
    std::string out;
    for (auto line : split(text, '\n')) {
        if (loopback_nameserver(line))
            continue;
        if (!line.empty())
            out += cat(line, "\n");
    }
    return out;
}

// Write and rename, without fsync: these files are derived from the host's and rewritten by
// add_task; three fsyncs per task were most of its cost (25 ms here).
Result<void> write_replace(const std::string& path, std::string_view text)
{
    const std::string temporary = path + ".tmp";
    auto fd = open_at(AT_FDCWD, temporary, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!fd)
        return std::move(fd).error();
    auto written = write_all(fd->get(), text);
    if (!written)
        return std::move(written).error().wrap(berth::quoted(temporary));
    if (::rename(temporary.c_str(), path.c_str()) < 0)
        return Error::from_errno("rename ", berth::quoted(temporary));
    return {};
}

} // namespace

std::string task_resolv_conf(Mode mode, const HostFiles& host)
{
    if (mode == Mode::Host)
        return host.resolv_conf; // same netns: the host's resolver works as is
    std::string_view source = host.resolv_conf;
    if (has_loopback_nameserver(source) && host.upstream)
        source = *host.upstream;
    return without_loopback_nameservers(source);
}

std::string task_hosts(Mode mode, const HostFiles& host, const std::string& hostname,
                       std::optional<std::uint32_t> address, std::optional<Ipv6Address> address6)
{
    if (mode == Mode::Host)
        return host.hosts;
    std::string out = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
    if (address)
        out += cat(format_ipv4(*address), "\t", hostname, "\n");
    else
        out += cat("127.0.1.1\t", hostname, "\n");
    if (address6)
        out += cat(format_ipv6(*address6), "\t", hostname, "\n");
    return out;
}

Result<void> write_task_files(const std::string& dir, Mode mode, const std::string& hostname,
                              std::optional<std::uint32_t> address,
                              std::optional<Ipv6Address> address6)
{
    constexpr std::size_t cap = std::size_t{1024} * 1024;
    HostFiles host;
    if (auto text = read_file("/etc/resolv.conf", cap))
        host.resolv_conf = std::move(*text);
    if (auto text = read_file("/run/systemd/resolve/resolv.conf", cap))
        host.upstream = std::move(*text);
    if (auto text = read_file("/etc/hosts", cap))
        host.hosts = std::move(*text);
    if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST)
        return Error::from_errno("create task files dir ", quoted(dir));
    const std::pair<const char*, std::string> files[] = {
        {"resolv.conf", task_resolv_conf(mode, host)},
        {"hosts", task_hosts(mode, host, hostname, address, address6)},
        {"hostname", cat(hostname, "\n")},
    };
    for (const auto& [name, text] : files) {
        auto r = write_replace(cat(dir, "/", name), text);
        if (!r)
            return std::move(r).error().wrap("write task files");
    }
    return {};
}

} // namespace berth::net

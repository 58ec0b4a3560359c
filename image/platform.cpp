// image/platform.cpp — this host's OCI platform and "os/arch[/variant]" strings.
#include <sys/utsname.h>
#include "image/image.hpp"

namespace berth::image {

Platform host_platform()
{
    Platform p;
    utsname u{};
    const std::string machine = ::uname(&u) == 0 ? u.machine : "x86_64";
    if (machine == "x86_64")
        p.architecture = "amd64";
    else if (machine == "aarch64") {
        p.architecture = "arm64";
        p.variant = "v8";
    } else if (machine == "armv7l") {
        p.architecture = "arm";
        p.variant = "v7";
    } else if (machine == "i686" || machine == "i386")
        p.architecture = "386";
    else
        p.architecture = machine; // ppc64le, s390x, riscv64 are spelled alike
    return p;
}

Result<Platform> parse_platform(std::string_view text)
{
    const auto parts = split(text, '/');
    if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty() ||
        (parts.size() == 3 && parts[2].empty()))
        return Error::invalid("platform ", quoted(text), ": expected os/arch[/variant]");
    Platform p{std::string(parts[0]), std::string(parts[1]), {}};
    if (parts.size() == 3)
        p.variant = std::string(parts[2]);
    return p;
}

} // namespace berth::image

// tests/support/namespaces.cpp — see namespaces.hpp. Runs once, before any test case, while
// the test process has one thread (unshare(CLONE_NEWNS) needs that).
#include "tests/support/namespaces.hpp"
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include "base/fd.hpp"

namespace berth::test {

namespace {

[[noreturn]] void give_up(const char* step)
{
    std::fprintf(stderr, "private namespaces: %s: %s (refusing to run in the host's)\n", step,
                 std::strerror(errno));
    std::abort();
}

// SIOCSIFFLAGS on lo of this process's (new) netns; no ip(8) needed.
void loopback_up()
{
    Fd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!socket.valid())
        give_up("socket");
    ifreq request{};
    std::snprintf(request.ifr_name, IFNAMSIZ, "lo");
    if (::ioctl(socket.get(), SIOCGIFFLAGS, &request) < 0)
        give_up("read the flags of lo");
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    if (::ioctl(socket.get(), SIOCSIFFLAGS, &request) < 0)
        give_up("set lo up");
}

} // namespace

void enter_private_namespaces(bool private_tmp)
{
    if (::geteuid() != 0)
        return;
    if (::unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
        give_up("unshare network and mount namespaces");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
        give_up("make / private");
    if (private_tmp && ::mount("tmpfs", "/tmp", "tmpfs", 0, "size=64m") < 0)
        give_up("mount a private tmpfs on /tmp");
    loopback_up();
}

} // namespace berth::test

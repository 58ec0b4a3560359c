// runtime/netns.cpp — the container's network namespace made ahead on a thread, and lo brought
// up in it (see netns.hpp).
#include "runtime/netns.hpp"
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <system_error>

namespace berth::runtime {

int loopback_up() noexcept
{
    const int nl = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (nl < 0)
        return -1;
    struct {
        nlmsghdr header;
        ifinfomsg info;
    } request{};
    request.header.nlmsg_len = sizeof request;
    request.header.nlmsg_type = RTM_NEWLINK;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    request.header.nlmsg_seq = 1;
    request.info.ifi_family = AF_UNSPEC;
    request.info.ifi_index = 1; // lo is always the first link of a namespace
    request.info.ifi_flags = IFF_UP;
    request.info.ifi_change = IFF_UP;
    int result = -1;
    if (::send(nl, &request, sizeof request, 0) == static_cast<ssize_t>(sizeof request)) {
        alignas(nlmsghdr) char reply[512];
        const ssize_t n = ::recv(nl, reply, sizeof reply, 0);
        const auto* answer = reinterpret_cast<const nlmsghdr*>(reply);
        if (n >= static_cast<ssize_t>(NLMSG_LENGTH(sizeof(nlmsgerr))) &&
            answer->nlmsg_type == NLMSG_ERROR) {
            const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(answer));
            errno = -error->error;
            result = error->error == 0 ? 0 : -1;
        } else if (n >= 0) {
            errno = EPROTO;
        }
    }
    const int saved = errno;
    ::close(nl);
    errno = saved;
    return result;
}

bool premade_netns_fits(const Spec& spec)
{
    if (spec.has_namespace(NamespaceType::User))
        return false;
    for (const auto& ns : spec.linux.namespaces)
        if (ns.type == NamespaceType::Network)
            return ns.path.empty();
    return false;
}

namespace {

// Runs on the maker's own thread: unshare() moves only the calling thread into the new
// namespace, so the process's other threads keep theirs; the thread ends right after.
Fd make_netns() noexcept
{
    if (::unshare(CLONE_NEWNET) < 0 || loopback_up() < 0)
        return Fd();
    return Fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
}

} // namespace

NetnsMaker::NetnsMaker()
{
    try {
        thread_ = std::thread([this] { result_.emplace(make_netns()); });
    } catch (const std::system_error&) { // EAGAIN: no thread; the clone makes the namespace
    }
}

NetnsMaker::~NetnsMaker()
{
    if (thread_.joinable())
        thread_.join();
}

Fd NetnsMaker::take()
{
    if (thread_.joinable())
        thread_.join();
    Fd fd = result_ ? std::move(*result_) : Fd();
    result_.reset();
    return fd;
}

} // namespace berth::runtime

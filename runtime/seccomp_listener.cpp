// runtime/seccomp_listener.cpp — linux.seccomp.listenerPath: the seccomp user-notification fd
// goes to whoever listens there, as runc sends it. The child loads a filter with
// SCMP_ACT_NOTIFY rules before it reports ready, sends us the listener fd on the sync socket and
// waits; we connect to listenerPath, send the container's process state (runtime-spec
// ContainerProcessState JSON) with the fd attached (SCM_RIGHTS), and let the child go on.
// Runs as root on the host, in the create parent.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cstring>
#include <nlohmann/json.hpp>
#include "base/fd_passing.hpp"
#include "base/unix_datagram.hpp"
#include "runtime/process.hpp"
#include "runtime/seccomp.hpp"

namespace berth::runtime {
namespace {

Result<Fd> receive_fd(int sync_fd)
{
    char data[64];
    std::vector<Fd> fds;
    const auto n = receive_with_fds(sync_fd, data, fds);
    if (!n)
        return n.error().wrap("seccomp listener: receive the fd from the child");
    if (*n == 0 || fds.size() != 1)
        return Error::with_code(EPROTO, "seccomp listener: the child sent no fd");
    return std::move(fds.front());
}

Result<void> send_with_fd(const std::string& path, const std::string& text, int fd)
{
    auto address = unix_path_address(path);
    if (!address)
        return std::move(address).error().wrap("linux.seccomp.listenerPath");
    Fd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket.valid())
        return Error::from_errno("seccomp listener socket");
    if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address->addr),
                  address->length) < 0)
        return Error::from_errno("connect to linux.seccomp.listenerPath ", berth::quoted(path));
    const ssize_t sent = send_with_fds(socket.get(), text.data(), text.size(), &fd, 1);
    if (sent != static_cast<ssize_t>(text.size()))
        return Error::from_errno("send the seccomp listener to ", berth::quoted(path));
    return {};
}

} // namespace

std::string container_process_state(const Seccomp& seccomp, pid_t pid,
                                    const std::string& state_json)
{
    nlohmann::ordered_json message = {
        {"ociVersion", "1.0.2"},
        {"fds", {"seccompFd"}},
        {"pid", pid},
        {"metadata", seccomp.listener_metadata},
        {"state", nlohmann::ordered_json::parse(state_json, nullptr, false)},
    };
    return message.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Result<void> forward_seccomp_listener(int sync_fd, const Seccomp& seccomp, pid_t pid,
                                      const std::string& state_json)
{
    auto listener = receive_fd(sync_fd);
    if (!listener)
        return std::move(listener).error();
    const auto text = container_process_state(seccomp, pid, state_json);
    if (auto r = send_with_fd(seccomp.listener_path, text, listener->get()); !r)
        return r;
    return send_sync(sync_fd, SyncType::SeccompDone);
}

} // namespace berth::runtime

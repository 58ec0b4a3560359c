// runtime/fds.cpp — the fd keep-list of the stage and the fd layout of the container's process
// (see fds.hpp). The child-side functions run between fork and exec: raw system calls only.
#include "runtime/fds.hpp"
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include "runtime/child_plan.hpp"
#include "runtime/process.hpp"

namespace berth::runtime {
namespace {

int close_range(unsigned first, unsigned last) noexcept
{
    return static_cast<int>(::syscall(SYS_close_range, first, last, 0));
}

} // namespace

std::vector<int> keep_list(std::vector<int> fds)
{
    std::erase_if(fds, [](int fd) { return fd < 0; });
    std::sort(fds.begin(), fds.end());
    fds.erase(std::unique(fds.begin(), fds.end()), fds.end());
    return fds;
}

Result<void> check_fd_mapping(unsigned preserve_fds, const std::vector<int>& fds)
{
    for (std::size_t i = 0; i < fds.size(); ++i)
        if (fds[i] < 0 || ::fcntl(fds[i], F_GETFD) < 0)
            return Error::invalid("fd ", fds[i], " to pass as fd ", 3 + preserve_fds + i,
                                  " is not open");
    if (fds.size() > ~0U - preserve_fds)
        return Error::invalid("too many fds to pass");
    if (auto r = check_preserve_fds(preserve_fds + static_cast<unsigned>(fds.size())); !r)
        return r;
    // Every preserved fd must be the caller's: a number left free there would be taken by the
    // runtime's own fds (the sync socket, exec.fifo, a cgroup directory) opened before the
    // fork, and the range is passed to the container as it is.
    for (unsigned fd = 3; fd < 3 + preserve_fds; ++fd)
        if (::fcntl(static_cast<int>(fd), F_GETFD) < 0)
            return Error::invalid("preserve fds: fd ", fd, " is not open (fds 3 to ",
                                  2 + preserve_fds, " are passed to the container as they are)");
    return {};
}

int close_fds_except(unsigned keep_below, const int* keep, std::size_t count) noexcept
{
    unsigned from = keep_below;
    for (std::size_t i = 0; i < count; ++i) {
        const auto fd = static_cast<unsigned>(keep[i]);
        if (keep[i] < 0 || fd < from)
            continue;
        if (fd > from && close_range(from, fd - 1) < 0)
            return -1;
        from = fd + 1;
    }
    return close_range(from, ~0U);
}

int arrange_process_fds(const ProcessPlan& plan, int* sync, int* fifo) noexcept
{
    const unsigned base = 3 + plan.preserve_fds; // checked not to wrap (check_fd_mapping)
    const unsigned count = static_cast<unsigned>(plan.fd_map_count);
    // Above every fd we still need and every target: a dup there clobbers nothing we keep.
    unsigned floor = base + count;
    for (std::size_t i = 0; i < count; ++i)
        floor = std::max(floor, static_cast<unsigned>(plan.fd_map[i]) + 1);
    floor = std::max(floor, static_cast<unsigned>(*sync) + 1);
    if (*fifo >= 0)
        floor = std::max(floor, static_cast<unsigned>(*fifo) + 1);
    for (unsigned i = 0; i < count; ++i)
        if (::dup3(plan.fd_map[i], static_cast<int>(floor + i), O_CLOEXEC) < 0)
            return -1;
    unsigned top = floor + count; // the next free number above the copies
    if (::dup3(*sync, static_cast<int>(top), O_CLOEXEC) < 0)
        return -1;
    *sync = static_cast<int>(top++);
    if (*fifo >= 0) {
        if (::dup3(*fifo, static_cast<int>(top), O_CLOEXEC) < 0)
            return -1;
        *fifo = static_cast<int>(top++);
    }
    // Everything between the preserved fds and the copies (the sources, the old sync and fifo,
    // whatever setup left open), and everything above.
    if ((floor > base && close_range(base, floor - 1) < 0) || close_range(top, ~0U) < 0)
        return -1;
    for (unsigned i = 0; i < count; ++i)
        if (::dup2(static_cast<int>(floor + i), static_cast<int>(base + i)) < 0)
            return -1;
    if (count > 0 && close_range(floor, floor + count - 1) < 0)
        return -1;
    return 0;
}

} // namespace berth::runtime

// base/fd.hpp — Fd owns one file descriptor; move-only. No operator int: borrowing stays visible.
#pragma once
#include <unistd.h>
#include <utility>

namespace berth {

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept
    {
        reset(other.release()); // safe for self-move: release() empties first
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept
    {
        if (fd_ >= 0)
            ::close(fd_); // Linux: never retry close(), even on EINTR
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

} // namespace berth

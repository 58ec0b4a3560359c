// agent/cli/console.cpp — the raw terminal for berth exec -t (see console.hpp).
#include "agent/cli/console.hpp"
#include <sys/ioctl.h>
#include <unistd.h>

namespace berth::cli {

RawTerminal::RawTerminal(int fd) : fd_(fd)
{
    if (::isatty(fd_) == 0 || ::tcgetattr(fd_, &original_) < 0)
        return;
    termios raw = original_;
    ::cfmakeraw(&raw);
    saved_ = ::tcsetattr(fd_, TCSANOW, &raw) == 0;
}

RawTerminal::~RawTerminal()
{
    if (saved_)
        (void)::tcsetattr(fd_, TCSANOW, &original_);
}

void copy_window_size(int from, int to)
{
    winsize size{};
    if (::ioctl(from, TIOCGWINSZ, &size) == 0)
        (void)::ioctl(to, TIOCSWINSZ, &size);
}

} // namespace berth::cli

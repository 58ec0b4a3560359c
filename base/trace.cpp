// base/trace.cpp — see trace.hpp. No allocation and no stdio: emit may run in a forked child.
#include "base/trace.hpp"
#include <time.h>
#include <unistd.h>
#include <atomic>
#include <cstdlib>

namespace berth::trace {
namespace {

long long now_us() noexcept
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Appends the decimal digits of v to out; returns the new end.
char* put(char* out, long long v) noexcept
{
    char digits[24];
    int n = 0;
    const bool negative = v < 0;
    unsigned long long u =
        negative ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
    do
        digits[n++] = static_cast<char>('0' + u % 10);
    while ((u /= 10) != 0);
    if (negative)
        *out++ = '-';
    while (n > 0)
        *out++ = digits[--n];
    return out;
}

char* put(char* out, const char* s, const char* end) noexcept
{
    while (*s && out < end)
        *out++ = *s++;
    return out;
}

long long g_last_us = 0;
int g_last_pid = 0;
std::atomic<int> g_enabled{-1}; // -1: not read yet

} // namespace

bool enabled() noexcept
{
    int on = g_enabled.load(std::memory_order_relaxed);
    if (on < 0) { // no static-local guard: a forked child may be the first caller
        const char* v = std::getenv("BERTH_TRACE_PHASES");
        on = v && v[0] == '1' && v[1] == '\0' ? 1 : 0;
        g_enabled.store(on, std::memory_order_relaxed);
    }
    return on == 1;
}

void emit(const char* name) noexcept
{
    const long long t = now_us();
    const int pid = ::getpid();
    if (g_last_pid == 0) // the first phase of this program: dt_us 0
        g_last_us = t;
    g_last_pid = pid; // a forked child counts from its parent's last phase
    char line[256];
    char* const end = line + sizeof line - 1;
    char* p = put(line, "berth-phase pid=", end);
    p = put(p, pid);
    p = put(p, " t_us=", end);
    p = put(p, t);
    p = put(p, " dt_us=", end);
    p = put(p, t - g_last_us);
    p = put(p, " ", end);
    p = put(p, name, end);
    *p++ = '\n';
    g_last_us = t;
    (void)!::write(STDERR_FILENO, line, static_cast<size_t>(p - line));
}

} // namespace berth::trace

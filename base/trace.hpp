// base/trace.hpp — per-phase start-up timing for benchmarks: with BERTH_TRACE_PHASES=1 in the
// environment, phase("name") writes one line to stderr,
//   berth-phase pid=1234 t_us=123456789 dt_us=42 name
// t_us is CLOCK_MONOTONIC in microseconds (comparable across processes: create, start, delete
// and the re-exec'd copy line up), dt_us the time since this process's previous phase (0 for
// its first; a forked child counts from its parent's last). Off (the default) it costs one
// predictable branch: the environment is read once. phase() only calls clock_gettime, write and
// getpid, so a forked child may call it too.
#pragma once

namespace berth::trace {

bool enabled() noexcept; // BERTH_TRACE_PHASES is "1", read at the first call
void emit(const char* name) noexcept;

inline void phase(const char* name) noexcept
{
    if (enabled())
        emit(name);
}

} // namespace berth::trace

// agent/berthd/memory.cpp — berthd's heap after work. Tasks leave freed heap behind (their
// records, specs, JSON bodies, the workers' buffers), spread over the main heap and the arenas
// glibc gives the worker threads. glibc hands freed memory back to the kernel only from the top
// of a heap and only above a threshold that it raises itself after each large block is freed,
// so a node that ran 100 tasks kept megabytes it no longer used (docs/BENCHMARKS.md, "Memory,
// fourth round"). Process-wide choices, so they belong to the binary, not the daemon library.
#include <malloc.h>
#include <unistd.h>
#include <array>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include "agent/berthd/berthd.hpp"
#include "base/files.hpp"
#include "base/strings.hpp"

namespace berth::berthd {
namespace {

// glibc's defaults, but fixed: setting them turns off the dynamic thresholds (a freed 320 kB
// buffer would otherwise raise the trim threshold to 640 kB, and each arena would keep that
// much at its top for ever).
constexpr int mmap_threshold = 128 * 1024;
constexpr int trim_threshold = 128 * 1024;
// One heap for every thread. The worker, pull, probe and server threads each got an arena of
// their own, and an arena's top is never trimmed by malloc_trim (only the main heap's is), so
// after 100 tasks the arenas held 0.8-2 MB, mostly free. berthd's threads allocate little
// and rarely at once (one loop; workers for blocking calls): one lock costs nothing measurable
// (docs/BENCHMARKS.md, "Memory, fourth round", start time side by side).
constexpr int arenas = 1;
// No per-thread caches (glibc's tcache). Each thread keeps up to 7 freed chunks of every small
// size for itself, and malloc_trim counts them as in use: after 500 tasks about a thousand of
// them, spread over the heap by twelve threads, kept 1.2 MB of its pages resident that the idle
// trim could not give back (docs/BENCHMARKS.md, "Memory, sixth round"). With one arena the
// caches save berthd nothing measurable. glibc takes this only from the environment at start
// (a tunable; mallopt has no such knob).
constexpr std::string_view no_thread_caches = "glibc.malloc.tcache_count=0";

// Resident kB from /proc/self/statm (its second field, in pages); 0 when unreadable.
long resident_kb()
{
    const auto text = read_file("/proc/self/statm");
    if (!text)
        return 0;
    std::istringstream fields(*text);
    long size = 0, resident = 0;
    if (!(fields >> size >> resident))
        return 0;
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

} // namespace

void configure_malloc()
{
    ::mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    ::mallopt(M_TRIM_THRESHOLD, trim_threshold);
    ::mallopt(M_ARENA_MAX, arenas);
}

void run_without_thread_caches(char** argv)
{
    const char* current = std::getenv("GLIBC_TUNABLES"); // NOLINT(concurrency-mt-unsafe)
    const std::string before = current != nullptr ? current : "";
    if (before.find(no_thread_caches) != std::string::npos)
        return; // this is the run with it set (or the service sets it)
    // By the binary's path, not /proc/self/exe: the process's name (comm, what ps, pgrep and
    // the tests see) is the exec'd file's name.
    std::array<char, 4096> self{};
    const auto length = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
    if (length <= 0 || static_cast<std::size_t>(length) >= self.size() - 1)
        return; // unknown: berthd works as well, its idle heap is larger
    const auto value =
        before.empty() ? std::string(no_thread_caches) : cat(before, ":", no_thread_caches);
    // Before any thread and any fd of berthd's own: the same process (pid, fds systemd passed,
    // NOTIFY_SOCKET) runs the same binary again. The children berthd spawns (berth-supervisor)
    // inherit the setting, which suits them as well; containers get their spec's environment.
    ::setenv("GLIBC_TUNABLES", value.c_str(), 1); // NOLINT(concurrency-mt-unsafe)
    ::execv(self.data(), argv);
    // Not run again (the binary replaced on disk meanwhile, say): berthd works as well.
    if (current != nullptr)
        ::setenv("GLIBC_TUNABLES", before.c_str(), 1); // NOLINT(concurrency-mt-unsafe)
    else
        ::unsetenv("GLIBC_TUNABLES"); // NOLINT(concurrency-mt-unsafe)
}

void return_freed_memory()
{
    const long before = resident_kb();
    // Every arena: whole free pages inside the heaps are given back (MADV_DONTNEED on the
    // free chunks), and the main heap's top above nothing.
    ::malloc_trim(0);
    const long after = resident_kb();
    log::info("node idle, freed heap returned to the system",
              {{"rss_kb_before", std::to_string(before)}, {"rss_kb_after", std::to_string(after)}});
}

} // namespace berth::berthd

// agent/berthd/memory.cpp — berthd's heap after work. Tasks leave freed heap behind (their
// records, specs, JSON bodies, the workers' buffers), spread over the main heap and the arenas
// glibc gives the worker threads. glibc hands freed memory back to the kernel only from the top
// of a heap and only above a threshold that it raises itself after each large block is freed,
// so a node that ran 100 tasks kept megabytes it no longer used (docs/BENCHMARKS.md, "Memory,
// fourth round"). Process-wide choices, so they belong to the binary, not the daemon library.
#include <malloc.h>
#include <unistd.h>
#include <sstream>
#include <string>
#include "agent/berthd/berthd.hpp"
#include "base/files.hpp"

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

// agent/daemon/page_resource.hpp — whole pages from mmap as a std::pmr::memory_resource, apart
// from malloc's heap: the upstream of the pool that holds the compact records of STOPPED tasks
// (internal.hpp, stopped.cpp). Those records live for hours; from malloc they would sit in the
// holes their freed TaskEntries left, keeping a page resident for every few hundred bytes, and
// the idle trim could give none of those pages back (docs/BENCHMARKS.md, "Memory, sixth round").
// Each allocation is its own mapping, unmapped when deallocated; meant for a pool's chunks, not
// for small blocks. Not thread-safe, as the pool on it (the loop's only).
#pragma once
#include <cstddef>
#include <memory_resource>

namespace berth::daemon {

class PageResource final : public std::pmr::memory_resource {
    void* do_allocate(std::size_t bytes, std::size_t alignment) override;
    void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override
    {
        return this == &other;
    }
};

} // namespace berth::daemon

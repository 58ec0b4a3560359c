// agent/daemon/page_resource.cpp — see page_resource.hpp.
#include "agent/daemon/page_resource.hpp"
#include <sys/mman.h>
#include <unistd.h>
#include <new>

namespace berth::daemon {
namespace {

std::size_t whole_pages(std::size_t bytes)
{
    static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return (bytes + page - 1) / page * page;
}

} // namespace

void* PageResource::do_allocate(std::size_t bytes, std::size_t alignment)
{
    (void)alignment; // a pool asks at most alignof(max_align_t): pages are aligned more
    constexpr int prot = PROT_READ | PROT_WRITE;
    constexpr int flags = MAP_PRIVATE | MAP_ANONYMOUS;
    // cppcheck-suppress invalidFunctionArg ; fd -1 is what MAP_ANONYMOUS asks for
    void* p = ::mmap(nullptr, whole_pages(bytes), prot, flags, -1, 0);
    if (p == MAP_FAILED)
        throw std::bad_alloc(); // as operator new does: out of memory ends berthd alike
    return p;
}

void PageResource::do_deallocate(void* p, std::size_t bytes, std::size_t alignment)
{
    (void)alignment;
    ::munmap(p, whole_pages(bytes));
}

} // namespace berth::daemon

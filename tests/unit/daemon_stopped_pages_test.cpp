#define BOOST_TEST_MODULE daemon_stopped_pages
// agent/daemon's pages for the compact records of STOPPED tasks (page_resource.hpp, stopped.cpp):
// records of their shape (an ARN-keyed map of strings and vectors, through a pool) are allocated
// from mmapped pages, never from malloc's heap where they would sit among the freed task
// entries, and those pages go back to the system when the pool is released (docs/BENCHMARKS.md,
// "Memory, sixth round").
#include <sys/mman.h>
#include <unistd.h>
#include <cstdint>
#include <fstream>
#include <string>
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory_resource>
#include <vector>
#include "agent/daemon/pure.hpp"

using namespace berth::daemon;

namespace {

// The [heap] mapping of this process (brk's), from /proc/self/maps.
std::pair<std::uintptr_t, std::uintptr_t> heap_range()
{
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);)
        if (line.ends_with("[heap]"))
            return {std::stoull(line.substr(0, line.find('-')), nullptr, 16),
                    std::stoull(line.substr(line.find('-') + 1), nullptr, 16)};
    return {0, 0};
}

bool in(const void* p, std::pair<std::uintptr_t, std::uintptr_t> range)
{
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    return a >= range.first && a < range.second;
}

// Whether the page holding p is mapped (msync fails with ENOMEM on an unmapped range).
bool mapped(const void* p)
{
    // The page's start by pointer arithmetic, not an integer cast back to a pointer.
    const auto offset = reinterpret_cast<std::uintptr_t>(p) & std::uintptr_t{4095};
    auto* page = const_cast<char*>(static_cast<const char*>(p)) - offset;
    return ::msync(page, 4096, MS_ASYNC) == 0;
}

} // namespace

BOOST_AUTO_TEST_CASE(compact_records_live_on_pages_of_their_own_and_go_back_when_released)
{
    PageResource pages;
    std::pmr::unsynchronized_pool_resource pool{{0, 512}, &pages};
    std::vector<const void*> seen;
    {
        // As agent/daemon's StoppedTask: when the cleanup is due, and per container a string.
        struct Record {
            std::int64_t cleanup_at = 0;
            std::pmr::vector<std::pmr::string> image_ids;
        };
        std::pmr::map<std::pmr::string, Record, std::less<>> records{&pool};
        std::string filler(200, 'x'); // malloc'd meanwhile, as the loop's other work is
        for (int i = 0; i < 500; ++i) {
            const auto arn = "arn:aws:ecs:us-east-1:000000000000:task/default/" +
                             std::to_string(1000000 + i) + std::string(24, '0');
            Record r{i, std::pmr::vector<std::pmr::string>(&pool)};
            r.image_ids.push_back(std::pmr::string(71, 'd', &pool));
            const auto [it, made] = records.try_emplace(std::pmr::string(arn, &pool), std::move(r));
            BOOST_TEST_REQUIRE(made);
            seen.push_back(it->first.data());
            seen.push_back(it->second.image_ids.data());
            seen.push_back(it->second.image_ids[0].data());
            filler += std::to_string(i);
        }
        const auto heap = heap_range();
        for (const auto* p : seen) {
            BOOST_TEST(!in(p, heap));
            BOOST_TEST(mapped(p));
        }
        const auto arn =
            "arn:aws:ecs:us-east-1:000000000000:task/default/1000007" + std::string(24, '0');
        const auto found = records.find(std::string_view(arn));
        BOOST_TEST_REQUIRE((found != records.end()));
        BOOST_TEST(found->second.cleanup_at == 7);
    }
    pool.release();
    for (const auto* p : seen)
        BOOST_TEST(!mapped(p));
}

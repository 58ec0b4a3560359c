// tests/unit/engine_resources_test.cpp — host capacity and admission with the ECS reasons.
#define BOOST_TEST_MODULE engine_resources
#include <cerrno>
#include <boost/test/unit_test.hpp>
#include "agent/engine/resources.hpp"

using namespace berth;
using namespace berth::engine;

namespace {

HostCapacity two_cpus_1g()
{
    return *host_capacity(2, 1024 + 256, 256, {22, 2375, 2376, 51678, 51679}, {});
}

std::string reason(const Error& e)
{
    return e.context.substr(0, e.context.find(' '));
}

} // namespace

BOOST_AUTO_TEST_CASE(meminfo_total_is_read_in_mib)
{
    auto mib = parse_meminfo_total_mib("MemTotal:        8052776 kB\nMemFree: 1 kB\n");
    BOOST_REQUIRE(mib);
    BOOST_TEST(*mib == 8052776U / 1024);
    BOOST_TEST(!parse_meminfo_total_mib("MemFree: 1 kB\n"));
    BOOST_TEST(!parse_meminfo_total_mib("MemTotal: lots kB\n"));
    BOOST_TEST(!parse_meminfo_total_mib("MemTotal: 12 MB\n"));
}

BOOST_AUTO_TEST_CASE(capacity_is_1024_units_per_cpu_and_memory_minus_the_reservation)
{
    auto c = two_cpus_1g();
    BOOST_TEST(c.cpu_units == 2048U);
    BOOST_TEST(c.memory_mib == 1024U);
    auto too_much = host_capacity(1, 512, 1024, {}, {});
    BOOST_REQUIRE(!too_much);
    BOOST_TEST(too_much.error().context.find("ECS_RESERVED_MEMORY") != std::string::npos);
    auto here = read_host_capacity(0, {}, {});
    BOOST_REQUIRE(here);
    BOOST_TEST(here->cpu_units >= 1024U);
    BOOST_TEST(here->memory_mib > 0U);
}

BOOST_AUTO_TEST_CASE(a_task_that_does_not_fit_is_refused_with_the_ecs_reason)
{
    Ledger ledger(two_cpus_1g());
    BOOST_TEST(static_cast<bool>(ledger.reserve("a", Demand{1024, 768, {8080}, {}})));
    auto memory = ledger.reserve("b", Demand{512, 512, {}, {}});
    BOOST_REQUIRE(!memory);
    BOOST_TEST(reason(memory.error()) == "RESOURCE:MEMORY");
    BOOST_TEST(memory.error().code == ENOSPC);
    BOOST_TEST(memory.error().context.find("256 of 1024 MiB free") != std::string::npos);
    auto cpu = ledger.reserve("b", Demand{2048, 1, {}, {}});
    BOOST_REQUIRE(!cpu);
    BOOST_TEST(reason(cpu.error()) == "RESOURCE:CPU");
    auto taken = ledger.reserve("b", Demand{0, 1, {8080}, {}});
    BOOST_REQUIRE(!taken);
    BOOST_TEST(reason(taken.error()) == "RESOURCE:PORTS");
    BOOST_TEST(taken.error().code == EADDRINUSE);
    auto reserved = ledger.reserve("b", Demand{0, 1, {22}, {}});
    BOOST_REQUIRE(!reserved);
    BOOST_TEST(reason(reserved.error()) == "RESOURCE:PORTS");
    BOOST_TEST(static_cast<bool>(ledger.reserve("b", Demand{0, 1, {}, {8080}}))); // UDP is apart
    auto udp = ledger.reserve("c", Demand{0, 1, {}, {8080}});
    BOOST_REQUIRE(!udp);
    BOOST_TEST(reason(udp.error()) == "RESOURCE:PORTS_UDP");
    auto twice = ledger.reserve("a", Demand{});
    BOOST_REQUIRE(!twice);
    BOOST_TEST(twice.error().code == EEXIST);
}

BOOST_AUTO_TEST_CASE(released_resources_can_be_reserved_again)
{
    Ledger ledger(two_cpus_1g());
    BOOST_TEST(static_cast<bool>(ledger.reserve("a", Demand{2048, 1024, {80}, {}})));
    BOOST_TEST(ledger.free_cpu_units() == 0U);
    BOOST_TEST(ledger.free_memory_mib() == 0U);
    ledger.release("a");
    ledger.release("a"); // idempotent
    BOOST_TEST(ledger.free_memory_mib() == 1024U);
    BOOST_TEST(static_cast<bool>(ledger.reserve("b", Demand{2048, 1024, {80}, {}})));
}

BOOST_AUTO_TEST_CASE(a_task_demand_is_the_task_level_figure_or_the_sum_of_its_containers)
{
    auto summed = task_demand(std::nullopt, std::nullopt,
                              {{256, 512, std::nullopt}, {128, std::nullopt, 64}, {0, {}, {}}});
    BOOST_TEST(summed.cpu_units == 384U);
    BOOST_TEST(summed.memory_mib == 576U);
    auto task_level = task_demand(1024, 2048, {{256, 512, std::nullopt}});
    BOOST_TEST(task_level.cpu_units == 1024U);
    BOOST_TEST(task_level.memory_mib == 2048U);
}

#define BOOST_TEST_MODULE image_gc_policy
#include <boost/test/unit_test.hpp>
#include "image/internal.hpp"

using namespace berth::image;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t now = 1'000'000;

std::string digest(char c)
{
    return "sha256:" + std::string(64, c);
}

IdleImage idle(char c, std::int64_t seconds_ago, bool in_use = false)
{
    return {digest(c), now - seconds_ago, in_use};
}

GcPolicy ecs(std::chrono::seconds age, unsigned per_cycle)
{
    GcPolicy p;
    p.minimum_age = age;
    p.images_per_cycle = per_cycle;
    return p;
}

} // namespace

BOOST_AUTO_TEST_SUITE(plan)

BOOST_AUTO_TEST_CASE(only_images_idle_for_the_minimum_age_go)
{
    const auto plan =
        plan_policy({idle('a', 3599), idle('b', 3600), idle('c', 7200)}, ecs(1h, 5), now, false);
    BOOST_TEST(plan.normal == (std::vector<std::string>{digest('c'), digest('b')}));
    BOOST_TEST(plan.pressure.empty());
}

BOOST_AUTO_TEST_CASE(the_oldest_last_used_go_first_and_at_most_n_per_cycle)
{
    const auto plan =
        plan_policy({idle('a', 5000), idle('b', 9000), idle('c', 7000), idle('d', 8000)},
                    ecs(1h, 2), now, false);
    BOOST_TEST(plan.normal == (std::vector<std::string>{digest('b'), digest('d')}));
    BOOST_TEST(plan.pressure.empty()); // no pressure: the rest wait for the next cycle
}

BOOST_AUTO_TEST_CASE(images_in_use_never_go_however_old)
{
    const auto plan = plan_policy({idle('a', 90000, true), idle('b', 4000)}, ecs(1h, 5), now, true);
    BOOST_TEST(plan.normal == std::vector<std::string>{digest('b')});
    BOOST_TEST(plan.pressure.empty());
}

BOOST_AUTO_TEST_CASE(zero_per_cycle_removes_nothing_without_pressure)
{
    const auto plan = plan_policy({idle('a', 90000)}, ecs(1h, 0), now, false);
    BOOST_TEST(plan.normal.empty());
    BOOST_TEST(plan.pressure.empty());
}

BOOST_AUTO_TEST_CASE(under_pressure_more_go_past_the_count_down_to_the_pressure_age)
{
    auto policy = ecs(1h, 1);
    policy.pressure_minimum_age = 2min;
    const auto plan = plan_policy(
        {idle('a', 7200), idle('b', 600), idle('c', 119), idle('d', 3700)}, policy, now, true);
    BOOST_TEST(plan.normal == std::vector<std::string>{digest('a')});
    BOOST_TEST(plan.pressure == (std::vector<std::string>{digest('d'), digest('b')}));
}

BOOST_AUTO_TEST_CASE(equal_idle_times_are_ordered_by_digest_so_runs_agree)
{
    const auto plan = plan_policy({idle('b', 7200), idle('a', 7200)}, ecs(1h, 1), now, false);
    BOOST_TEST(plan.normal == std::vector<std::string>{digest('a')});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pressure)

BOOST_AUTO_TEST_CASE(pressure_is_free_space_below_the_byte_or_the_percent_threshold)
{
    GcPolicy p;
    const FreeSpace space{100 << 20, 1000 << 20}; // 100 MiB free of 1000 MiB
    BOOST_TEST(!under_pressure(space, p));        // no thresholds: never
    p.pressure_free_bytes = 100 << 20;
    BOOST_TEST(!under_pressure(space, p)); // exactly at the threshold is not below it
    p.pressure_free_bytes = (100 << 20) + 1;
    BOOST_TEST(under_pressure(space, p));
    p.pressure_free_bytes = 0;
    p.pressure_free_percent = 10;
    BOOST_TEST(!under_pressure(space, p));
    p.pressure_free_percent = 11;
    BOOST_TEST(under_pressure(space, p));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mountinfo)

const std::string info =
    "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
    "90 22 0:50 / /var/lib/berth/images/containers/web/merged rw,relatime - overlay overlay "
    "rw,lowerdir+=/var/lib/berth/images/snapshots/bb,lowerdir+=/var/lib/berth/images/snapshots/"
    "aa,upperdir=/x/upper,workdir=/x/work\n"
    "91 22 0:51 / /mnt/old\\040dir rw - overlay overlay rw,lowerdir=/l/one:/l/t\\054wo,"
    "upperdir=/u,workdir=/w\n"
    "92 22 0:52 / /mnt/tmp rw - tmpfs tmpfs rw\n";

BOOST_AUTO_TEST_CASE(lowerdirs_are_read_from_repeated_lowerdir_plus_options)
{
    BOOST_TEST(overlay_lowerdirs(info, "/var/lib/berth/images/containers/web/merged") ==
               (std::vector<std::string>{"/var/lib/berth/images/snapshots/bb",
                                         "/var/lib/berth/images/snapshots/aa"}));
}

BOOST_AUTO_TEST_CASE(a_colon_list_and_octal_escapes_are_read_too)
{
    BOOST_TEST(overlay_lowerdirs(info, "/mnt/old dir") ==
               (std::vector<std::string>{"/l/one", "/l/t,wo"}));
}

BOOST_AUTO_TEST_CASE(no_overlay_at_the_path_is_no_lowerdirs)
{
    BOOST_TEST(overlay_lowerdirs(info, "/mnt/tmp").empty());
    BOOST_TEST(overlay_lowerdirs(info, "/nowhere").empty());
    BOOST_TEST(overlay_lowerdirs("garbage - \n - - -\n\\\\\\", "/").empty());
}

BOOST_AUTO_TEST_SUITE_END()

// tests/unit/engine_pulls_test.cpp — an image is pulled once for concurrent tasks, at most
// `limit` pulls run at a time, queued images start in order as others finish.
#define BOOST_TEST_MODULE engine_pulls
#include <boost/test/unit_test.hpp>
#include "agent/engine/pulls.hpp"

using namespace berth::engine;

BOOST_AUTO_TEST_CASE(concurrent_tasks_wanting_one_image_share_one_pull)
{
    PullQueue q(4);
    BOOST_TEST((q.request("nginx", {"t1", "web"}) == PullStart::Now));
    BOOST_TEST((q.request("nginx", {"t2", "web"}) == PullStart::Joined));
    BOOST_TEST((q.request("nginx", {"t2", "side"}) == PullStart::Joined));
    BOOST_TEST(q.running() == 1U);
    auto done = q.complete("nginx");
    BOOST_REQUIRE(done.waiters.size() == 3U);
    BOOST_TEST(done.waiters[1].task == "t2");
    BOOST_TEST(!done.next.has_value());
    BOOST_TEST(q.running() == 0U);
    // A later request pulls again (the image store answers at once when it has it).
    BOOST_TEST((q.request("nginx", {"t3", "web"}) == PullStart::Now));
}

BOOST_AUTO_TEST_CASE(pulls_beyond_the_limit_wait_and_start_in_order)
{
    PullQueue q(2);
    BOOST_TEST((q.request("a", {"t1", "a"}) == PullStart::Now));
    BOOST_TEST((q.request("b", {"t1", "b"}) == PullStart::Now));
    BOOST_TEST((q.request("c", {"t2", "c"}) == PullStart::Queued));
    BOOST_TEST((q.request("d", {"t3", "d"}) == PullStart::Queued));
    BOOST_TEST((q.request("c", {"t4", "c"}) == PullStart::Joined));
    BOOST_TEST(q.queued() == 2U);
    auto first = q.complete("b");
    BOOST_TEST(first.next.value_or("") == "c");
    BOOST_TEST(q.running() == 2U);
    auto c = q.complete("c");
    BOOST_TEST(c.waiters.size() == 2U);
    BOOST_TEST(c.next.value_or("") == "d");
}

BOOST_AUTO_TEST_CASE(a_stopped_task_no_longer_waits_and_an_image_nobody_wants_is_skipped)
{
    PullQueue q(1);
    BOOST_TEST((q.request("a", {"t1", "a"}) == PullStart::Now));
    BOOST_TEST((q.request("b", {"t2", "b"}) == PullStart::Queued));
    BOOST_TEST((q.request("c", {"t3", "c"}) == PullStart::Queued));
    q.forget("t2");
    auto done = q.complete("a");
    BOOST_TEST(done.next.value_or("") == "c");     // b had no waiter left
    BOOST_TEST(q.complete("zzz").waiters.empty()); // unknown: nothing
    BOOST_TEST(q.complete("a").waiters.empty());   // twice: nothing
    BOOST_TEST(q.running() == 1U);
}

BOOST_AUTO_TEST_CASE(a_limit_of_zero_means_one)
{
    PullQueue q(0);
    BOOST_TEST((q.request("a", {"t1", "a"}) == PullStart::Now));
    BOOST_TEST((q.request("b", {"t1", "b"}) == PullStart::Queued));
}

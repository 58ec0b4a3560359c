#define BOOST_TEST_MODULE image_chunk_queue
#include <boost/test/unit_test.hpp>
#include <atomic>
#include <chrono>
#include <thread>
#include "image/internal.hpp"

using namespace berth::image;
using namespace std::chrono_literals;

namespace {

// Waits up to 10 s for flag (a generous bound: only a broken queue makes it time out).
bool eventually(const std::atomic<bool>& flag)
{
    for (int i = 0; i < 1000 && !flag; ++i)
        std::this_thread::sleep_for(10ms);
    return flag;
}

// Waits up to 10 s for the producer thread to block in push() on a full queue.
bool producer_blocks(ChunkQueue& queue)
{
    for (int i = 0; i < 1000 && !queue.producer_waits(); ++i)
        std::this_thread::sleep_for(10ms);
    return queue.producer_waits();
}

} // namespace

BOOST_AUTO_TEST_SUITE(chunk_queue)

BOOST_AUTO_TEST_CASE(chunks_arrive_in_order_and_the_stream_ends_when_the_producer_closes)
{
    ChunkQueue queue(64);
    std::atomic<int> refused{0}; // Boost.Test asserts on this thread only: counted, checked after
    std::thread producer([&] {
        for (int i = 0; i < 1000; ++i)
            if (!queue.push(std::to_string(i)))
                ++refused;
        queue.close();
    });
    int expected = 0;
    while (auto chunk = queue.pop()) {
        BOOST_TEST(*chunk == std::to_string(expected));
        ++expected;
        queue.recycle(std::move(*chunk));
    }
    producer.join();
    BOOST_TEST(refused == 0);
    BOOST_TEST(expected == 1000);
    BOOST_TEST(!queue.pop().has_value());
}

BOOST_AUTO_TEST_CASE(a_producer_that_filled_the_queue_waits_until_a_chunk_is_taken)
{
    ChunkQueue queue(4); // four 1-byte chunks fill it
    for (int i = 0; i < 4; ++i)
        BOOST_TEST_REQUIRE(queue.push("x"));
    std::atomic<bool> pushed{false}, accepted{false};
    std::thread producer([&] {
        accepted = queue.push("y");
        pushed = true;
    });
    BOOST_TEST_REQUIRE(producer_blocks(queue)); // it found the queue full
    std::this_thread::sleep_for(50ms);
    BOOST_TEST(!pushed);
    BOOST_TEST_REQUIRE(queue.pop().has_value()); // room for one: the producer goes on
    BOOST_TEST(eventually(pushed));
    producer.join();
    BOOST_TEST(accepted);
    queue.close();
    int left = 0;
    std::string last;
    while (auto chunk = queue.pop()) {
        ++left;
        last = *chunk;
    }
    BOOST_TEST(left == 4);
    BOOST_TEST(last == "y");
}

BOOST_AUTO_TEST_CASE(a_consumer_that_stops_releases_a_waiting_producer_whose_push_fails)
{
    ChunkQueue queue(2);
    BOOST_TEST_REQUIRE(queue.push("ab"));
    std::atomic<bool> returned{false}, result{true};
    std::thread producer([&] {
        result = queue.push("cd");
        returned = true;
    });
    BOOST_TEST_REQUIRE(producer_blocks(queue));
    queue.stop();
    BOOST_TEST(eventually(returned));
    producer.join();
    BOOST_TEST(!result);
    BOOST_TEST(!queue.push("ef"));
}

BOOST_AUTO_TEST_CASE(a_waiting_consumer_is_woken_by_the_first_chunk_and_by_close)
{
    ChunkQueue queue(1024);
    std::atomic<bool> got{false}, first_had_value{false}, ended{false};
    std::thread consumer([&] {
        first_had_value = queue.pop().has_value();
        got = true;
        ended = !queue.pop().has_value(); // closed and empty
    });
    std::this_thread::sleep_for(50ms);
    BOOST_TEST(!got);
    BOOST_TEST_REQUIRE(queue.push("one"));
    BOOST_TEST(eventually(got));
    queue.close();
    consumer.join();
    BOOST_TEST(first_had_value);
    BOOST_TEST(ended);
}

BOOST_AUTO_TEST_CASE(recycled_chunks_come_back_as_spares_with_their_size)
{
    ChunkQueue queue(1024);
    BOOST_TEST(queue.spare().empty());
    queue.recycle(std::string(300, 'z'));
    const auto spare = queue.spare();
    BOOST_TEST(spare.size() == 300u);
    BOOST_TEST(queue.spare().empty());
}

BOOST_AUTO_TEST_SUITE_END()

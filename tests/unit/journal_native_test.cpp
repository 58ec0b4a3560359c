#define BOOST_TEST_MODULE journal_native
// journald's native protocol (base/journal_native.hpp) against a real datagram socket the test
// binds: the bytes of each entry as systemd's "Native Journal Protocol" document defines them.
#include <fcntl.h>
#include <sys/stat.h>
#include <array>
#include <cstdint>
#include <string>
#include <vector>
#include <boost/test/unit_test.hpp>
#include "base/files.hpp"
#include "base/journal_native.hpp"
#include "tests/unit/datagram_receiver.hpp"

using namespace berth;

namespace {

Result<void> send(const journal::JournalWriter& writer, const std::vector<std::string_view>& fields)
{
    return writer.send(fields);
}

} // namespace

BOOST_AUTO_TEST_CASE(plain_fields_arrive_as_name_equals_value_lines_in_one_datagram)
{
    DatagramReceiver journald;
    auto writer = journal::JournalWriter::open(journald.name());
    BOOST_TEST_REQUIRE(writer.has_value());
    BOOST_TEST_REQUIRE(
        send(*writer, {"MESSAGE=hello world", "PRIORITY=6", "TASK_ID=abc"}).has_value());
    BOOST_TEST(journald.receive().bytes == "MESSAGE=hello world\nPRIORITY=6\nTASK_ID=abc\n");
    BOOST_TEST(journald.empty());
}

BOOST_AUTO_TEST_CASE(a_value_with_a_newline_is_sent_with_its_64_bit_little_endian_length)
{
    auto wire = journal::serialize(std::vector<std::string_view>{"MESSAGE=a\nb", "EMPTY="});
    BOOST_TEST_REQUIRE(wire.has_value());
    const std::string expected = std::string("MESSAGE\n") +
                                 std::string("\x03\x00\x00\x00\x00\x00\x00\x00", 8) +
                                 "a\nb\nEMPTY=\n";
    BOOST_TEST(*wire == expected);
}

BOOST_AUTO_TEST_CASE(a_field_journald_would_refuse_is_an_error_naming_it_and_nothing_is_sent)
{
    DatagramReceiver journald;
    auto writer = journal::JournalWriter::open(journald.name());
    BOOST_TEST_REQUIRE(writer.has_value());
    for (const std::string_view bad :
         {"NOEQUALS", "lower=x", "_PID=1", "1ST=x", "=x", "SPACE NAME=x"}) {
        auto sent = send(*writer, {"MESSAGE=m", bad});
        BOOST_TEST_REQUIRE(!sent.has_value());
        BOOST_TEST(sent.error().code == EINVAL);
        BOOST_TEST(sent.error().message().find(std::string(bad.substr(0, bad.find('=')))) !=
                   std::string::npos);
    }
    const std::string long_name(65, 'A');
    BOOST_TEST(!send(*writer, {long_name + "=x"}).has_value());
    BOOST_TEST(send(*writer, {std::string(64, 'A') + "=x"}).has_value());
    BOOST_TEST(journald.receive().bytes == std::string(64, 'A') + "=x\n");
    BOOST_TEST(journald.empty());
}

BOOST_AUTO_TEST_CASE(an_entry_larger_than_a_datagram_arrives_as_a_sealed_memfd)
{
    DatagramReceiver journald;
    auto writer = journal::JournalWriter::open(journald.name());
    BOOST_TEST_REQUIRE(writer.has_value());
    const std::string big(8U << 20U, 'x'); // above any socket send buffer (wmem_max)
    const std::string field = "MESSAGE=" + big;
    BOOST_TEST_REQUIRE(send(*writer, {field, "PRIORITY=3"}).has_value());
    auto got = journald.receive();
    BOOST_TEST(got.bytes.empty());
    BOOST_TEST_REQUIRE(got.passed.valid());
    const int seals = ::fcntl(got.passed.get(), F_GET_SEALS);
    BOOST_TEST((seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) ==
               (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL));
    BOOST_TEST_REQUIRE(::lseek(got.passed.get(), 0, SEEK_SET) == 0); // journald mmaps it
    auto content = read_fd(got.passed.get(), 16U << 20U);
    BOOST_TEST_REQUIRE(content.has_value());
    BOOST_TEST((*content == field + "\nPRIORITY=3\n"));
}

BOOST_AUTO_TEST_CASE(without_journald_the_error_says_which_socket_is_missing)
{
    auto writer = journal::JournalWriter::open("/nonexistent-berth-dir/journal/socket");
    BOOST_TEST_REQUIRE(writer.has_value()); // opening sends nothing
    auto sent = send(*writer, {"MESSAGE=m"});
    BOOST_TEST_REQUIRE(!sent.has_value());
    BOOST_TEST(sent.error().code == ENOENT);
    BOOST_TEST(sent.error().message().find("/nonexistent-berth-dir/journal/socket") !=
               std::string::npos);
    auto too_long = journal::JournalWriter::open("/" + std::string(200, 'a'));
    BOOST_TEST_REQUIRE(!too_long.has_value());
    BOOST_TEST(too_long.error().code == EINVAL);
}

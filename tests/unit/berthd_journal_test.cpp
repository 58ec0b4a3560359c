#define BOOST_TEST_MODULE berthd_journal
// berthd's journal entries (agent/berthd/journal.cpp): the fields of a log line as journal
// fields, named as Docker's journald driver names them where the meaning is the same.
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <boost/test/unit_test.hpp>
#include "agent/berthd/berthd.hpp"

using namespace berth;

namespace {

bool has(const std::vector<std::string>& items, const std::string& item)
{
    return std::find(items.begin(), items.end(), item) != items.end();
}

} // namespace

BOOST_AUTO_TEST_CASE(a_line_about_a_task_and_container_carries_them_as_journal_fields)
{
    const std::string arn = "arn:aws:ecs:us-east-1:000000000000:task/default/0123abcd";
    const auto e =
        berthd::journal_fields(log::Level::Warn, "container status",
                               {{"task", arn}, {"container", "web"}, {"status", "RUNNING"}});
    BOOST_TEST(has(e, "MESSAGE=container status task=" + log::logfmt_value(arn) +
                          " container=web status=RUNNING"));
    BOOST_TEST(has(e, "PRIORITY=4"));
    BOOST_TEST(has(e, "SYSLOG_IDENTIFIER=berthd"));
    BOOST_TEST(has(e, "TASK_ARN=" + arn));
    BOOST_TEST(has(e, "TASK_ID=0123abcd"));
    BOOST_TEST(has(e, "CONTAINER_NAME=web"));
    BOOST_TEST(has(e, "BERTH_STATUS=RUNNING"));
}

BOOST_AUTO_TEST_CASE(a_container_named_by_its_runtime_id_gets_its_id_name_and_task_id)
{
    const std::string id = "0123456789abcdef0123456789abcdef-web-1";
    const auto e =
        berthd::journal_fields(log::Level::Warn, "cannot signal container", {{"container", id}});
    BOOST_TEST(has(e, "CONTAINER_ID=" + id));
    BOOST_TEST(has(e, "CONTAINER_NAME=web-1"));
    BOOST_TEST(has(e, "TASK_ID=0123456789abcdef0123456789abcdef"));
    // Not a runtime id: a name only.
    const auto named = berthd::journal_fields(log::Level::Info, "m", {{"container", "sidecar"}});
    BOOST_TEST(has(named, "CONTAINER_NAME=sidecar"));
    BOOST_TEST(named.size() == 4U);
}

BOOST_AUTO_TEST_CASE(levels_map_to_syslog_priorities_and_odd_field_names_are_made_valid)
{
    BOOST_TEST(has(berthd::journal_fields(log::Level::Debug, "m", {}), "PRIORITY=7"));
    BOOST_TEST(has(berthd::journal_fields(log::Level::Info, "m", {}), "PRIORITY=6"));
    BOOST_TEST(has(berthd::journal_fields(log::Level::Error, "m", {}), "PRIORITY=3"));
    const auto e = berthd::journal_fields(log::Level::Info, "m", {{"bytes-freed.x", "1"}});
    BOOST_TEST(has(e, "BERTH_BYTES_FREED_X=1"));
    BOOST_TEST(e.size() == 4U); // MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, the field
}

BOOST_AUTO_TEST_CASE(stderr_is_the_journal_only_when_journal_stream_names_it)
{
    ::unsetenv("JOURNAL_STREAM"); // NOLINT(concurrency-mt-unsafe): one thread
    BOOST_TEST(!berthd::stderr_is_journal());
    ::setenv("JOURNAL_STREAM", "1:2", 1); // NOLINT(concurrency-mt-unsafe)
    BOOST_TEST(!berthd::stderr_is_journal());
    struct stat st {};
    BOOST_TEST_REQUIRE(::fstat(STDERR_FILENO, &st) == 0);
    const auto value = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    ::setenv("JOURNAL_STREAM", value.c_str(), 1); // NOLINT(concurrency-mt-unsafe)
    BOOST_TEST(berthd::stderr_is_journal());
    ::unsetenv("JOURNAL_STREAM"); // NOLINT(concurrency-mt-unsafe)
}

// tests/unit/log_test.cpp — base/log, the one program log: runc's (logrus) line formats, levels,
// and the quoting that keeps hostile values from forging lines.
#define BOOST_TEST_MODULE log
#include <sys/mman.h>
#include <unistd.h>
#include <boost/test/unit_test.hpp>
#include <string>
#include "base/fd.hpp"
#include "base/log.hpp"

namespace {

// Points the log at a memfd for one test and restores the defaults afterwards.
struct Captured {
    berth::Fd fd{::memfd_create("log", MFD_CLOEXEC)};
    Captured() { berth::log::set_fd(fd.get()); }
    ~Captured()
    {
        berth::log::set_fd(STDERR_FILENO);
        berth::log::set_format(berth::log::Format::Text);
        berth::log::set_level(berth::log::Level::Info);
    }
    std::string text() const
    {
        std::string out(4096, '\0');
        const auto n = ::pread(fd.get(), out.data(), out.size(), 0);
        out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        return out;
    }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(text_lines_are_logrus_logfmt_with_fields_after_the_message, Captured)
{
    berth::log::error("container failed", {{"ID", "web 1"}});
    const auto line = text();
    BOOST_TEST(line.starts_with("time=\""), line);
    BOOST_TEST(line.find("\" level=error msg=\"container failed\" ID=\"web 1\"\n") !=
                   std::string::npos,
               line);
}

BOOST_FIXTURE_TEST_CASE(json_lines_carry_level_msg_time_and_fields, Captured)
{
    berth::log::set_format(berth::log::Format::Json);
    berth::log::warn("slow", {{"ID", "web"}});
    const auto line = text();
    BOOST_TEST(
        line.starts_with("{\"ID\":\"web\",\"level\":\"warning\",\"msg\":\"slow\",\"time\":\""),
        line);
    BOOST_TEST(line.ends_with("Z\"}\n"), line);
}

BOOST_FIXTURE_TEST_CASE(an_error_is_appended_to_the_message, Captured)
{
    errno = ENOENT;
    berth::log::error(berth::Error::from_errno("open 'x'"), "load bundle");
    BOOST_TEST(text().find("msg=\"load bundle: open 'x': No such file or directory\"") !=
                   std::string::npos,
               text());
}

BOOST_FIXTURE_TEST_CASE(debug_lines_appear_only_at_debug_level, Captured)
{
    berth::log::debug("hidden");
    BOOST_TEST(text().empty());
    berth::log::set_level(berth::log::Level::Debug);
    berth::log::debug("shown");
    BOOST_TEST(text().find("level=debug msg=shown\n") != std::string::npos, text());
}

BOOST_AUTO_TEST_CASE(logfmt_values_are_bare_or_go_quoted_so_newlines_cannot_forge_lines)
{
    BOOST_TEST(berth::log::logfmt_value("abc-1.2_x/y@z^+") == "abc-1.2_x/y@z^+");
    BOOST_TEST(berth::log::logfmt_value("a b") == "\"a b\"");
    BOOST_TEST(berth::log::logfmt_value("a\nlevel=error") == "\"a\\nlevel=error\"");
    BOOST_TEST(berth::log::logfmt_value("q\"\\\x01") == "\"q\\\"\\\\\\x01\"");
}

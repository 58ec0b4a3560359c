// tests/unit/json_log_test.cpp — the supervisor's json-file log writer: Docker's entry shape,
// line splitting (whole lines, 16 KiB pieces, the rest at EOF) and size/count rotation.
#define BOOST_TEST_MODULE json_log
#include <stdlib.h>
#include <filesystem>
#include <fstream>
#include <regex>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "runtime/internal.hpp"

namespace fs = std::filesystem;
using berth::runtime::drain_lines;
using berth::runtime::JsonLog;

namespace {

struct Dir {
    std::string path;
    Dir()
    {
        char tmpl[] = "/tmp/berth-json-log-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~Dir() { fs::remove_all(path); }
};

std::vector<nlohmann::json> entries(const std::string& path)
{
    std::vector<nlohmann::json> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
        out.push_back(nlohmann::json::parse(line));
    return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(entries_have_dockers_shape_and_an_rfc3339nano_time)
{
    Dir dir;
    JsonLog log(dir.path + "/c.log", 1 << 20, 3);
    BOOST_TEST_REQUIRE(log.write("stdout", "hello \"world\"\n", false).has_value());
    BOOST_TEST_REQUIRE(log.write("stderr", std::string("bad \xff utf8\n"), false).has_value());
    const auto e = entries(dir.path + "/c.log");
    BOOST_TEST_REQUIRE(e.size() == 2u);
    BOOST_TEST(e[0]["log"] == "hello \"world\"\n");
    BOOST_TEST(e[0]["stream"] == "stdout");
    BOOST_TEST(e[1]["stream"] == "stderr");
    BOOST_TEST(e[1]["log"].get<std::string>().find("bad ") == 0u); // invalid UTF-8 replaced
    const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z)");
    BOOST_TEST(std::regex_match(e[0]["time"].get<std::string>(), rfc3339));
}

BOOST_AUTO_TEST_CASE(lines_are_split_at_newlines_and_16k_and_the_rest_goes_out_at_eof)
{
    Dir dir;
    JsonLog log(dir.path + "/c.log", 1 << 24, 1);
    std::string pending;
    BOOST_TEST_REQUIRE(drain_lines(log, "stdout", pending, "one\ntw", false).has_value());
    BOOST_TEST(pending == "tw");
    BOOST_TEST_REQUIRE(drain_lines(log, "stdout", pending, "o\n", false).has_value());
    BOOST_TEST(pending.empty());
    const std::string big(berth::runtime::max_log_line + 10, 'x');
    BOOST_TEST_REQUIRE(drain_lines(log, "stdout", pending, big, false).has_value());
    BOOST_TEST(pending.size() == 10u);
    BOOST_TEST_REQUIRE(drain_lines(log, "stdout", pending, "tail", true).has_value());
    BOOST_TEST(pending.empty());
    const auto e = entries(dir.path + "/c.log");
    BOOST_TEST_REQUIRE(e.size() == 4u);
    BOOST_TEST(e[0]["log"] == "one\n");
    BOOST_TEST(e[1]["log"] == "two\n");
    BOOST_TEST(e[2]["log"].get<std::string>().size() == berth::runtime::max_log_line);
    BOOST_TEST(e[3]["log"] == "xxxxxxxxxxtail");
}

BOOST_AUTO_TEST_CASE(logs_rotate_by_size_keeping_max_files)
{
    Dir dir;
    const auto path = dir.path + "/c.log";
    JsonLog log(path, 300, 3);
    for (int i = 0; i < 40; ++i)
        BOOST_TEST_REQUIRE(
            log.write("stdout", "line " + std::to_string(i) + "\n", false).has_value());
    BOOST_TEST(fs::exists(path));
    BOOST_TEST(fs::exists(path + ".1"));
    BOOST_TEST(fs::exists(path + ".2"));
    BOOST_TEST(!fs::exists(path + ".3"));
    for (const auto& p : {path, path + ".1", path + ".2"})
        BOOST_TEST(fs::file_size(p) <= 300u, p);
    const auto newest = entries(path);
    BOOST_TEST_REQUIRE(!newest.empty());
    // cppcheck-suppress containerOutOfBounds ; BOOST_TEST_REQUIRE ends the test when empty
    BOOST_TEST(newest.back()["log"] == "line 39\n");
    const auto older = entries(path + ".1");
    BOOST_TEST_REQUIRE(!older.empty());
    // cppcheck-suppress containerOutOfBounds ; BOOST_TEST_REQUIRE ends the test when empty
    BOOST_TEST(older.back()["log"].get<std::string>() ==
               "line " + std::to_string(39 - static_cast<int>(newest.size())) + "\n");
}

// Disk full: the lines that cannot be written are dropped (and the error reported), never kept
// to grow without bound or be written twice once writes work again.
BOOST_AUTO_TEST_CASE(lines_that_cannot_be_written_are_dropped_not_kept_or_written_twice)
{
    JsonLog full("/dev/full", std::uint64_t{1} << 20, 1); // every write fails with ENOSPC
    std::string pending;
    auto r = drain_lines(full, "stdout", pending, "one\ntwo\npart", false);
    BOOST_TEST(!r.has_value());
    BOOST_TEST(r.error().code == ENOSPC);
    BOOST_TEST(pending == "part"); // only the unfinished line stays

    Dir dir;
    JsonLog log(dir.path + "/c.log", std::uint64_t{1} << 20, 1);
    BOOST_TEST(drain_lines(log, "stdout", pending, "ial\n", false).has_value());
    const auto written = entries(dir.path + "/c.log");
    BOOST_TEST_REQUIRE(written.size() == 1U);
    BOOST_TEST(written[0]["log"] == "partial\n");
}

#define BOOST_TEST_MODULE base
#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstdlib>
#include "base/fd.hpp"
#include "base/files.hpp"
#include "base/result.hpp"
#include "base/strings.hpp"

using namespace berth;

BOOST_AUTO_TEST_SUITE(result)

BOOST_AUTO_TEST_CASE(error_wraps_outermost_step_first)
{
    errno = ENOENT;
    auto error = Error::from_errno("open 'x'").wrap("load bundle");
    BOOST_TEST(error.code == ENOENT);
    BOOST_TEST(error.message() == "load bundle: open 'x': No such file or directory");
}

BOOST_AUTO_TEST_CASE(bad_input_has_no_strerror_suffix)
{
    auto error = Error::invalid("process.args: must not be empty");
    BOOST_TEST(error.code == EINVAL);
    BOOST_TEST(error.message() == "process.args: must not be empty");
}

BOOST_AUTO_TEST_CASE(result_holds_value_or_error)
{
    Result<int> good = 4;
    Result<int> bad = Error::invalid("nope");
    BOOST_TEST(good.has_value());
    BOOST_TEST(*good == 4);
    BOOST_TEST(!bad.has_value());
    BOOST_TEST(bad.error().context == "nope");
    Result<void> ok;
    BOOST_TEST(ok.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(strings)

BOOST_AUTO_TEST_CASE(split_keeps_empty_fields)
{
    auto fields = split("a,,b", ',');
    BOOST_TEST(fields.size() == 3u);
    BOOST_TEST(fields[1].empty());
}

BOOST_AUTO_TEST_CASE(parse_int_rejects_partial_and_overflow)
{
    BOOST_TEST(parse_int<int>("42").value() == 42);
    BOOST_TEST(!parse_int<int>("42x").has_value());
    BOOST_TEST(!parse_int<int>("").has_value());
    BOOST_TEST(!parse_int<int>("+1").has_value());
    BOOST_TEST(!parse_int<unsigned char>("256").has_value());
    BOOST_TEST(!parse_int<unsigned>("-1").has_value());
}

BOOST_AUTO_TEST_CASE(quoted_escapes_control_bytes)
{
    BOOST_TEST(quoted("a\nb") == "'a\\x0ab'");
    BOOST_TEST(quoted(std::string(300, 'x')).size() == 256u + 5u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(files)

BOOST_AUTO_TEST_CASE(read_file_refuses_more_than_the_cap)
{
    char dir[] = "/tmp/berth-base-test-XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/f";
    BOOST_TEST_REQUIRE(write_file_atomic(path, "0123456789").has_value());
    BOOST_TEST(read_file(path).value() == "0123456789");
    auto capped = read_file(path, 4);
    BOOST_TEST(!capped.has_value());
    BOOST_TEST(capped.error().code == EFBIG);
    auto missing = read_file(std::string(dir) + "/missing");
    BOOST_TEST(missing.error().code == ENOENT);
    BOOST_TEST(missing.error().message().find("missing") != std::string::npos);
    ::unlink(path.c_str());
    ::rmdir(dir);
}

BOOST_AUTO_TEST_CASE(write_file_atomic_replaces_a_file_and_leaves_no_temporary_behind)
{
    char dir[] = "/tmp/berth-base-test-XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/state.json";
    BOOST_TEST_REQUIRE(write_file_atomic(path, "first").has_value());
    BOOST_TEST_REQUIRE(write_file_atomic(path, "second", 0640).has_value());
    BOOST_TEST(read_file(path).value() == "second");
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0640u);
    // A directory in the way is refused as rename(2) refuses it, and stays where it was.
    const std::string sub = std::string(dir) + "/sub";
    BOOST_TEST_REQUIRE(::mkdir(sub.c_str(), 0700) == 0);
    auto refused = write_file_atomic(sub, "x");
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error().code == EISDIR);
    BOOST_TEST_REQUIRE(::stat(sub.c_str(), &st) == 0);
    BOOST_TEST(S_ISDIR(st.st_mode));
    // Nothing else is left in the directory: no temporary, no old file under another name.
    DIR* listing = ::opendir(dir);
    BOOST_TEST_REQUIRE(listing != nullptr);
    int entries = 0;
    while (const dirent* entry = ::readdir(listing))
        entries += entry->d_name[0] != '.';
    ::closedir(listing);
    BOOST_TEST(entries == 2);
    ::rmdir(sub.c_str());
    ::unlink(path.c_str());
    ::rmdir(dir);
}

BOOST_AUTO_TEST_CASE(make_directories_is_idempotent)
{
    char dir[] = "/tmp/berth-base-test-XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(dir) != nullptr);
    const std::string deep = std::string(dir) + "/a/b/c";
    BOOST_TEST(make_directories(deep).has_value());
    BOOST_TEST(make_directories(deep).has_value());
    BOOST_TEST(path_exists(deep));
    ::rmdir(deep.c_str());
    ::rmdir((std::string(dir) + "/a/b").c_str());
    ::rmdir((std::string(dir) + "/a").c_str());
    ::rmdir(dir);
}

BOOST_AUTO_TEST_SUITE_END()

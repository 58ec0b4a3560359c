#define BOOST_TEST_MODULE dl
// Libraries loaded at first use (base/dl.hpp): a missing library or symbol is an ENOPKG error
// naming it and the package to install; a present one gives working functions.
#include <unistd.h>
#include <string>
#include <boost/test/unit_test.hpp>
#include "base/dl.hpp"

using namespace berth;

BOOST_AUTO_TEST_CASE(a_missing_library_is_enopkg_naming_it_and_its_package)
{
    auto library = load_library("libberth-not-installed.so.7", "libberth-not-installed7");
    BOOST_TEST_REQUIRE(!library.has_value());
    BOOST_TEST(library.error().code == ENOPKG);
    const auto message = library.error().message();
    BOOST_TEST(message.find("cannot load libberth-not-installed.so.7") != std::string::npos);
    BOOST_TEST(message.find("Debian package libberth-not-installed7") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_symbol_is_enopkg_naming_the_symbol)
{
    auto library = load_library("libc.so.6", "libc6");
    BOOST_TEST_REQUIRE(library.has_value());
    int (*function)() = nullptr;
    auto bound = bind_symbol(*library, "libc.so.6", "berth_no_such_function", function);
    BOOST_TEST_REQUIRE(!bound.has_value());
    BOOST_TEST(bound.error().code == ENOPKG);
    BOOST_TEST(bound.error().message().find("libc.so.6 lacks berth_no_such_function") !=
               std::string::npos);
    BOOST_TEST(function == nullptr);
}

BOOST_AUTO_TEST_CASE(a_bound_function_is_the_librarys_own)
{
    auto library = load_library("libc.so.6", "libc6");
    BOOST_TEST_REQUIRE(library.has_value());
    pid_t (*own_pid)() = nullptr;
    BOOST_TEST_REQUIRE(bind_symbol(*library, "libc.so.6", "getpid", own_pid).has_value());
    BOOST_TEST(own_pid() == ::getpid());
}

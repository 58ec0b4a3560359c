// tests/root/image_nocurl_test.cpp — a node whose libcurl cannot be loaded (image/curl_dl.cpp
// loads it at the first pull): the pull fails with ENOPKG and the process lives on. Its own
// executable: libcurl is loaded once per process, and here it must never load. An empty file is
// bind-mounted over libcurl.so.4 in the test's private mount namespace (gone with the process).
#define BOOST_TEST_MODULE image_nocurl
#include <sys/mount.h>
#include <filesystem>
#include <fstream>
#include <boost/test/unit_test.hpp>
#include "tests/root/image_support.hpp"
#include "tests/support/privileges.hpp"

using namespace berth;
using namespace berth::test;
namespace utf = boost::unit_test;
namespace fs = std::filesystem;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);

BOOST_AUTO_TEST_SUITE(nocurl, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(a_pull_without_a_loadable_libcurl_fails_with_enopkg_and_the_process_lives)
{
    TempDir dir("berth-image-nocurl");
    const std::string empty = dir.path() + "/empty";
    std::ofstream(empty).flush();
    std::size_t hidden = 0;
    for (const char* lib :
         {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"}) {
        std::error_code ec;
        const auto real = fs::canonical(fs::path(lib) / "libcurl.so.4", ec);
        if (ec)
            continue;
        BOOST_TEST_REQUIRE(::mount(empty.c_str(), real.c_str(), nullptr, MS_BIND, nullptr) == 0,
                           real);
        ++hidden;
    }
    BOOST_TEST_REQUIRE(hidden > 0u); // libcurl4 is a dependency: it must be there to hide
    auto store = image::Store::open(dir.path() + "/store");
    BOOST_TEST_REQUIRE(store.has_value());
    for (int i = 0; i < 2; ++i) { // the second pull gets the same answer, no retry of the load
        auto r =
            store->pull(*image::parse_reference("127.0.0.1:5999/any/image:1"), quick_options());
        BOOST_TEST_REQUIRE(!r.has_value());
        BOOST_TEST(r.error().code == ENOPKG, r.error().message());
        BOOST_TEST(r.error().message().find("libcurl") != std::string::npos, r.error().message());
    }
}

BOOST_AUTO_TEST_SUITE_END()

#define BOOST_TEST_MODULE image_hello
// The offline demo image of the README's main job (examples/hello/build.sh): built from Debian's
// busybox-static alone, loaded with Store::load, unpacked into an overlay rootfs and run by
// berth-runtime in the test's own network namespace; its httpd serves the CGI page with the
// task's hostname and addresses.
#include <fcntl.h>
#include <algorithm>
#include <thread>
#include <boost/test/unit_test.hpp>
#include <sched.h>
#include <sys/mount.h>
#include <stdexcept>
#include "base/fd.hpp"
#include "base/files.hpp"
#include "image/image.hpp"
#include "tests/support/privileges.hpp"
#include "tests/support/runner.hpp"

using namespace berth;
using namespace berth::test;
namespace utf = boost::unit_test;

namespace {

// The whole test process in its own network and mount namespaces (lo up, / private): httpd
// listens on 127.0.0.1 without touching the host, and every mount vanishes with the process.
struct PrivateNamespaces {
    PrivateNamespaces()
    {
        if (::geteuid() != 0)
            return; // the test is skipped (precondition: root)
        if (::unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
            throw std::runtime_error("unshare net+mount namespaces");
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
            throw std::runtime_error("make / private");
        if (run_command({"ip", "link", "set", "lo", "up"}).status != 0)
            throw std::runtime_error("ip link set lo up");
    }
};

template <class R>
std::string why(const R& r)
{
    return r ? std::string() : r.error().message();
}

std::string read_all(const std::string& path)
{
    auto text = berth::read_file(path);
    return text ? *text : std::string();
}

std::string source_root()
{
    const char* s = std::getenv("BERTH_SOURCE_ROOT"); // NOLINT(concurrency-mt-unsafe)
    return s ? s : ".";
}

// GETs url until it answers (httpd is starting) or the deadline passes.
Output fetch(const std::string& url)
{
    Output o;
    for (int i = 0; i < 100; ++i) {
        o = run_command({"curl", "-s", "-f", "--max-time", "5", url}, 10s);
        if (o.status == 0)
            break;
        std::this_thread::sleep_for(50ms);
    }
    return o;
}

} // namespace

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);

BOOST_AUTO_TEST_SUITE(hello, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(the_offline_demo_image_loads_unpacks_and_serves_its_hostname_and_addresses)
{
    TempDir dir("berth-hello");
    const auto archive = dir.path() + "/hello.tar";
    auto built = run_command({"bash", source_root() + "/examples/hello/build.sh", archive}, 120s);
    BOOST_TEST_REQUIRE(built.status == 0, built.err + built.out);

    auto store = image::Store::open(dir.path() + "/store");
    BOOST_TEST_REQUIRE(store.has_value(), why(store));
    const Fd in(::open(archive.c_str(), O_RDONLY | O_CLOEXEC));
    auto records = store->load(in.get());
    BOOST_TEST_REQUIRE(records.has_value(), why(records));
    BOOST_TEST(records->front().reference == "berth.local/hello:latest");
    auto config =
        image::parse_image_config(read_all(store->blob_path(records->front().config_digest)));
    BOOST_TEST_REQUIRE(config.has_value(), why(config));
    BOOST_TEST(config->platform.architecture == image::host_platform().architecture);

    auto rootfs = image::Rootfs::mount(*store, records->front(), "hello");
    BOOST_TEST_REQUIRE(rootfs.has_value(), why(rootfs));
    auto runtime_binary = berth_runtime_path();
    BOOST_TEST_REQUIRE(runtime_binary.has_value(), "berth-runtime is not built");
    Runtime runtime("berth-runtime", *runtime_binary);
    Bundle bundle;
    bundle.config["root"] = {{"path", rootfs->path()}, {"readonly", true}};
    bundle.config["hostname"] = "hello-task";
    auto& ns = bundle.config["linux"]["namespaces"]; // share the test's network namespace
    ns.erase(
        std::remove_if(ns.begin(), ns.end(), [](const auto& n) { return n["type"] == "network"; }),
        ns.end());
    bundle.set_args({"/bin/httpd", "-f", "-p", "127.0.0.1:18080", "-h", "/www"});
    bundle.write();
    const auto id = runtime.new_id("hello");
    auto server = runtime.start_cli({"run", "--bundle", bundle.dir(), id});

    auto page = fetch("http://127.0.0.1:18080/");
    BOOST_TEST_REQUIRE(page.status == 0, page.err + server.err() + server.out());
    BOOST_TEST(page.out.find("Hello from berth") != std::string::npos, page.out);
    BOOST_TEST(page.out.find("<b id=\"hostname\">hello-task</b>") != std::string::npos, page.out);
    BOOST_TEST(page.out.find("<li>127.0.0.1</li>") != std::string::npos, page.out);
    BOOST_TEST(page.out.find("GET / from 127.0.0.1") != std::string::npos, page.out);
    runtime.cli({"kill", id, "KILL"});
    server.wait(10s);
}

BOOST_AUTO_TEST_SUITE_END()

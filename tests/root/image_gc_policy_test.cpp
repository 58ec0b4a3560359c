#define BOOST_TEST_MODULE image_gc_policy
#include <fcntl.h>
#include <sys/stat.h>
#include <ctime>
#include <thread>
#include <boost/test/unit_test.hpp>
#include "image/internal.hpp"
#include "tests/root/image_gc_support.hpp"
#include "tests/support/privileges.hpp"

using namespace berth;
using namespace berth::test;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);

namespace {

// Sets an image's last-used stamp to t, as a lease released at t would have.
void stamp(const std::string& root, const image::ImageRecord& r, std::int64_t t)
{
    const auto path = root + "/used/" + image::digest_hex(r.manifest_digest);
    const Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    BOOST_TEST_REQUIRE(fd.valid());
    const timespec times[2] = {{t, 0}, {t, 0}};
    BOOST_TEST_REQUIRE(::futimens(fd.get(), times) == 0);
}

image::GcOptions policy_at(std::int64_t now, std::chrono::seconds age, unsigned per_cycle)
{
    image::GcOptions o;
    o.now = now;
    o.policy = image::GcPolicy{};
    o.policy->minimum_age = age;
    o.policy->images_per_cycle = per_cycle;
    return o;
}

struct Three : GcFixture { // a, b, c last used at t+100, t+300, t+200
    image::ImageRecord a = load({"berth.local/a:1", {shared_layer(), own_layer("a")}});
    image::ImageRecord b = load({"berth.local/b:1", {shared_layer(), own_layer("bb")}});
    image::ImageRecord c = load({"berth.local/c:1", {shared_layer(), own_layer("ccc")}});
    std::int64_t t = std::time(nullptr);
    Three()
    {
        stamp(root, a, t + 100);
        stamp(root, b, t + 300);
        stamp(root, c, t + 200);
    }
    bool named(const char* reference) const { return store.find(reference).has_value(); }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(policy, Three, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(only_images_unused_for_the_minimum_age_are_removed)
{
    auto report = store.gc(policy_at(t + 100 + 3600, 1h, 5));
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->images == std::vector<std::string>{"berth.local/a:1"});
    BOOST_TEST(!report->disk_pressure);
    BOOST_TEST(!named("berth.local/a:1"));
    BOOST_TEST(!store.has_blob(a.layers[1])); // the sweep freed its content
    BOOST_TEST(complete(b));
    BOOST_TEST(complete(c));
}

BOOST_AUTO_TEST_CASE(the_least_recently_used_go_first_and_at_most_n_per_cycle)
{
    auto report = store.gc(policy_at(t + 300 + 7200, 1h, 2));
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->images == (std::vector<std::string>{"berth.local/a:1", "berth.local/c:1"}));
    BOOST_TEST(complete(b));
    auto next = store.gc(policy_at(t + 300 + 7200, 1h, 2)); // the next cycle takes the rest
    BOOST_TEST_REQUIRE(next.has_value(), why(next));
    BOOST_TEST(next->images == std::vector<std::string>{"berth.local/b:1"});
}

BOOST_AUTO_TEST_CASE(a_lease_taken_or_released_stamps_the_image_as_used_now)
{
    stamp(root, b, 0); // b and c: idle since they were loaded
    stamp(root, c, 0);
    const auto before = std::time(nullptr);
    BOOST_TEST_REQUIRE(store.take_lease("task/a", {"berth.local/a:1"}).has_value());
    BOOST_TEST(store.find("berth.local/a:1")->last_used >= before);
    stamp(root, a, 0);                   // as if taken long ago
    std::this_thread::sleep_for(1200ms); // the stamps have one-second steps
    BOOST_TEST_REQUIRE(store.release_lease("task/a").has_value());
    const auto released = store.find("berth.local/a:1")->last_used;
    BOOST_TEST(released > before);
    // An hour after b and c were loaded, a was released less than an hour ago.
    auto report = store.gc(policy_at(released + 3599, 1h, 5));
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->images.size() == 2u);
    BOOST_TEST(!named("berth.local/b:1"));
    BOOST_TEST(!named("berth.local/c:1"));
    BOOST_TEST(complete(a));
}

BOOST_AUTO_TEST_CASE(a_leased_image_is_in_use_however_old)
{
    BOOST_TEST_REQUIRE(store.take_lease("task/old", {"berth.local/a:1"}).has_value());
    stamp(root, a, t - 100000);
    auto report = store.gc(policy_at(t + 100000, 1h, 5));
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->images == (std::vector<std::string>{"berth.local/c:1", "berth.local/b:1"}));
    BOOST_TEST(complete(a));
}

BOOST_AUTO_TEST_CASE(an_image_whose_layers_a_rootfs_mounts_is_in_use_by_any_name)
{
    auto rootfs = image::Rootfs::mount(store, c, "running");
    BOOST_TEST_REQUIRE(rootfs.has_value(), why(rootfs));
    // The same content under a second name: the mount is of that content, whichever name.
    BOOST_TEST_REQUIRE(store.remove("berth.local/c:1").has_value());
    const auto again = load({"berth.local/c-again:1", {shared_layer(), own_layer("ccc")}});
    BOOST_TEST(again.manifest_digest == c.manifest_digest);
    auto report = store.gc(policy_at(t + 100000, 1h, 5));
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->images == (std::vector<std::string>{"berth.local/a:1", "berth.local/b:1"}));
    BOOST_TEST(complete(again));
}

BOOST_AUTO_TEST_CASE(a_rootfs_going_away_stamps_its_image_as_used_now)
{
    const auto before = std::time(nullptr);
    {
        auto rootfs = image::Rootfs::mount(store, a, "short");
        BOOST_TEST_REQUIRE(rootfs.has_value(), why(rootfs));
        stamp(root, a, t - 5000); // as if mounted long ago
    }
    BOOST_TEST(store.find("berth.local/a:1")->last_used >= before);
    {
        auto kept = image::Rootfs::mount(store, b, "kept");
        BOOST_TEST_REQUIRE(kept.has_value(), why(kept));
        kept->keep(); // the agent restarts...
    }
    stamp(root, b, t - 5000);
    BOOST_TEST_REQUIRE(image::Rootfs::remove(store, "kept").has_value()); // ...and removes it
    BOOST_TEST(store.find("berth.local/b:1")->last_used >= before);
    BOOST_TEST(list_dir(root + "/containers").empty());
    auto missing = image::Rootfs::remove(store, "kept");
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().code == ENOENT);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(pressure, GcFixture, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(under_disk_pressure_idle_images_go_past_the_count_until_space_is_back)
{
    const Tmpfs fs(root, 16 << 20);
    auto small = image::Store::open(root);
    BOOST_TEST_REQUIRE(small.has_value(), why(small));
    store = std::move(*small);
    const auto empty = image::free_space(root)->free;
    std::vector<image::ImageRecord> images;
    for (const char* name : {"p", "qq", "rrr", "ssss"})
        images.push_back(load({std::string("berth.local/") + name + ":1", {own_layer(name)}}));
    const auto free_now = image::free_space(root)->free;
    const auto per_image = (empty - free_now) / images.size();
    const auto t = std::time(nullptr);
    for (std::size_t i = 0; i < images.size(); ++i)
        stamp(root, images[i], t + static_cast<std::int64_t>(i)); // p oldest
    auto options = policy_at(t + 600, 1h, 0); // the ECS rules alone would remove nothing
    options.policy->pressure_free_bytes = free_now + per_image * 3 / 2; // two must go
    options.policy->pressure_minimum_age = 60s;
    auto report = store.gc(options);
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->disk_pressure);
    BOOST_TEST(report->images == (std::vector<std::string>{"berth.local/p:1", "berth.local/qq:1"}));
    BOOST_TEST(report->free_bytes >= options.policy->pressure_free_bytes);
    BOOST_TEST(complete(images[2]));
    BOOST_TEST(complete(images[3]));
    auto calm = store.gc(options); // back above the threshold: nothing more
    BOOST_TEST_REQUIRE(calm.has_value(), why(calm));
    BOOST_TEST(!calm->disk_pressure);
    BOOST_TEST(calm->images.empty());
}

BOOST_AUTO_TEST_CASE(under_pressure_images_younger_than_the_pressure_age_stay)
{
    const auto a = load({"berth.local/young:1", {own_layer("young")}});
    auto options = policy_at(std::time(nullptr) + 30, 1h, 5);
    options.policy->pressure_free_percent = 100; // always under pressure
    options.policy->pressure_minimum_age = 120s;
    auto report = store.gc(options);
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->disk_pressure);
    BOOST_TEST(report->images.empty());
    BOOST_TEST(complete(a));
}

// A record file not under its own name (record_file of its reference) is no image: gc under
// pressure neither reports nor re-plans it forever (its unlink by name would find nothing).
BOOST_AUTO_TEST_CASE(under_pressure_a_record_under_a_foreign_name_does_not_loop_gc)
{
    const auto a = load({"berth.local/stray:1", {own_layer("stray")}});
    stamp(root, a, std::time(nullptr) - 3600);
    const auto names = list_dir(root + "/images"); // its one record, named for its reference
    BOOST_TEST_REQUIRE(names.size() == 1u);
    const auto file = root + "/images/" + names.front();
    BOOST_TEST_REQUIRE(::rename(file.c_str(), (root + "/images/stray.json").c_str()) == 0);
    BOOST_TEST(store.list()->empty());
    auto options = policy_at(std::time(nullptr), 1h, 5);
    options.policy->pressure_free_percent = 100; // always under pressure
    options.policy->pressure_minimum_age = 60s;
    auto report = store.gc(options); // returned at all: the loop ended
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->disk_pressure);
    BOOST_TEST(report->images.empty());
}

// A trash dir made moments ago may be a gc's between its mkdir and its flock: a gc leaves it;
// an old unlocked one (a gc killed before it emptied its trash) goes.
BOOST_AUTO_TEST_CASE(a_young_unlocked_trash_dir_is_left_to_its_gc)
{
    const auto dir = root + "/trash/0123abcd";
    BOOST_TEST_REQUIRE(make_directories(dir, 0700).has_value());
    BOOST_TEST_REQUIRE(::mkdir((dir + "/b.x").c_str(), 0700) == 0);
    auto report = store.gc({});
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(list_dir(dir) == std::vector<std::string>{"b.x"});
    const timespec old[2] = {{std::time(nullptr) - 3600, 0}, {std::time(nullptr) - 3600, 0}};
    BOOST_TEST_REQUIRE(::utimensat(AT_FDCWD, dir.c_str(), old, 0) == 0);
    report = store.gc({});
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(list_dir(root + "/trash").empty());
}

BOOST_AUTO_TEST_SUITE_END()

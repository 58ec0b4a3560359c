#define BOOST_TEST_MODULE image_gc
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <algorithm>
#include <atomic>
#include <ctime>
#include <thread>
#include <boost/test/unit_test.hpp>
#include "base/files.hpp"
#include "image/internal.hpp"
#include "tests/root/image_gc_support.hpp"
#include "tests/support/privileges.hpp"

using namespace berth;
using namespace berth::test;
namespace utf = boost::unit_test;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);

using Fixture = GcFixture;

BOOST_FIXTURE_TEST_SUITE(gc, Fixture, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(gc_removes_what_no_image_references_and_reports_the_bytes_freed)
{
    const auto a = load({"berth.local/a:1", {shared_layer(), own_layer("a")}});
    const auto b = load({"berth.local/b:1", {shared_layer()}});
    auto none = store.gc();
    BOOST_TEST_REQUIRE(none.has_value(), why(none));
    BOOST_TEST(none->bytes_freed == 0u);
    BOOST_TEST_REQUIRE(store.remove("berth.local/a:1").has_value());
    auto report = store.gc();
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->blobs == 3u);                     // a's manifest, config and own layer
    BOOST_TEST(report->snapshots == 1u);                 // a's top snapshot; the base is b's too
    BOOST_TEST(report->bytes_freed > 2u * (256u << 10)); // the layer blob and its unpacked file
    BOOST_TEST(!store.has_blob(a.layers[1]));
    BOOST_TEST(!path_exists(store.snapshot_path(a.chain[1])));
    BOOST_TEST(complete(b));
    auto rootfs = image::Rootfs::mount(store, b, "b");
    BOOST_TEST_REQUIRE(rootfs.has_value(), why(rootfs));
    BOOST_TEST(read_all(rootfs->path() + "/shared").size() == (64u << 10));
}

BOOST_AUTO_TEST_CASE(a_leased_image_survives_rmi_and_gc_until_the_lease_is_released)
{
    const auto a = load({"berth.local/leased:1", {own_layer("leased")}});
    BOOST_TEST_REQUIRE(store.take_lease("task/1", {"berth.local/leased:1"}).has_value());
    BOOST_TEST_REQUIRE(store.remove("berth.local/leased:1").has_value());
    auto kept = image::Store::open(root)->gc(); // another Store object: the lease is on disk
    BOOST_TEST_REQUIRE(kept.has_value(), why(kept));
    BOOST_TEST(kept->bytes_freed == 0u);
    BOOST_TEST(complete(a));
    auto leases = store.leases();
    BOOST_TEST_REQUIRE(leases.has_value(), why(leases));
    BOOST_TEST_REQUIRE(leases->size() == 1u);
    BOOST_TEST(leases->front().name == "task/1");
    BOOST_TEST(leases->front().images.front().manifest_digest == a.manifest_digest);
    BOOST_TEST_REQUIRE(store.release_lease("task/1").has_value());
    auto again = store.release_lease("task/1");
    BOOST_TEST_REQUIRE(!again.has_value());
    BOOST_TEST(again.error().code == ENOENT);
    auto freed = store.gc();
    BOOST_TEST_REQUIRE(freed.has_value(), why(freed));
    BOOST_TEST(freed->snapshots == 1u);
    BOOST_TEST(!store.has_blob(a.layers[0]));
}

BOOST_AUTO_TEST_CASE(a_mounted_rootfs_keeps_its_snapshots_until_it_goes)
{
    const auto a = load({"berth.local/running:1", {shared_layer(), own_layer("running")}});
    {
        auto rootfs = image::Rootfs::mount(store, a, "running");
        BOOST_TEST_REQUIRE(rootfs.has_value(), why(rootfs));
        BOOST_TEST_REQUIRE(store.remove("berth.local/running:1").has_value());
        auto report = store.gc();
        BOOST_TEST_REQUIRE(report.has_value(), why(report));
        BOOST_TEST(report->snapshots == 0u);
        BOOST_TEST(read_all(rootfs->path() + "/running").size() == (256u << 10));
    }
    auto report = store.gc();
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->snapshots == 2u);
}

BOOST_AUTO_TEST_CASE(a_lease_on_an_unknown_image_is_enoent_and_takes_nothing)
{
    auto r = store.take_lease("task/2", {"berth.local/nope:1"});
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == ENOENT);
    BOOST_TEST(store.leases()->empty());
}

BOOST_AUTO_TEST_CASE(prune_all_removes_the_images_no_lease_holds)
{
    const auto kept = load({"berth.local/kept:1", {own_layer("kept")}});
    const auto gone = load({"berth.local/gone:1", {own_layer("gone")}});
    BOOST_TEST_REQUIRE(store.take_lease("task/3", {"berth.local/kept:1"}).has_value());
    image::GcOptions all;
    all.unleased_images = true;
    auto report = store.gc(all);
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->images == std::vector<std::string>{"berth.local/gone:1"});
    BOOST_TEST(complete(kept));
    BOOST_TEST(store.find("berth.local/kept:1").has_value());
    BOOST_TEST(!store.has_blob(gone.layers[0]));
}

BOOST_AUTO_TEST_CASE(the_live_lease_of_a_dead_pull_is_stale_and_protects_nothing)
{
    const auto a = load({"berth.local/dead:1", {own_layer("dead")}});
    BOOST_TEST_REQUIRE(store.remove("berth.local/dead:1").has_value());
    // What a pull killed mid-way leaves: its live lease file, nobody holding its flock.
    const auto stale = root + "/leases/live.dead";
    BOOST_TEST_REQUIRE(
        write_file_atomic(stale, a.layers[0] + "\n" + a.chain[0] + "\n").has_value());
    auto report = store.gc();
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(!path_exists(stale));
    BOOST_TEST(!store.has_blob(a.layers[0]));
    BOOST_TEST(!path_exists(store.snapshot_path(a.chain[0])));
}

BOOST_AUTO_TEST_CASE(gc_running_throughout_a_pull_never_breaks_it)
{
    Registry registry(dir.path() + "/registry", 5000);
    std::vector<Layer> layers;
    for (unsigned i = 0; i < 4; ++i)
        layers.emplace_back(
            TarBuilder().file("f" + std::to_string(i), random_bytes(192 << 10, i + 10)).finish());
    push_image(registry, "gc/pull", "1", layers);
    auto proxy = start_peer({"proxy", "5013", "5000", "slow"}); // each layer takes ~0.6 s
    // Garbage for gc to find while the pull runs.
    const auto junk = load({"berth.local/junk:1", {own_layer("junk")}});
    BOOST_TEST_REQUIRE(store.remove("berth.local/junk:1").has_value());

    std::atomic<bool> done{false};
    Result<image::ImageRecord> pulled = Error::invalid("not run");
    std::thread puller([&] {
        auto options = quick_options();
        options.parallel_layers = 1; // layer after layer: committed ones sit unreferenced longest
        auto s = image::Store::open(root);
        pulled = s->pull(*image::parse_reference("127.0.0.1:5013/gc/pull:1"), options);
        done = true;
    });
    int runs = 0;
    std::uint64_t freed = 0;
    while (!done) {
        auto r = store.gc();
        BOOST_TEST_REQUIRE(r.has_value(), why(r));
        freed += r->bytes_freed;
        ++runs;
        std::this_thread::sleep_for(10ms);
    }
    puller.join();
    BOOST_TEST_REQUIRE(pulled.has_value(), why(pulled));
    // Many collections during the pull's ~2.4 s: one that waited for each of the pull's four
    // layers would run about once a layer.
    BOOST_TEST_MESSAGE("gc ran " << runs << " times during the pull");
    BOOST_TEST(runs >= 8);
    BOOST_TEST(freed > 0u); // the junk went while the pull ran
    BOOST_TEST(!store.has_blob(junk.layers[0]));
    BOOST_TEST(complete(*pulled));
    auto rootfs = image::Rootfs::mount(store, *pulled, "pulled");
    BOOST_TEST_REQUIRE(rootfs.has_value(), why(rootfs));
    BOOST_TEST(read_all(rootfs->path() + "/f3").size() == (192u << 10));
    BOOST_TEST(list_dir(root + "/leases").empty()); // the pull's live lease is gone
    auto after = store.gc();
    BOOST_TEST_REQUIRE(after.has_value());
    BOOST_TEST(after->bytes_freed == 0u);
}

BOOST_AUTO_TEST_CASE(prune_removes_trees_after_releasing_the_gc_lock_so_pulls_and_leases_go_ahead)
{
    Registry registry(dir.path() + "/registry", 5000);
    std::vector<Layer> layers{{TarBuilder().file("quick", "pulled during gc\n").finish()}};
    push_image(registry, "gc/quick", "1", layers);
    const auto held = load({"berth.local/held:1", {own_layer("held")}});
    // A large garbage snapshot: 20,000 files take gc a while to remove.
    const auto garbage = root + "/snapshots/" + std::string(64, 'a');
    for (int d = 0; d < 20; ++d) {
        const auto sub = garbage + "/d" + std::to_string(d);
        BOOST_TEST_REQUIRE(make_directories(sub, 0755).has_value());
        for (int f = 0; f < 1000; ++f)
            BOOST_TEST_REQUIRE(Fd(::creat((sub + "/" + std::to_string(f)).c_str(), 0644)).valid());
    }
    std::atomic<bool> done{false};
    Result<image::GcReport> report = Error::invalid("not run");
    std::thread gc([&] {
        auto s = image::Store::open(root);
        report = s->gc();
        done = true;
    });
    // Wait for the garbage to be in the trash, then for the gc lock to be free while it is.
    bool free_while_trashing = false;
    const Fd lock(::open((root + "/locks/gc.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    while (!done && !free_while_trashing) {
        bool trashing = false;
        for (const auto& sub : list_dir(root + "/trash"))
            trashing = trashing || !list_dir(root + "/trash/" + sub).empty();
        if (trashing && ::flock(lock.get(), LOCK_SH | LOCK_NB) == 0) {
            free_while_trashing = true;
            ::flock(lock.get(), LOCK_UN);
        }
    }
    // What a pull and a container's lease take meanwhile: the shared gc lock, briefly.
    auto pulled = store.pull(*image::parse_reference("127.0.0.1:5000/gc/quick:1"), quick_options());
    auto leased = store.take_lease("task-1", {"berth.local/held:1"});
    gc.join();
    BOOST_TEST(free_while_trashing);
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->snapshots >= 1u);
    BOOST_TEST_REQUIRE(pulled.has_value(), why(pulled));
    BOOST_TEST(leased.has_value(), why(leased));
    BOOST_TEST(complete(*pulled));
    BOOST_TEST(complete(held));
    BOOST_TEST(!path_exists(garbage));
    BOOST_TEST(list_dir(root + "/trash").empty());
}

BOOST_AUTO_TEST_CASE(the_trash_of_a_gc_that_died_is_emptied_by_recover)
{
    const auto dead = root + "/trash/dead";
    BOOST_TEST_REQUIRE(make_directories(dead + "/s.abc/usr", 0755).has_value());
    BOOST_TEST_REQUIRE(write_file_atomic(dead + "/b.def", "blob").has_value());
    // Not made moments ago (a younger unlocked dir may be a gc's between mkdir and flock).
    const timespec old[2] = {{std::time(nullptr) - 60, 0}, {std::time(nullptr) - 60, 0}};
    BOOST_TEST_REQUIRE(::utimensat(AT_FDCWD, dead.c_str(), old, 0) == 0);
    BOOST_TEST_REQUIRE(store.recover().has_value());
    BOOST_TEST(list_dir(root + "/trash").empty());
}

BOOST_AUTO_TEST_CASE(gc_running_throughout_loads_never_breaks_them)
{
    std::atomic<bool> done{false};
    std::vector<image::ImageRecord> loaded;
    std::string failure;
    std::thread loader([&] {
        for (int i = 0; i < 10 && failure.empty(); ++i) {
            const auto path = cat(dir.path(), "/load", i, ".tar");
            const ArchiveImage image{cat("berth.local/l:", i),
                                     {shared_layer(), own_layer(cat("l", i))}};
            if (!write_file_atomic(path, tar_of(oci_members({image}))))
                failure = "write";
            const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
            auto r = image::Store::open(root)->load(fd.get());
            if (r)
                loaded.push_back(r->front());
            else
                failure = r.error().message();
        }
        done = true;
    });
    while (!done)
        BOOST_TEST_REQUIRE(store.gc().has_value());
    loader.join();
    BOOST_TEST_REQUIRE(failure.empty(), failure);
    for (const auto& r : loaded)
        BOOST_TEST(complete(r), r.reference);
}

BOOST_AUTO_TEST_CASE(lock_files_nobody_holds_are_removed_and_held_ones_stay)
{
    load({"berth.local/locks:1", {shared_layer(), own_layer("locks")}});
    BOOST_TEST(list_dir(root + "/locks").size() > 1u); // the chains' locks, left by the load
    const auto held_path = root + "/locks/held.lock";
    auto held = image::lock_exclusive(held_path);
    BOOST_TEST_REQUIRE(held.has_value(), why(held));
    auto report = store.gc();
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->locks == 2u);
    auto left = list_dir(root + "/locks");
    std::sort(left.begin(), left.end());
    BOOST_TEST(left == (std::vector<std::string>{"gc.lock", "held.lock"}));
    held->reset();
    BOOST_TEST_REQUIRE(store.gc().has_value());
    BOOST_TEST(list_dir(root + "/locks") == std::vector<std::string>{"gc.lock"});
}

BOOST_AUTO_TEST_CASE(a_waiter_on_a_removed_lock_file_takes_the_new_file_so_the_lock_never_splits)
{
    const auto path = root + "/locks/chain.lock";
    auto first = image::lock_exclusive(path);
    BOOST_TEST_REQUIRE(first.has_value(), why(first));
    std::atomic<bool> got{false};
    Result<Fd> waiter = Error::invalid("not run");
    std::thread t([&] {
        waiter = image::lock_exclusive(path); // opens the first file and waits on it
        got = true;
    });
    std::this_thread::sleep_for(200ms);
    image::unlink_held_lock(*first, path);     // what gc does with a lock it holds
    auto second = image::lock_exclusive(path); // a newcomer: the new file, free at once
    BOOST_TEST_REQUIRE(second.has_value(), why(second));
    first->reset(); // the waiter wakes on the removed file...
    std::this_thread::sleep_for(200ms);
    BOOST_TEST(!got); // ...and now waits on the newcomer's file instead of sharing the lock
    second->reset();
    t.join();
    BOOST_TEST_REQUIRE(waiter.has_value(), why(waiter));
    struct stat held {
    }, named{};
    BOOST_TEST_REQUIRE(::fstat(waiter->get(), &held) == 0);
    BOOST_TEST_REQUIRE(::stat(path.c_str(), &named) == 0);
    BOOST_TEST(held.st_ino == named.st_ino);
}

BOOST_AUTO_TEST_CASE(a_rootfs_mounted_before_snapshot_lists_existed_keeps_its_snapshots)
{
    const auto a = load({"berth.local/old:1", {shared_layer(), own_layer("old")}});
    {
        auto rootfs = image::Rootfs::mount(store, a, "old");
        BOOST_TEST_REQUIRE(rootfs.has_value(), why(rootfs));
        const auto list = root + "/containers/old/snapshots";
        BOOST_TEST_REQUIRE(::unlink(list.c_str()) == 0); // as an older berth mounted it
        BOOST_TEST_REQUIRE(store.remove("berth.local/old:1").has_value());
        auto report = store.gc();
        BOOST_TEST_REQUIRE(report.has_value(), why(report));
        BOOST_TEST(report->snapshots == 0u);
        BOOST_TEST(report->unknown_containers.empty()); // read from its overlay mount
        BOOST_TEST(read_all(list) == a.chain[0] + "\n" + a.chain[1] + "\n"); // and written down
        BOOST_TEST(read_all(rootfs->path() + "/old").size() == (256u << 10));
    }
    auto report = store.gc();
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->snapshots == 2u);
}

BOOST_AUTO_TEST_CASE(an_old_container_dir_whose_mount_is_not_visible_keeps_every_snapshot)
{
    const auto a = load({"berth.local/unknown:1", {own_layer("unknown")}});
    BOOST_TEST_REQUIRE(make_directories(root + "/containers/elsewhere/upper", 0700).has_value());
    BOOST_TEST_REQUIRE(store.remove("berth.local/unknown:1").has_value());
    image::GcOptions policy;
    policy.policy = image::GcPolicy{};
    policy.policy->minimum_age = std::chrono::seconds(0);
    auto report = store.gc(policy);
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->unknown_containers == std::vector<std::string>{"elsewhere"});
    BOOST_TEST(report->snapshots == 0u);
    BOOST_TEST(path_exists(store.snapshot_path(a.chain[0])));
    BOOST_TEST_REQUIRE(image::Rootfs::remove(store, "elsewhere").has_value());
    auto after = store.gc();
    BOOST_TEST_REQUIRE(after.has_value(), why(after));
    BOOST_TEST(after->unknown_containers.empty());
    BOOST_TEST(after->snapshots == 1u);
}

BOOST_AUTO_TEST_CASE(the_policy_removes_no_image_while_an_unknown_container_exists)
{
    const auto a = load({"berth.local/maybe-running:1", {own_layer("maybe-running")}});
    BOOST_TEST_REQUIRE(make_directories(root + "/containers/elsewhere/upper", 0700).has_value());
    image::GcOptions policy;
    policy.now = a.created + 100000;
    policy.policy = image::GcPolicy{};
    auto report = store.gc(policy);
    BOOST_TEST_REQUIRE(report.has_value(), why(report));
    BOOST_TEST(report->images.empty());
    BOOST_TEST(complete(a));
    BOOST_TEST_REQUIRE(image::Rootfs::remove(store, "elsewhere").has_value());
}

BOOST_AUTO_TEST_CASE(the_cli_loads_saves_and_prunes_with_bytes_freed)
{
    const char* build = std::getenv("BERTH_BUILD_ROOT"); // NOLINT(concurrency-mt-unsafe)
    BOOST_TEST_REQUIRE(build != nullptr);
    const std::string berth = std::string(build) + "/agent/cli/berth";
    const auto in = dir.path() + "/cli.tar";
    BOOST_TEST_REQUIRE(write_file_atomic(in, gzip_bytes(tar_of(oci_members(
                                                 {{"berth.local/cli:1", {own_layer("cli")}}}))))
                           .has_value());
    auto loaded = run_command({berth, "--root", root, "load", "-i", in});
    BOOST_TEST_REQUIRE(loaded.status == 0, loaded.err);
    BOOST_TEST(loaded.out.find("loaded berth.local/cli:1 sha256:") != std::string::npos);
    const auto out = dir.path() + "/cli-saved.tar";
    auto saved = run_command({berth, "--root", root, "save", "-o", out, "berth.local/cli:1"});
    BOOST_TEST_REQUIRE(saved.status == 0, saved.err);
    BOOST_TEST(read_all(out).substr(0, 10) == "oci-layout");
    auto missing = run_command({berth, "--root", root, "save", "-o", out + "2", "nope:1"});
    BOOST_TEST(missing.status == 1);
    BOOST_TEST(missing.err.find("nope") != std::string::npos, missing.err);
    BOOST_TEST(!path_exists(out + "2")); // no half archive
    BOOST_TEST_REQUIRE(run_command({berth, "--root", root, "rmi", "berth.local/cli:1"}).status ==
                       0);
    auto pruned = run_command({berth, "--root", root, "--json", "image", "prune"});
    BOOST_TEST_REQUIRE(pruned.status == 0, pruned.err);
    const auto j = nlohmann::json::parse(pruned.out);
    BOOST_TEST(j["bytes_freed"].get<std::uint64_t>() > (256u << 10));
    BOOST_TEST(j["snapshots"].get<int>() == 1);
    auto bad = run_command({berth, "--root", root, "load", "-i", in + ".missing"});
    BOOST_TEST(bad.status == 1);
    BOOST_TEST(bad.err.find(".missing") != std::string::npos, bad.err);
}

BOOST_AUTO_TEST_SUITE_END()

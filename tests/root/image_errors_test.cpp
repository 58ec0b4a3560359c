#define BOOST_TEST_MODULE image_errors
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <filesystem>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <random>
#include <thread>
#include <boost/test/unit_test.hpp>
#include "base/files.hpp"
#include "base/strings.hpp"
#include "image/internal.hpp"
#include "tests/root/image_support.hpp"
#include "tests/support/privileges.hpp"

using namespace berth;
using namespace berth::test;
namespace utf = boost::unit_test;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);

namespace {

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

struct Fixture : RegistryStoreFixture {
    Fixture() : RegistryStoreFixture("berth-image-errors") {}
    // The store kept only what verified: no layer blob, no snapshot, nothing in ingest.
    void check_nothing_kept_for(const std::string& layer)
    {
        BOOST_TEST(!store.has_blob(layer));
        BOOST_TEST(list_dir(store_root + "/snapshots").empty());
        BOOST_TEST(list_dir(store_root + "/ingest").empty());
    }
};

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The kill delays: four fixed (all in the download phase) and four drawn from a seeded RNG over
// the whole pull, up to just after the proxy relays the last byte (about 6.5 s for 2 MiB at
// 16 KiB per 50 ms), where the commit steps run: syncfs, blob links, snapshot renames, the
// record's replace_file. BERTH_TEST_SEED=<n> repeats a run's draws.
std::vector<int> kill_delays_ms()
{
    std::uint64_t seed = std::random_device()();
    if (const char* s = std::getenv("BERTH_TEST_SEED")) // NOLINT(concurrency-mt-unsafe)
        seed = parse_int<std::uint64_t>(s).value_or(seed);
    BOOST_TEST_MESSAGE("kill delays seed " << seed << " (BERTH_TEST_SEED to repeat)");
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> spread(100, 7000);
    std::vector<int> delays{150, 700, 1500, 2500};
    for (int i = 0; i < 4; ++i)
        delays.push_back(spread(rng));
    return delays;
}

bool is_hex64(const std::string& name)
{
    return name.size() == 64 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// What a kill -9 and recover() may leave: only verified content and whole records.
void check_store_is_sound(const image::Store& store, const std::string& root)
{
    const auto blobs = root + "/blobs/sha256/";
    for (const auto& name : list_dir(blobs))
        BOOST_TEST(image::sha256_digest(read_all(blobs + name)) == "sha256:" + name,
                   "blob " << name);
    for (const auto& name : list_dir(root + "/snapshots"))
        BOOST_TEST(is_hex64(name), "snapshot " << name);
    BOOST_TEST(list_dir(root + "/ingest").empty());
    std::size_t json_files = 0;
    for (const auto& name : list_dir(root + "/images")) {
        BOOST_TEST(name.ends_with(".json"), "images/" << name);
        json_files += name.ends_with(".json") ? 1 : 0;
    }
    auto records = store.list(); // skips a file that is not a record stored under its own name
    BOOST_TEST_REQUIRE(records.has_value(), why(records));
    BOOST_TEST(records->size() == json_files);
    for (const auto& name : list_dir(root + "/leases"))
        BOOST_TEST(!name.ends_with(".tmp"), "leases/" << name);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(errors, Fixture, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(a_blob_with_the_wrong_digest_is_refused_and_the_next_pull_succeeds)
{
    const auto layer =
        push_one("bad/digest", TarBuilder().file("a", random_bytes(100000)).finish());
    const auto data = registry.blob_data_path(layer);
    const auto good = read_all(data);
    auto bad = good;
    bad[bad.size() / 2] ^= 0x55; // same size, other bytes: the registry serves them unchecked
    std::ofstream(data, std::ios::binary | std::ios::trunc) << bad;
    auto r = pull("bad/digest:1");
    BOOST_TEST_REQUIRE(!r.has_value());
    const auto message = r.error().message();
    BOOST_TEST(contains(message, registry.host() + "/bad/digest:1"), message);
    BOOST_TEST(contains(message, "layer " + layer), message);
    BOOST_TEST((r.error().code == EBADMSG || r.error().code == EINVAL), message);
    check_nothing_kept_for(layer);
    std::ofstream(data, std::ios::binary | std::ios::trunc) << good;
    auto again = pull("bad/digest:1");
    BOOST_TEST_REQUIRE(again.has_value(), why(again));
    BOOST_TEST(store.has_blob(layer));
}

BOOST_AUTO_TEST_CASE(a_truncated_layer_is_refused_naming_the_layer)
{
    const auto layer = push_one("bad/short", TarBuilder().file("a", random_bytes(200000)).finish());
    const auto data = registry.blob_data_path(layer);
    const auto good = read_all(data);
    std::ofstream(data, std::ios::binary | std::ios::trunc) << good.substr(0, good.size() / 2);
    auto r = pull("bad/short:1");
    BOOST_TEST_REQUIRE(!r.has_value());
    const auto message = r.error().message();
    BOOST_TEST(contains(message, "layer " + layer), message);
    BOOST_TEST((r.error().code == EBADMSG || r.error().code == EIO), message);
    BOOST_TEST(contains(message, "bytes received"), message);
    check_nothing_kept_for(layer);
    std::ofstream(data, std::ios::binary | std::ios::trunc) << good;
    BOOST_TEST(pull("bad/short:1").has_value());
}

BOOST_AUTO_TEST_CASE(a_corrupt_gzip_stream_with_a_matching_digest_is_refused)
{
    std::vector<Layer> layers{{TarBuilder().file("a", "b").finish()}};
    layers[0].blob = "this is not gzip at all";
    push_image(registry, "bad/gzip", "1", layers);
    auto r = pull("bad/gzip:1");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(contains(r.error().message(), "gzip stream is corrupt"), r.error().message());
    check_nothing_kept_for(image::sha256_digest(layers[0].blob));
}

// zstd's own frame checksum (XXH64) is not checked: the layer's sha256 and its diffID cover every
// byte. A frame of raw (incompressible) blocks with one byte changed still decodes; the diffID
// refuses it.
BOOST_AUTO_TEST_CASE(a_zstd_layer_altered_under_a_matching_digest_is_refused_by_its_diff_id)
{
    std::vector<Layer> layers{{TarBuilder().file("a", random_bytes(300000)).finish(),
                               "application/vnd.oci.image.layer.v1.tar+zstd"}};
    layers[0].blob = zstd_bytes(layers[0].tar);
    layers[0].blob[layers[0].blob.size() / 2] ^= 0x55; // inside a raw block: still decodes
    push_image(registry, "bad/zstd", "1", layers);
    auto r = pull("bad/zstd:1");
    BOOST_TEST_REQUIRE(!r.has_value());
    const auto message = r.error().message();
    BOOST_TEST(r.error().code == EBADMSG, message);
    BOOST_TEST(contains(message, "uncompressed content has digest"), message);
    check_nothing_kept_for(image::sha256_digest(layers[0].blob));
}

// A layer whose snapshot is already here is not unpacked again, but its blob is still fetched
// and checked against the config's diffID: a manifest pairing some other blob with that diffID
// is refused, and the store keeps neither the blob nor a record of it.
BOOST_AUTO_TEST_CASE(a_blob_that_lies_about_an_unpacked_layers_diff_id_is_refused)
{
    const auto tar = TarBuilder().file("a", "the real layer\n").finish();
    std::vector<Layer> real{{tar}};
    push_image(registry, "lie/layer", "real", real);
    std::vector<Layer> other{{TarBuilder().file("b", "another layer\n").finish()}};
    push_image(registry, "lie/layer", "other", other); // fills other[0].blob
    std::vector<Layer> liar{{tar, "application/vnd.oci.image.layer.v1.tar+gzip"}};
    liar[0].blob = other[0].blob; // the config still names tar's diffID
    push_image(registry, "lie/layer", "liar", liar);

    BOOST_TEST_REQUIRE(pull("lie/layer:real").has_value());
    auto r = pull("lie/layer:liar");
    BOOST_TEST_REQUIRE(!r.has_value());
    const auto message = r.error().message();
    BOOST_TEST(r.error().code == EBADMSG, message);
    BOOST_TEST(contains(message, "uncompressed content has digest"), message);
    BOOST_TEST(contains(message, image::sha256_digest(other[0].blob)), message); // the layer
    BOOST_TEST(!store.has_blob(image::sha256_digest(other[0].blob)));
    BOOST_TEST(!store.find(registry.host() + "/lie/layer:liar").has_value());
    BOOST_TEST(list_dir(store_root + "/ingest").empty());
}

BOOST_AUTO_TEST_CASE(an_unknown_layer_media_type_is_refused_by_name)
{
    std::vector<Layer> layers{
        {TarBuilder().file("a", "b").finish(), "application/vnd.oci.image.layer.v1.tar+lz4"}};
    layers[0].blob = layers[0].tar;
    push_image(registry, "bad/type", "1", layers);
    auto r = pull("bad/type:1");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == EINVAL);
    BOOST_TEST(contains(r.error().message(), "tar+lz4"), r.error().message());
    BOOST_TEST(contains(r.error().message(), "bad/type:1"), r.error().message());
}

BOOST_AUTO_TEST_CASE(an_unknown_image_is_enoent_and_an_unreachable_registry_econnrefused)
{
    auto missing = pull("no/such:1");
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().code == ENOENT);
    BOOST_TEST(contains(missing.error().message(), "MANIFEST_UNKNOWN"), missing.error().message());
    auto down = store.pull(*image::parse_reference("127.0.0.1:5999/any/thing:1"), quick_options());
    BOOST_TEST_REQUIRE(!down.has_value());
    BOOST_TEST(down.error().code == ECONNREFUSED, down.error().message());
    BOOST_TEST(contains(down.error().message(), "127.0.0.1:5999/any/thing:1"));
}

BOOST_AUTO_TEST_CASE(a_decompression_bomb_stops_at_the_layer_size_limit)
{
    const auto layer =
        push_one("bad/bomb", TarBuilder().file("zeros", std::string(64 << 20, '\0')).finish());
    auto options = quick_options();
    options.max_layer_bytes = 1 << 20;
    auto r = pull("bad/bomb:1", options);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == EFBIG, r.error().message());
    BOOST_TEST(contains(r.error().message(), "layer " + layer));
    check_nothing_kept_for(layer);
}

BOOST_AUTO_TEST_CASE(a_full_disk_is_enospc_keeps_nothing_unverified_and_the_next_pull_succeeds)
{
    const auto layer = push_one("big/one", TarBuilder().file("r", random_bytes(3 << 20)).finish());
    const auto small_root = dir.path() + "/small";
    BOOST_TEST_REQUIRE(make_directories(small_root).has_value());
    BOOST_TEST_REQUIRE(::mount("tmpfs", small_root.c_str(), "tmpfs", 0, "size=2m") == 0);
    auto small = image::Store::open(small_root);
    BOOST_TEST_REQUIRE(small.has_value());
    auto r = small->pull(*image::parse_reference(registry.host() + "/big/one:1"), quick_options());
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == ENOSPC, r.error().message());
    BOOST_TEST(contains(r.error().message(), "layer " + layer), r.error().message());
    BOOST_TEST(!small->has_blob(layer));
    BOOST_TEST(list_dir(small_root + "/snapshots").empty());
    BOOST_TEST(list_dir(small_root + "/ingest").empty());
    BOOST_TEST_REQUIRE(::mount(nullptr, small_root.c_str(), nullptr, MS_REMOUNT, "size=64m") == 0);
    auto again =
        small->pull(*image::parse_reference(registry.host() + "/big/one:1"), quick_options());
    BOOST_TEST(again.has_value(), why(again));
    BOOST_TEST(::umount2(small_root.c_str(), MNT_DETACH) == 0);
}

// The ECS pain point: a registry (or a proxy) that stops sending but keeps the connection open.
// curl's low-speed limit (under 1 byte/s for inactivity_timeout_s) must end the request.
BOOST_AUTO_TEST_CASE(a_stalled_blob_fails_with_etimedout_naming_the_layer_when_no_attempt_is_left)
{
    const auto layer =
        push_one("stall/once", TarBuilder().file("a", random_bytes(1 << 20)).finish());
    auto proxy = start_peer({"proxy", "5014", "5000", "stall"});
    auto options = quick_options();
    options.inactivity_timeout_s = 2;
    options.attempts = 1;
    const auto started = std::chrono::steady_clock::now();
    auto r = store.pull(*image::parse_reference("127.0.0.1:5014/stall/once:1"), options);
    BOOST_TEST_REQUIRE(!r.has_value());
    const auto message = r.error().message();
    BOOST_TEST(r.error().code == ETIMEDOUT, message);
    BOOST_TEST(contains(message, "layer " + layer), message);
    BOOST_TEST(seconds_since(started) < 20.0);
    BOOST_TEST(contains(proxy->out(), "stall after"), proxy->out());
    check_nothing_kept_for(layer);
}

BOOST_AUTO_TEST_CASE(a_stalled_blob_is_resumed_with_a_range_request_when_attempts_remain)
{
    const auto big = random_bytes(1 << 20);
    const auto layer = push_one("stall/resume", TarBuilder().file("big", big).finish());
    auto proxy = start_peer({"proxy", "5014", "5000", "stall"});
    auto options = quick_options();
    options.inactivity_timeout_s = 2;
    options.attempts = 3;
    const auto started = std::chrono::steady_clock::now();
    auto record = store.pull(*image::parse_reference("127.0.0.1:5014/stall/resume:1"), options);
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    BOOST_TEST(seconds_since(started) < 20.0);
    BOOST_TEST((read_all(store.snapshot_path(record->chain[0]) + "/big") == big));
    const auto log = proxy->out();
    BOOST_TEST(contains(log, "stall after"), log);
    BOOST_TEST(contains(log, "Range: bytes="), log);
    BOOST_TEST(store.has_blob(layer));
}

// replace_file() writes a record or a lease as "<file>.<pid>.<tid>.tmp" and renames it; a kill -9
// in between leaves the temp file. recover() removes it only once its writer is gone: the pid
// is dead and nobody holds the file's flock (the agent and the CLI share the store).
BOOST_AUTO_TEST_CASE(recover_removes_the_temp_files_of_killed_writers_only)
{
    const pid_t dead = ::fork();
    if (dead == 0)
        ::_exit(0);
    BOOST_TEST_REQUIRE(dead > 0);
    BOOST_TEST_REQUIRE(::waitpid(dead, nullptr, 0) == dead);
    const auto temp = [](const std::string& dir, pid_t pid, pid_t tid = 1) {
        return cat(dir, "/0123abcd.json.", pid, ".", tid, ".tmp");
    };
    const auto images = store_root + "/images";
    const auto leases = store_root + "/leases";
    for (const auto& path : {temp(images, dead), temp(leases, dead), temp(images, ::getpid()),
                             temp(leases, dead, 2), images + "/notes.tmp"})
        BOOST_TEST_REQUIRE(static_cast<bool>(std::ofstream(path) << "{"), path);
    // A writer in another pid namespace: its pid means nothing here, its flock is held.
    const Fd held(::open(temp(leases, dead, 2).c_str(), O_RDWR | O_CLOEXEC));
    BOOST_TEST_REQUIRE(::flock(held.get(), LOCK_EX) == 0);
    BOOST_TEST_REQUIRE(store.recover().has_value());
    BOOST_TEST(!path_exists(temp(images, dead)));
    BOOST_TEST(!path_exists(temp(leases, dead)));
    BOOST_TEST(path_exists(temp(images, ::getpid()))); // a live writer (this process)
    BOOST_TEST(path_exists(temp(leases, dead, 2)));
    BOOST_TEST(path_exists(images + "/notes.tmp")); // not replace_file's name: not ours to remove
    BOOST_TEST(store.list().has_value());           // list() never reads the temp files as records
}

BOOST_AUTO_TEST_CASE(berth_pull_killed_at_any_point_leaves_a_store_the_next_pull_completes)
{
    const char* build = std::getenv("BERTH_BUILD_ROOT"); // NOLINT(concurrency-mt-unsafe)
    BOOST_TEST_REQUIRE(build != nullptr);
    const std::string berth = std::string(build) + "/agent/cli/berth";
    std::vector<Layer> layers{{TarBuilder().file("r1", random_bytes(2 << 20)).finish()},
                              {TarBuilder().file("r2", random_bytes(1 << 20)).finish()}};
    push_image(registry, "kill/me", "1", layers);
    auto proxy = start_peer({"proxy", "5012", "5000", "slow"}); // about 300 KiB/s per layer
    const std::string ref = "127.0.0.1:5012/kill/me:1";
    const std::vector<std::string> argv{berth, "--root", store_root, "pull", ref};
    for (int delay_ms : kill_delays_ms()) {
        BOOST_TEST_CONTEXT("kill after " << delay_ms << " ms")
        {
            auto pull_cmd = Command::start(argv);
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
            ::kill(pull_cmd.pid(), SIGKILL);
            const auto out = pull_cmd.wait(10s);
            BOOST_TEST_MESSAGE("kill after "
                               << delay_ms << " ms: status " << out.status << ", "
                               << list_dir(store_root + "/blobs/sha256").size() << " blobs, "
                               << list_dir(store_root + "/snapshots").size() << " snapshots");
            BOOST_TEST(store.recover().has_value());
            check_store_is_sound(store, store_root);
            if (out.status == 0) { // finished before the kill: start the next one from scratch
                BOOST_TEST_REQUIRE(store.remove(ref).has_value());
                BOOST_TEST_REQUIRE(store.gc().has_value());
            }
        }
    }
    auto done = run_command(argv, 120s);
    BOOST_TEST_REQUIRE(done.status == 0, done.err + done.out);
    check_store_is_sound(store, store_root);
    auto record = store.find(ref);
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    BOOST_TEST((read_all(store.snapshot_path(record->chain[0]) + "/r1") == random_bytes(2 << 20)));
    BOOST_TEST((read_all(store.snapshot_path(record->chain[1]) + "/r2") == random_bytes(1 << 20)));
}

BOOST_AUTO_TEST_SUITE_END()

// tests/root/image_cli_test.cpp — the `berth` image commands a script drives: pull, images,
// inspect, save and rmi, with --json (one parseable JSON document each) and without (plain
// progress lines when stdout is not a terminal), against a real docker-registry.
#define BOOST_TEST_MODULE image_cli
#include <sys/stat.h>
#include <algorithm>
#include <cstdint>
#include <regex>
#include <string>
#include <vector>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include "base/files.hpp"
#include "image/internal.hpp"
#include "tests/root/image_support.hpp"
#include "tests/support/privileges.hpp"

using namespace berth;
using namespace berth::test;
using nlohmann::json;
namespace utf = boost::unit_test;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);

namespace {

std::string berth_path()
{
    const char* build = std::getenv("BERTH_BUILD_ROOT"); // NOLINT(concurrency-mt-unsafe)
    BOOST_TEST_REQUIRE(build != nullptr);
    return std::string(build) + "/agent/cli/berth";
}

struct Fixture : RegistryStoreFixture {
    Fixture() : RegistryStoreFixture("berth-image-cli")
    {
        layers.emplace_back(TarBuilder().file("one", random_bytes(200000, 1)).finish());
        layers.emplace_back(TarBuilder().file("two", random_bytes(300000, 2)).finish());
        manifest = push_image(registry, "cli/two", "1", layers);
    }
    // `berth --root <root> args...`: stdout and stderr are pipes.
    Output berth(const std::vector<std::string>& args, const std::string& root = {})
    {
        std::vector<std::string> argv{berth_path(), "--root", root.empty() ? store_root : root};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, 60s);
    }
    // Runs berth --json args; its stdout must be one JSON document.
    json berth_json(const std::vector<std::string>& args, int status = 0)
    {
        std::vector<std::string> argv{"--json"};
        argv.insert(argv.end(), args.begin(), args.end());
        auto out = berth(argv);
        BOOST_TEST_REQUIRE(out.status == status, out.err + out.out);
        BOOST_TEST_REQUIRE(json::accept(out.out), "not JSON: " << out.out);
        return json::parse(out.out);
    }
    std::vector<Layer> layers;
    std::string manifest;
    std::string ref = registry.host() + "/cli/two:1";
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(cli, Fixture, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(json_pull_images_inspect_save_and_rmi_each_print_one_json_document)
{
    auto pulled = berth_json({"pull", ref});
    BOOST_TEST(pulled["reference"] == ref);
    BOOST_TEST(pulled["manifest"] == manifest);
    BOOST_TEST_REQUIRE(pulled["chain"].size() == 2u);

    auto images = berth_json({"images"});
    BOOST_TEST_REQUIRE(images.is_array());
    BOOST_TEST_REQUIRE(images.size() == 1u);
    BOOST_TEST(images[0]["reference"] == ref);
    BOOST_TEST(images[0]["manifest"] == manifest);

    auto inspected = berth({"inspect", ref}); // JSON with or without --json
    BOOST_TEST_REQUIRE(inspected.status == 0, inspected.err);
    BOOST_TEST_REQUIRE(json::accept(inspected.out), inspected.out);
    BOOST_TEST(json::parse(inspected.out)["chain"] == pulled["chain"]);

    const auto archive = dir.path() + "/saved.tar";
    auto saved = berth_json({"save", "-o", archive, ref});
    BOOST_TEST(saved["path"] == archive);
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(archive.c_str(), &st) == 0);
    BOOST_TEST(saved["bytes"].get<std::uint64_t>() == static_cast<std::uint64_t>(st.st_size));
    BOOST_TEST_REQUIRE(saved["images"].size() == 1u);
    BOOST_TEST(saved["images"][0]["reference"] == ref);
    BOOST_TEST(saved["images"][0]["manifest"] == manifest);

    // One REF fails, the other goes: the JSON lists what was removed, the exit status says 1.
    auto removed = berth_json({"rmi", "nope/missing:1", ref}, 1);
    BOOST_TEST_REQUIRE(removed["removed"].size() == 1u);
    BOOST_TEST(removed["removed"][0]["reference"] == ref);
    BOOST_TEST(removed["removed"][0]["manifest"] == manifest);
    BOOST_TEST(berth_json({"images"}).empty());
    BOOST_TEST(berth_json({"rmi", "nope/missing:1"}, 1)["removed"].empty());
}

BOOST_AUTO_TEST_CASE(a_plain_pull_into_a_pipe_prints_one_line_per_layer_and_no_escapes)
{
    auto out = berth({"pull", ref});
    BOOST_TEST_REQUIRE(out.status == 0, out.err + out.out);
    BOOST_TEST(out.out.find('\x1b') == std::string::npos, out.out);
    // "<12 hex>: done 200.1 KB in 0.1s (1.9 MB/s)" (progress.cpp)
    const std::regex layer_line(R"(([0-9a-f]{12}): done [0-9.]+ [KMGT]?B )"
                                R"(in [0-9.]+s \([0-9.]+ [KMGT]?B/s\))");
    std::vector<std::string> shown;
    for (auto line : split(out.out, '\n')) {
        std::cmatch m;
        if (std::regex_match(line.begin(), line.end(), m, layer_line))
            shown.push_back(m[1].str());
        else if (!line.empty())
            BOOST_TEST(line == "pulled " + ref + " " + manifest);
    }
    std::sort(shown.begin(), shown.end());
    std::vector<std::string> expected;
    for (const auto& layer : layers)
        expected.push_back(image::sha256_digest(layer.blob).substr(7, 12));
    std::sort(expected.begin(), expected.end());
    BOOST_TEST(shown == expected, out.out);
}

// On a terminal (script(1) gives berth a pty) each layer is a bar, redrawn in place as bytes
// arrive (the slow proxy makes many updates).
BOOST_AUTO_TEST_CASE(a_pull_on_a_terminal_draws_bars_redrawn_in_place)
{
    auto proxy = start_peer({"proxy", "5013", "5000", "slow"});
    const auto command =
        join_argv({berth_path(), "--root", store_root, "pull", "127.0.0.1:5013/cli/two:1"});
    auto out = run_command({"script", "-qefc", command, "/dev/null"}, 60s);
    BOOST_TEST_REQUIRE(out.status == 0, out.err + out.out);
    BOOST_TEST(out.out.find("\x1b[2K") != std::string::npos, out.out); // a row cleared, redrawn
    BOOST_TEST(std::regex_search(out.out, std::regex("\x1b\\[[0-9]+A")), out.out); // rows up
    BOOST_TEST(std::regex_search(out.out, std::regex("\\[===+ *\\] .* [0-9.]+ [KMGT]?B/s")),
               out.out);
}

BOOST_AUTO_TEST_SUITE_END()

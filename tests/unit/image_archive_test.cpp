#define BOOST_TEST_MODULE image_archive
#include <boost/test/unit_test.hpp>
#include "image/internal.hpp"

using namespace berth::image;

namespace {
template <class R>
std::string why(const R& r)
{
    return r ? std::string() : r.error().message();
}
const std::string digest_a = "sha256:" + std::string(64, 'a');
} // namespace

BOOST_AUTO_TEST_SUITE(layout_index)

BOOST_AUTO_TEST_CASE(an_oci_index_gives_descriptors_and_names_containerd_name_first)
{
    const auto text = R"({"schemaVersion":2,"manifests":[
      {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                      digest_a +
                      R"(","size":12,"annotations":{"org.opencontainers.image.ref.name":"1.0",
        "io.containerd.image.name":"docker.io/library/x:1.0"}},
      {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                      digest_a + R"(","size":3}]})";
    auto entries = parse_layout_index(text);
    BOOST_TEST_REQUIRE(entries.has_value(), why(entries));
    BOOST_TEST_REQUIRE(entries->size() == 2u);
    BOOST_TEST((*entries)[0].name == "docker.io/library/x:1.0");
    BOOST_TEST((*entries)[0].descriptor.size == 12u);
    BOOST_TEST((*entries)[1].name.empty());
}

BOOST_AUTO_TEST_CASE(a_bad_digest_or_size_names_the_entry)
{
    auto bad =
        parse_layout_index(R"({"manifests":[{"digest":"sha256:../../etc/passwd","size":1}]})");
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().message().find("manifests[0]") != std::string::npos);
    auto negative =
        parse_layout_index(R"({"manifests":[{"digest":")" + digest_a + R"(","size":-1}]})");
    BOOST_TEST_REQUIRE(!negative.has_value());
    BOOST_TEST(negative.error().code == EINVAL);
    BOOST_TEST(!parse_layout_index(R"({"manifests":[]})").has_value());
    BOOST_TEST(!parse_layout_index("[]").has_value());
    BOOST_TEST(!parse_layout_index("{").has_value());
}

BOOST_AUTO_TEST_CASE(oci_layout_must_be_version_one)
{
    BOOST_TEST(check_oci_layout(R"({"imageLayoutVersion":"1.0.0"})").has_value());
    BOOST_TEST(!check_oci_layout(R"({"imageLayoutVersion":"2.0.0"})").has_value());
    BOOST_TEST(!check_oci_layout("null").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(docker_manifest)

BOOST_AUTO_TEST_CASE(a_docker_save_manifest_lists_config_layers_and_tags)
{
    auto images = parse_docker_manifest(
        R"([{"Config":"abc.json","RepoTags":["busybox:latest"],"Layers":["1/layer.tar","2/layer.tar"]},
            {"Config":"def.json","RepoTags":null,"Layers":[]}])");
    BOOST_TEST_REQUIRE(images.has_value(), why(images));
    BOOST_TEST_REQUIRE(images->size() == 2u);
    BOOST_TEST((*images)[0].layers.size() == 2u);
    BOOST_TEST((*images)[0].repo_tags == std::vector<std::string>{"busybox:latest"});
    BOOST_TEST((*images)[1].repo_tags.empty());
}

BOOST_AUTO_TEST_CASE(a_malformed_docker_manifest_is_einval_naming_the_image)
{
    auto no_config = parse_docker_manifest(R"([{"Layers":["a"]}])");
    BOOST_TEST_REQUIRE(!no_config.has_value());
    BOOST_TEST(no_config.error().message().find("manifest.json[0]") != std::string::npos);
    BOOST_TEST(!parse_docker_manifest(R"([{"Config":"a","Layers":[1]}])").has_value());
    BOOST_TEST(!parse_docker_manifest("{}").has_value());
    BOOST_TEST(!parse_docker_manifest("[]").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(member_paths)

BOOST_AUTO_TEST_CASE(paths_are_canonical_and_never_climb_out)
{
    BOOST_TEST(*archive_path("./blobs//sha256/x") == "blobs/sha256/x");
    BOOST_TEST(!archive_path("../evil").has_value());
    BOOST_TEST(!archive_path("a/../../evil").has_value());
    BOOST_TEST(!archive_path("/etc/passwd").has_value());
}

BOOST_AUTO_TEST_CASE(symlinks_resolve_inside_the_archive_or_not_at_all)
{
    BOOST_TEST(resolve_link("b/layer.tar", "../a/layer.tar") == "a/layer.tar");
    BOOST_TEST(resolve_link("layer.tar", "x/./y") == "x/y");
    BOOST_TEST(resolve_link("b/layer.tar", "../../etc/passwd").empty());
    BOOST_TEST(resolve_link("b/layer.tar", "/etc/passwd").empty());
}

BOOST_AUTO_TEST_SUITE_END()

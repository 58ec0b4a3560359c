// tests/root/image_support.cpp — see image_support.hpp.
#include "tests/root/image_support.hpp"
#include <dirent.h>
#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <nlohmann/json.hpp>
#include "image/internal.hpp"

namespace berth::test {
namespace {

void check(const Output& o, const std::string& what)
{
    if (o.status != 0)
        throw std::runtime_error(what + " failed: " + o.err + o.out);
}

std::string write_temp(const std::string& bytes)
{
    char path[] = "/tmp/berth-push-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0)
        throw std::runtime_error("mkstemp");
    ::close(fd);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

std::string source_root()
{
    const char* s = std::getenv("BERTH_SOURCE_ROOT"); // NOLINT(concurrency-mt-unsafe)
    return s ? s : ".";
}

} // namespace

void add_off_loopback_address()
{
    if (!run_command({"ip", "-o", "addr", "show", "to", off_loopback}).out.empty())
        return;
    const std::vector<std::string> argv{"ip", "addr", "add", off_loopback + "/32", "dev", "lo"};
    auto o = run_command(argv);
    if (o.status != 0)
        throw std::runtime_error(join_argv(argv) + ": " + o.err);
}

Registry::Registry(const std::string& storage, int port, const std::string& auth_yaml,
                   const std::string& address)
    : config_dir_("berth-registry"), storage_(storage), port_(port), address_(address)
{
    const auto config = config_dir_.path() + "/config.yml";
    std::ofstream(config)
        << "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        << "storage:\n  filesystem:\n    rootdirectory: " << storage
        << "\n  delete:\n    enabled: true\n"
        << "http:\n  addr: " << host() << "\n"
        << (auth_yaml.empty() ? "" : "auth:\n" + auth_yaml);
    process_ = std::make_unique<Command>(Command::start({"docker-registry", "serve", config}));
    for (int i = 0; i < 100; ++i) {
        auto o = run_command(
            {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url() + "/v2/"}, 5s);
        if (o.out != "000")
            return;
        std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("docker-registry did not come up: " + process_->err());
}

std::string Registry::blob_data_path(const std::string& digest) const
{
    const auto hex = digest.substr(7);
    return storage_ + "/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
}

std::unique_ptr<Command> start_peer(const std::vector<std::string>& args)
{
    std::vector<std::string> argv{"python3", source_root() + "/tests/root/image_peers.py"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto peer = std::make_unique<Command>(Command::start(argv));
    if (!peer->wait_for_output("ready", 10s))
        throw std::runtime_error("image_peers.py did not start: " + peer->err());
    return peer;
}

std::string push_blob(const Registry& r, const std::string& repo, const std::string& bytes)
{
    auto digest = image::sha256_digest(bytes);
    auto post = run_command({"curl", "-s", "-f", "-X", "POST", "-D", "-", "-o", "/dev/null",
                             r.url() + "/v2/" + repo + "/blobs/uploads/"});
    check(post, "start blob upload");
    std::string location;
    std::istringstream headers(post.out);
    for (std::string line; std::getline(headers, line);)
        if (line.size() > 9 && (line.rfind("Location:", 0) == 0 || line.rfind("location:", 0) == 0))
            location = line.substr(10, line.find_last_not_of("\r\n") - 9);
    if (location.rfind("http", 0) != 0)
        location = r.url() + location;
    const auto file = write_temp(bytes);
    auto put = run_command(
        {"curl", "-s", "-f", "-X", "PUT", "-H", "Content-Type: application/octet-stream",
         "--data-binary", "@" + file,
         location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + digest});
    ::unlink(file.c_str());
    check(put, "upload blob " + digest);
    return digest;
}

std::string push_manifest(const Registry& r, const std::string& repo, const std::string& tag,
                          const std::string& json, const std::string& media_type)
{
    const auto file = write_temp(json);
    auto put =
        run_command({"curl", "-s", "-f", "-X", "PUT", "-H", "Content-Type: " + media_type,
                     "--data-binary", "@" + file, r.url() + "/v2/" + repo + "/manifests/" + tag});
    ::unlink(file.c_str());
    check(put, "put manifest " + repo + ":" + tag);
    return image::sha256_digest(json);
}

namespace {

struct MediaTypes {
    const char* manifest;
    const char* config;
    const char* index;
};

MediaTypes media_types(ManifestFormat format)
{
    if (format == ManifestFormat::Docker)
        return {"application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.distribution.manifest.list.v2+json"};
    return {"application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.index.v1+json"};
}

} // namespace

std::string push_image(const Registry& r, const std::string& repo, const std::string& tag,
                       std::vector<Layer>& layers, const std::string& arch, ManifestFormat format)
{
    const auto types = media_types(format);
    nlohmann::json diff_ids = nlohmann::json::array(), descriptors = nlohmann::json::array();
    for (auto& l : layers) {
        if (l.blob.empty())
            l.blob = l.media_type.find("zstd") != std::string::npos   ? zstd_bytes(l.tar)
                     : l.media_type.find("gzip") != std::string::npos ? gzip_bytes(l.tar)
                                                                      : l.tar;
        diff_ids.push_back(image::sha256_digest(l.tar));
        descriptors.push_back({{"mediaType", l.media_type},
                               {"digest", push_blob(r, repo, l.blob)},
                               {"size", l.blob.size()}});
    }
    const nlohmann::json config_json = {{"architecture", arch},
                                        {"os", "linux"},
                                        {"config", nlohmann::json::object()},
                                        {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
    const auto config = config_json.dump();
    const nlohmann::json manifest = {{"schemaVersion", 2},
                                     {"mediaType", types.manifest},
                                     {"config",
                                      {{"mediaType", types.config},
                                       {"digest", push_blob(r, repo, config)},
                                       {"size", config.size()}}},
                                     {"layers", descriptors}};
    return push_manifest(r, repo, tag, manifest.dump(), types.manifest);
}

std::string push_index(const Registry& r, const std::string& repo, const std::string& tag,
                       const std::vector<std::pair<std::string, std::string>>& entries,
                       ManifestFormat format)
{
    const auto types = media_types(format);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [digest, arch] : entries) {
        auto o = run_command({"curl", "-s", "-f", "-H", cat("Accept: ", types.manifest),
                              cat(r.url(), "/v2/", repo, "/manifests/", digest)});
        check(o, "get manifest " + digest);
        list.push_back({{"mediaType", types.manifest},
                        {"digest", digest},
                        {"size", o.out.size()},
                        {"platform", {{"os", "linux"}, {"architecture", arch}}}});
    }
    const nlohmann::json index = {
        {"schemaVersion", 2}, {"mediaType", types.index}, {"manifests", list}};
    return push_manifest(r, repo, tag, index.dump(), types.index);
}

image::PullOptions quick_options()
{
    image::PullOptions o;
    o.attempts = 2;
    o.inactivity_timeout_s = 5;
    o.docker_config = "/nonexistent/config.json"; // never the host's own credentials
    return o;
}

std::string random_bytes(std::size_t n, unsigned seed)
{
    std::mt19937_64 rng(seed);
    std::string out(n, '\0');
    for (auto& c : out)
        c = static_cast<char>(rng());
    return out;
}

std::string random_bytes(std::size_t n)
{
    return random_bytes(n, static_cast<unsigned>(n));
}

RegistryStoreFixture::RegistryStoreFixture(const std::string& name, int port)
    : dir(name), registry(dir.path() + "/registry", port),
      store(*image::Store::open(dir.path() + "/store"))
{
}

Result<image::ImageRecord> RegistryStoreFixture::pull(const std::string& name,
                                                      const image::PullOptions& options)
{
    return store.pull(*image::parse_reference(registry.host() + "/" + name), options);
}

std::string RegistryStoreFixture::push_one(const std::string& repo, const std::string& tar)
{
    std::vector<Layer> layers{{tar}};
    push_image(registry, repo, "1", layers);
    return image::sha256_digest(layers[0].blob);
}

std::vector<std::string> list_dir(const std::string& path)
{
    std::vector<std::string> names;
    DIR* d = ::opendir(path.c_str());
    if (!d)
        return names;
    while (dirent* e = ::readdir(d)) { // NOLINT(concurrency-mt-unsafe): tests, one thread
        const std::string name = e->d_name;
        if (name != "." && name != "..")
            names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

std::string read_all(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

} // namespace berth::test

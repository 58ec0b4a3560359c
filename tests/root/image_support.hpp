// tests/root/image_support.hpp — what the image tests share: the whole test process moves into
// its own network and mount namespaces (lo up, / private), so registries listen on 127.0.0.1
// without touching the host and every mount vanishes with the process; a real docker-registry
// started per test; images pushed over the registry's HTTP API (blobs made by TarBuilder).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "image/image.hpp"
#include "tests/support/bundle.hpp"
#include "tests/support/namespaces.hpp" // PrivateNamespaces, the global fixture
#include "tests/support/process.hpp"
#include "tests/support/tar_builder.hpp"

namespace berth::test {

struct Layer {
    Layer(std::string t, std::string type = "application/vnd.oci.image.layer.v1.tar+gzip")
        : tar(std::move(t)), media_type(std::move(type))
    {
    }
    std::string tar; // uncompressed
    std::string media_type;
    std::string blob; // compressed per media_type (filled by push_image)
};

// 10.253.0.1 on lo of the test's own network namespace (PrivateNamespaces; no dummy interface:
// the kernel module may be missing): an address that is not in 127.0.0.0/8, so berth uses https
// to it unless told otherwise. add_off_loopback_address() adds it once.
inline const std::string off_loopback = "10.253.0.1";
void add_off_loopback_address();

class Registry { // a docker-registry process on address:port; killed and reaped at the end
public:
    // storage is shared between registries (push anonymously, serve with auth); auth is a YAML
    // fragment under `auth:` (empty: anonymous). address: 127.0.0.1, or off_loopback once added.
    Registry(const std::string& storage, int port, const std::string& auth_yaml = {},
             const std::string& address = "127.0.0.1");
    std::string host() const { return address_ + ":" + std::to_string(port_); }
    std::string url() const { return "http://" + host(); }
    const std::string& storage() const { return storage_; }
    // The registry's file holding a blob (to corrupt or truncate it behind its back).
    std::string blob_data_path(const std::string& digest) const;

private:
    TempDir config_dir_;
    std::string storage_;
    int port_;
    std::string address_;
    std::unique_ptr<Command> process_;
};

// A helper process (image_peers.py token|proxy ...) that printed "ready".
std::unique_ptr<Command> start_peer(const std::vector<std::string>& args);

std::string push_blob(const Registry& r, const std::string& repo, const std::string& bytes);
// The media types an image is pushed with: OCI's, or Docker's schema 2 (most of Docker Hub).
enum class ManifestFormat { Oci, Docker };
// Pushes layers, a config and a manifest; returns the manifest digest.
std::string push_image(const Registry& r, const std::string& repo, const std::string& tag,
                       std::vector<Layer>& layers, const std::string& arch = "amd64",
                       ManifestFormat format = ManifestFormat::Oci);
// Pushes an OCI index, or a Docker manifest list, of (manifest digest, arch) entries under tag;
// the entries must have been pushed in the same format.
std::string push_index(const Registry& r, const std::string& repo, const std::string& tag,
                       const std::vector<std::pair<std::string, std::string>>& entries,
                       ManifestFormat format = ManifestFormat::Oci);
std::string push_manifest(const Registry& r, const std::string& repo, const std::string& tag,
                          const std::string& json, const std::string& media_type);

// A result's error text for a test message, or "" when it holds a value.
template <class R>
std::string why(const R& r)
{
    return r ? std::string() : r.error().message();
}

image::PullOptions quick_options(); // few attempts, short timeouts: failing tests fail fast

// Incompressible bytes (a blob's size then sets its transfer time); the same n and seed give the
// same bytes. random_bytes(n) seeds with n.
std::string random_bytes(std::size_t n, unsigned seed);
std::string random_bytes(std::size_t n);

// The preamble most image tests share: a temp dir, a docker-registry on 127.0.0.1:port over
// dir/registry and an empty store at dir/store.
struct RegistryStoreFixture {
    explicit RegistryStoreFixture(const std::string& name, int port = 5000);
    TempDir dir;
    Registry registry;
    std::string store_root = dir.path() + "/store";
    image::Store store;
    // Pulls registry.host()/name ("repo:tag").
    Result<image::ImageRecord> pull(const std::string& name,
                                    const image::PullOptions& options = quick_options());
    // Pushes one layer as repo:1; returns the layer's compressed digest.
    std::string push_one(const std::string& repo, const std::string& tar);
};
std::vector<std::string> list_dir(const std::string& path); // names, sorted; empty if missing
std::string read_all(const std::string& path);

} // namespace berth::test

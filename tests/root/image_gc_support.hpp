// tests/root/image_gc_support.hpp — the gc tests' store fixture: a store in a temp dir (or on a
// small tmpfs of its own, for disk pressure) filled by loading archives built in memory.
#pragma once
#include <fcntl.h>
#include <sys/mount.h>
#include <boost/test/unit_test.hpp>
#include "base/files.hpp"
#include "tests/root/image_archive_support.hpp"
#include "tests/root/image_support.hpp"

namespace berth::test {

inline std::string shared_layer()
{
    return TarBuilder().file("shared", random_bytes(64 << 10, 1)).finish();
}

inline std::string own_layer(const std::string& name)
{
    return TarBuilder().file(name, random_bytes(256 << 10, name.size())).finish();
}

class Tmpfs { // a tmpfs of `bytes` at path (in the test's private mount namespace) until the end
public:
    Tmpfs(std::string path, std::size_t bytes) : path_(std::move(path))
    {
        BOOST_TEST_REQUIRE(make_directories(path_, 0700).has_value());
        const auto options = "size=" + std::to_string(bytes);
        BOOST_TEST_REQUIRE(::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) == 0);
    }
    Tmpfs(const Tmpfs&) = delete;
    Tmpfs& operator=(const Tmpfs&) = delete;
    ~Tmpfs() { ::umount2(path_.c_str(), MNT_DETACH); }

private:
    std::string path_;
};

struct GcFixture {
    TempDir dir{"berth-gc"};
    std::string root = dir.path() + "/store";
    image::Store store = *image::Store::open(root);

    image::ImageRecord load(const ArchiveImage& image)
    {
        const auto path = dir.path() + "/in.tar";
        BOOST_TEST_REQUIRE(write_file_atomic(path, tar_of(oci_members({image}))).has_value());
        const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        auto r = store.load(fd.get());
        BOOST_TEST_REQUIRE(r.has_value(), why(r));
        ::unlink(path.c_str());
        return r->front();
    }
    bool complete(const image::ImageRecord& r) const
    {
        bool ok = store.has_blob(r.manifest_digest) && store.has_blob(r.config_digest);
        for (const auto& l : r.layers)
            ok = ok && store.has_blob(l);
        for (const auto& c : r.chain)
            ok = ok && path_exists(store.snapshot_path(c));
        return ok;
    }
};

} // namespace berth::test

// tests/support/bundle.hpp — an OCI bundle in a fresh mkdtemp directory: a busybox rootfs made
// from the host's static /bin/busybox, and a config.json with `runc spec` defaults (terminal
// off, a unique linux.cgroupsPath "/berth-test-<pid>-<n>") that each test edits as JSON. The
// destructor removes the directory, but never across a mount point left behind by a buggy run.
#pragma once
#include <string>
#include <utility>
#include <vector>
#include <nlohmann/json.hpp>

namespace berth::test {

// `runc spec` (runc 1.1) output, process.terminal set to false.
nlohmann::json default_config();

class TempDir { // mkdtemp under /tmp; removed (not across mount points) by the destructor
public:
    explicit TempDir(const std::string& prefix);
    TempDir(TempDir&& other) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir& operator=(TempDir&&) = delete;
    ~TempDir();
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

class Bundle {
public:
    Bundle(); // busybox rootfs + default_config(); config.json is written by write()
    Bundle(Bundle&& other) noexcept
        : config(std::move(other.config)), dir_(std::move(other.dir_)),
          cgroups_path_(std::exchange(other.cgroups_path_, {}))
    {
    }
    ~Bundle(); // a runtime that failed to clean up: kills what is left in our test cgroup
    nlohmann::json config;

    const std::string& dir() const { return dir_.path(); }
    std::string rootfs() const { return dir() + "/rootfs"; }
    std::string config_path() const { return dir() + "/config.json"; }
    const std::string& cgroups_path() const { return cgroups_path_; }
    void write() const; // config -> config.json
    void set_args(const std::vector<std::string>& args);
    void add_mount(nlohmann::json mount);

private:
    TempDir dir_;
    std::string cgroups_path_;
};

// Copies /bin/busybox into <rootfs>/bin and links every applet to it; makes /etc, /tmp, /root,
// /proc, /sys, /dev so the default mounts have targets. Shared by tests, bench and examples.
void make_busybox_rootfs(const std::string& rootfs);

// True if any v1 hierarchy or the v2 mount holds a directory named cgroups_path.
bool cgroup_exists(const std::string& cgroups_path);
// SIGKILLs the processes in the test cgroup cgroups_path (it must start with "/berth-test-":
// only our own subtree) in every hierarchy, and removes its directories.
void destroy_test_cgroup(const std::string& cgroups_path);
// True if the host mount table has a mount point under path (a leak from a container).
bool has_mounts_under(const std::string& path);

} // namespace berth::test

#include "tests/support/bundle.hpp"
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include "runtime/spec.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;

namespace berth::test {
namespace {

std::atomic<unsigned> g_bundles{0};

// Mount points from /proc/self/mountinfo (field 5), octal escapes decoded.
std::vector<std::string> mount_points()
{
    std::ifstream in("/proc/self/mountinfo");
    std::vector<std::string> points;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string skip, point;
        fields >> skip >> skip >> skip >> skip >> point;
        std::string decoded;
        for (std::size_t i = 0; i < point.size(); ++i) {
            if (point[i] == '\\' && i + 3 < point.size()) {
                decoded += static_cast<char>(std::stoi(point.substr(i + 1, 3), nullptr, 8));
                i += 3;
            } else {
                decoded += point[i];
            }
        }
        points.push_back(decoded);
    }
    return points;
}

} // namespace

nlohmann::json default_config()
{
    // runtime::default_spec() is held to runc's output byte for byte (spec_write unit test).
    auto spec = runtime::default_spec();
    spec.process->terminal = false; // output goes to pipes and memfds, not a console
    auto text = runtime::spec_to_json(spec);
    if (!text)
        throw std::runtime_error("default config: " + text.error().message());
    return nlohmann::json::parse(*text);
}

TempDir::TempDir(const std::string& prefix)
{
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        throw std::runtime_error("mkdtemp " + pattern + " failed");
    path_ = pattern;
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {}))
{
}

TempDir::~TempDir()
{
    if (path_.empty())
        return;
    // remove_all would descend into a leaked mount and delete the host's files: refuse.
    if (has_mounts_under(path_))
        return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

bool has_mounts_under(const std::string& path)
{
    for (const auto& point : mount_points())
        if (point == path || point.rfind(path + "/", 0) == 0)
            return true;
    return false;
}

void make_busybox_rootfs(const std::string& rootfs)
{
    for (const char* dir : {"bin", "etc", "tmp", "root", "proc", "sys", "dev"})
        fs::create_directories(fs::path(rootfs) / dir);
    fs::permissions(fs::path(rootfs) / "tmp", fs::perms::all | fs::perms::sticky_bit);
    fs::copy_file("/bin/busybox", fs::path(rootfs) / "bin/busybox");
    const auto applets = run_command({"/bin/busybox", "--list"}, 10s);
    std::istringstream names(applets.out);
    std::string name;
    while (std::getline(names, name)) {
        if (name.empty() || name == "busybox" || name.find('/') != std::string::npos)
            continue;
        fs::create_symlink("busybox", fs::path(rootfs) / "bin" / name);
    }
}

Bundle::Bundle()
    : config(default_config()), dir_("berth-bundle"),
      cgroups_path_("/berth-test-" + std::to_string(::getpid()) + "-" + std::to_string(g_bundles++))
{
    make_busybox_rootfs(rootfs());
    config["linux"]["cgroupsPath"] = cgroups_path_;
}

Bundle::~Bundle()
{
    if (!cgroups_path_.empty())
        destroy_test_cgroup(cgroups_path_);
}

void Bundle::write() const
{
    std::ofstream out(config_path(), std::ios::trunc);
    out << config.dump(2) << "\n";
}

void Bundle::set_args(const std::vector<std::string>& args)
{
    config["process"]["args"] = args;
}

void Bundle::add_mount(nlohmann::json mount)
{
    config["mounts"].push_back(std::move(mount));
}

void destroy_test_cgroup(const std::string& cgroups_path)
{
    if (cgroups_path.rfind("/berth-test-", 0) != 0 || cgroups_path.find("..") != std::string::npos)
        return;
    std::error_code ignored;
    std::vector<std::string> dirs{"/sys/fs/cgroup" + cgroups_path};
    for (const auto& entry : fs::directory_iterator("/sys/fs/cgroup", ignored))
        if (entry.is_directory(ignored) && !entry.is_symlink(ignored))
            dirs.push_back(entry.path().string() + cgroups_path);
    for (int attempt = 0; attempt < 100; ++attempt) {
        bool left = false;
        for (const auto& dir : dirs) {
            if (!fs::exists(dir, ignored))
                continue;
            std::ifstream procs(dir + "/cgroup.procs");
            for (pid_t pid; procs >> pid;)
                ::kill(pid, SIGKILL); // in our own test cgroup: started by this test
            std::ofstream(dir + "/freezer.state") << "THAWED"; // frozen tasks cannot die
            if (::rmdir(dir.c_str()) < 0 && errno != ENOENT)
                left = true;
        }
        if (!left)
            return;
        ::usleep(10000);
    }
}

bool cgroup_exists(const std::string& cgroups_path)
{
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator("/sys/fs/cgroup", ignored)) {
        if (!entry.is_directory(ignored) || entry.is_symlink(ignored))
            continue;
        if (fs::exists(entry.path().string() + cgroups_path, ignored))
            return true;
    }
    return fs::exists("/sys/fs/cgroup" + cgroups_path, ignored);
}

} // namespace berth::test

#include "tests/support/runner.hpp"
#include <unistd.h>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;

namespace berth::test {
namespace {
std::atomic<unsigned> g_ids{0};
}

Runtime::Runtime(std::string name, std::string binary)
    : name_(std::move(name)), binary_(std::move(binary)), root_("berth-state")
{
}

Runtime::~Runtime()
{
    if (root_.path().empty())
        return; // moved from
    for (const auto& id : ids_)
        (void)cli({"delete", "--force", id}, 30s);
}

std::vector<std::string> Runtime::argv(const std::vector<std::string>& args) const
{
    std::vector<std::string> all{binary_, "--root", root_.path()};
    // Test bundles use runc-compatible cgroupsPath "/berth-test-<pid>-<n>", outside berth's
    // default cgroup root "/berth": allowed explicitly, as an engine picking its own paths would.
    if (name_ != "runc")
        all.emplace_back("--cgroups-outside-root");
    all.insert(all.end(), args.begin(), args.end());
    return all;
}

Output Runtime::cli(const std::vector<std::string>& args, std::chrono::milliseconds timeout)
{
    return run_command(argv(args), timeout);
}

Command Runtime::start_cli(const std::vector<std::string>& args)
{
    return Command::start(argv(args));
}

std::string Runtime::new_id(const std::string& hint)
{
    auto id = hint + "-" + std::to_string(::getpid()) + "-" + std::to_string(g_ids++);
    ids_.insert(id);
    return id;
}

void Runtime::forget(const std::string& id)
{
    ids_.erase(id);
}

std::string Runtime::status(const std::string& id)
{
    const auto state = nlohmann::json::parse(cli({"state", id}).out, nullptr, false);
    return state.is_object() && state.contains("status") ? state["status"].get<std::string>() : "";
}

bool Runtime::wait_status(const std::string& id, const std::string& want)
{
    for (int i = 0; i < 200; ++i) {
        if (status(id) == want)
            return true;
        std::this_thread::sleep_for(25ms);
    }
    return false;
}

Output Runtime::run(const Bundle& bundle, std::chrono::milliseconds timeout)
{
    const auto id = new_id("compat");
    auto output = cli({"run", "--bundle", bundle.dir(), id}, timeout);
    (void)cli({"delete", "--force", id}, timeout);
    forget(id);
    return output;
}

Runtime runc_runtime()
{
    return Runtime("runc", "runc");
}

std::optional<std::string> berth_runtime_path()
{
    if (const char* explicit_path = std::getenv("BERTH_RUNTIME"))
        return fs::exists(explicit_path) ? std::optional<std::string>(explicit_path) : std::nullopt;
    const char* build = std::getenv("BERTH_BUILD_ROOT");
    if (!build)
        return std::nullopt;
    const auto path = std::string(build) + "/runtime/cli/berth-runtime";
    if (!fs::exists(path))
        return std::nullopt;
    return path;
}

std::vector<std::string> list_dir(const std::string& path)
{
    std::vector<std::string> names;
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(path, ignored))
        names.push_back(entry.path().filename().string());
    return names;
}

} // namespace berth::test

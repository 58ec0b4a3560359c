// tests/support/runner.hpp — one OCI runtime binary (runc or berth-runtime) with its own state
// root in a fresh temp directory, so the same bundle can be run under both and the outputs
// compared. Every container a Runtime started is deleted with --force when it goes away.
#pragma once
#include <optional>
#include <set>
#include <string>
#include <vector>
#include "tests/support/bundle.hpp"
#include "tests/support/process.hpp"

namespace berth::test {

class Runtime {
public:
    Runtime(std::string name, std::string binary);
    Runtime(Runtime&&) = default;
    ~Runtime(); // delete --force of every id it used

    const std::string& name() const { return name_; }
    const std::string& binary() const { return binary_; }
    const std::string& root() const { return root_.path(); }

    // binary --root <root> [--cgroups-outside-root for berth-runtime] args...
    std::vector<std::string> argv(const std::vector<std::string>& args) const;
    Output cli(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 30s);
    Command start_cli(const std::vector<std::string>& args);

    // A container id unique to this test process; remembered for cleanup.
    std::string new_id(const std::string& hint);
    // `run --bundle dir id` (foreground), then `delete --force id`.
    Output run(const Bundle& bundle, std::chrono::milliseconds timeout = 15s);
    void forget(const std::string& id); // cleaned up by the test itself
    // The status `state id` reports ("created", "running", ...), "" when state fails.
    std::string status(const std::string& id);
    // Asks status(id) every 25 ms, for 5 s at most: whether it became `want`.
    bool wait_status(const std::string& id, const std::string& want);

private:
    std::string name_, binary_;
    TempDir root_;
    std::set<std::string> ids_;
};

Runtime runc_runtime();
// $BERTH_BUILD_ROOT/runtime/cli/berth-runtime (or $BERTH_RUNTIME), if that file exists.
std::optional<std::string> berth_runtime_path();

// Entries in a state root (a runtime must leave none after delete).
std::vector<std::string> list_dir(const std::string& path);

} // namespace berth::test

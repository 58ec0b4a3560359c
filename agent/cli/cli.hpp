// agent/cli/cli.hpp — the berth CLI's commands, each one parsed-arguments-in, exit-code-out.
#pragma once
#include <string>
#include <vector>
#include "image/image.hpp"

namespace berth::cli {

// Paths: flags beat BERTH_STATE_DIR / BERTH_RUNTIME_DIR / BERTH_SOCKET beat these defaults,
// the same ones berthd uses.
struct Globals {
    std::string root; // image store; empty: <state_dir>/images
    std::string state_dir = "/var/lib/berth";
    std::string runtime_dir = "/run/berth";
    std::string socket; // empty: <runtime_dir>/berthd.sock
    bool json = false;
    std::string image_root() const { return root.empty() ? state_dir + "/images" : root; }
    std::string socket_path() const
    {
        return socket.empty() ? runtime_dir + "/berthd.sock" : socket;
    }
};

int cmd_pull(const Globals& g, const std::vector<std::string>& args);
int cmd_images(const Globals& g, const std::vector<std::string>& args);
int cmd_rmi(const Globals& g, const std::vector<std::string>& args);
int cmd_inspect(const Globals& g, const std::vector<std::string>& args);
int cmd_load(const Globals& g, const std::vector<std::string>& args);
int cmd_save(const Globals& g, const std::vector<std::string>& args);
int cmd_prune(const Globals& g, const std::vector<std::string>& args);

// Task commands: clients of berthd's socket (task_commands.cpp, logs_command.cpp,
// exec_command.cpp).
int cmd_run_task(const Globals& g, const std::vector<std::string>& args);
int cmd_ps(const Globals& g, const std::vector<std::string>& args);
int cmd_describe(const Globals& g, const std::vector<std::string>& args);
int cmd_stop(const Globals& g, const std::vector<std::string>& args);
int cmd_logs(const Globals& g, const std::vector<std::string>& args);
int cmd_exec(const Globals& g, const std::vector<std::string>& args);

// Progress for one pull: redraws per-layer bars on a terminal, prints a line per finished layer
// otherwise. Thread-safe (called from the pull's worker threads).
class ProgressView {
public:
    explicit ProgressView(bool terminal) : terminal_(terminal) {}
    void update(const image::Progress& p);
    void done();

private:
    struct Row {
        std::string layer;
        std::uint64_t done = 0, total = 0;
        bool finished = false;
        double started = 0;
    };
    void draw();
    bool terminal_;
    std::vector<Row> rows_;
    std::size_t drawn_ = 0;
};

} // namespace berth::cli

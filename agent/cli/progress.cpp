// agent/cli/progress.cpp — see cli.hpp.
#include <chrono>
#include <cstdio>
#include <mutex>
#include "agent/cli/cli.hpp"

namespace berth::cli {
namespace {

std::mutex progress_mutex;

double now_s()
{
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string human(double bytes)
{
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (bytes >= 1000 && u < 4) {
        bytes /= 1000;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", bytes, units[u]);
    return buf;
}

} // namespace

void ProgressView::update(const image::Progress& p)
{
    const std::lock_guard lock(progress_mutex);
    Row* row = nullptr;
    for (auto& r : rows_)
        if (r.layer == p.layer)
            row = &r;
    if (!row) {
        rows_.push_back({p.layer, 0, p.total, false, now_s()});
        row = &rows_.back();
    }
    const bool newly_finished = p.finished && !row->finished;
    row->done = p.done;
    row->total = p.total;
    row->finished = p.finished;
    if (terminal_) {
        draw();
    } else if (newly_finished) {
        const double secs = std::max(now_s() - row->started, 1e-3);
        std::printf("%s: done %s in %.1fs (%s/s)\n", row->layer.substr(7, 12).c_str(),
                    human(static_cast<double>(row->total)).c_str(), secs,
                    human(static_cast<double>(row->done) / secs).c_str());
        std::fflush(stdout);
    }
}

void ProgressView::draw()
{
    if (drawn_ > 0)
        std::printf("\x1b[%zuA", drawn_); // back to the first row
    for (const auto& r : rows_) {
        const double frac =
            r.total ? static_cast<double>(r.done) / static_cast<double>(r.total) : 1;
        const int width = 30;
        const int filled = static_cast<int>(frac * width);
        const double secs = std::max(now_s() - r.started, 1e-3);
        std::printf("\x1b[2K%s [%-*s] %s / %s %s/s%s\n", r.layer.substr(7, 12).c_str(), width,
                    std::string(static_cast<std::size_t>(filled), '=').c_str(),
                    human(static_cast<double>(r.done)).c_str(),
                    human(static_cast<double>(r.total)).c_str(),
                    human(static_cast<double>(r.done) / secs).c_str(), r.finished ? " done" : "");
    }
    drawn_ = rows_.size();
    std::fflush(stdout);
}

void ProgressView::done()
{
    const std::lock_guard lock(progress_mutex);
    if (terminal_ && !rows_.empty())
        draw();
}

} // namespace berth::cli

// image/file_closer.cpp — see file_closer.hpp.
#include "image/file_closer.hpp"
#include <unistd.h>

namespace berth::image {

void FileCloser::close(Fd fd, std::size_t bytes)
{
    batch_.push_back({fd.release(), bytes});
    if (batch_.size() >= batch_size)
        hand_over();
}

void FileCloser::hand_over()
{
    if (batch_.empty())
        return;
    std::unique_lock lock(mutex_);
    if (!thread_.joinable()) {
        closing_ = false;
        thread_ = std::thread([this] { run(); });
    }
    changed_.wait(lock, [&] { return files_.size() < max_pending; });
    files_.insert(files_.end(), batch_.begin(), batch_.end());
    batch_.clear();
    changed_.notify_all();
}

void FileCloser::drain()
{
    hand_over();
    {
        const std::lock_guard lock(mutex_);
        if (!thread_.joinable())
            return;
        closing_ = true;
        changed_.notify_all();
    }
    thread_.join();
}

void FileCloser::run()
{
    std::size_t unsynced = 0;
    std::vector<Pending> taken;
    std::unique_lock lock(mutex_);
    for (;;) {
        changed_.wait(lock, [&] { return closing_ || !files_.empty(); });
        if (files_.empty())
            return; // closing_, and nothing left
        taken.swap(files_);
        changed_.notify_all();
        lock.unlock();
        for (const auto& [raw, bytes] : taken) {
            Fd fd(raw);
            unsynced += bytes;
            if (unsynced >= sync_every) {
                // Best effort: the writer's own syncfs at the end reports errors.
                (void)::syncfs(fd.get());
                unsynced = 0;
            }
        } // each fd closes here
        taken.clear();
        lock.lock();
    }
}

} // namespace berth::image

// image/file_closer.cpp — see file_closer.hpp.
#include "image/file_closer.hpp"
#include <fcntl.h>
#include <unistd.h>
#include <system_error>

namespace berth::image {

FileCloser::FileCloser(int sync_fd)
    : sync_fd_(::openat(sync_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
{
}

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
    if (!closer_.joinable()) {
        closing_ = false;
        try {
            closer_ = std::thread([this] { run_close(); });
        } catch (const std::system_error&) { // no thread to be had (EAGAIN): closed here
            lock.unlock();
            for (const auto& file : batch_)
                Fd(file.fd).reset();
            batch_.clear();
            return;
        }
        try {
            syncer_ = std::thread([this] { run_sync(); });
        } catch (const std::system_error&) { // no syncs along the way; the final one still comes
        }
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
        if (!closer_.joinable())
            return;
        closing_ = true;
        changed_.notify_all();
    }
    closer_.join();
    if (syncer_.joinable())
        syncer_.join();
}

void FileCloser::run_close()
{
    std::vector<Pending> taken;
    std::unique_lock lock(mutex_);
    for (;;) {
        changed_.wait(lock, [&] { return closing_ || !files_.empty(); });
        if (files_.empty())
            return; // closing_, and nothing left
        taken.swap(files_);
        changed_.notify_all();
        lock.unlock();
        std::size_t bytes = 0;
        for (const auto& p : taken) {
            bytes += p.bytes;
            Fd(p.fd).reset();
        }
        taken.clear();
        lock.lock();
        unsynced_ += bytes;
        if (unsynced_ >= sync_every)
            changed_.notify_all(); // the sync thread
    }
}

void FileCloser::run_sync()
{
    std::unique_lock lock(mutex_);
    for (;;) {
        changed_.wait(lock, [&] { return closing_ || unsynced_ >= sync_every; });
        if (closing_)
            return; // the writer's own syncfs follows
        unsynced_ = 0;
        lock.unlock();
        if (sync_fd_.valid())
            (void)::syncfs(sync_fd_.get()); // best effort: the writer's final syncfs reports errors
        lock.lock();
    }
}

} // namespace berth::image

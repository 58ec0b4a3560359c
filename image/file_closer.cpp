// image/file_closer.cpp — see file_closer.hpp.
#include "image/file_closer.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <system_error>
#include "base/strings.hpp"

namespace berth::image {

FileCloser::FileCloser(int sync_fd)
    : sync_fd_(::openat(sync_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
{
}

void FileCloser::close(Fd fd, std::size_t bytes, std::int64_t mtime, std::string path)
{
    batch_.push_back({fd.release(), bytes, mtime, std::move(path)});
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
                finish_file(file, error_); // no other thread: error_ is ours
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

Result<void> FileCloser::drain()
{
    hand_over();
    {
        const std::lock_guard lock(mutex_);
        if (closer_.joinable()) {
            closing_ = true;
            changed_.notify_all();
        }
    }
    if (closer_.joinable())
        closer_.join();
    if (syncer_.joinable())
        syncer_.join();
    if (error_) {
        Error e = std::move(*error_);
        error_.reset();
        return e;
    }
    return {};
}

// Why futimens here and not on the writer: it is a journalled inode update of its own (about 2
// us of the writer's 30 per file), and the closing thread has the time to spare.
void FileCloser::finish_file(const Pending& file, std::optional<Error>& error)
{
    const Fd fd(file.fd);
    const timespec times[2] = {{file.mtime, 0}, {file.mtime, 0}};
    if (::futimens(fd.get(), times) < 0 && !error)
        error = Error::from_errno("layer entry ", quoted(file.path), ": set times");
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
        std::optional<Error> error;
        for (const auto& p : taken) {
            bytes += p.bytes;
            finish_file(p, error);
        }
        taken.clear();
        lock.lock();
        if (error && !error_)
            error_ = std::move(error);
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

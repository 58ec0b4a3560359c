// image/file_closer.hpp — the layer writer's files are closed on a thread of its own, and a
// second thread calls syncfs each time another 16 MiB were written. Why: the pipeline's writer
// thread is its bottleneck (file creation in the kernel), and a layer's data used to be written
// back only by the one syncfs before commit, after the last file: 0.7-1.1 s for /usr/include's
// 294 MB here, 3-9 s for /usr/share's 780 MB, the largest single part of a pull. Synced along
// the way, the writeback and the journal commits overlap the unpack (done by the kernel's
// flusher threads while the sync thread waits) and the last syncfs has only the tail left. The
// syncfs calls never hold up the closing (a first version synced on the closing thread: the
// writer then waited for each syncfs once 256 files were pending, and big layers got slower).
// Durability is unchanged: the writer's final syncfs still comes before the snapshot is
// committed, and reports any writeback error since the snapshot's fd was opened. Not an fsync per
// file. Internal to image/.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <string>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"

namespace berth::image {

class FileCloser {
public:
    // sync_fd: any directory fd on the layer's filesystem. The sync thread opens its own file
    // description of it: the kernel reports a writeback error to syncfs once per open file, so
    // syncing through the writer's own fd would consume the error its final syncfs must see.
    explicit FileCloser(int sync_fd);
    FileCloser(const FileCloser&) = delete;
    FileCloser& operator=(const FileCloser&) = delete;
    ~FileCloser() { (void)drain(); }
    // Takes fd, to which bytes were written, sets its times to mtime (futimens: the last change
    // of the file, so after its data and metadata) and closes it. Called from one thread (the
    // writer's); files go to the closing thread in batches (one wake-up per file cost the writer
    // more than close()). Blocks while max_pending files wait, which bounds the fds held open.
    // path names the file in the error drain() returns.
    void close(Fd fd, std::size_t bytes, std::int64_t mtime, std::string path);
    // Hands the files not yet handed over to the closing thread, without waiting.
    void flush() { hand_over(); }
    // Returns once every file handed over is closed and no syncfs runs; the threads end (the
    // next close() starts them again). The first futimens error since the last drain(), if any.
    Result<void> drain();

private:
    static constexpr std::size_t max_pending = 256, batch_size = 32;
    // 16 MiB: the device's writeback starts early and rarely idles (each syncfs waits for it,
    // then the next starts at once), so the final syncfs finds little left: its tail measured
    // 0.10-0.29 s here against 0.11-0.70 s at 64 MiB (gz image, loaded machine; 8 MiB was no
    // better and commits the journal twice as often).
    static constexpr std::size_t sync_every = std::size_t{16} << 20;
    struct Pending {
        int fd;
        std::size_t bytes;
        std::int64_t mtime;
        std::string path;
    };
    void hand_over(); // the caller's batch to the closing thread
    void run_close();
    // futimens and close; the first error kept in error.
    static void finish_file(const Pending& file, std::optional<Error>& error);
    void run_sync();

    Fd sync_fd_; // its own open file (see the constructor); none: no syncs along the way
    std::vector<Pending> batch_; // the caller's, not yet handed over
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Pending> files_;
    std::size_t unsynced_ = 0; // bytes closed since the last syncfs began
    bool closing_ = false;
    std::optional<Error> error_; // the first futimens that failed (under mutex_ once threads run)
    std::thread closer_, syncer_;
};

} // namespace berth::image

// image/chunk_queue.hpp — a bounded byte-chunk queue between a layer's download thread (curl's
// write callback: sha256, the blob file, inflate and the diffID sha256) and its unpack thread
// (tar parse and the writer's system calls), so the two halves of the pipeline run on two cores.
// Chunks are recycled (spare()/recycle()): the inflated stream is hundreds of MB, and a fresh
// 256 KiB allocation per chunk would be an mmap, page faults and an munmap each time.
// Internal to image/.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace berth::image {

class ChunkQueue {
public:
    explicit ChunkQueue(std::size_t max_bytes) : max_bytes_(max_bytes) {}
    // Blocks while the queue is full; false once the consumer stopped (it failed).
    bool push(std::string chunk)
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stopped_ || bytes_ < max_bytes_; });
        if (stopped_)
            return false;
        bytes_ += chunk.size();
        chunks_.push_back(std::move(chunk));
        changed_.notify_all();
        return true;
    }
    // The next chunk, or nullopt once the producer closed the queue and it is empty.
    std::optional<std::string> pop()
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return closed_ || !chunks_.empty(); });
        if (chunks_.empty())
            return std::nullopt;
        auto chunk = std::move(chunks_.front());
        chunks_.pop_front();
        bytes_ -= chunk.size();
        changed_.notify_all();
        return chunk;
    }
    // A chunk the consumer gave back, if any, as it was: its size is kept, so the producer's
    // resize to a chunk's size is a no-op, not a 256 KiB memset (it overwrites the bytes anyway);
    // else an empty string.
    std::string spare()
    {
        const std::lock_guard lock(mutex_);
        if (spares_.empty())
            return {};
        auto s = std::move(spares_.back());
        spares_.pop_back();
        return s;
    }
    void recycle(std::string chunk) // consumer: done with chunk
    {
        const std::lock_guard lock(mutex_);
        if (spares_.size() < max_spares)
            spares_.push_back(std::move(chunk));
    }
    void close() // producer: no more chunks
    {
        const std::lock_guard lock(mutex_);
        closed_ = true;
        changed_.notify_all();
    }
    void stop() // consumer: gives up; producers stop waiting
    {
        const std::lock_guard lock(mutex_);
        stopped_ = true;
        chunks_.clear();
        bytes_ = 0;
        changed_.notify_all();
    }

private:
    static constexpr std::size_t max_spares = 64;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::string> chunks_;
    std::vector<std::string> spares_;
    std::size_t bytes_ = 0, max_bytes_;
    bool closed_ = false, stopped_ = false;
};

} // namespace berth::image

// image/chunk_queue.hpp — a bounded byte-chunk queue between a layer's download thread (curl's
// write callback: sha256, the blob file, inflate and the diffID sha256) and its unpack thread
// (tar parse and the writer's system calls), so the two halves of the pipeline run on two cores.
// Chunks are recycled (spare()/recycle()): the inflated stream is hundreds of MB, and a fresh
// 256 KiB allocation per chunk would be an mmap, page faults and an munmap each time.
// One producer thread and one consumer thread: the wake-up flags (producer_waits_,
// consumer_waits_) assume it. Internal to image/.
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
    // Blocks while the queue is full; false once the consumer stopped (it failed). Waking the
    // producer only once half the queue was drained (fewer wake-ups when zstd's producer outruns
    // the writer) was tried: no faster, and gz pulls looked slower with it in two loaded runs
    // (docs/BENCHMARKS.md, Round `zst`), so it resumes as soon as there is room.
    bool push(std::string chunk)
    {
        std::unique_lock lock(mutex_);
        if (!stopped_ && bytes_ >= max_bytes_) {
            producer_waits_ = true;
            space_.wait(lock, [&] { return stopped_ || bytes_ < max_bytes_; });
            producer_waits_ = false;
        }
        if (stopped_)
            return false;
        bytes_ += chunk.size();
        chunks_.push_back(std::move(chunk));
        if (consumer_waits_)
            data_.notify_one();
        return true;
    }
    // The next chunk, or nullopt once the producer closed the queue and it is empty.
    std::optional<std::string> pop()
    {
        std::unique_lock lock(mutex_);
        if (chunks_.empty() && !closed_) {
            consumer_waits_ = true;
            data_.wait(lock, [&] { return closed_ || !chunks_.empty(); });
            consumer_waits_ = false;
        }
        if (chunks_.empty())
            return std::nullopt;
        auto chunk = std::move(chunks_.front());
        chunks_.pop_front();
        bytes_ -= chunk.size();
        if (producer_waits_ && bytes_ < max_bytes_)
            space_.notify_one();
        return chunk;
    }
    // Whether the producer waits in push() (for tests: it is then blocked, not about to block).
    bool producer_waits()
    {
        const std::lock_guard lock(mutex_);
        return producer_waits_;
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
        data_.notify_all();
    }
    void stop() // consumer: gives up; the producer stops waiting
    {
        const std::lock_guard lock(mutex_);
        stopped_ = true;
        chunks_.clear();
        bytes_ = 0;
        space_.notify_all();
        data_.notify_all();
    }

private:
    static constexpr std::size_t max_spares = 64;
    std::mutex mutex_;
    std::condition_variable space_, data_; // the producer waits for space, the consumer for data
    std::deque<std::string> chunks_;
    std::vector<std::string> spares_;
    std::size_t bytes_ = 0, max_bytes_;
    bool closed_ = false, stopped_ = false;
    bool producer_waits_ = false, consumer_waits_ = false; // whom a change must wake
};

} // namespace berth::image

// agent/engine/pulls.hpp — images pulled once for concurrent tasks, at most `limit` at a time.
// Pure bookkeeping for the agent's event loop: a task's PullImage action goes through request();
// only the first asker of an image starts a pull, later askers join it, and when more than
// `limit` distinct images are wanted the rest wait in FIFO order (unbounded parallel pulls
// thrash the disk: amazon-ecs-agent issue #4308). complete() hands the result to every waiter
// and names the next image to start.
#pragma once
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::engine {

struct PullWaiter {
    std::string task; // task ARN
    std::string container;
};

enum class PullStart {
    Now,    // start pulling this image
    Joined, // a pull of this image is running or queued: wait for it
    Queued, // `limit` pulls are running: wait; complete() will name this image
};

class PullQueue {
public:
    explicit PullQueue(std::size_t limit) : limit_(limit == 0 ? 1 : limit) {}

    PullStart request(const std::string& image, PullWaiter waiter);
    struct Done {
        std::vector<PullWaiter> waiters; // give each the pull's result
        std::optional<std::string> next; // start pulling this queued image now
    };
    // The pull of `image` finished (done or failed). Unknown images give an empty Done.
    Done complete(const std::string& image);
    // A task stopped: it no longer waits for any image (its running pulls go on for others).
    void forget(const std::string& task);

    std::size_t running() const { return running_; }
    std::size_t queued() const { return queue_.size(); }

private:
    struct Entry {
        bool started = false;
        std::vector<PullWaiter> waiters;
    };
    std::size_t limit_;
    std::size_t running_ = 0;
    std::map<std::string, Entry> images_;
    std::deque<std::string> queue_;
};

} // namespace berth::engine

// agent/engine/pulls.cpp — one pull per image, at most `limit` at a time, FIFO beyond that.
#include "agent/engine/pulls.hpp"
#include <algorithm>
#include <utility>

namespace berth::engine {

PullStart PullQueue::request(const std::string& image, PullWaiter waiter)
{
    auto [it, fresh] = images_.try_emplace(image);
    it->second.waiters.push_back(std::move(waiter));
    if (!fresh)
        return PullStart::Joined;
    if (running_ < limit_) {
        it->second.started = true;
        ++running_;
        return PullStart::Now;
    }
    queue_.push_back(image);
    return PullStart::Queued;
}

PullQueue::Done PullQueue::complete(const std::string& image)
{
    Done done;
    auto it = images_.find(image);
    if (it == images_.end() || !it->second.started)
        return done; // not a pull that was started: a stale or duplicate answer
    done.waiters = std::move(it->second.waiters);
    images_.erase(it);
    --running_;
    // The next queued image that still has someone waiting for it.
    while (!queue_.empty()) {
        auto next = std::move(queue_.front());
        queue_.pop_front();
        auto n = images_.find(next);
        if (n == images_.end())
            continue;
        if (n->second.waiters.empty()) {
            images_.erase(n);
            continue;
        }
        n->second.started = true;
        ++running_;
        done.next = std::move(next);
        break;
    }
    return done;
}

void PullQueue::forget(const std::string& task)
{
    for (auto& [image, entry] : images_)
        std::erase_if(entry.waiters, [&](const PullWaiter& w) { return w.task == task; });
}

} // namespace berth::engine

// runtime/netns.hpp — the container's new network namespace, made ahead of the init's clone.
//
// Making a network namespace is the costliest part of the init's clone on this kind of host
// (about 0.55 ms of kernel work: the loopback device, per-namespace sysctl tables, netfilter and
// routing state; then an RTM_NEWLINK to bring lo up). It needs nothing from the container, so
// create makes it on a thread of its own while it saves the state and makes the cgroup
// (docs/BENCHMARKS.md, "Start time"), and the stage joins it with setns() before it clones the
// init, instead of CLONE_NEWNET in the clone. Only for a container without a user namespace: a
// network namespace is owned by the user namespace of the task that makes it, and a container
// with one of its own must get a network namespace owned by it (made by the clone, as before).
// One difference in accounting: the namespace's kernel memory (lo, sysctl tables, ...) is charged
// to the memory cgroup of the thread that makes it (berth-runtime's or the supervisor's), not to
// the container's, for as long as the namespace lives (runc and crun charge it to the
// container: CLONE_NEWNET in its cgroup). Of berthd's tasks only networkMode "none" is
// concerned: bridge and awsvpc tasks join the namespace net/ made, host tasks have none.
// Runs as root on the host.
#pragma once
#include <optional>
#include <thread>
#include "base/fd.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

// Brings up lo (ifindex 1) of the caller's network namespace with one acked RTM_NEWLINK, as runc
// does for a new one. Raw system calls only: the init calls it between clone and exec.
int loopback_up() noexcept;

// Whether create makes the spec's network namespace ahead (NetnsMaker): a new one asked for,
// and no user namespace, new or joined.
bool premade_netns_fits(const Spec& spec);

// A new network namespace with lo up, made on a thread started by the constructor. take()
// joins it and returns an fd of the namespace, or an invalid Fd when the thread could not be
// started or the namespace not made: the caller then clones the init with CLONE_NEWNET, which
// reports the error where it always did. The destructor joins a thread nobody took from; the
// namespace goes with its last fd.
class NetnsMaker {
public:
    NetnsMaker();
    NetnsMaker(const NetnsMaker&) = delete;
    NetnsMaker& operator=(const NetnsMaker&) = delete;
    ~NetnsMaker();
    Fd take();

private:
    std::optional<Fd> result_; // written by the thread, read after join
    std::thread thread_;
};

} // namespace berth::runtime

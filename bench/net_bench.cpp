// bench/net_bench.cpp — berth's half of bench/net_setup.sh: in a fresh network and mount
// namespace of its own (never the host's), opens a Network, adds N bridge-mode task networks
// with one dynamic TCP port each, then removes them; prints milliseconds per task for each
// phase. Usage: net_bench N
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include "base/strings.hpp"
#include "net/net.hpp"

using namespace berth;
using Clock = std::chrono::steady_clock;

namespace {

double ms_per(Clock::duration total, int n)
{
    return std::chrono::duration<double, std::milli>(total).count() / n;
}

// CPU time (user + system) of this process so far: unlike wall time, barely moved by other
// load on the machine, so runs on a busy host can still be compared.
Clock::duration cpu_time()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto us = [](const timeval& t) {
        return std::chrono::microseconds(t.tv_sec * 1000000 + t.tv_usec);
    };
    return std::chrono::duration_cast<Clock::duration>(us(usage.ru_utime) + us(usage.ru_stime));
}

int fail(const char* what, const Error& error)
{
    std::fprintf(stderr, "net_bench: %s: %s\n", what, error.message().c_str());
    return 1;
}

} // namespace

int main(int argc, char** argv)
{
    const int n = argc > 1 ? berth::parse_int<int>(argv[1]).value_or(0) : 200;
    if (n <= 0) {
        std::fprintf(stderr, "usage: net_bench N (N > 0, as root)\n");
        return 2;
    }
    if (::unshare(CLONE_NEWNS | CLONE_NEWNET) < 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
        std::perror("net_bench: private network and mount namespace");
        return 2;
    }
    char dir[] = "/tmp/berth-net-bench-XXXXXX";
    // The run dir on tmpfs, as /run is on a systemd host: netns bind mounts and their state do
    // not outlive a reboot, so that is where berth keeps them.
    if (::mkdtemp(dir) == nullptr || ::mount("tmpfs", dir, "tmpfs", 0, "size=64m") < 0)
        return 2;
    net::Config config;
    config.run_dir = dir;
    config.subnet = "10.213.0.0/16";
    auto network = net::Network::open(config);
    if (!network)
        return fail("open", network.error());
    const auto start = Clock::now();
    const auto cpu_start = cpu_time();
    for (int i = 0; i < n; ++i) {
        auto task = network->add_task({"t" + std::to_string(i),
                                       net::Mode::Bridge,
                                       {net::PortMapping{80, 0, net::Protocol::Tcp, ""}},
                                       ""});
        if (!task)
            return fail("add", task.error());
    }
    const auto added = Clock::now();
    const auto cpu_added = cpu_time();
    for (int i = 0; i < n; ++i)
        if (auto r = network->remove_task("t" + std::to_string(i)); !r)
            return fail("remove", r.error());
    const auto removed = Clock::now();
    const auto cpu_removed = cpu_time();
    (void)network->destroy_all();
    std::printf("berth N=%d setup_ms_per_task=%.3f teardown_ms_per_task=%.3f "
                "setup_cpu_ms_per_task=%.3f teardown_cpu_ms_per_task=%.3f\n",
                n, ms_per(added - start, n), ms_per(removed - added, n),
                ms_per(cpu_added - cpu_start, n), ms_per(cpu_removed - cpu_added, n));
    ::umount2(dir, MNT_DETACH);
    return ::rmdir(dir) == 0 ? 0 : 1;
}

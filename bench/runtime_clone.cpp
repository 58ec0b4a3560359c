// bench/runtime_clone.cpp — what a create costs the caller in page-table copies (issue 14): the
// time from clone to the reaped exit of a child that only exits, from a caller whose RSS is
// 0 MB, 256 MB and 1 GB (anonymous memory, touched), for
//   fork            the stage today: a copy of the caller's page tables
//   vfork           clone(CLONE_VM | CLONE_VFORK) on its own stack: no copy, the caller waits
//   fork+fork       a create today: the stage forks, then clones the init (two copies)
//   vfork+fork      a vfork-style stage that clones the init (still one copy: the init waits
//                   in `created` running our code, so it needs an address space of its own)
// Usage: runtime_clone_bench [-n N]. No root needed; nothing outside this process is touched.
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int exit_at_once(void* /*unused*/)
{
    _exit(0);
}

int fork_one_more(void* /*unused*/)
{
    const pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int status = 0;
    waitpid(pid, &status, 0);
    _exit(0);
}

// Runs body in a child made by fork (vm false) or clone(CLONE_VM|CLONE_VFORK) (vm true) and
// reaps it; the wall time in microseconds.
double one(bool vm, int (*body)(void*))
{
    static std::vector<char> stack(std::size_t{256} * 1024);
    const auto start = Clock::now();
    pid_t pid;
    if (vm) {
        pid = clone(body, stack.data() + stack.size(), CLONE_VM | CLONE_VFORK | SIGCHLD, nullptr);
    } else {
        pid = fork();
        if (pid == 0)
            body(nullptr);
    }
    if (pid < 0) {
        std::perror("clone");
        std::exit(1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    int n = 200;
    if (argc == 3 && std::strcmp(argv[1], "-n") == 0)
        n = static_cast<int>(std::strtol(argv[2], nullptr, 10));
    if (n <= 0) {
        std::fprintf(stderr, "usage: runtime_clone_bench [-n N], N > 0\n");
        return 2;
    }
    std::printf("%-10s %-12s %12s %12s\n", "rss_mb", "clone", "median_us", "mean_us");
    std::size_t have = 0;
    for (const std::size_t mb : {0UL, 256UL, 1024UL}) {
        const std::size_t bytes = (mb - have) << 20;
        if (bytes > 0) {
            constexpr int anonymous = MAP_PRIVATE | MAP_ANONYMOUS;
            // cppcheck-suppress invalidFunctionArg ; fd -1 is what MAP_ANONYMOUS asks for
            void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, anonymous, -1, 0);
            if (p == MAP_FAILED) {
                std::perror("mmap");
                return 1;
            }
            std::memset(p, 1, bytes); // touched: the pages (and their tables) exist
            have = mb;
        }
        struct Case {
            const char* name;
            bool vm;
            int (*body)(void*);
        };
        for (const Case c :
             {Case{"fork", false, exit_at_once}, Case{"vfork", true, exit_at_once},
              Case{"fork+fork", false, fork_one_more}, Case{"vfork+fork", true, fork_one_more}}) {
            std::vector<double> t;
            t.reserve(static_cast<std::size_t>(n));
            for (int i = 0; i < n; ++i)
                t.push_back(one(c.vm, c.body));
            double sum = 0;
            for (const double x : t)
                sum += x;
            std::printf("%-10zu %-12s %12.1f %12.1f\n", mb, c.name, median(t), sum / n);
        }
    }
    return 0;
}

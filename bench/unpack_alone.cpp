// bench/unpack_alone.cpp — berth's layer writer alone: an uncompressed layer tar, read into memory
// first (not timed), parsed and written into a new directory by the same TarParser and
// LayerWriter a pull uses, with the writer's final syncfs; no download, digest or inflate. The
// floor a pull could reach if all of its other work were free: bench/image_pull.sh times it
// beside `berth pull` (the "unpack alone" row) to show how close a pull comes to the speed of
// file creation. build/bench/unpack_alone_bench LAYER.tar NEW_DIR prints its wall time, its CPU
// time, the entries written and the machine's CPU ticks over the same window.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>
#include <utility>
#include <string>
#include "base/fd.hpp"
#include "base/files.hpp"
#include "base/strings.hpp"
#include "image/internal.hpp"

namespace {

// The whole file (berth::read_file stops at 16 MiB: it reads configs); errno set on failure.
std::optional<std::string> slurp(const char* path)
{
    std::FILE* f = std::fopen(path, "rb");
    if (f == nullptr)
        return std::nullopt;
    std::string bytes;
    struct stat st {};
    if (::fstat(::fileno(f), &st) == 0 && st.st_size > 0)
        bytes.reserve(static_cast<std::size_t>(st.st_size));
    char buf[1 << 16];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
        bytes.append(buf, n);
    const bool ok = std::ferror(f) == 0;
    const int saved = errno;
    std::fclose(f);
    errno = saved;
    return ok ? std::optional(std::move(bytes)) : std::nullopt;
}

// The machine's CPU ticks so far, busy and in all, as bench/image_pull_netns.sh's ticks() counts
// them (/proc/stat: busy is user, nice, system, irq and softirq; all adds idle and iowait; stolen
// time is in neither).
std::pair<unsigned long long, unsigned long long> machine_ticks()
{
    const auto stat = berth::read_file("/proc/stat");
    if (!stat)
        return {0, 0};
    const std::string_view line = std::string_view(*stat).substr(0, stat->find('\n'));
    unsigned long long busy = 0, all = 0;
    int field = -1; // "cpu" itself
    for (const auto word : berth::split(line, ' ')) {
        if (word.empty() || field++ < 0)
            continue;
        if (field > 7)
            break; // the 8th is steal
        const auto v = berth::parse_int<unsigned long long>(word);
        if (!v)
            return {0, 0};
        all += *v;
        if (field != 4 && field != 5) // idle, iowait
            busy += *v;
    }
    return {busy, all};
}

double cpu_seconds()
{
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru); // every thread's, the closing and sync threads too
    const auto s = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return s(ru.ru_utime) + s(ru.ru_stime);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s LAYER.tar NEW_DIR\n", argv[0]);
        return 2;
    }
    const auto tar = slurp(argv[1]);
    if (!tar) {
        std::perror(argv[1]);
        return 1;
    }
    if (::mkdir(argv[2], 0755) < 0) {
        std::perror(argv[2]);
        return 1;
    }
    auto root = berth::open_at(AT_FDCWD, argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!root) {
        std::fprintf(stderr, "%s: %s\n", argv[2], root.error().message().c_str());
        return 1;
    }
    const auto ticks0 = machine_ticks();
    const auto cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    // No size limit (a pull passes its max_layer_bytes): the limit only counts sparse files.
    berth::image::LayerWriter writer(std::move(*root));
    berth::image::TarParser parser(writer);
    constexpr std::size_t chunk = std::size_t{256} << 10; // the pipeline's chunk size
    berth::Result<void> r;
    for (std::size_t at = 0; r && at < tar->size(); at += chunk)
        r = parser.feed(tar->data() + at, std::min(chunk, tar->size() - at));
    if (r)
        r = parser.finish();
    if (r)
        r = writer.finish();
    if (!r) {
        std::fprintf(stderr, "unpack: %s\n", r.error().message().c_str());
        return 1;
    }
    const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - t0;
    const auto cpu = cpu_seconds() - cpu0;
    const auto ticks1 = machine_ticks();
    // The machine's ticks over the same window: bench/image_pull.sh's share of busy CPUs.
    std::printf("%.3f s wall, %.3f s CPU, %llu entries, busy %llu %llu %llu %llu (ticks)\n",
                wall.count(), cpu, static_cast<unsigned long long>(parser.entries()), ticks0.first,
                ticks0.second, ticks1.first, ticks1.second);
    return 0;
}

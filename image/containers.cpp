// image/containers.cpp — see containers.hpp. Runs as root on the host: reads /proc/self/mountinfo
// and may write a list file into an old container dir.
#include "image/containers.hpp"
#include <sys/stat.h>
#include <climits>
#include <cstdlib>
#include "base/files.hpp"
#include "base/strings.hpp"
#include "image/image.hpp"
#include "image/store_fs.hpp"

namespace berth::image {
namespace {

constexpr std::size_t max_list = std::size_t{16} << 20;

bool is_octal(char c)
{
    return c >= '0' && c <= '7';
}

// mountinfo escapes space, tab, newline and backslash (and overlay ',' and '=') as \ooo.
std::string unescape(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && is_octal(s[i + 1]) && s[i + 1] <= '3' &&
            is_octal(s[i + 2]) && is_octal(s[i + 3])) {
            out +=
                static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::string_view> fields(std::string_view line)
{
    std::vector<std::string_view> out;
    for (auto f : split(line, ' '))
        if (!f.empty())
            out.push_back(f);
    return out;
}

// The lowerdirs of one mountinfo line's super options, or nothing if it is not an overlay.
std::vector<std::string> lowerdirs_of(const std::vector<std::string_view>& f, std::size_t dash)
{
    std::vector<std::string> out;
    if (dash + 3 >= f.size() || f[dash + 1] != "overlay")
        return out;
    for (auto option : split(f[dash + 3], ',')) {
        if (option.starts_with("lowerdir+=")) {
            out.push_back(unescape(option.substr(10)));
        } else if (option.starts_with("lowerdir=")) {
            for (auto dir : split(option.substr(9), ':'))
                if (!dir.empty())
                    out.push_back(unescape(dir));
        }
    }
    return out;
}

bool same_file(const std::string& a, const std::string& b)
{
    struct stat sa {
    }, sb{};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

// An old container dir: the chains its overlay mounts, base first, or nothing if unknown.
std::vector<std::string> chains_from_mount(const std::string& root, const std::string& dir,
                                           const std::string& mountinfo)
{
    char real[PATH_MAX];
    if (!::realpath((dir + "/merged").c_str(), real))
        return {};
    const auto lowers = overlay_lowerdirs(mountinfo, real);
    std::vector<std::string> chains;
    for (auto it = lowers.rbegin(); it != lowers.rend(); ++it) {
        const auto slash = it->rfind('/');
        const auto hex = it->substr(slash == std::string::npos ? 0 : slash + 1);
        const auto chain = "sha256:" + hex;
        if (!is_valid_digest(chain) || !same_file(*it, cat(root, "/snapshots/", hex)))
            return {}; // a lower dir that is not one of our snapshots: cannot tell
        chains.push_back(chain);
    }
    return chains;
}

void add_list(ContainerUse& use, std::string_view text)
{
    std::string_view top;
    for (auto line : split(text, '\n'))
        if (!line.empty()) {
            use.chains.emplace(line);
            top = line;
        }
    if (!top.empty())
        use.tops.emplace(top);
}

} // namespace

std::vector<std::string> overlay_lowerdirs(std::string_view mountinfo, std::string_view mount_point)
{
    std::vector<std::string> found;
    for (auto line : split(mountinfo, '\n')) {
        const auto f = fields(line);
        std::size_t dash = 0;
        while (dash < f.size() && f[dash] != "-")
            ++dash;
        if (dash < 5 || dash == f.size() || unescape(f[4]) != mount_point)
            continue;
        found = lowerdirs_of(f, dash); // the last mount on a path is the visible one
    }
    return found;
}

ContainerUse scan_containers(const std::string& root)
{
    ContainerUse use;
    std::string mountinfo;
    bool mountinfo_read = false;
    for (const auto& id : dir_names(root + "/containers")) {
        const auto dir = cat(root, "/containers/", id);
        if (auto text = read_file(dir + "/snapshots", max_list)) {
            add_list(use, *text);
            continue;
        }
        // No list: being made (the list comes before upper), being removed (upper goes
        // first), or made before lists existed (an upper dir but no list).
        if (!path_exists(dir + "/upper"))
            continue;
        if (!mountinfo_read) {
            auto text = read_file("/proc/self/mountinfo", max_list);
            mountinfo = text ? std::move(*text) : std::string();
            mountinfo_read = true;
        }
        const auto chains = chains_from_mount(root, dir, mountinfo);
        if (chains.empty()) {
            use.unknown.push_back(id);
            continue;
        }
        std::string list;
        for (const auto& c : chains)
            list += c + "\n";
        (void)write_verified(dir, dir + "/snapshots", list); // next time it reads as a new one
        add_list(use, list);
    }
    return use;
}

} // namespace berth::image

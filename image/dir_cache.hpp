// image/dir_cache.hpp — the layer writer's recently used parent directories, by layer path: a
// tar stream walks a tree depth first, so after a subdirectory its parent's remaining entries
// come back to a directory resolved a moment ago. A one-entry cache resolved about 3,600 of
// /usr/include's 2,000 directories again (openat2 from the root each time). Each entry also
// keeps what decides a new file's group (the directory's gid and set-group-ID bit), so the
// writer knows when its fchown would change nothing. The fds stay valid if the directory is
// replaced later in the layer, so the writer clears the cache whenever it removes anything.
// Internal to image/.
#pragma once
#include <sys/types.h>
#include <array>
#include <cstdint>
#include <string>
#include "base/fd.hpp"

namespace berth::image {

struct CachedDir {
    std::string path; // cleaned layer path, "" for the root
    Fd fd;            // O_PATH or O_RDONLY, O_DIRECTORY, resolved in the root
    gid_t gid = 0;
    bool setgid = false;
    std::uint64_t used = 0;
};

class DirCache {
public:
    CachedDir* find(const std::string& path)
    {
        for (auto& d : dirs_)
            if (d.fd.valid() && d.path == path) {
                d.used = ++clock_;
                return &d;
            }
        return nullptr;
    }
    CachedDir& insert(std::string path, Fd fd, gid_t gid, bool setgid)
    {
        // The path's own slot when cached already (its gid and set-group-ID may have changed:
        // a later entry for the same directory), else an empty one, else the least recently used.
        CachedDir* slot = find(path);
        if (slot == nullptr) {
            slot = &dirs_[0];
            for (auto& d : dirs_)
                if (d.used < slot->used)
                    slot = &d;
        }
        slot->path = std::move(path);
        slot->fd = std::move(fd);
        slot->gid = gid;
        slot->setgid = setgid;
        slot->used = ++clock_;
        return *slot;
    }
    void clear()
    {
        for (auto& d : dirs_) {
            d.fd.reset();
            d.used = 0;
        }
    }

private:
    std::array<CachedDir, 16> dirs_;
    std::uint64_t clock_ = 0;
};

} // namespace berth::image

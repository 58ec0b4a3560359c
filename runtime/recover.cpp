// runtime/recover.cpp — recover(): after a restart, every container under the state root as a
// handle, the exit records of those that ended while nobody watched, and no half-made ones left
// behind (they are removed, and named, instead of hidden).
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <cerrno>
#include "base/files.hpp"
#include "runtime/exit_record.hpp"
#include "runtime/state_store.hpp"

namespace berth::runtime {
namespace {

Result<std::vector<std::string>> container_ids(const Options& options)
{
    std::vector<std::string> ids;
    DIR* dir = ::opendir(options.root.c_str());
    if (!dir) {
        if (errno == ENOENT)
            return ids;
        return Error::from_errno("open state root ", berth::quoted(options.root));
    }
    while (const dirent* entry = ::readdir(dir))
        if (store::check_id(entry->d_name) &&
            (entry->d_type == DT_DIR || entry->d_type == DT_UNKNOWN))
            ids.emplace_back(entry->d_name);
    ::closedir(dir);
    return ids;
}

// The state of a container no create is working on: the lock is taken (without waiting) before
// the state is read, so a create that finishes between the two cannot be mistaken for one that
// died. nullopt: a create (or another verb) holds the lock; leave the container alone.
std::optional<Result<store::Record>> load_unlocked(const Options& options, const std::string& id)
{
    auto dir = open_at(AT_FDCWD, store::container_dir(options, id), O_RDONLY | O_DIRECTORY);
    if (!dir)
        return Result<store::Record>(std::move(dir).error());
    if (::flock(dir->get(), LOCK_EX | LOCK_NB) < 0)
        return std::nullopt; // EWOULDBLOCK: busy; released when dir closes
    return store::load(options, id);
}

// No complete state (none, unreadable, or pid 0) while nobody held the lock: a create that died
// midway. delete removes exactly what it made (cgroup included).
bool half_made(const Result<store::Record>& record)
{
    return !record || record->pid <= 0;
}

// A stopped container's init record. Supervised, the handle waits for the supervisor to have
// written it (it may be reaping right now); otherwise it is on disk or it never will be: then
// it ended with no reaper (its supervisor died), and the record says so as a restarted
// supervisor's would (an OOM kill its cgroup counted included). nullopt: unreadable.
std::optional<ExitRecord> ended_record(const Options& options, const store::Record& record)
{
    const auto& id = record.id;
    if (!options.supervisor_socket.empty()) {
        // Not started for this: a supervisor that is not running reaps nothing, so the record
        // on disk is final (or there is none: it ended with no reaper).
        Options present_only = options;
        present_only.start_supervisor = nullptr;
        auto c = Container::load(present_only, id);
        if (c) {
            // A failed wait is the supervisor gone between the watch and this wait (its exit
            // pipe closed with no record: EPIPE), or a record it could not read back: either
            // way no supervisor writes one any more, and the disk below has the last word.
            if (auto r = c->init().wait())
                return *r;
        }
    }
    auto r = read_exit_record(exit_record_path(options, id));
    if (r && !*r)
        return make_unreaped_init_record(record.pid, record.cgroup_path);
    return r ? *r : std::nullopt;
}

} // namespace

Result<Recovered> recover(const Options& options)
{
    auto ids = container_ids(options);
    if (!ids)
        return std::move(ids).error().wrap("recover");
    Recovered out;
    for (const auto& id : *ids) {
        auto loaded = load_unlocked(options, id);
        if (!loaded) // a create in progress (locked) in another thread or process
            continue;
        auto& record = *loaded;
        if (half_made(record)) {
            if (auto r = remove(options, id, true); !r)
                return std::move(r).error().wrap("recover: remove half-made container");
            out.removed_incomplete.push_back(id);
            continue;
        }
        if (store::observe_status(options, *record) == Status::Stopped) {
            out.ended.push_back({id, ended_record(options, *record)});
            continue;
        }
        auto container = Container::load(options, id);
        if (!container) {
            // A supervisor that died while answering the watch (a narrow window: its answer
            // never came, and a request it may have read is not sent again by the client). A
            // watch is safe to ask twice: the container ended meanwhile, or runs on and a
            // second load asks again (starting a supervisor where options allow). Failing
            // here would fail the whole recover(), and with it the agent's restart.
            if (store::observe_status(options, *record) == Status::Stopped) {
                out.ended.push_back({id, ended_record(options, *record)});
                continue;
            }
            container = Container::load(options, id);
        }
        if (!container)
            return std::move(container).error().wrap("recover");
        out.live.push_back(std::move(*container));
    }
    return out;
}

} // namespace berth::runtime

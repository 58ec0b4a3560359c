// runtime/status.cpp — a record's status as the kernel sees it now (process, fifo, freezer).
#include <fcntl.h>
#include "base/files.hpp"
#include "runtime/state_store.hpp"

namespace berth::runtime::store {

Status observe_status(const Options& options, const Record& record)
{
    Observed observed;
    observed.same_boot = same_boot(record);
    if (auto start = process_start_time(record.pid))
        observed.start_time = *start;
    observed.fifo_exists = path_exists(fifo_path(options, record.id));
    if (observed.start_time && !observed.fifo_exists) {
        if (auto cgroup = cgroups::Cgroup::open(record.cgroup_path))
            if (auto frozen = cgroup->frozen())
                observed.frozen = *frozen;
    }
    return derive_status(record, observed);
}

Error wrong_state(Status status, std::string_view wanted)
{
    return Error{EBUSY, cat("container is ", status_name(status), ", not ", wanted), true};
}

} // namespace berth::runtime::store

// tests/support/task_list_engine.hpp — a read-only stand-in for berthd's task engine (the
// api::ControlPlane seam) serving a fixed list of tasks: what the introspection and task
// metadata tests and fuzz harnesses answer from. Task changes are refused; list_tasks counts its
// calls and keeps the last filter. Derive to add container details or statistics samples.
// Header-only: the fuzz build includes it as the unit tests do.
#pragma once
#include <string>
#include <vector>
#include "agent/api/api.hpp"

namespace berth::test {

class TaskListEngine : public api::ControlPlane {
public:
    Result<api::RunTaskResult> run_task(const api::RunTaskRequest&) override
    {
        return Error::invalid("read-only stand-in");
    }
    Result<std::optional<store::Task>> stop_task(const api::StopTaskRequest&) override
    {
        return Error::invalid("read-only stand-in");
    }
    Result<std::vector<store::Task>> describe_tasks(const std::string&,
                                                    const std::vector<std::string>&) override
    {
        return tasks;
    }
    Result<std::vector<store::Task>> list_tasks(const store::TaskFilter& filter) override
    {
        ++lookups;
        last_filter = filter;
        return tasks;
    }
    std::vector<store::Task> tasks;
    int lookups = 0; // list_tasks calls (berthd runs each on its loop)
    store::TaskFilter last_filter;
};

} // namespace berth::test

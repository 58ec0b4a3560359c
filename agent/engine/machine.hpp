// agent/engine/machine.hpp — internal: the state behind engine::Task and the steps every
// event handler shares. Level-triggered like the ECS agent's task manager (progressTask): each
// call changes the recorded facts, then progress() derives every action now possible from them,
// so a machine rebuilt from persisted facts resumes by calling progress() once.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>
#include "agent/engine/engine.hpp"

namespace berth::engine {

inline constexpr std::size_t whole_task = static_cast<std::size_t>(-1);

enum class TimerKind {
    Kill,       // SIGTERM sent stop_timeout ago: SIGKILL if still running (again every 10 s)
    Probe,      // the next health probe is due
    Dependency, // a dependency's startTimeout ends: re-check dependents
    Cleanup,    // cleanup_wait after STOPPED: remove the containers
};

struct Task::Machine {
    struct Timer {
        TimerKind kind;
        std::size_t container;
        Time due;
    };
    struct Flight { // an action sent whose answer is awaited; failed if not answered by deadline
        ActionKind kind;
        std::size_t container;
        Time deadline;
    };

    TaskSpec spec;
    TaskState state;
    std::vector<Timer> timers;
    std::vector<Flight> flights;
    std::vector<bool> term_sent; // per container; not persisted: SIGTERM is resent after restore
    bool removed = false;
    std::vector<Action> out; // the actions of the call in progress

    // machine.cpp: driving the task toward its desired status
    void progress(Time now);
    void fail_task(StopCode code, std::string reason, Time now);
    void set_container(std::size_t c, ContainerStatus status, std::string reason = {});
    void set_task(TaskStatus status);
    void report_container(std::size_t c);

    // dependencies.cpp: dependsOn (graph.go)
    struct Verdict {
        bool resolved = false;
        std::optional<std::string> failure; // can never resolve: why
    };
    Verdict dependencies(std::size_t c, Time now) const;
    void arm_dependency_timer(std::size_t c);

    // events.cpp: answers and timers
    void on_event(const Event& event, Time now);
    void on_timers(Time now);
    void on_exit(std::size_t c, std::optional<int> code, std::string reason, Time now);
    void on_health(std::size_t c, bool healthy, Time now);

    // helpers
    std::optional<std::size_t> index_of(std::string_view name) const;
    bool in_flight(ActionKind kind, std::size_t c) const;
    bool take_flight(ActionKind kind, std::size_t c); // false: no such flight (a stale answer)
    void send(Action action, std::size_t c, Time deadline_or_zero);
    void arm(TimerKind kind, std::size_t c, Time due);
    void disarm(TimerKind kind, std::size_t c);
    Duration stop_timeout(std::size_t c) const;
};

} // namespace berth::engine

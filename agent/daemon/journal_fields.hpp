// agent/daemon/journal_fields.hpp — a container with logDriver journald: its runtime create
// options switched from the json-file log to journald with the fields Docker's journald driver
// sets plus the task's (taskdef::journald_fields), and the marker `berth logs` finds it by.
#pragma once
#include <string>
#include "agent/taskdef/taskdef.hpp"
#include "runtime/runtime.hpp"
#include "runtime/spec.hpp"

namespace berth::daemon {

struct JournaldTask {
    std::string task_arn, cluster, task_definition_arn;
};

// Whether container `name` of def logs to journald.
bool logs_to_journald(const taskdef::TaskDefinition& def, std::string_view name);
// co (made by create_options) switched to journald: log_path cleared, log_fields set from the
// container, its spec (environment, labels) and the task. Pure.
Result<void> use_journald(runtime::CreateOptions& co, const taskdef::TaskDefinition& def,
                          std::string_view name, const runtime::Spec& spec,
                          const JournaldTask& task);
// <log_path>.journald: what `berth logs` reads for a journald container instead of its log: the
// journal match "CONTAINER_ID_FULL=<runtime id>" and a newline.
std::string journald_marker_path(const std::string& log_path);

} // namespace berth::daemon

// agent/cli/resolve.hpp — TASK on the command line: a full task ARN, the task id (the ARN's last
// component), or a prefix of the id that only one task has.
#pragma once
#include <string>
#include <string_view>
#include <vector>
#include "agent/cli/client.hpp"
#include "base/result.hpp"

namespace berth::cli {

// The last component of a task ARN (the whole text when it has no '/').
std::string task_id(std::string_view arn);
// The one ARN of arns that text names. ENOENT: none ("no task ... (berth ps --all lists
// them)"); EINVAL: an empty text, or a prefix several tasks share (they are named).
Result<std::string> resolve_task(const std::vector<std::string>& arns, std::string_view text);
// Every task berthd knows, in every desired status (ListTasks, all pages).
Result<std::vector<std::string>> all_task_arns(const AgentClient& client);
// Whether text has a task id's shape: 32 hex digits (berthd's, as ECS's) or a UUID.
bool is_task_id(std::string_view text);
// The task ids of the runtime ids that are <task-id>-<container>: the part before "-<container>"
// must be a whole task id (a container name may itself contain '-' and end like another's).
std::vector<std::string> tasks_with_container(const std::vector<std::string>& runtime_ids,
                                              std::string_view container);
// all_task_arns, then resolve_task.
Result<std::string> find_task(const AgentClient& client, std::string_view text);

} // namespace berth::cli

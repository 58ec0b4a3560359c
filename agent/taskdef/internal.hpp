// agent/taskdef/internal.hpp — internal to taskdef/ (and its tests): one parser per part of a
// task definition, each in its own file, all reporting errors by JSON path.
#pragma once
#include <string_view>
#include "agent/taskdef/json_read.hpp"
#include "agent/taskdef/taskdef.hpp"

namespace berth::taskdef::internal {

// ECS names (family, container, volume): 1..255 of letters, digits, '-' and '_'.
bool is_valid_name(std::string_view name);

Result<ContainerDefinition> parse_container(const nlohmann::json& value,
                                            const std::string& path); // container.cpp
Result<HealthCheck> parse_health_check(const nlohmann::json& value,
                                       const std::string& path); // container_extra.cpp
Result<LinuxParameters> parse_linux_parameters(const nlohmann::json& value,
                                               const std::string& path); // container_extra.cpp
Result<LogConfiguration> parse_log_configuration(const nlohmann::json& value,
                                                 const std::string& path); // container_extra.cpp
Result<Ulimit> parse_ulimit(const nlohmann::json& value, const std::string& path);
Result<Volume> parse_volume(const nlohmann::json& value, const std::string& path); // task.cpp
// "256", "1 vcpu", "0.5 vCPU" -> CPU units; "512", "1 GB", "0.5GB" -> MiB.
Result<int> parse_task_cpu(std::string_view text, const std::string& path);
Result<int> parse_task_memory(std::string_view text, const std::string& path);
// Rules between fields (names, references, modes, sums): checks.cpp.
Result<void> check_task(const TaskDefinition& task);

std::string_view condition_name(Condition condition);
std::string_view network_mode_name(NetworkMode mode);
std::string_view namespace_mode_name(NamespaceMode mode);
std::string_view log_driver_name(LogDriver driver);
// One logConfiguration option of the journald driver (log_journald.cpp).
Result<void> check_journald_option(const std::string& key, const std::string& value,
                                   const std::string& path);

} // namespace berth::taskdef::internal

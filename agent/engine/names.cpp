// agent/engine/names.cpp — the wire names of the engine's enums, as the ECS API spells them.
#include "agent/engine/engine.hpp"

namespace berth::engine {

std::string_view name_of(TaskStatus status)
{
    switch (status) {
    case TaskStatus::Provisioning: return "PROVISIONING";
    case TaskStatus::Pending: return "PENDING";
    case TaskStatus::Activating: return "ACTIVATING";
    case TaskStatus::Running: return "RUNNING";
    case TaskStatus::Deactivating: return "DEACTIVATING";
    case TaskStatus::Stopping: return "STOPPING";
    case TaskStatus::Deprovisioning: return "DEPROVISIONING";
    case TaskStatus::Stopped: return "STOPPED";
    }
    return "UNKNOWN";
}

std::string_view name_of(ContainerStatus status)
{
    switch (status) {
    case ContainerStatus::None: return "NONE";
    case ContainerStatus::ManifestPulled: return "MANIFEST_PULLED";
    case ContainerStatus::Pulled: return "PULLED";
    case ContainerStatus::Created: return "CREATED";
    case ContainerStatus::Running: return "RUNNING";
    case ContainerStatus::ResourcesProvisioned: return "RESOURCES_PROVISIONED";
    case ContainerStatus::Stopped: return "STOPPED";
    }
    return "UNKNOWN";
}

std::string_view name_of(HealthStatus status)
{
    switch (status) {
    case HealthStatus::Unknown: return "UNKNOWN";
    case HealthStatus::Healthy: return "HEALTHY";
    case HealthStatus::Unhealthy: return "UNHEALTHY";
    }
    return "UNKNOWN";
}

std::string_view name_of(Condition condition)
{
    switch (condition) {
    case Condition::Start: return "START";
    case Condition::Complete: return "COMPLETE";
    case Condition::Success: return "SUCCESS";
    case Condition::Healthy: return "HEALTHY";
    }
    return "UNKNOWN";
}

std::string_view name_of(StopCode code)
{
    switch (code) {
    case StopCode::None: return "";
    case StopCode::TaskFailedToStart: return "TaskFailedToStart";
    case StopCode::EssentialContainerExited: return "EssentialContainerExited";
    case StopCode::UserInitiated: return "UserInitiated";
    }
    return "";
}

} // namespace berth::engine

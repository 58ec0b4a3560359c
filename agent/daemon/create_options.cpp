// agent/daemon/create_options.cpp — a container's runtime CreateOptions from its task definition
// (pure): where its json-file log goes and how it rotates. Kept out of container_work.cpp so that
// the logConfiguration options are unit-tested reaching the runtime, never dropped.
#include "agent/daemon/pure.hpp"
#include "base/strings.hpp"

namespace berth::daemon {

Result<runtime::CreateOptions> create_options(const taskdef::TaskDefinition& def,
                                              std::string_view name, std::string runtime_id,
                                              std::string bundle, std::string log_path)
{
    const auto* container = def.find(name);
    if (container == nullptr)
        return Error::invalid("container ", quoted(name), " is not in the task definition");
    auto rotation = taskdef::log_rotation(*container);
    if (!rotation)
        return std::move(rotation).error();
    runtime::CreateOptions co;
    co.id = std::move(runtime_id);
    co.bundle = std::move(bundle);
    co.log_path = std::move(log_path);
    if (rotation->max_bytes)
        co.log_max_bytes = *rotation->max_bytes;
    if (rotation->max_files)
        co.log_max_files = *rotation->max_files;
    return co;
}

} // namespace berth::daemon

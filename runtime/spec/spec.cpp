#include <sched.h>
#include "runtime/spec.hpp"

namespace berth::runtime {

int clone_flag(NamespaceType type)
{
    switch (type) {
    case NamespaceType::Pid: return CLONE_NEWPID;
    case NamespaceType::Network: return CLONE_NEWNET;
    case NamespaceType::Mount: return CLONE_NEWNS;
    case NamespaceType::Ipc: return CLONE_NEWIPC;
    case NamespaceType::Uts: return CLONE_NEWUTS;
    case NamespaceType::User: return CLONE_NEWUSER;
    case NamespaceType::Cgroup: return CLONE_NEWCGROUP;
    case NamespaceType::Time: return 0x00000080; // CLONE_NEWTIME
    }
    return 0;
}

std::string_view spec_name(NamespaceType type)
{
    switch (type) {
    case NamespaceType::Pid: return "pid";
    case NamespaceType::Network: return "network";
    case NamespaceType::Mount: return "mount";
    case NamespaceType::Ipc: return "ipc";
    case NamespaceType::Uts: return "uts";
    case NamespaceType::User: return "user";
    case NamespaceType::Cgroup: return "cgroup";
    case NamespaceType::Time: return "time";
    }
    return "";
}

const Namespace* Spec::find_namespace(NamespaceType type) const
{
    for (const auto& ns : linux.namespaces)
        if (ns.type == type)
            return &ns;
    return nullptr;
}

bool Spec::has_namespace(NamespaceType type) const
{
    return find_namespace(type) != nullptr;
}

} // namespace berth::runtime

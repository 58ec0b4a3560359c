// runtime/spec/spec_checks.cpp — rules that tie fields of different parts together: namespaces
// against hostname, id mappings, sysctl and masked paths. Mostly the checks runc's validator
// makes, so a config runc refuses is refused here too, with the field named.
#include <array>
#include "runtime/spec/spec_parts.hpp"

namespace berth::runtime::spec_parts {

namespace {

Result<void> check_user_namespace(const Spec& spec)
{
    const auto* user = spec.find_namespace(NamespaceType::User);
    const bool mapped = !spec.linux.uid_mappings.empty() || !spec.linux.gid_mappings.empty();
    if (!user && mapped)
        return Error::invalid(spec.linux.uid_mappings.empty() ? "linux.gidMappings"
                                                              : "linux.uidMappings",
                              ": set, but linux.namespaces has no user namespace");
    // A new user namespace without mappings leaves every id as the overflow id (nobody): the
    // container could not even own its files. Joining one by path brings its own mappings.
    if (user && user->path.empty()) {
        if (spec.linux.uid_mappings.empty())
            return Error::invalid("linux.uidMappings: required by a new user namespace");
        if (spec.linux.gid_mappings.empty())
            return Error::invalid("linux.gidMappings: required by a new user namespace");
    }
    return {};
}

Result<void> check_names(const Spec& spec)
{
    if (!spec.hostname.empty() && !spec.has_namespace(NamespaceType::Uts))
        return Error::invalid("hostname: setting it needs a uts namespace in linux.namespaces");
    if (!spec.domainname.empty() && !spec.has_namespace(NamespaceType::Uts))
        return Error::invalid("domainname: setting it needs a uts namespace in linux.namespaces");
    return {};
}

// The sysctls that belong to a namespace (runc's list): anything else would change the host.
Result<void> check_sysctl(const Spec& spec)
{
    static constexpr std::array<std::string_view, 8> ipc_keys = {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
    };
    for (const auto& [key, value] : spec.linux.sysctl) {
        const auto name = berth::quoted(key);
        bool ipc = key.starts_with("fs.mqueue.");
        for (const auto candidate : ipc_keys)
            ipc = ipc || key == candidate;
        if (ipc) {
            if (!spec.has_namespace(NamespaceType::Ipc))
                return Error::invalid("linux.sysctl: ", name,
                                      " needs an ipc namespace in linux.namespaces");
            continue;
        }
        if (key.starts_with("net.")) {
            if (!spec.has_namespace(NamespaceType::Network))
                return Error::invalid("linux.sysctl: ", name,
                                      " needs a network namespace in linux.namespaces");
            continue;
        }
        if (key == "kernel.hostname")
            return Error::invalid("linux.sysctl: ", name, " conflicts with the hostname field");
        if (key == "kernel.domainname" && spec.has_namespace(NamespaceType::Uts))
            continue;
        return Error::invalid("linux.sysctl: ", name, " is not in a namespace of the container");
    }
    return {};
}

// Without a mount namespace in linux.namespaces the container shares the caller's mounts and
// only chroots into its root (as runc does). Anything that would mount or create nodes would
// then do it on the host's mount table: refused, naming the field (runc refuses masked and
// readonly paths there too).
Result<void> check_mount_namespace(const Spec& spec)
{
    if (spec.has_namespace(NamespaceType::Mount))
        return {};
    const char* field = !spec.mounts.empty()                 ? "mounts"
                        : !spec.linux.masked_paths.empty()   ? "linux.maskedPaths"
                        : !spec.linux.readonly_paths.empty() ? "linux.readonlyPaths"
                        : !spec.linux.devices.empty()        ? "linux.devices"
                        : spec.root.readonly                 ? "root.readonly"
                        : spec.linux.rootfs_propagation != 0 ? "linux.rootfsPropagation"
                                                             : nullptr;
    if (field)
        return Error::invalid(field, ": needs a mount namespace in linux.namespaces");
    return {};
}

} // namespace

Result<void> check_cross_fields(const Spec& spec)
{
    for (auto check : {check_mount_namespace, check_user_namespace, check_names, check_sysctl}) {
        auto result = check(spec);
        if (!result)
            return result;
    }
    return {};
}

} // namespace berth::runtime::spec_parts

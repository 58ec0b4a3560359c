// runtime/spec/spec_linux.cpp — the "linux" object: namespaces, id mappings, devices, cgroups path,
// sysctl, propagation, masked and read-only paths. Resources and seccomp have their own files.
#include <sys/mount.h>
#include <set>
#include "runtime/spec/spec_parts.hpp"

namespace berth::runtime::spec_parts {

using spec_json::Decoder;
using spec_json::Object;

namespace {

constexpr NamespaceType all_namespaces[] = {
    NamespaceType::Pid, NamespaceType::Network, NamespaceType::Mount,  NamespaceType::Ipc,
    NamespaceType::Uts, NamespaceType::User,    NamespaceType::Cgroup, NamespaceType::Time,
};

constexpr std::pair<std::string_view, unsigned long> propagation_names[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

Result<std::string> parse_absolute_path(const At& at)
{
    auto path = Decoder<std::string>::decode(at);
    if (path && !spec_json::is_absolute(*path))
        return at.invalid("must be an absolute path, got ", berth::quoted(*path));
    return path;
}

Result<Namespace> parse_namespace(const At& at)
{
    std::string type;
    Namespace ns;
    Object obj(at);
    obj.require("type", type);
    obj.read("path", ns.path, parse_absolute_path);
    if (!obj.ok())
        return std::move(obj).error();
    for (const auto candidate : all_namespaces)
        if (spec_name(candidate) == type) {
            ns.type = candidate;
            return ns;
        }
    return at.member("type", at.json).invalid("unknown namespace type ", berth::quoted(type));
}

Result<std::vector<Namespace>> parse_namespaces(const At& at)
{
    auto list = spec_json::decode_array<Namespace>(at, parse_namespace);
    if (!list)
        return list;
    std::set<NamespaceType> seen;
    for (std::size_t i = 0; i < list->size(); ++i)
        if (!seen.insert((*list)[i].type).second)
            return at.element(i, at.json)
                .member("type", at.json)
                .invalid("duplicate namespace ", berth::quoted(spec_name((*list)[i].type)));
    return list;
}

Result<IdMapping> parse_id_mapping(const At& at)
{
    IdMapping mapping;
    Object obj(at);
    obj.require("containerID", mapping.container_id);
    obj.require("hostID", mapping.host_id);
    obj.require("size", mapping.size);
    if (!obj.ok())
        return std::move(obj).error();
    // Per line here, so the message names the field; format_id_map checks the whole list.
    constexpr std::uint64_t last_id = 0xffffffffu; // (uid_t)-1 is never a valid id
    if (mapping.size == 0)
        return at.member("size", at.json).invalid("must not be zero");
    if (std::uint64_t{mapping.container_id} + mapping.size > last_id)
        return at.member("size", at.json).invalid("containerID + size overflows the id space");
    if (std::uint64_t{mapping.host_id} + mapping.size > last_id)
        return at.member("size", at.json).invalid("hostID + size overflows the id space");
    return mapping;
}

Result<std::vector<IdMapping>> parse_id_mappings(const At& at)
{
    auto list = spec_json::decode_array<IdMapping>(at, parse_id_mapping);
    if (!list)
        return list;
    auto text = format_id_map(*list); // the same checks the kernel's uid_map write makes
    if (!text)
        return std::move(text).error().wrap(at.path);
    return list;
}

Result<Device> parse_device(const At& at)
{
    Device device;
    std::string type;
    Object obj(at);
    obj.require("type", type);
    obj.require("path", device.path, parse_absolute_path);
    obj.read("major", device.major);
    obj.read("minor", device.minor);
    obj.read("fileMode", device.file_mode);
    obj.read("uid", device.uid);
    obj.read("gid", device.gid);
    if (!obj.ok())
        return std::move(obj).error();
    if (type.size() != 1 || std::string_view("cbup").find(type[0]) == std::string_view::npos)
        return at.member("type", at.json)
            .invalid("expected c, b, u or p, got ", berth::quoted(type));
    device.type = type[0];
    if (device.type != 'p' && (!obj.has("major") || !obj.has("minor")))
        return at.invalid("major and minor are required for a ", type, " device");
    if (device.major < 0 || device.minor < 0)
        return at.invalid("major and minor must not be negative");
    // podman writes a full st_mode (S_IFCHR|0666): the type bits are dropped, as runc does
    // (the node's type comes from "type"); anything beyond type and permissions is refused.
    constexpr std::uint32_t type_bits = 0170000;
    if (device.file_mode && (*device.file_mode & ~(type_bits | 07777)) != 0)
        return at.member("fileMode", at.json)
            .invalid("holds bits other than file type and permissions: ", *device.file_mode);
    if (device.file_mode)
        device.file_mode = *device.file_mode & 07777;
    return device;
}

Result<std::string> parse_cgroups_path(const At& at)
{
    auto path = Decoder<std::string>::decode(at);
    if (!path)
        return path;
    // The path is joined below the cgroup mount: ".." would climb out of berth's subtree.
    for (const auto part : split(*path, '/'))
        if (part == "..")
            return at.invalid("must not contain '..', got ", berth::quoted(*path));
    return path;
}

Result<std::map<std::string, std::string>> parse_sysctl(const At& at)
{
    auto map = Decoder<std::map<std::string, std::string>>::decode(at);
    if (!map)
        return map;
    std::map<std::string, std::string> normalized;
    for (auto& [key, value] : *map) {
        // Written below /proc/sys: "net.ipv4.ip_forward" and "net/ipv4/ip_forward" are one
        // key; anything that could leave /proc/sys is refused.
        std::string name = key;
        for (auto& c : name)
            if (c == '/')
                c = '.';
        bool bad = name.empty() || name.front() == '.' || name.back() == '.' ||
                   name.find("..") != std::string::npos;
        if (bad)
            return at.invalid("bad sysctl name ", berth::quoted(key));
        normalized.emplace(std::move(name), std::move(value));
    }
    return normalized;
}

Result<unsigned long> parse_propagation(const At& at)
{
    auto name = Decoder<std::string>::decode(at);
    if (!name)
        return std::move(name).error();
    if (name->empty())
        return 0ul;
    for (const auto& [text, flags] : propagation_names)
        if (text == *name)
            return flags;
    return at.invalid("unknown propagation ", berth::quoted(*name));
}

Result<std::vector<std::string>> parse_path_list(const At& at)
{
    return spec_json::decode_array<std::string>(at, parse_absolute_path);
}

} // namespace

std::string_view propagation_name(unsigned long flags)
{
    for (const auto& [text, value] : propagation_names)
        if (value == flags)
            return text;
    return "";
}

Result<Linux> parse_linux(const At& at)
{
    Linux linux;
    Object obj(at);
    obj.read("namespaces", linux.namespaces, parse_namespaces);
    obj.read("uidMappings", linux.uid_mappings, parse_id_mappings);
    obj.read("gidMappings", linux.gid_mappings, parse_id_mappings);
    obj.read("devices", linux.devices,
             [](const At& a) { return spec_json::decode_array<Device>(a, parse_device); });
    obj.read("resources", linux.resources, parse_resources);
    obj.read("cgroupsPath", linux.cgroups_path, parse_cgroups_path);
    obj.read("sysctl", linux.sysctl, parse_sysctl);
    obj.read("seccomp", linux.seccomp, parse_seccomp);
    obj.read("rootfsPropagation", linux.rootfs_propagation, parse_propagation);
    obj.read("maskedPaths", linux.masked_paths, parse_path_list);
    obj.read("readonlyPaths", linux.readonly_paths, parse_path_list);
    obj.read("mountLabel", linux.mount_label);
    // Without SELinux there is no way to honour a label: refused rather than ignored.
    if (obj.ok() && !linux.mount_label.empty())
        return at.member("mountLabel", at.json)
            .invalid("SELinux is not supported by berth, so a mount label cannot be applied");
    // Known fields berth does not implement: refused rather than silently ignored.
    obj.refuse("intelRdt");
    obj.refuse("personality");
    obj.refuse("timeOffsets");
    obj.refuse("memoryPolicy");
    if (!obj.ok())
        return std::move(obj).error();
    return linux;
}

} // namespace berth::runtime::spec_parts

// runtime/spec/mount_options.cpp — mount(8)-style option words to mount(2) flags, propagation
// changes, mount_setattr() attributes and filesystem data. The same words as runc: config
// mounts and --mount style CLI options both come through here.
#include <sys/mount.h>
#include <array>
#include <set>
#include "runtime/spec.hpp"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

namespace berth::runtime {

namespace {

// MOUNT_ATTR_* from <linux/mount.h>, which glibc 2.36's <sys/mount.h> clashes with.
constexpr std::uint64_t attr_rdonly = 0x1, attr_nosuid = 0x2, attr_nodev = 0x4, attr_noexec = 0x8,
                        attr_atime_mask = 0x70, attr_relatime = 0x0, attr_noatime = 0x10,
                        attr_strictatime = 0x20, attr_nodiratime = 0x80,
                        attr_nosymfollow = 0x200000;

struct FlagOption {
    std::string_view name;
    unsigned long flag;
    bool clear;                // the option turns the flag off ("rw" clears MS_RDONLY)
    std::string_view opposite; // naming both in one list is a conflict
};
constexpr std::array<FlagOption, 32> flag_options = {{
    {"ro", MS_RDONLY, false, "rw"},
    {"rw", MS_RDONLY, true, "ro"},
    {"nosuid", MS_NOSUID, false, "suid"},
    {"suid", MS_NOSUID, true, "nosuid"},
    {"nodev", MS_NODEV, false, "dev"},
    {"dev", MS_NODEV, true, "nodev"},
    {"noexec", MS_NOEXEC, false, "exec"},
    {"exec", MS_NOEXEC, true, "noexec"},
    {"sync", MS_SYNCHRONOUS, false, "async"},
    {"async", MS_SYNCHRONOUS, true, "sync"},
    {"dirsync", MS_DIRSYNC, false, ""},
    {"remount", MS_REMOUNT, false, ""},
    {"mand", MS_MANDLOCK, false, "nomand"},
    {"nomand", MS_MANDLOCK, true, "mand"},
    {"noatime", MS_NOATIME, false, "atime"},
    {"atime", MS_NOATIME, true, "noatime"},
    {"nodiratime", MS_NODIRATIME, false, "diratime"},
    {"diratime", MS_NODIRATIME, true, "nodiratime"},
    {"relatime", MS_RELATIME, false, "norelatime"},
    {"norelatime", MS_RELATIME, true, "relatime"},
    {"strictatime", MS_STRICTATIME, false, "nostrictatime"},
    {"nostrictatime", MS_STRICTATIME, true, "strictatime"},
    {"lazytime", MS_LAZYTIME, false, "nolazytime"},
    {"nolazytime", MS_LAZYTIME, true, "lazytime"},
    {"iversion", MS_I_VERSION, false, "noiversion"},
    {"noiversion", MS_I_VERSION, true, "iversion"},
    {"acl", MS_POSIXACL, false, "noacl"},
    {"noacl", MS_POSIXACL, true, "acl"},
    {"silent", MS_SILENT, false, "loud"},
    {"loud", MS_SILENT, true, "silent"},
    {"nosymfollow", MS_NOSYMFOLLOW, false, "symfollow"},
    {"symfollow", MS_NOSYMFOLLOW, true, "nosymfollow"},
}};

struct PropagationOption {
    std::string_view name;
    unsigned long flags;
};
constexpr std::array<PropagationOption, 8> propagation_options = {{
    {"private", MS_PRIVATE},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},
    {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},
    {"runbindable", MS_UNBINDABLE | MS_REC},
}};

struct AttrOption {
    std::string_view name;
    std::uint64_t attr;
    bool clear;
    std::string_view opposite;
};
constexpr std::array<AttrOption, 18> attr_options = {{
    {"rro", attr_rdonly, false, "rrw"},
    {"rrw", attr_rdonly, true, "rro"},
    {"rnosuid", attr_nosuid, false, "rsuid"},
    {"rsuid", attr_nosuid, true, "rnosuid"},
    {"rnodev", attr_nodev, false, "rdev"},
    {"rdev", attr_nodev, true, "rnodev"},
    {"rnoexec", attr_noexec, false, "rexec"},
    {"rexec", attr_noexec, true, "rnoexec"},
    {"rnodiratime", attr_nodiratime, false, "rdiratime"},
    {"rdiratime", attr_nodiratime, true, "rnodiratime"},
    {"rrelatime", attr_relatime, false, "rnorelatime"},
    {"rnorelatime", attr_relatime, true, "rrelatime"},
    {"rnoatime", attr_noatime, false, "ratime"},
    {"ratime", attr_noatime, true, "rnoatime"},
    {"rstrictatime", attr_strictatime, false, "rnostrictatime"},
    {"rnostrictatime", attr_strictatime, true, "rstrictatime"},
    {"rnosymfollow", attr_nosymfollow, false, "rsymfollow"},
    {"rsymfollow", attr_nosymfollow, true, "rnosymfollow"},
}};

template <class Table>
auto find_option(const Table& table, std::string_view name) -> decltype(&table[0])
{
    for (const auto& option : table)
        if (option.name == name)
            return &option;
    return nullptr;
}

// Opposites ("ro" with "rw") and atime modes that exclude each other. A set keeps this
// O(n log n): option lists come from untrusted configs.
Result<void> check_conflicts(const std::vector<std::string>& list)
{
    const std::set<std::string_view> options(list.begin(), list.end());
    const auto contains = [&](std::string_view word) { return options.count(word) != 0; };
    for (const auto option : options) {
        std::string_view opposite;
        if (const auto* flag = find_option(flag_options, option))
            opposite = flag->opposite;
        else if (const auto* attr = find_option(attr_options, option))
            opposite = attr->opposite;
        if (!opposite.empty() && contains(opposite))
            return Error::invalid("options ", berth::quoted(option), " and ",
                                  berth::quoted(opposite), " conflict");
    }
    for (const auto& group :
         {std::array<std::string_view, 3>{"noatime", "relatime", "strictatime"},
          std::array<std::string_view, 3>{"rnoatime", "rrelatime", "rstrictatime"}}) {
        std::vector<std::string_view> seen;
        for (const auto word : group)
            if (contains(word))
                seen.push_back(word);
        if (seen.size() > 1)
            return Error::invalid("options ", berth::quoted(seen[0]), " and ",
                                  berth::quoted(seen[1]), " conflict");
    }
    if (contains("tmpcopyup") && contains("remount"))
        return Error::invalid("options 'tmpcopyup' and 'remount' conflict");
    return {};
}

void apply_attr(MountOptions& out, const AttrOption& attr)
{
    if (attr.clear) {
        out.recursive_attr_clear |= attr.attr;
        out.recursive_attr_set &= ~attr.attr;
    } else {
        out.recursive_attr_set |= attr.attr;
        out.recursive_attr_clear &= ~attr.attr;
        // The atime modes are a field, not bits: setting one means clearing the field first.
        if (attr.attr == attr_relatime || (attr.attr & attr_atime_mask) == attr.attr)
            out.recursive_attr_clear |= attr_atime_mask;
    }
    out.recursive = true;
    out.recursive_readonly = (out.recursive_attr_set & attr_rdonly) != 0;
}

Result<void> apply_option(MountOptions& out, const std::string& option)
{
    if (option.empty())
        return Error::invalid("empty mount option");
    if (option.find('\0') != std::string::npos)
        return Error::invalid("mount option ", berth::quoted(option), " contains a NUL byte");
    if (option == "defaults")
        return {};
    if (option == "bind" || option == "rbind") {
        out.bind = true;
        out.recursive = out.recursive || option == "rbind";
    } else if (option == "tmpcopyup") {
        out.tmpcopyup = true;
    } else if (const auto* flag = find_option(flag_options, option)) {
        (flag->clear ? out.clear_flags : out.flags) |= flag->flag;
        (flag->clear ? out.flags : out.clear_flags) &= ~flag->flag;
    } else if (const auto* propagation = find_option(propagation_options, option)) {
        out.propagation.push_back(propagation->flags);
    } else if (const auto* attr = find_option(attr_options, option)) {
        apply_attr(out, *attr);
    } else {
        if (!out.data.empty())
            out.data += ',';
        out.data += option;
    }
    return {};
}

} // namespace

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options)
{
    MountOptions out;
    for (const auto& option : options) {
        auto applied = apply_option(out, option);
        if (!applied)
            return std::move(applied).error();
    }
    auto conflicts = check_conflicts(options);
    if (!conflicts)
        return std::move(conflicts).error();
    return out;
}

} // namespace berth::runtime

// agent/taskdef/user.cpp — Docker's "user" strings resolved against the image's own /etc/passwd
// and /etc/group. Runs as root on the host over an image's files: both are opened with
// openat2(RESOLVE_IN_ROOT), so a symlink in the image (etc/passwd -> /etc/shadow, or ../..)
// resolves inside the rootfs, never to the host's files; only regular files are read, size-capped.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "agent/taskdef/internal.hpp"
#include "base/fd.hpp"
#include "base/files.hpp"

namespace berth::taskdef {

namespace {

constexpr std::size_t max_account_file_bytes = std::size_t{4} << 20;

struct Account { // one /etc/passwd or /etc/group line, split on ':'
    std::vector<std::string_view> fields;
};

// The file's text, or "" when the image has none (ENOENT): Docker then resolves numeric ids only.
Result<std::string> read_in_root(int root, const char* relative)
{
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    Fd fd(static_cast<int>(::syscall(SYS_openat2, root, relative, &how, sizeof how)));
    if (!fd.valid()) {
        if (errno == ENOENT || errno == ENOTDIR)
            return std::string();
        return Error::from_errno("open ", berth::quoted(relative), " in the rootfs");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0)
        return Error::from_errno("stat ", berth::quoted(relative), " in the rootfs");
    if (!S_ISREG(st.st_mode))
        return Error::invalid(berth::quoted(relative), " in the rootfs is not a regular file");
    auto text = read_fd(fd.get(), max_account_file_bytes);
    if (!text)
        return std::move(text).error().wrap(
            cat("read ", berth::quoted(relative), " in the rootfs"));
    return std::move(*text);
}

std::vector<Account> parse_accounts(std::string_view text, std::size_t min_fields)
{
    std::vector<Account> out;
    for (std::string_view line : split(text, '\n')) {
        if (line.empty() || line.front() == '#')
            continue;
        Account a{split(line, ':')};
        if (a.fields.size() >= min_fields)
            out.push_back(std::move(a));
    }
    return out;
}

Result<std::uint32_t> checked_id(std::string_view text, std::string_view what)
{
    auto id = parse_int<std::uint32_t>(text);
    if (!id || *id > runtime::max_user_id)
        return Error::invalid(what, " ", berth::quoted(text), " is not an id from 0 to ",
                              runtime::max_user_id);
    return *id;
}

bool is_number(std::string_view text)
{
    return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

struct Resolved {
    runtime::User user;
    std::string name, home = "/";
};

Result<Resolved> resolve_uid(const std::vector<Account>& passwd, std::string_view who)
{
    Resolved r;
    std::optional<std::uint32_t> uid;
    if (is_number(who)) {
        auto id = checked_id(who, "user");
        if (!id)
            return std::move(id).error();
        uid = *id;
    }
    for (const auto& a : passwd) {
        const bool match = uid ? parse_int<std::uint32_t>(a.fields[2]) == uid : a.fields[0] == who;
        if (!match)
            continue;
        auto id = checked_id(a.fields[2], "passwd uid");
        auto gid = checked_id(a.fields[3], "passwd gid");
        if (!id || !gid)
            return Error::invalid("user ", berth::quoted(who), ": bad /etc/passwd entry");
        r.user.uid = *id;
        r.user.gid = *gid;
        r.name = std::string(a.fields[0]);
        if (a.fields.size() > 5 && !a.fields[5].empty())
            r.home = std::string(a.fields[5]);
        return r;
    }
    if (!uid)
        return Error::invalid("user ", berth::quoted(who),
                              ": no such user in the image's /etc/passwd");
    r.user.uid = *uid; // a numeric uid need not exist in the image (Docker: gid 0, home /)
    return r;
}

Result<std::uint32_t> resolve_gid(const std::vector<Account>& groups, std::string_view group)
{
    if (is_number(group))
        return checked_id(group, "group");
    for (const auto& a : groups)
        if (a.fields[0] == group)
            return checked_id(a.fields[2], "group gid");
    return Error::invalid("group ", berth::quoted(group),
                          ": no such group in the image's /etc/group");
}

} // namespace

Result<runtime::User> resolve_user(const std::string& rootfs, std::string_view user,
                                   std::string* home)
{
    auto root = open_at(AT_FDCWD, rootfs, O_PATH | O_DIRECTORY);
    if (!root)
        return std::move(root).error();
    auto passwd_text = read_in_root(root->get(), "etc/passwd");
    if (!passwd_text)
        return std::move(passwd_text).error();
    auto group_text = read_in_root(root->get(), "etc/group");
    if (!group_text)
        return std::move(group_text).error();
    const auto passwd = parse_accounts(*passwd_text, 7);
    const auto groups = parse_accounts(*group_text, 4);

    const auto colon = user.find(':');
    std::string_view who = user.substr(0, colon);
    if (who.empty())
        who = colon == std::string_view::npos ? "0" : "";
    if (who.empty())
        return Error::invalid("user ", berth::quoted(user), ": no user before ':'");
    auto resolved = resolve_uid(passwd, who);
    if (!resolved)
        return std::move(resolved).error();
    if (colon != std::string_view::npos) {
        auto gid = resolve_gid(groups, user.substr(colon + 1));
        if (!gid)
            return std::move(gid).error();
        resolved->user.gid = *gid;
    } else if (!resolved->name.empty()) {
        // Supplementary groups only when no group was named (as runc's GetExecUser).
        for (const auto& g : groups)
            for (auto member : split(g.fields[3], ','))
                if (member == resolved->name) {
                    auto gid = checked_id(g.fields[2], "group gid");
                    if (gid && *gid != resolved->user.gid)
                        resolved->user.additional_gids.push_back(*gid);
                }
    }
    if (home != nullptr)
        *home = resolved->home;
    return resolved->user;
}

} // namespace berth::taskdef

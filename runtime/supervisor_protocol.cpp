// runtime/supervisor_protocol.cpp — framing (SCM_RIGHTS) and JSON of supervisor messages.
#include "runtime/supervisor_protocol.hpp"
#include <sys/capability.h>
#include <sys/socket.h>
#include <cerrno>
#include <cstring>
#include "base/fd_passing.hpp"

namespace berth::runtime::wire {

using nlohmann::json;

Result<void> send_message(int socket, std::string_view body, std::span<const int> fds)
{
    if (fds.size() > max_fds)
        return Error::invalid("too many fds for one message");
    if (send_with_fds(socket, body.data(), body.size(), fds.data(), fds.size()) < 0)
        return Error::from_errno("send to supervisor socket");
    return {};
}

Result<std::string> receive_message(int socket, std::vector<Fd>& fds)
{
    std::string body(max_message_bytes, '\0');
    auto n = receive_with_fds(socket, body, fds);
    if (!n)
        return std::move(n).error().wrap("receive from supervisor socket");
    if (*n == 0)
        return Error::with_code(EPIPE, "supervisor socket closed");
    body.resize(*n);
    return body;
}

json options_to_json(const Options& options)
{
    return {{"root", options.root},
            {"systemdCgroup", options.systemd_cgroup},
            {"cgroupRoot", options.cgroup_root},
            {"cgroupsOutsideRoot", options.cgroups_outside_root},
            {"durableState", options.durable_state}};
}

Options options_from_json(const json& j)
{
    Options options;
    options.root = j.at("root").get<std::string>();
    options.systemd_cgroup = j.at("systemdCgroup").get<bool>();
    options.cgroup_root = j.at("cgroupRoot").get<std::string>();
    options.cgroups_outside_root = j.at("cgroupsOutsideRoot").get<bool>();
    options.durable_state = j.at("durableState").get<bool>();
    return options;
}

namespace {

json capability_names(const std::vector<int>& values)
{
    json out = json::array();
    for (const int v : values) {
        char* name = cap_to_name(static_cast<cap_value_t>(v));
        std::string upper = name ? name : "";
        cap_free(name);
        for (auto& c : upper)
            if (c >= 'a' && c <= 'z')
                c = static_cast<char>(c - 'a' + 'A');
        out.push_back(upper);
    }
    return out;
}

} // namespace

json process_to_json(const Process& p)
{
    json user = {{"uid", p.user.uid}, {"gid", p.user.gid}};
    if (p.user.umask)
        user["umask"] = *p.user.umask;
    if (!p.user.additional_gids.empty())
        user["additionalGids"] = p.user.additional_gids;
    if (!p.user.username.empty())
        user["username"] = p.user.username;
    json j = {{"terminal", p.terminal}, {"user", user}, {"args", p.args},
              {"env", p.env},           {"cwd", p.cwd}, {"noNewPrivileges", p.no_new_privileges}};
    if (p.console_size)
        j["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
    if (p.capabilities)
        j["capabilities"] = {{"bounding", capability_names(p.capabilities->bounding)},
                             {"effective", capability_names(p.capabilities->effective)},
                             {"inheritable", capability_names(p.capabilities->inheritable)},
                             {"permitted", capability_names(p.capabilities->permitted)},
                             {"ambient", capability_names(p.capabilities->ambient)}};
    if (!p.rlimits.empty()) {
        j["rlimits"] = json::array();
        for (const auto& r : p.rlimits)
            j["rlimits"].push_back({{"type", r.name}, {"soft", r.soft}, {"hard", r.hard}});
    }
    if (p.oom_score_adj)
        j["oomScoreAdj"] = *p.oom_score_adj;
    if (!p.apparmor_profile.empty())
        j["apparmorProfile"] = p.apparmor_profile;
    if (!p.selinux_label.empty())
        j["selinuxLabel"] = p.selinux_label;
    return j;
}

std::string error_answer(const Error& error)
{
    return json{{"ok", false},
                {"errno", error.code},
                {"context", error.context},
                {"badInput", error.bad_input}}
        .dump(-1, ' ', false, json::error_handler_t::replace);
}

// The same Error the supervisor's call returned, so callers branch on the same errno.
Error answer_error(const json& answer)
{
    const int code = answer.value("errno", 0);
    return Error{code == 0 ? EPROTO : code, answer.value("context", std::string("supervisor")),
                 answer.value("badInput", false)};
}

} // namespace berth::runtime::wire

// agent/cli/resolve.cpp — TASK resolution (see resolve.hpp).
#include "agent/cli/resolve.hpp"
#include <algorithm>

namespace berth::cli {

std::string task_id(std::string_view arn)
{
    const auto slash = arn.rfind('/');
    return std::string(slash == std::string_view::npos ? arn : arn.substr(slash + 1));
}

Result<std::string> resolve_task(const std::vector<std::string>& arns, std::string_view text)
{
    if (text.empty())
        return Error::invalid("TASK: empty; give a task ARN, id or id prefix");
    std::vector<std::string> matches;
    for (const auto& arn : arns) {
        if (arn == text || task_id(arn) == text)
            return arn; // exact: wins over any prefix match
        // A task listed twice (RUNNING, then STOPPED by the next ListTasks) is one candidate.
        if (task_id(arn).starts_with(text) &&
            std::find(matches.begin(), matches.end(), arn) == matches.end())
            matches.push_back(arn);
    }
    if (matches.size() == 1)
        return matches.front();
    if (matches.empty())
        return Error::with_code(ENOENT, "no task ", berth::quoted(text),
                                " (berth ps --all lists the tasks berthd knows)");
    std::string names;
    for (const auto& arn : matches)
        names += (names.empty() ? "" : ", ") + task_id(arn);
    return Error::invalid("TASK ", berth::quoted(text), " is ambiguous: it starts ", matches.size(),
                          " task ids (", names, ")");
}

bool is_task_id(std::string_view text)
{
    const auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
    if (text.size() == 32)
        return std::all_of(text.begin(), text.end(), hex);
    if (text.size() != 36)
        return false;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (i == 8 || i == 13 || i == 18 || i == 23 ? text[i] != '-' : !hex(text[i]))
            return false;
    return true;
}

std::vector<std::string> tasks_with_container(const std::vector<std::string>& runtime_ids,
                                              std::string_view container)
{
    std::vector<std::string> out;
    for (const auto& id : runtime_ids) {
        if (id.size() <= container.size() + 1 || !std::string_view(id).ends_with(container))
            continue;
        const auto task = std::string_view(id).substr(0, id.size() - container.size() - 1);
        if (id[task.size()] == '-' && is_task_id(task))
            out.emplace_back(task);
    }
    return out;
}

Result<std::vector<std::string>> all_task_arns(const AgentClient& client)
{
    std::vector<std::string> out;
    for (const char* status : {"RUNNING", "PENDING", "STOPPED"}) {
        std::string token;
        do {
            nlohmann::json input = {{"desiredStatus", status}, {"maxResults", 100}};
            if (!token.empty())
                input["nextToken"] = token;
            auto reply = client.call("ListTasks", input);
            if (!reply)
                return std::move(reply).error();
            token.clear();
            // The statuses are listed one after another: a task that moved on in between is in
            // two lists, and kept once.
            if (auto it = reply->find("taskArns"); it != reply->end() && it->is_array())
                for (const auto& arn : *it)
                    if (arn.is_string() &&
                        std::find(out.begin(), out.end(), arn.get<std::string>()) == out.end())
                        out.push_back(arn.get<std::string>());
            if (auto it = reply->find("nextToken"); it != reply->end() && it->is_string())
                token = it->get<std::string>();
        } while (!token.empty());
    }
    return out;
}

Result<std::string> find_task(const AgentClient& client, std::string_view text)
{
    auto arns = all_task_arns(client);
    if (!arns)
        return std::move(arns).error();
    return resolve_task(*arns, text);
}

} // namespace berth::cli

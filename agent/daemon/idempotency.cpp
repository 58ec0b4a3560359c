// agent/daemon/idempotency.cpp — RunTask's clientToken, as ECS defines it: a retry with the same
// token and the same request (in the same cluster, within 24 hours) answers with the first
// call's tasks and starts nothing; the token with a different request is a ConflictException
// (EEXIST, bad_input). The token, the request's canonical text and the answer are written in
// the same transaction as the tasks (Store::put_new_tasks), so a restart keeps them.
// Lifetime: ECS does not publish how long it remembers a RunTask token; berth keeps one 24 hours
// (client_token_lifetime_s, the window EC2 documents for its client tokens), after which the
// token may be used afresh and its row is deleted (with the next token written, and at start).
// The canonical text ignores what carries no order: tags, containerOverrides (by name), each
// override's environment (by name), environmentFiles, resourceRequirements (by type), and the
// awsvpcConfiguration's subnets and securityGroups. A command's arguments keep their order.
#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include "agent/daemon/internal.hpp"

namespace berth::daemon {
namespace {

using nlohmann::json;

json parsed(const std::string& text)
{
    auto j = json::parse(text, nullptr, false);
    return j.is_discarded() ? json(text) : j;
}

// Sorts object[key] when it is an array: by each element's member `by` when given, else by the
// elements themselves. A stable sort: elements with the same `by` keep their order (a repeated
// name's last one wins downstream, so their order is significant).
void sort_member(json& object, const char* key, const char* by = nullptr)
{
    if (!object.is_object())
        return;
    const auto it = object.find(key);
    if (it == object.end() || !it->is_array())
        return;
    auto& list = it->get_ref<json::array_t&>();
    std::stable_sort(list.begin(), list.end(), [by](const json& a, const json& b) {
        if (by) {
            const auto ka = a.is_object() ? a.value(by, json()) : json();
            const auto kb = b.is_object() ? b.value(by, json()) : json();
            return ka < kb;
        }
        return a < b;
    });
}

json canonical_overrides(const std::string& text)
{
    auto o = parsed(text);
    sort_member(o, "containerOverrides", "name");
    if (o.is_object())
        if (auto list = o.find("containerOverrides"); list != o.end() && list->is_array())
            for (auto& c : *list) {
                sort_member(c, "environment", "name");
                // environmentFiles keep their order: a later file's value wins in ECS.
                sort_member(c, "resourceRequirements", "type");
            }
    sort_member(o, "inferenceAcceleratorOverrides", "deviceName");
    return o;
}

json canonical_network(const std::string& text)
{
    auto n = parsed(text);
    if (n.is_object())
        if (auto vpc = n.find("awsvpcConfiguration"); vpc != n.end()) {
            sort_member(*vpc, "subnets");
            sort_member(*vpc, "securityGroups");
        }
    return n;
}

} // namespace

std::string fingerprint(const api::RunTaskRequest& r)
{
    // By key only, stable: a repeated key's last value is the one stored, so the order of its
    // values is significant.
    auto sorted_tags = r.tags;
    std::stable_sort(sorted_tags.begin(), sorted_tags.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    json tags = json::array();
    for (const auto& [key, value] : sorted_tags)
        tags.push_back({key, value});
    // Objects dump with sorted keys: the same request gives the same text.
    const json out = {{"taskDefinition", r.task_definition_arn},
                      {"count", r.count},
                      {"overrides", canonical_overrides(r.overrides)},
                      {"networkConfiguration", canonical_network(r.network_configuration)},
                      {"startedBy", r.started_by},
                      {"group", r.group},
                      {"tags", tags}};
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string result_text(const std::vector<store::Task>& tasks,
                        const std::vector<api::Failure>& failures)
{
    json out = {{"tasks", json::array()}, {"failures", json::array()}};
    for (const auto& t : tasks)
        out["tasks"].push_back(t.arn);
    for (const auto& f : failures)
        out["failures"].push_back({{"arn", f.arn}, {"reason", f.reason}, {"detail", f.detail}});
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<Result<api::RunTaskResult>> Daemon::Impl::replay(const api::RunTaskRequest& request)
{
    auto earlier = store.client_token(request.cluster, request.client_token);
    if (!earlier)
        return Result<api::RunTaskResult>(std::move(earlier).error().wrap("read clientToken"));
    if (!*earlier || now_s() - (*earlier)->created_at > client_token_lifetime_s)
        return std::nullopt; // new (or expired: it may be used afresh)
    if ((*earlier)->request != fingerprint(request))
        return Result<api::RunTaskResult>(
            Error{EEXIST,
                  cat("clientToken ", quoted(request.client_token),
                      " was already used with different parameters (IdempotentParameterMismatch)"),
                  true});
    const auto answer = json::parse((*earlier)->result, nullptr, false);
    if (answer.is_discarded() || !answer.is_object())
        return Result<api::RunTaskResult>(Error::with_code(EIO, "clientToken record unreadable"));
    api::RunTaskResult result;
    try {
        for (const auto& arn : answer.at("tasks")) {
            auto task = store.task(arn.get<std::string>());
            if (!task)
                return Result<api::RunTaskResult>(std::move(task).error());
            if (*task)
                result.tasks.push_back(std::move(**task));
        }
        for (const auto& f : answer.at("failures"))
            result.failures.push_back({f.at("arn").get<std::string>(),
                                       f.at("reason").get<std::string>(),
                                       f.at("detail").get<std::string>()});
    } catch (const json::exception& e) {
        return Result<api::RunTaskResult>(
            Error::with_code(EIO, "clientToken record unreadable: ", e.what()));
    }
    return Result<api::RunTaskResult>(std::move(result));
}

} // namespace berth::daemon

// agent/daemon/idempotency.cpp — RunTask's clientToken, as ECS defines it: a retry with the same
// token and the same request (in the same cluster, within 24 hours) answers with the first
// call's tasks and starts nothing; the token with a different request is a ConflictException
// (EEXIST, bad_input). The token, the request's canonical text and the answer are written in
// the same transaction as the tasks (Store::put_new_tasks), so a restart keeps them.
#include <cerrno>
#include <nlohmann/json.hpp>
#include "agent/daemon/internal.hpp"

namespace berth::daemon {
namespace {

using nlohmann::json;

constexpr std::int64_t token_lifetime_s =
    std::int64_t{24} * 3600; // ECS: a RunTask token lives 24 hours

json parsed(const std::string& text)
{
    auto j = json::parse(text, nullptr, false);
    return j.is_discarded() ? json(text) : j;
}

} // namespace

std::string fingerprint(const api::RunTaskRequest& r)
{
    json tags = json::array();
    for (const auto& [key, value] : r.tags)
        tags.push_back({key, value});
    // Objects dump with sorted keys: the same request gives the same text.
    const json out = {{"taskDefinition", r.task_definition_arn},
                      {"count", r.count},
                      {"overrides", parsed(r.overrides)},
                      {"networkConfiguration", parsed(r.network_configuration)},
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
    if (!*earlier || now_s() - (*earlier)->created_at > token_lifetime_s)
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

// agent/api/arns.cpp — ECS resource names and the short forms accepted for them.
#include "agent/api/arns.hpp"
#include <sys/random.h>
#include <array>
#include <cerrno>
#include <cstdlib>
#include "agent/api/sigv4.hpp"
#include "base/strings.hpp"

namespace berth::api {

std::string make_arn(const Options& options, std::string_view resource)
{
    return cat("arn:aws:ecs:", options.region, ":", options.account_id, ":", resource);
}

std::string task_definition_arn(const Options& options, std::string_view family, int revision)
{
    return make_arn(options, cat("task-definition/", family, ":", revision));
}

std::string cluster_arn(const Options& options, std::string_view name)
{
    return make_arn(options, cat("cluster/", name));
}

std::string task_arn(const Options& options, std::string_view cluster, std::string_view id)
{
    return make_arn(options, cat("task/", cluster, "/", id));
}

std::string random_id()
{
    std::array<char, 16> bytes{};
    std::size_t got = 0;
    while (got < bytes.size()) {
        const auto n = getrandom(bytes.data() + got, bytes.size() - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            std::abort(); // getrandom cannot fail on Linux >= 3.17 once the pool is ready
        got += static_cast<std::size_t>(n);
    }
    return sigv4::hex({bytes.data(), bytes.size()});
}

bool valid_name(std::string_view name)
{
    if (name.empty() || name.size() > 255)
        return false;
    for (const char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    return true;
}

namespace {

// "arn:aws:ecs:<region>:<account>:<resource>" -> resource, any region/account.
std::optional<std::string_view> any_arn_resource(std::string_view arn)
{
    if (arn.rfind("arn:", 0) != 0)
        return std::nullopt;
    const auto parts = split(arn, ':');
    if (parts.size() < 6 || parts[2] != "ecs")
        return std::nullopt;
    std::size_t offset = 0;
    for (int i = 0; i < 5; ++i)
        offset += parts[static_cast<std::size_t>(i)].size() + 1;
    return arn.substr(offset);
}

} // namespace

std::optional<TaskDefinitionRef> parse_task_definition_ref(std::string_view text)
{
    if (auto resource = any_arn_resource(text)) {
        if (resource->rfind("task-definition/", 0) != 0)
            return std::nullopt;
        text = resource->substr(16);
        if (text.find(':') == std::string_view::npos)
            return std::nullopt; // an ARN always names a revision
    }
    const auto colon = text.find(':');
    TaskDefinitionRef ref{std::string(text.substr(0, colon)), 0};
    if (!valid_name(ref.family))
        return std::nullopt;
    if (colon != std::string_view::npos) {
        const auto revision = parse_int<int>(text.substr(colon + 1));
        if (!revision || *revision < 1)
            return std::nullopt;
        ref.revision = *revision;
    }
    return ref;
}

std::optional<std::string> parse_cluster(std::string_view text)
{
    if (auto resource = any_arn_resource(text)) {
        if (resource->rfind("cluster/", 0) != 0)
            return std::nullopt;
        text = resource->substr(8);
    }
    if (!valid_name(text))
        return std::nullopt;
    return std::string(text);
}

std::optional<std::string> parse_task(const Options& options, std::string_view cluster,
                                      std::string_view text)
{
    if (auto resource = any_arn_resource(text)) {
        if (resource->rfind("task/", 0) != 0)
            return std::nullopt;
        const auto parts = split(resource->substr(5), '/');
        // New format task/<cluster>/<id>; the old one is task/<id>.
        text = parts.back();
        if (parts.size() > 2 || (parts.size() == 2 && parts[0] != cluster))
            return std::nullopt;
    }
    if (!valid_name(text))
        return std::nullopt;
    return task_arn(options, cluster, text);
}

std::optional<std::string> arn_resource(const Options& options, std::string_view arn)
{
    const std::string prefix = make_arn(options, "");
    if (arn.rfind(prefix, 0) != 0 || arn.size() == prefix.size())
        return std::nullopt;
    return std::string(arn.substr(prefix.size()));
}

} // namespace berth::api

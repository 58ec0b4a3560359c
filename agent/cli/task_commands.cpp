// agent/cli/task_commands.cpp — berth run-task, ps (tasks), describe, stop: ECS operations over
// berthd's socket. --json prints the service's own objects, so scripts read the same fields as
// from `aws ecs`; the human output is a table.
#include <openssl/evp.h>
#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include "agent/cli/cli.hpp"
#include "agent/cli/client.hpp"
#include "agent/cli/resolve.hpp"
#include "agent/cli/table.hpp"
#include "base/files.hpp"

namespace berth::cli {
namespace {

using nlohmann::json;

// Marks a registered revision with the digest of the file it came from, so run-task reuses it
// while the file is unchanged and registers a new revision once it changes.
constexpr const char* source_tag = "berth:source-sha256";

int fail(const Error& e)
{
    std::fprintf(stderr, "berth: %s\n", e.message().c_str());
    return 1;
}

int usage(const char* text)
{
    std::fprintf(stderr, "usage: berth %s\n", text);
    return 2;
}

void print_json(const json& value)
{
    std::printf("%s\n", value.dump(2, ' ', false, json::error_handler_t::replace).c_str());
}

std::string text_of(const json& object, const char* name)
{
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t number_of(const json& object, const char* name)
{
    const auto it = object.find(name);
    return it != object.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

std::string sha256_hex(std::string_view text)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1)
        return {};
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < size; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

// "family:3" from a task definition ARN.
std::string definition_name(const std::string& arn)
{
    const auto slash = arn.rfind('/');
    return slash == std::string::npos ? arn : arn.substr(slash + 1);
}

// "0.0.0.0:32768->80/tcp" for each network binding; the address for awsvpc interfaces.
std::string ports_of(const json& task)
{
    std::string out;
    auto add = [&out](const std::string& item) { out += (out.empty() ? "" : ", ") + item; };
    const auto containers = task.find("containers");
    if (containers == task.end() || !containers->is_array())
        return out;
    for (const auto& c : *containers) {
        if (auto b = c.find("networkBindings"); b != c.end() && b->is_array())
            for (const auto& binding : *b)
                add(cat(text_of(binding, "bindIP").empty() ? "0.0.0.0" : text_of(binding, "bindIP"),
                        ":", number_of(binding, "hostPort"), "->",
                        number_of(binding, "containerPort"), "/",
                        text_of(binding, "protocol").empty() ? "tcp"
                                                             : text_of(binding, "protocol")));
        if (auto n = c.find("networkInterfaces"); n != c.end() && n->is_array())
            for (const auto& interface : *n)
                if (auto ip = text_of(interface, "privateIpv4Address"); !ip.empty())
                    add(ip);
    }
    return out;
}

void print_tasks(const std::vector<json>& tasks)
{
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    std::vector<Row> rows;
    rows.reserve(tasks.size());
    for (const auto& t : tasks)
        rows.push_back({task_id(text_of(t, "taskArn")),
                        definition_name(text_of(t, "taskDefinitionArn")), text_of(t, "lastStatus"),
                        text_of(t, "desiredStatus"), age(number_of(t, "createdAt"), now),
                        ports_of(t)});
    std::fputs(
        format_table({"TASK ID", "DEFINITION", "STATUS", "DESIRED", "CREATED", "PORTS"}, rows)
            .c_str(),
        stdout);
}

// DescribeTasks in batches of 100 (the API's limit).
Result<std::vector<json>> describe(const AgentClient& client, const std::vector<std::string>& arns)
{
    std::vector<json> out;
    for (std::size_t i = 0; i < arns.size(); i += 100) {
        const std::vector<std::string> batch(arns.begin() + static_cast<long>(i),
                                             arns.begin() +
                                                 static_cast<long>(std::min(arns.size(), i + 100)));
        auto reply = client.call("DescribeTasks", {{"tasks", batch}, {"include", {"TAGS"}}});
        if (!reply)
            return std::move(reply).error();
        for (const auto& t : reply->value("tasks", json::array()))
            out.push_back(t);
    }
    return out;
}

// The task definition to run for the file: the family's latest revision if it was registered
// from the same file content, else a newly registered one.
Result<std::string> definition_for(const AgentClient& client, const std::string& path)
{
    auto text = read_file(path, std::size_t{1} << 20);
    if (!text)
        return std::move(text).error().wrap("read task definition");
    auto input = json::parse(*text, nullptr, false);
    if (!input.is_object())
        return Error::invalid(berth::quoted(path),
                              ": not a JSON object (a task definition, as given to "
                              "aws ecs register-task-definition --cli-input-json)");
    const auto family = text_of(input, "family");
    if (family.empty())
        return Error::invalid(berth::quoted(path), ": family: required, a string");
    const auto digest = sha256_hex(input.dump());
    auto current =
        client.call("DescribeTaskDefinition", {{"taskDefinition", family}, {"include", {"TAGS"}}});
    if (current) {
        for (const auto& tag : current->value("tags", json::array()))
            if (text_of(tag, "key") == source_tag && text_of(tag, "value") == digest)
                return definition_name(
                    text_of(current->value("taskDefinition", json::object()), "taskDefinitionArn"));
    } else if (!current.error().bad_input) { // 4xx: no such family yet
        return std::move(current).error();
    }
    auto tags = input.value("tags", json::array());
    if (!tags.is_array())
        return Error::invalid(berth::quoted(path), ": tags: must be a list of {key, value}");
    tags.push_back({{"key", source_tag}, {"value", digest}});
    input["tags"] = tags;
    auto registered = client.call("RegisterTaskDefinition", input);
    if (!registered)
        return std::move(registered).error().wrap(cat("register ", berth::quoted(path)));
    return definition_name(
        text_of(registered->value("taskDefinition", json::object()), "taskDefinitionArn"));
}

} // namespace

int cmd_run_task(const Globals& g, const std::vector<std::string>& args)
{
    const char* text = "run-task FILE.json [--count N] [--started-by S]";
    std::string file, started_by;
    int count = 1;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const bool has_value = i + 1 < args.size();
        if (args[i] == "--count" && has_value) {
            const auto n = parse_int<int>(args[++i]);
            if (!n || *n < 1 || *n > 10)
                return usage("run-task --count N (1 to 10)");
            count = *n;
        } else if (args[i] == "--started-by" && has_value) {
            started_by = args[++i];
        } else if (file.empty() && !args[i].empty() && args[i].front() != '-') {
            file = args[i];
        } else {
            return usage(text);
        }
    }
    if (file.empty())
        return usage(text);
    const AgentClient client(g.socket_path());
    auto definition = definition_for(client, file);
    if (!definition)
        return fail(definition.error());
    json input = {{"taskDefinition", *definition}, {"count", count}};
    if (!started_by.empty())
        input["startedBy"] = started_by;
    auto reply = client.call("RunTask", input);
    if (!reply)
        return fail(reply.error());
    const auto failures = reply->value("failures", json::array());
    for (const auto& f : failures)
        std::fprintf(stderr, "berth: run-task: %s %s\n", text_of(f, "reason").c_str(),
                     text_of(f, "detail").c_str());
    const auto tasks = reply->value("tasks", json::array());
    if (g.json)
        print_json(*reply);
    else
        print_tasks(std::vector<json>(tasks.begin(), tasks.end()));
    return tasks.empty() ? 1 : 0;
}

int cmd_ps(const Globals& g, const std::vector<std::string>& args)
{
    bool all = false;
    for (const auto& a : args) {
        if (a == "--all" || a == "-a")
            all = true;
        else
            return usage("ps [--all]");
    }
    const AgentClient client(g.socket_path());
    std::vector<std::string> arns;
    if (all) {
        auto everything = all_task_arns(client);
        if (!everything)
            return fail(everything.error());
        arns = std::move(*everything);
    } else { // desired RUNNING: the tasks that run or are on their way
        auto reply = client.call("ListTasks", {{"desiredStatus", "RUNNING"}, {"maxResults", 100}});
        if (!reply)
            return fail(reply.error());
        for (const auto& arn : reply->value("taskArns", json::array()))
            arns.push_back(arn.get<std::string>());
        while (reply->contains("nextToken")) {
            reply = client.call("ListTasks", {{"desiredStatus", "RUNNING"},
                                              {"nextToken", text_of(*reply, "nextToken")}});
            if (!reply)
                return fail(reply.error());
            for (const auto& arn : reply->value("taskArns", json::array()))
                arns.push_back(arn.get<std::string>());
        }
    }
    auto tasks = describe(client, arns);
    if (!tasks)
        return fail(tasks.error());
    std::stable_sort(tasks->begin(), tasks->end(), [](const json& a, const json& b) {
        return number_of(a, "createdAt") > number_of(b, "createdAt");
    });
    if (g.json)
        print_json(json(*tasks));
    else
        print_tasks(*tasks);
    return 0;
}

int cmd_describe(const Globals& g, const std::vector<std::string>& args)
{
    if (args.size() != 1 || args[0].empty() || args[0].front() == '-')
        return usage("describe TASK");
    const AgentClient client(g.socket_path());
    auto arn = find_task(client, args[0]);
    if (!arn)
        return fail(arn.error());
    auto tasks = describe(client, {*arn});
    if (!tasks)
        return fail(tasks.error());
    if (tasks->empty())
        return fail(Error::with_code(ENOENT, "task ", berth::quoted(*arn), " is gone"));
    print_json(tasks->front());
    return 0;
}

int cmd_stop(const Globals& g, const std::vector<std::string>& args)
{
    const char* text = "stop TASK [--reason TEXT]";
    std::string task, reason;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--reason" && i + 1 < args.size())
            reason = args[++i];
        else if (task.empty() && !args[i].empty() && args[i].front() != '-')
            task = args[i];
        else
            return usage(text);
    }
    if (task.empty())
        return usage(text);
    const AgentClient client(g.socket_path());
    auto arn = find_task(client, task);
    if (!arn)
        return fail(arn.error());
    json input = {{"task", *arn}};
    if (!reason.empty())
        input["reason"] = reason;
    auto reply = client.call("StopTask", input);
    if (!reply)
        return fail(reply.error());
    if (g.json)
        print_json(reply->value("task", json::object()));
    else
        std::printf("%s\n", task_id(*arn).c_str());
    return 0;
}

} // namespace berth::cli

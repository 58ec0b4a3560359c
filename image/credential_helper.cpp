// image/credential_helper.cpp — Docker credential helpers: config.json's credHelpers[host] or
// credsStore name a program docker-credential-<name> (found on PATH) that, given the server on
// stdin to `get`, prints {"Username": ..., "Secret": ...}. This is how the ECR helper works.
// The helper runs with the caller's environment less berthd's secrets; its output is capped and
// parsed as hostile.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string_view>
#include <vector>
#include <nlohmann/json.hpp>
#include "base/fd.hpp"
#include "base/files.hpp"
#include "image/credential_helper.hpp"

extern char** environ; // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace berth::image {
namespace {

constexpr std::size_t max_helper_output = 65536;

bool valid_helper_name(std::string_view name)
{
    if (name.empty() || name.size() > 64)
        return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            return false;
    return true;
}

Result<std::string> run_helper(const std::string& program, std::string_view server)
{
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) < 0)
        return Error::from_errno("pipe");
    Fd in_r(in[0]), in_w(in[1]);
    if (::pipe2(out, O_CLOEXEC) < 0)
        return Error::from_errno("pipe");
    Fd out_r(out[0]), out_w(out[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_r.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
    std::string arg0 = program, arg1 = "get";
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    // The caller's environment (the ECR helper reads AWS_*), less the secrets berthd may have
    // been given there: a third-party helper has no business with the API's keys or the
    // registry credentials of ECS_ENGINE_AUTH_DATA.
    std::vector<char*> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry(*e);
        if (!entry.starts_with("BERTH_API_") && !entry.starts_with("ECS_ENGINE_AUTH_"))
            env.push_back(*e);
    }
    env.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, env.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        return Error::with_code(rc, "run ", program);
    in_r.reset();
    out_w.reset();
    (void)write_all(in_w.get(), server); // a helper that does not read is judged by its output
    in_w.reset();
    std::string output;
    auto text = read_fd(out_r.get(), max_helper_output);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!text)
        return std::move(text).error().wrap(cat("read from ", program));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return Error::with_code(EACCES, program, " get failed: ", quoted(trim(*text)));
    return std::move(*text);
}

} // namespace

bool config_key_names_host(std::string_view key, std::string_view host)
{
    for (std::string_view scheme : {"https://", "http://"})
        if (key.starts_with(scheme))
            key.remove_prefix(scheme.size());
    key = key.substr(0, key.find('/'));
    const auto is_hub = [](std::string_view h) {
        return h == "docker.io" || h == "index.docker.io" || h == "registry-1.docker.io";
    };
    return key == host || (is_hub(host) && is_hub(key));
}

std::optional<std::string> credential_helper_for(std::string_view config_json,
                                                 std::string_view host)
{
    auto j = nlohmann::json::parse(config_json.begin(), config_json.end(), nullptr, false);
    if (!j.is_object())
        return std::nullopt;
    if (const auto helpers = j.find("credHelpers"); helpers != j.end() && helpers->is_object())
        for (const auto& [key, value] : helpers->items())
            if (config_key_names_host(key, host) && value.is_string())
                return value.get<std::string>();
    if (const auto store = j.find("credsStore"); store != j.end() && store->is_string())
        return store->get<std::string>();
    return std::nullopt;
}

Result<std::optional<Credentials>> credentials_from_helper(const std::string& helper,
                                                           std::string_view host)
{
    if (!valid_helper_name(helper))
        return Error::invalid("credential helper name ", quoted(helper));
    const auto program = "docker-credential-" + helper;
    const std::string server =
        host == "docker.io" ? "https://index.docker.io/v1/" : std::string(host);
    auto output = run_helper(program, server);
    if (!output) {
        // "credentials not found" is a normal answer: pull anonymously.
        if (output.error().context.find("credentials not found") != std::string::npos)
            return std::optional<Credentials>{};
        return std::move(output).error();
    }
    auto j = nlohmann::json::parse(*output, nullptr, false);
    if (!j.is_object() || !j.contains("Secret") || !j["Secret"].is_string())
        return Error::invalid(program, ": output is not {\"Username\", \"Secret\"}");
    Credentials c;
    if (j.contains("Username") && j["Username"].is_string())
        c.username = j["Username"].get<std::string>();
    c.password = j["Secret"].get<std::string>();
    if (c.username == "<token>") { // Docker's marker for an identity (refresh) token
        c.identity_token = c.password;
        c.username.clear();
        c.password.clear();
    }
    return std::optional<Credentials>{std::move(c)};
}

} // namespace berth::image

// runtime/supervisor_client.cpp — create, exec and watch through berth-supervisor.
#include "runtime/supervisor_client.hpp"
#include <sys/socket.h>
#include <sys/un.h>
#include <cerrno>
#include <cstring>
#include "runtime/supervisor_protocol.hpp"
#include "base/unix_datagram.hpp"

namespace berth::runtime {
namespace {

using nlohmann::json;

Result<Fd> connect_supervisor(const std::string& path)
{
    auto addr = unix_path_address(path);
    if (!addr)
        return std::move(addr).error().wrap("supervisor socket path");
    Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return Error::from_errno("socket");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->length) < 0)
        return Error::from_errno("connect to supervisor ", berth::quoted(path));
    return fd;
}

// Whether a failed request never reached the supervisor, so that sending it again cannot do
// anything twice: nothing listens (ENOENT, ECONNREFUSED), or the connection was reset before
// the supervisor read it (ECONNRESET, EPIPE on send: it closed its listener while leaving idle
// with this connection still queued). A supervisor reads every request it accepts, so a reset
// never follows a request it acted on; EOF (EPIPE from receive_message) may, and is not retried.
bool undelivered(const Error& error, bool sent)
{
    if (!sent)
        return error.code == ENOENT || error.code == ECONNREFUSED || error.code == ECONNRESET ||
               error.code == EPIPE;
    return error.code == ECONNRESET;
}

struct Attempt {
    Result<std::pair<std::string, std::vector<Fd>>> answer;
    bool sent = false;
};

// One connection: the request and its fds out, the answer and its fds back.
Attempt exchange(const std::string& path, const std::string& body, const std::vector<int>& fds)
{
    auto socket = connect_supervisor(path);
    if (!socket)
        return {std::move(socket).error(), false};
    if (auto r = wire::send_message(socket->get(), body, fds); !r)
        return {std::move(r).error(), false};
    std::vector<Fd> got;
    auto text = wire::receive_message(socket->get(), got);
    if (!text)
        return {std::move(text).error(), true};
    return {std::pair{std::move(*text), std::move(got)}, true};
}

// Sends request with the given stdio (-1 entries are not sent; the flags say which are), and
// reads the answer: pid, pidfd, exit pipe. A supervisor that is not running (or just left) is
// started through options.start_supervisor and asked again: twice at most, for the narrow case
// where the one start found answering completes its idle exit before the request reaches it.
Result<Supervised> call(const Options& options, json request, const int (&stdio)[3])
{
    request["options"] = wire::options_to_json(options);
    std::vector<int> fds;
    json present = json::array();
    for (const int fd : stdio) {
        present.push_back(fd >= 0);
        if (fd >= 0)
            fds.push_back(fd);
    }
    request["stdio"] = present;
    const auto body = request.dump(-1, ' ', false, json::error_handler_t::replace);
    auto attempt = exchange(options.supervisor_socket, body, fds);
    for (int retry = 0; retry < 2 && !attempt.answer && options.start_supervisor &&
                        undelivered(attempt.answer.error(), attempt.sent);
         ++retry) {
        if (auto started = options.start_supervisor(); !started)
            return std::move(started).error().wrap("start berth-supervisor");
        attempt = exchange(options.supervisor_socket, body, fds);
    }
    if (!attempt.answer)
        return std::move(attempt.answer).error();
    auto& [answer_text, got] = *attempt.answer;
    const json answer = json::parse(answer_text, nullptr, false);
    if (answer.is_discarded() || !answer.is_object())
        return Error::with_code(EPROTO, "supervisor answered with something that is not JSON");
    if (!answer.value("ok", false))
        return wire::answer_error(answer);
    // fds: the exit pipe, then the pidfd unless the process is gone already.
    const bool has_pidfd = answer.value("hasPidfd", false);
    if (got.size() != (has_pidfd ? 2U : 1U) || !answer.contains("pid") ||
        !answer.at("pid").is_number_integer())
        return Error::with_code(EPROTO, "supervisor answer without pid and exit pipe");
    return Supervised{answer.at("pid").get<pid_t>(), has_pidfd ? std::move(got[1]) : Fd(),
                      std::move(got[0])};
}

} // namespace

Result<Supervised> supervised_create(const Options& options, const CreateOptions& co)
{
    if (co.preserve_fds > 0 || !co.pass_fds.empty())
        return Error::invalid("preserve_fds and pass_fds cannot be passed through the supervisor");
    if (!co.log_path.empty() && (co.stdout_fd >= 0 || co.stderr_fd >= 0))
        return Error::invalid("give either log_path or stdout_fd/stderr_fd, not both");
    if (co.log_journald && (!co.log_path.empty() || co.stdout_fd >= 0 || co.stderr_fd >= 0))
        return Error::invalid("give either log_journald or log_path or stdout_fd/stderr_fd");
    const json request = {{"op", "create"},
                          {"id", co.id},
                          {"bundle", co.bundle},
                          {"consoleSocket", co.console_socket},
                          {"pidFile", co.pid_file},
                          {"noPivot", co.no_pivot},
                          {"noNewKeyring", co.no_new_keyring},
                          {"logPath", co.log_path},
                          {"logMaxBytes", co.log_max_bytes},
                          {"logMaxFiles", co.log_max_files},
                          {"logDriver", co.log_journald ? "journald" : "json-file"},
                          {"logFields", co.log_fields}};
    const int stdio[3] = {co.stdin_fd, co.stdout_fd, co.stderr_fd};
    return call(options, request, stdio);
}

Result<Supervised> supervised_exec(const Options& options, const std::string& id,
                                   const ExecOptions& eo)
{
    if (eo.preserve_fds > 0 || !eo.pass_fds.empty())
        return Error::invalid("preserve_fds and pass_fds cannot be passed through the supervisor");
    const json request = {{"op", "exec"},
                          {"id", id},
                          {"process", wire::process_to_json(eo.process)},
                          {"consoleSocket", eo.console_socket},
                          {"pidFile", eo.pid_file}};
    const int stdio[3] = {eo.stdin_fd, eo.stdout_fd, eo.stderr_fd};
    return call(options, request, stdio);
}

Result<Supervised> supervised_watch(const Options& options, const std::string& id, pid_t exec_pid)
{
    const int none[3] = {-1, -1, -1};
    json request{{"op", "watch"}, {"id", id}};
    if (exec_pid > 0)
        request["pid"] = exec_pid;
    return call(options, request, none);
}

} // namespace berth::runtime

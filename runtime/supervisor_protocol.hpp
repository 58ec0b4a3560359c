// runtime/supervisor_protocol.hpp — internal: the messages between the library and
// berth-supervisor. SOCK_SEQPACKET, one request and one answer per connection; JSON bodies,
// fds by SCM_RIGHTS. Both sides are berth of the same build (the socket is root-only).
#pragma once
#include <span>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>
#include "base/fd.hpp"
#include "runtime/runtime.hpp"

namespace berth::runtime::wire {

inline constexpr std::size_t max_message_bytes = std::size_t{256} * 1024;
inline constexpr std::size_t max_fds = 4; // at most max_passed_fds (fd_passing.hpp)

Result<void> send_message(int socket, std::string_view body, std::span<const int> fds = {});
// One message; fds received are appended to fds (close-on-exec). EOF is EPIPE.
Result<std::string> receive_message(int socket, std::vector<Fd>& fds);

nlohmann::json options_to_json(const Options& options);
Options options_from_json(const nlohmann::json& j); // throws on a malformed message
// Every field of Process, in the OCI shape parse_process() reads back.
nlohmann::json process_to_json(const Process& process);

// An error answer and back.
std::string error_answer(const Error& error);
Error answer_error(const nlohmann::json& answer);

} // namespace berth::runtime::wire

// runtime/cli/signals.hpp — signal names as runc's kill takes them: "9", "KILL", "SIGKILL",
// "kill", and the real-time range "RTMIN+3" / "SIGRTMAX-1". "0" sends no signal and only checks
// that the container is running, as with runc.
#pragma once
#include <optional>
#include <string_view>

namespace berth::cli {

std::optional<int> parse_signal(std::string_view text);

} // namespace berth::cli

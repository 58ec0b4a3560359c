// runtime/cli/args.hpp — the CLI's small argument parser, with runc's (Go flag package) rules:
// "--name value", "--name=value", "-n value", "-name" all work; parsing stops at the first
// positional argument or after "--", so `exec <id> sh -c ...` passes "-c" to the container.
#pragma once
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>
#include "base/result.hpp"

namespace berth::cli {

struct Flag {
    std::string_view name;    // long name, without dashes
    char short_name = 0;      // 0: none
    bool takes_value = false; // false: a boolean ("--detach", "--detach=false")
    std::string_view help;
};

class Parsed {
public:
    bool has(std::string_view name) const { return values_.count(std::string(name)) > 0; }
    bool flag(std::string_view name) const; // a boolean flag that is set and not "false"
    std::string value(std::string_view name, std::string fallback = "") const; // last given
    std::vector<std::string> all(std::string_view name) const; // repeated flags, in order
    const std::vector<std::string>& positionals() const { return positionals_; }

    void add(std::string_view name, std::string value);
    void add_positional(std::string value) { positionals_.push_back(std::move(value)); }

private:
    std::map<std::string, std::vector<std::string>> values_;
    std::vector<std::string> positionals_;
};

Result<Parsed> parse_args(std::span<const std::string> args, std::span<const Flag> flags);

// A verb's description for parsing and --help.
struct VerbSpec {
    std::string_view name;
    std::string_view arguments; // "<container-id>", shown in USAGE
    std::string_view summary;
    std::span<const Flag> flags;
    int min_args = 0, max_args = 0; // positional count; max_args < 0: unlimited
};

void print_help(const VerbSpec& verb);
// The parsed arguments, or the exit code to return now: 0 after --help, 1 after a usage error
// (already reported the way runc does).
std::variant<Parsed, int> parse_verb(const VerbSpec& verb, std::span<const std::string> args);

} // namespace berth::cli

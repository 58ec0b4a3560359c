#include "runtime/cli/args.hpp"
#include <cstdio>
#include <optional>
#include "runtime/cli/log_output.hpp"

namespace berth::cli {
namespace {

const Flag* find_flag(std::span<const Flag> flags, std::string_view name)
{
    for (const auto& flag : flags)
        if (flag.name == name || (name.size() == 1 && flag.short_name == name[0]))
            return &flag;
    return nullptr;
}

bool is_bool_text(std::string_view text)
{
    return text == "true" || text == "false" || text == "1" || text == "0";
}

} // namespace

bool Parsed::flag(std::string_view name) const
{
    const auto found = values_.find(std::string(name));
    if (found == values_.end() || found->second.empty())
        return false;
    const auto& last = found->second.back();
    return last != "false" && last != "0";
}

std::string Parsed::value(std::string_view name, std::string fallback) const
{
    const auto found = values_.find(std::string(name));
    if (found == values_.end() || found->second.empty())
        return fallback;
    return found->second.back();
}

std::vector<std::string> Parsed::all(std::string_view name) const
{
    const auto found = values_.find(std::string(name));
    return found == values_.end() ? std::vector<std::string>{} : found->second;
}

void Parsed::add(std::string_view name, std::string value)
{
    values_[std::string(name)].push_back(std::move(value));
}

Result<Parsed> parse_args(std::span<const std::string> args, std::span<const Flag> flags)
{
    Parsed parsed;
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg.size() < 2 || arg[0] != '-')
            break; // first positional: the rest belongs to the verb (Go's flag package)
        arg.remove_prefix(arg[1] == '-' ? 2 : 1);
        std::string_view name = arg;
        std::optional<std::string> inline_value;
        if (const auto equals = arg.find('='); equals != std::string_view::npos) {
            name = arg.substr(0, equals);
            inline_value = std::string(arg.substr(equals + 1));
        }
        const Flag* flag = find_flag(flags, name);
        if (!flag)
            return Error::invalid("flag provided but not defined: -", name);
        if (!flag->takes_value) {
            if (inline_value && !is_bool_text(*inline_value))
                return Error::invalid("invalid boolean value ", quoted(*inline_value), " for -",
                                      name);
            parsed.add(flag->name, inline_value.value_or("true"));
            continue;
        }
        if (inline_value) {
            parsed.add(flag->name, *inline_value);
        } else if (i + 1 < args.size()) {
            parsed.add(flag->name, args[++i]);
        } else {
            return Error::invalid("flag needs an argument: -", name);
        }
    }
    for (; i < args.size(); ++i)
        parsed.add_positional(args[i]);
    return parsed;
}

void print_help(const VerbSpec& verb)
{
    std::printf("NAME:\n   berth-runtime %.*s - %.*s\n\nUSAGE:\n   berth-runtime %.*s "
                "[command options] %.*s\n",
                static_cast<int>(verb.name.size()), verb.name.data(),
                static_cast<int>(verb.summary.size()), verb.summary.data(),
                static_cast<int>(verb.name.size()), verb.name.data(),
                static_cast<int>(verb.arguments.size()), verb.arguments.data());
    if (verb.flags.empty())
        return;
    std::printf("\nOPTIONS:\n");
    for (const auto& flag : verb.flags) {
        std::string names = cat("--", flag.name, flag.takes_value ? " value" : "");
        if (flag.short_name)
            names += cat(", -", flag.short_name, flag.takes_value ? " value" : "");
        std::printf("   %-34s %.*s\n", names.c_str(), static_cast<int>(flag.help.size()),
                    flag.help.data());
    }
}

std::variant<Parsed, int> parse_verb(const VerbSpec& verb, std::span<const std::string> args)
{
    static constexpr Flag help_flag{"help", 'h', false, "show help"};
    std::vector<Flag> flags(verb.flags.begin(), verb.flags.end());
    flags.push_back(help_flag);
    auto parsed = parse_args(args, flags);
    if (!parsed) {
        std::printf("Incorrect Usage: %s\n\n", parsed.error().message().c_str());
        print_help(verb);
        return fail(parsed.error().message());
    }
    if (parsed->flag("help")) {
        print_help(verb);
        return 0;
    }
    const auto count = static_cast<int>(parsed->positionals().size());
    const bool exact = verb.min_args == verb.max_args;
    if (count < verb.min_args || (verb.max_args >= 0 && count > verb.max_args)) {
        std::printf("Incorrect Usage.\n\n");
        print_help(verb);
        if (exact)
            return fail(cat("berth-runtime: \"", verb.name, "\" requires exactly ", verb.min_args,
                            " argument(s)"));
        if (count < verb.min_args)
            return fail(cat("berth-runtime: \"", verb.name, "\" requires a minimum of ",
                            verb.min_args, " argument(s)"));
        return fail(cat("berth-runtime: \"", verb.name, "\" requires a maximum of ", verb.max_args,
                        " argument(s)"));
    }
    return std::move(*parsed);
}

} // namespace berth::cli

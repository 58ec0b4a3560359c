// runtime/cli/list.cpp — `list`: a table padded like Go's tabwriter (minwidth 12, padding 3),
// `-f json` (a compact array, "null" when empty, as runc), or `-q` (ids only).
#include <algorithm>
#include <cstdio>
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/state_json.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {
namespace {

const Flag list_flags[] = {
    {"format", 'f', true, "select one of: table or json (default: \"table\")"},
    {"quiet", 'q', false, "display only container IDs"},
};

// Go's text/tabwriter with minwidth 12, padding 3: every column but the last is padded.
void print_table(const std::vector<std::vector<std::string>>& rows)
{
    std::vector<std::size_t> widths(rows.front().size(), 12);
    for (const auto& row : rows)
        for (std::size_t i = 0; i + 1 < row.size(); ++i)
            widths[i] = std::max(widths[i], row[i].size() + 3);
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size())
                line.append(widths[i] - row[i].size(), ' ');
        }
        std::printf("%s\n", line.c_str());
    }
}

} // namespace

int list_main(const Options& options, Args args)
{
    static const VerbSpec verb{"list",     "", "lists containers started with the given root",
                               list_flags, 0,  0};
    auto parsed_or_code = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed_or_code))
        return *code;
    const auto& parsed = std::get<Parsed>(parsed_or_code);
    const auto format = parsed.value("format", "table");
    if (format != "table" && format != "json")
        return fail(cat("invalid format option"));
    auto states = runtime::list(options);
    if (!states)
        return fail(states.error());
    if (parsed.flag("quiet")) {
        for (const auto& state : *states)
            std::printf("%s\n", state.id.c_str());
        return 0;
    }
    if (format == "json") {
        nlohmann::ordered_json array = nlohmann::ordered_json::array();
        for (const auto& state : *states)
            array.push_back(state_object(state, state_owner(options.root, state.id)));
        const auto text =
            states->empty() ? std::string("null")
                            : array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::printf("%s\n", text.c_str());
        return 0;
    }
    std::vector<std::vector<std::string>> rows{
        {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
    for (const auto& state : *states)
        rows.push_back({state.id, std::to_string(state.pid),
                        std::string(runtime::status_name(state.status)), state.bundle,
                        rfc3339_nano(state.created), state_owner(options.root, state.id)});
    print_table(rows);
    return 0;
}

} // namespace berth::cli

// agent/config/parse.cpp — the berth.conf grammar (the ecs.config style that ecs-init hands to
// the ECS agent as an environment file) and the environment overrides:
//   # a comment            blank lines are skipped; leading and trailing blanks are trimmed
//   KEY=value              KEY is [A-Z0-9_]+; the value runs to the end of the line
//   KEY="value" / 'value'  one pair of matching quotes around the whole value is removed
// Each file line is checked as it is read; then each known key set in the environment replaces
// the file's value; then the whole is checked.
#include <algorithm>
#include <cstring>
#include <vector>
#include "agent/config/keys.hpp"
#include "base/files.hpp"
#include "base/strings.hpp"

namespace berth::config {
namespace {

bool key_name(std::string_view k)
{
    return !k.empty() && std::all_of(k.begin(), k.end(), [](char ch) {
        return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
    });
}

std::string_view unquote(std::string_view v)
{
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        return v.substr(1, v.size() - 2);
    return v;
}

Result<void> apply(Config& c, const Key& key, std::string_view value, const std::string& where)
{
    if (auto ok = key.apply(c, value); !ok)
        return std::move(ok).error().wrap(cat(where, key.name));
    return {};
}

Result<void> parse_line(Config& c, std::string_view line, const std::string& where,
                        std::map<std::string_view, std::size_t>& seen, std::size_t number)
{
    const auto eq = line.find('=');
    if (eq == std::string_view::npos)
        return Error::invalid(where, "expected KEY=VALUE, got ", quoted(line));
    const auto name = trim(line.substr(0, eq));
    if (!key_name(name))
        return Error::invalid(where, quoted(name), ": not a key name (A-Z, 0-9 and _)");
    const auto* key = find_key(name);
    if (key == nullptr)
        return Error::invalid(where, name, ": unknown key (docs/CONFIGURATION.md lists them)");
    if (auto [it, fresh] = seen.emplace(key->name, number); !fresh)
        return Error::invalid(where, name, ": set twice (first on line ", it->second, ")");
    const auto value = unquote(trim(line.substr(eq + 1)));
    return apply(c, *key, value, where);
}

// Levenshtein distance, stopping early past `limit` (keys are short).
std::size_t distance(std::string_view a, std::string_view b, std::size_t limit)
{
    if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > limit)
        return limit + 1;
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

const Key* near_miss(std::string_view name)
{
    for (const auto& k : keys())
        if (distance(name, k.name, 2) <= 2)
            return &k;
    return nullptr;
}

} // namespace

Environment environment_from(char** envp)
{
    Environment env;
    for (; envp != nullptr && *envp != nullptr; ++envp) {
        std::string_view entry(*envp);
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos)
            continue;
        const auto name = entry.substr(0, eq);
        if (name.substr(0, 4) == "ECS_" || name.substr(0, 6) == "BERTH_")
            env.emplace(std::string(name), std::string(entry.substr(eq + 1)));
    }
    return env;
}

Result<Config> parse(std::string_view text, std::string_view origin, const Environment& env)
{
    if (text.size() > max_file_bytes)
        return Error::invalid(origin, ": larger than ", max_file_bytes, " bytes");
    if (text.find('\0') != std::string_view::npos)
        return Error::invalid(origin, ": contains a NUL byte");
    Config c;
    std::map<std::string_view, std::size_t> seen;
    std::size_t number = 0;
    for (auto raw : split(text, '\n')) {
        ++number;
        if (!raw.empty() && raw.back() == '\r')
            raw.remove_suffix(1);
        const auto line = trim(raw);
        if (line.empty() || line.front() == '#')
            continue;
        if (auto ok = parse_line(c, line, cat(origin, ":", number, ": "), seen, number); !ok)
            return std::move(ok).error();
    }
    for (const auto& [name, value] : env) {
        const auto* key = find_key(name);
        if (key == nullptr) {
            // The ECS agent ignores environment variables it does not know, and so does berthd:
            // scripts and build systems export their own BERTH_* (meson's BERTH_SOURCE_ROOT).
            // Only a BERTH_* near miss of a known key (at most two edits) is refused as the typo
            // it is; ECS_* keys are the real ECS agent's too (it has many berth does not know).
            if (const auto* near = name.substr(0, 6) == "BERTH_" ? near_miss(name) : nullptr)
                return Error::invalid("environment: ", name, ": unknown key (did you mean ",
                                      near->name, "?)");
            continue;
        }
        if (auto ok = apply(c, *key, value, "environment: "); !ok)
            return std::move(ok).error();
    }
    if (auto ok = check(c); !ok)
        return std::move(ok).error().wrap(origin);
    return c;
}

Result<Config> load(const std::string& path, const Environment& env, bool must_exist)
{
    auto text = read_file(path, max_file_bytes + 1);
    if (!text) {
        if (text.error().code == ENOENT && !must_exist)
            return parse({}, path, env);
        return std::move(text).error().wrap("read configuration");
    }
    return parse(*text, path, env);
}

} // namespace berth::config

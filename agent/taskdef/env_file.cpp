// agent/taskdef/env_file.cpp — environmentFiles: KEY=VALUE lines from a local file, as ECS reads
// its S3 environment files (no quoting, no variable expansion, '#' lines are comments).
#include "agent/taskdef/internal.hpp"
#include "base/files.hpp"

namespace berth::taskdef {

Result<std::vector<KeyValue>> read_environment_file(const std::string& path)
{
    auto text = read_file(path, max_environment_file_bytes);
    if (!text)
        return std::move(text).error().wrap(cat("environment file ", berth::quoted(path)));
    std::vector<KeyValue> out;
    std::size_t number = 0;
    for (std::string_view line : split(*text, '\n')) {
        ++number;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (trim(line).empty() || trim(line).front() == '#')
            continue;
        const std::string where = cat("environment file ", berth::quoted(path), " line ", number);
        if (line.find('\0') != std::string_view::npos)
            return Error::invalid(where, ": contains a NUL byte");
        const auto eq = line.find('=');
        if (eq == std::string_view::npos)
            return Error::invalid(where, ": expected KEY=VALUE");
        const std::string_view key = line.substr(0, eq);
        if (key.empty() || key.find_first_of(" \t") != std::string_view::npos)
            return Error::invalid(where, ": ", berth::quoted(key), " is not a variable name");
        out.push_back({std::string(key), std::string(line.substr(eq + 1))});
    }
    return out;
}

} // namespace berth::taskdef

// agent/cli/table.cpp — column layout for the human output (see table.hpp).
#include "agent/cli/table.hpp"
#include <algorithm>

namespace berth::cli {

std::string format_table(const Row& header, const std::vector<Row>& rows)
{
    std::size_t columns = header.size();
    for (const auto& row : rows)
        columns = std::max(columns, row.size());
    std::vector<std::size_t> width(columns, 0);
    auto measure = [&](const Row& row) {
        for (std::size_t i = 0; i < row.size(); ++i)
            width[i] = std::max(width[i], row[i].size());
    };
    measure(header);
    for (const auto& row : rows)
        measure(row);
    std::string out;
    auto emit = [&](const Row& row) {
        std::string line;
        for (std::size_t i = 0; i < columns; ++i) {
            const std::string cell = i < row.size() ? row[i] : std::string();
            line += cell;
            if (i + 1 < columns)
                line.append(width[i] - cell.size() + 3, ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line + "\n";
    };
    emit(header);
    for (const auto& row : rows)
        emit(row);
    return out;
}

std::string age(std::int64_t then, std::int64_t now)
{
    if (then == 0)
        return "";
    const std::int64_t seconds = std::max<std::int64_t>(0, now - then);
    auto unit = [](std::int64_t n, const char* name) {
        return std::to_string(n) + " " + name + (n == 1 ? "" : "s") + " ago";
    };
    if (seconds < 60)
        return unit(seconds, "second");
    if (seconds < 3600)
        return unit(seconds / 60, "minute");
    if (seconds < 86400)
        return unit(seconds / 3600, "hour");
    return unit(seconds / 86400, "day");
}

} // namespace berth::cli

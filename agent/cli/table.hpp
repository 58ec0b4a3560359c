// agent/cli/table.hpp — human output: left-aligned columns sized to their widest cell, three
// spaces apart, the last column unpadded (as docker ps prints), and short relative ages.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace berth::cli {

using Row = std::vector<std::string>;

// header and every row: the same number of cells (a short row is padded with empty cells).
std::string format_table(const Row& header, const std::vector<Row>& rows);
// "12 seconds ago", "3 minutes ago", "2 hours ago", "5 days ago"; "" for 0 (no time known).
std::string age(std::int64_t then, std::int64_t now);

} // namespace berth::cli

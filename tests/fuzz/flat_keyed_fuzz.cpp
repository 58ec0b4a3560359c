// tests/fuzz/flat_keyed_fuzz.cpp — "key value" cgroup files (memory.stat, cpu.stat,
// memory.events, pids.events; their content is shaped by what the container does) ->
// parse_flat_keyed. Properties: keys are non-empty single tokens; no more keys than lines.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include "cgroups/internal.hpp" // the parsers under test
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const auto text = fuzz::as_text(data, size);

    auto values = cgroups::parse_flat_keyed(text);
    if (!values) {
        fuzz::require_explained(values.error());
        return 0;
    }
    const auto newlines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    fuzz::require(values->size() <= newlines + 1, "no more keys than lines");
    for (const auto& [key, value] : *values) {
        fuzz::require(!key.empty(), "a key is not empty");
        fuzz::require(key.find(' ') == std::string::npos && key.find('\n') == std::string::npos,
                      "a key is one token");
    }
    return 0;
}

// tests/fuzz/proc_stat_fuzz.cpp — /proc/<pid>/stat (field 2, comm, is chosen by the process
// itself: it may hold spaces, ')' and newlines) -> parse_stat_start_time. Properties: refusals
// explain themselves; the parser is pure.
#include <cstddef>
#include <cstdint>
#include "runtime/internal.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const auto text = fuzz::as_text(data, size);
    auto start = runtime::store::parse_stat_start_time(text);
    if (!start) {
        fuzz::require_explained(start.error());
        return 0;
    }
    auto again = runtime::store::parse_stat_start_time(text);
    fuzz::require(again.has_value() && *again == *start, "parse_stat_start_time is pure");
    return 0;
}

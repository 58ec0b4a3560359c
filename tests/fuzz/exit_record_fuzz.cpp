// tests/fuzz/exit_record_fuzz.cpp — <root>/<id>/exit-*.json (written by the reaper, read back by a
// restarted agent: corruption or a hostile writer must end in an Error) -> parse_exit_record.
// Property: an accepted record serializes and parses back to the same record.
#include <cstddef>
#include <cstdint>
#include "runtime/runtime.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    auto record = runtime::parse_exit_record(fuzz::as_text(data, size));
    if (!record) {
        fuzz::require_explained(record.error());
        return 0;
    }
    auto again = runtime::parse_exit_record(runtime::exit_record_to_json(*record));
    fuzz::require(again.has_value(), "exit_record_to_json output parses again");
    fuzz::require(
        again->pid == record->pid && again->exit_code == record->exit_code &&
            again->signal == record->signal && again->core_dumped == record->core_dumped &&
            again->oom_killed == record->oom_killed && again->finished_ns == record->finished_ns &&
            again->boot_id == record->boot_id,
        "parse_exit_record(exit_record_to_json(r)) == r");
    return 0;
}

// tests/fuzz/state_file_fuzz.cpp — <root>/<id>/state.json (the runtime's own file, but it sits
// on disk between runs: corruption, a crash mid-upgrade or a hostile writer must end in an
// Error, never in undefined behaviour) -> parse_state_file. Property: an accepted record
// serializes and parses back to the same record (a round trip).
#include <cstddef>
#include <cstdint>
#include "runtime/internal.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;
using runtime::store::Record;

namespace {

bool same(const Record& a, const Record& b)
{
    return a.oci_version == b.oci_version && a.id == b.id && a.pid == b.pid &&
           a.start_time == b.start_time && a.bundle == b.bundle && a.rootfs == b.rootfs &&
           a.created_ns == b.created_ns && a.owner == b.owner && a.cgroup_path == b.cgroup_path &&
           a.annotations == b.annotations && a.boot_id == b.boot_id;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    auto record = runtime::store::parse_state_file(fuzz::as_text(data, size));
    if (!record) {
        fuzz::require_explained(record.error());
        return 0;
    }
    fuzz::require(runtime::store::check_id(record->id).has_value(),
                  "an accepted state file has a valid container id");
    const auto text = runtime::store::serialize_state(*record);
    auto again = runtime::store::parse_state_file(text);
    fuzz::require(again.has_value(), "serialize_state output parses again");
    fuzz::require(same(*record, *again), "parse_state_file(serialize_state(r)) == r");
    return 0;
}

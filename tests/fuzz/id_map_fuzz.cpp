// tests/fuzz/id_map_fuzz.cpp — /proc/<pid>/{uid,gid}_map text (untrusted when read from another
// process) -> parse_id_map. Property: whatever is accepted formats again with format_id_map,
// and that text parses back to the same mappings (a round trip).
#include <cstddef>
#include <cstdint>
#include <vector>
#include "runtime/spec.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

namespace {

bool same(const std::vector<runtime::IdMapping>& a, const std::vector<runtime::IdMapping>& b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].container_id != b[i].container_id || a[i].host_id != b[i].host_id ||
            a[i].size != b[i].size)
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    auto mappings = runtime::parse_id_map(fuzz::as_text(data, size));
    if (!mappings) {
        fuzz::require_explained(mappings.error());
        return 0;
    }
    auto text = runtime::format_id_map(*mappings);
    if (!text) {
        // format_id_map may refuse what the kernel would refuse (e.g. an empty list); it must
        // say why.
        fuzz::require_explained(text.error());
        return 0;
    }
    auto again = runtime::parse_id_map(*text);
    fuzz::require(again.has_value(), "format_id_map output parses again");
    fuzz::require(same(*mappings, *again), "parse_id_map(format_id_map(m)) == m");
    return 0;
}

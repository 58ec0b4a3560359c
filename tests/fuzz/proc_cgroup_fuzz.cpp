// tests/fuzz/proc_cgroup_fuzz.cpp — /proc/<pid>/cgroup text (a container's process can shape
// what its own cgroup paths look like) -> parse_proc_cgroup, and delegated_root on the same
// text. Properties: accepted paths are absolute; no more entries than lines; refusals explain.
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

    auto lines = cgroups::parse_proc_cgroup(text);
    if (lines) {
        const auto newlines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
        fuzz::require(lines->size() <= newlines + 1, "no more cgroup entries than lines");
        for (const auto& line : *lines) {
            fuzz::require(!line.path.empty() && line.path.front() == '/',
                          "an accepted cgroup path is absolute");
            fuzz::require(line.path.find('\n') == std::string::npos,
                          "an accepted cgroup path has no newline");
        }
    } else {
        fuzz::require_explained(lines.error());
    }

    auto root = cgroups::delegated_root(text);
    if (root)
        fuzz::require(!root->empty() && root->front() == '/', "a delegated root is absolute");
    else
        fuzz::require_explained(root.error());
    return 0;
}

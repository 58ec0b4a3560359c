// tests/fuzz/mount_options_fuzz.cpp — mounts[].options of a bundle (untrusted) ->
// parse_mount_options. The input is split on NUL and ',' into the option list, as a JSON array
// of strings would arrive (options with a comma inside are the kernel's data syntax anyway).
// Properties: refusals explain themselves; the result is deterministic; what is left for the
// kernel as data is a well-formed comma list.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>
#include "runtime/spec.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

namespace {

std::vector<std::string> split_options(std::string_view text)
{
    std::vector<std::string> options;
    std::string current;
    for (const char c : text) {
        if (c == '\0' || c == ',') {
            options.push_back(std::move(current));
            current.clear();
        } else {
            current += c;
        }
    }
    options.push_back(std::move(current));
    return options;
}

bool same(const runtime::MountOptions& a, const runtime::MountOptions& b)
{
    return a.flags == b.flags && a.clear_flags == b.clear_flags && a.propagation == b.propagation &&
           a.bind == b.bind && a.recursive == b.recursive &&
           a.recursive_readonly == b.recursive_readonly && a.data == b.data;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const auto options = split_options(fuzz::as_text(data, size));

    auto parsed = runtime::parse_mount_options(options);
    if (!parsed) {
        fuzz::require_explained(parsed.error());
        return 0;
    }
    auto again = runtime::parse_mount_options(options);
    fuzz::require(again.has_value() && same(*parsed, *again), "parse_mount_options is pure");

    const std::string& kernel_data = parsed->data;
    fuzz::require(kernel_data.empty() || (kernel_data.front() != ',' && kernel_data.back() != ','),
                  "mount data has no leading or trailing comma");
    fuzz::require(kernel_data.find('\0') == std::string::npos, "mount data has no NUL byte");
    return 0;
}

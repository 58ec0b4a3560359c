// tests/fuzz/names_fuzz.cpp — capability and rlimit names from a bundle (untrusted) ->
// capability_from_name, rlimit_from_name. Properties: a resolved value is in the kernel's
// range; refusals explain themselves; the lookup is pure.
#include <linux/capability.h>
#include <sys/resource.h>
#include <cstddef>
#include <cstdint>
#include "runtime/spec.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

// CAP_LAST_CAP of the kernel headers berth is built against; a newer kernel's names (if the
// parser knows them) are still below 64, the width of the capability sets.
static constexpr int max_capability = 63;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const auto name = fuzz::as_text(data, size);

    auto capability = runtime::capability_from_name(name);
    if (capability) {
        fuzz::require(*capability >= 0 && *capability <= max_capability,
                      "a capability number is 0..63");
        auto again = runtime::capability_from_name(name);
        fuzz::require(again.has_value() && *again == *capability, "capability lookup is pure");
    } else {
        fuzz::require_explained(capability.error());
    }

    auto rlimit = runtime::rlimit_from_name(name);
    if (rlimit)
        fuzz::require(*rlimit >= 0 && *rlimit < RLIM_NLIMITS,
                      "an rlimit number is below RLIM_NLIMITS");
    else
        fuzz::require_explained(rlimit.error());
    return 0;
}

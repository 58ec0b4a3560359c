// tests/fuzz/image_reference_fuzz.cpp — image references (typed by users, read from task
// definitions) -> parse_reference. Properties: an accepted reference's canonical form parses
// again to the same reference; refusals explain.
#include <cstddef>
#include <cstdint>
#include "image/image.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > 4096)
        return 0;
    auto ref = image::parse_reference(fuzz::as_text(data, size));
    if (!ref) {
        fuzz::require_explained(ref.error());
        return 0;
    }
    fuzz::require(!ref->domain.empty() && !ref->repository.empty(), "domain and repository set");
    fuzz::require(!ref->tag.empty() || !ref->digest.empty(), "a tag or a digest");
    auto again = image::parse_reference(ref->str());
    fuzz::require(again.has_value(), "the canonical form parses");
    fuzz::require(again->str() == ref->str(), "the canonical form is stable");
    return 0;
}

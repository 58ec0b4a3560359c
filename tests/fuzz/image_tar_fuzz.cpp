// tests/fuzz/image_tar_fuzz.cpp — layer tar streams (from any registry) -> TarParser, fed in
// uneven chunks. Properties: nothing crashes; entries' data never exceeds their declared size;
// a sparse file's pieces come in increasing order inside its size; refusals explain. (The writer's
// confinement is tested against the kernel in tests/root.)
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include "image/internal.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

namespace {
struct Counter final : image::TarHandler {
    std::uint64_t declared = 0, got = 0;
    Result<void> begin(const image::TarEntry& e) override
    {
        declared = e.size;
        got = 0;
        return {};
    }
    Result<void> data(const char*, std::size_t n) override
    {
        got += n;
        fuzz::require(got <= declared, "no more data than the header declared");
        return {};
    }
    Result<void> end() override { return {}; }
    bool accepts_sparse() const override { return true; }
    Result<void> data_at(std::uint64_t offset, const char*, std::size_t n) override
    {
        fuzz::require(offset >= got && n <= declared && offset <= declared - n,
                      "sparse pieces in order, inside the file");
        got = offset + n;
        return {};
    }
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    Counter counter;
    image::TarParser parser(counter);
    const std::size_t chunk = size > 0 ? 1u + data[0] % 97u : 1u;
    Result<void> r;
    for (std::size_t i = 0; r && i < size; i += chunk)
        r = parser.feed(reinterpret_cast<const char*>(data) + i, std::min(chunk, size - i));
    if (r)
        r = parser.finish();
    if (!r)
        fuzz::require_explained(r.error());
    return 0;
}

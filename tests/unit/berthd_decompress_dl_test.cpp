#define BOOST_TEST_MODULE berthd_decompress_dl
// berthd's ISA-L and zstd shim (agent/berthd/decompress_dl.cpp, compiled into this test as into
// berthd): neither library is loaded before the first layer, and the forwarded functions
// decompress what gzip(1) and zstd(1) made.
#include <dlfcn.h>
#include <isa-l/igzip_lib.h>
#define ZSTD_STATIC_LINKING_ONLY // ZSTD_d_forceIgnoreChecksum
#include <zstd.h>
#include <array>
#include <cstdint>
#include <string>
#include <boost/test/unit_test.hpp>

namespace {

bool loaded(const char* soname)
{
    void* handle = ::dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
    if (handle != nullptr)
        ::dlclose(handle); // drops only the reference RTLD_NOLOAD took
    return handle != nullptr;
}

// printf 'hello berth\n' | gzip -n, and | zstd
std::array<std::uint8_t, 32> gzipped = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57,
    0x48, 0x4a, 0x2d, 0x2a, 0xc9, 0xe0, 0x02, 0x00, 0x60, 0x0d, 0x23, 0x08, 0x0c, 0x00, 0x00, 0x00};
std::array<std::uint8_t, 25> zstded = {0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x0c, 0x61, 0x00, 0x00,
                                       0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x62, 0x65, 0x72,
                                       0x74, 0x68, 0x0a, 0xac, 0xe1, 0xec, 0x18};

} // namespace

BOOST_AUTO_TEST_CASE(isal_loads_at_the_first_inflate_and_inflates_gzip)
{
    BOOST_TEST(!loaded("libisal.so.2"));
    inflate_state state{};
    isal_inflate_init(&state);
    BOOST_TEST(loaded("libisal.so.2"));
    state.crc_flag = ISAL_GZIP;
    std::array<std::uint8_t, 64> out{};
    state.next_in = gzipped.data();
    state.avail_in = gzipped.size();
    state.next_out = out.data();
    state.avail_out = out.size();
    BOOST_TEST(isal_inflate(&state) == ISAL_DECOMP_OK);
    BOOST_TEST(state.block_state == ISAL_BLOCK_FINISH);
    const std::string text(reinterpret_cast<const char*>(out.data()), out.size() - state.avail_out);
    BOOST_TEST(text == "hello berth\n");
}

BOOST_AUTO_TEST_CASE(zstd_loads_at_the_first_context_and_decompresses_a_frame)
{
    BOOST_TEST(!loaded("libzstd.so.1"));
    ZSTD_DCtx* ctx = ZSTD_createDCtx();
    BOOST_TEST_REQUIRE(ctx != nullptr);
    BOOST_TEST(loaded("libzstd.so.1"));
    // image/decompress.cpp turns the frame checksum off (the layer's sha256 covers it).
    BOOST_TEST(!ZSTD_isError(ZSTD_DCtx_setParameter(ctx, ZSTD_d_forceIgnoreChecksum, 1)));
    BOOST_TEST(ZSTD_isError(ZSTD_DCtx_setParameter(ctx, static_cast<ZSTD_dParameter>(-7), 1)));
    std::array<char, 64> out{};
    ZSTD_inBuffer in{zstded.data(), zstded.size(), 0};
    ZSTD_outBuffer o{out.data(), out.size(), 0};
    const size_t rc = ZSTD_decompressStream(ctx, &o, &in);
    BOOST_TEST(!ZSTD_isError(rc));
    BOOST_TEST(rc == 0U); // the frame is complete
    BOOST_TEST(std::string(out.data(), o.pos) == "hello berth\n");
    const size_t bad = ZSTD_decompressStream(ctx, &o, &in); // nothing left: fine, no error
    BOOST_TEST(!ZSTD_isError(bad));
    BOOST_TEST(std::string(ZSTD_getErrorName(static_cast<size_t>(-1))).size() > 0U);
    ZSTD_freeDCtx(ctx);
}

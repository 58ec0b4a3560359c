// agent/berthd/decompress_dl.cpp — ISA-L and zstd are loaded (dlopen) by the first layer berthd
// decompresses, not when it starts: linked normally they cost an idle node about 0.26 MB of RSS
// (ISA-L's dispatch tables and both libraries' relocated data; docs/BENCHMARKS.md, "Memory").
// As crypto_dl.cpp does for OpenSSL, this file defines the functions image/decompress.cpp calls,
// with the libraries' own names and signatures, and forwards each; image/ is unchanged and other
// binaries link the libraries themselves. A library that cannot be loaded is logged once (ENOPKG,
// naming it and its Debian package) and its functions fail as the library reports failure, so
// the pull fails with a decompression error after that log line.
#include <isa-l/igzip_lib.h>
#include <zstd.h>
#include <mutex>
#include "base/dl.hpp"
#include "base/log.hpp"

namespace {

constexpr const char* isal_soname = "libisal.so.2"; // Debian 12's libisal2
constexpr const char* zstd_soname = "libzstd.so.1"; // Debian 12's libzstd1

struct Isal {
    decltype(&::isal_inflate_init) inflate_init = nullptr;
    decltype(&::isal_inflate_reset) inflate_reset = nullptr;
    decltype(&::isal_inflate) inflate = nullptr;
};

struct Zstd {
    decltype(&::ZSTD_createDCtx) create_dctx = nullptr;
    decltype(&::ZSTD_freeDCtx) free_dctx = nullptr;
    decltype(&::ZSTD_DCtx_setParameter) set_parameter = nullptr;
    decltype(&::ZSTD_decompressStream) decompress_stream = nullptr;
    decltype(&::ZSTD_isError) is_error = nullptr;
    decltype(&::ZSTD_getErrorName) error_name = nullptr;
};

berth::Result<void> bind_isal(void* l, Isal& a)
{
    for (auto r : {berth::bind_symbol(l, isal_soname, "isal_inflate_init", a.inflate_init),
                   berth::bind_symbol(l, isal_soname, "isal_inflate_reset", a.inflate_reset),
                   berth::bind_symbol(l, isal_soname, "isal_inflate", a.inflate)})
        if (!r)
            return r;
    return {};
}

berth::Result<void> bind_zstd(void* l, Zstd& a)
{
    for (auto r : {berth::bind_symbol(l, zstd_soname, "ZSTD_createDCtx", a.create_dctx),
                   berth::bind_symbol(l, zstd_soname, "ZSTD_freeDCtx", a.free_dctx),
                   berth::bind_symbol(l, zstd_soname, "ZSTD_DCtx_setParameter", a.set_parameter),
                   berth::bind_symbol(l, zstd_soname, "ZSTD_decompressStream", a.decompress_stream),
                   berth::bind_symbol(l, zstd_soname, "ZSTD_isError", a.is_error),
                   berth::bind_symbol(l, zstd_soname, "ZSTD_getErrorName", a.error_name)})
        if (!r)
            return r;
    return {};
}

// The loaded library's functions, or nullptr once loading failed (logged once). Never unloaded.
template <class Api>
const Api* load(const char* soname, const char* package, berth::Result<void> (*bind)(void*, Api&))
{
    static Api loaded{};
    static const Api* result = nullptr;
    static std::once_flag once;
    std::call_once(once, [&] {
        auto library = berth::load_library(soname, package);
        auto bound = library ? bind(*library, loaded) : berth::Result<void>(library.error());
        if (!bound) {
            berth::log::error(bound.error(), "cannot decompress layers");
            return;
        }
        result = &loaded;
    });
    return result;
}

const Isal* isal()
{
    return load<Isal>(isal_soname, "libisal2", bind_isal);
}

const Zstd* zstd()
{
    return load<Zstd>(zstd_soname, "libzstd1", bind_zstd);
}

// zstd's error codes are the top of size_t's range (ZSTD_isError's own definition).
constexpr size_t zstd_generic_error = static_cast<size_t>(-1);

} // namespace

extern "C" {

void isal_inflate_init(inflate_state* state)
{
    if (const Isal* a = isal(); a != nullptr)
        a->inflate_init(state);
}

void isal_inflate_reset(inflate_state* state)
{
    if (const Isal* a = isal(); a != nullptr)
        a->inflate_reset(state);
}

int isal_inflate(inflate_state* state)
{
    const Isal* a = isal();
    return a != nullptr ? a->inflate(state) : ISAL_INVALID_BLOCK;
}

ZSTD_DCtx* ZSTD_createDCtx()
{
    const Zstd* a = zstd();
    return a != nullptr ? a->create_dctx() : nullptr;
}

size_t ZSTD_freeDCtx(ZSTD_DCtx* dctx)
{
    const Zstd* a = zstd();
    return a != nullptr ? a->free_dctx(dctx) : 0;
}

size_t ZSTD_DCtx_setParameter(ZSTD_DCtx* dctx, ZSTD_dParameter param, int value)
{
    const Zstd* a = zstd();
    return a != nullptr && dctx != nullptr ? a->set_parameter(dctx, param, value)
                                           : zstd_generic_error;
}

size_t ZSTD_decompressStream(ZSTD_DCtx* zds, ZSTD_outBuffer* output, ZSTD_inBuffer* input)
{
    const Zstd* a = zstd();
    return a != nullptr && zds != nullptr ? a->decompress_stream(zds, output, input)
                                          : zstd_generic_error;
}

unsigned ZSTD_isError(size_t code)
{
    const Zstd* a = zstd();
    return a != nullptr ? a->is_error(code) : static_cast<unsigned>(code == zstd_generic_error);
}

const char* ZSTD_getErrorName(size_t code)
{
    const Zstd* a = zstd();
    return a != nullptr ? a->error_name(code) : "libzstd.so.1 could not be loaded";
}

} // extern "C"

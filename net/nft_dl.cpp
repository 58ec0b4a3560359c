// net/nft_dl.cpp — libnftables loaded (dlopen) when berth's table is written, and unloaded again
// when the Nft lets go of it: after open and recover an idle node holds none of libnftables,
// libnftnl, libgmp, libjansson and libxtables (about 1.3 MB of berthd's RSS; docs/BENCHMARKS.md,
// "Memory"). None of them registers exit handlers or thread keys, so unloading is safe. A missing
// library is ENOPKG naming it and its Debian package (base/dl.hpp).
#include <dlfcn.h>
#include <nftables/libnftables.h>
#include "base/dl.hpp"
#include "net/internal.hpp"

namespace berth::net {
namespace {

// Debian 12's libnftables1; the soname the headers we build with describe.
constexpr const char* nftables_soname = "libnftables.so.1";

} // namespace

Result<NftLibrary> NftLibrary::load(const char* soname)
{
    if (soname == nullptr)
        soname = nftables_soname;
    auto handle = load_library(soname, "libnftables1");
    if (!handle)
        return std::move(handle).error();
    NftLibrary l;
    l.handle_ = *handle;
    for (auto r : {bind_symbol(l.handle_, soname, "nft_ctx_new", l.ctx_new),
                   bind_symbol(l.handle_, soname, "nft_ctx_free", l.ctx_free),
                   bind_symbol(l.handle_, soname, "nft_ctx_buffer_output", l.buffer_output),
                   bind_symbol(l.handle_, soname, "nft_ctx_buffer_error", l.buffer_error),
                   bind_symbol(l.handle_, soname, "nft_ctx_get_error_buffer", l.error_buffer),
                   bind_symbol(l.handle_, soname, "nft_run_cmd_from_buffer", l.run_cmd)})
        if (!r)
            return std::move(r).error(); // l's destructor unloads it
    return l;
}

NftLibrary::NftLibrary(NftLibrary&& other) noexcept
    : ctx_new(other.ctx_new), ctx_free(other.ctx_free), buffer_output(other.buffer_output),
      buffer_error(other.buffer_error), error_buffer(other.error_buffer), run_cmd(other.run_cmd),
      handle_(std::exchange(other.handle_, nullptr))
{
}

NftLibrary::~NftLibrary()
{
    if (handle_ != nullptr)
        ::dlclose(handle_);
}

} // namespace berth::net

// base/dl.cpp — see dl.hpp.
#include "base/dl.hpp"
#include <dlfcn.h>
#include <cerrno>

namespace berth {
namespace {

std::string last_dl_error()
{
    const char* text = ::dlerror(); // NOLINT(concurrency-mt-unsafe): glibc keeps it per thread
    return text != nullptr ? text : "unknown dlopen error";
}

} // namespace

Result<void*> load_library(const char* soname, std::string_view package)
{
    void* library = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr)
        return Error::with_code(ENOPKG, "cannot load ", soname, " (Debian package ", package,
                                "): ", last_dl_error());
    return library;
}

Result<void*> library_symbol(void* library, const char* soname, const char* name)
{
    ::dlerror(); // NOLINT(concurrency-mt-unsafe): clears this thread's error state
    void* symbol = ::dlsym(library, name);
    if (symbol == nullptr)
        return Error::with_code(ENOPKG, soname, " lacks ", name, ": ", last_dl_error());
    return symbol;
}

} // namespace berth

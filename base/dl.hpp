// base/dl.hpp — a shared library loaded at its first use instead of at start (dlopen), for the
// libraries an idle node never calls: each one linked normally costs berthd its relocations and
// constructors in RSS from its first instant (docs/BENCHMARKS.md, "Memory"). A library that
// cannot be loaded is an ENOPKG error naming it and the Debian package that ships it.
#pragma once
#include <string_view>
#include "base/result.hpp"

namespace berth {

// dlopen(soname, RTLD_NOW | RTLD_LOCAL). Never unloaded by berth (many libraries do not support
// it). ENOPKG: "cannot load <soname> (Debian package <package>): <dlerror>".
Result<void*> load_library(const char* soname, std::string_view package);

// The address of name in library; ENOPKG naming the symbol when the library lacks it (an older
// or different build than the one berth was built against).
Result<void*> library_symbol(void* library, const char* soname, const char* name);

// library_symbol into a function pointer of the declared type.
template <class F>
Result<void> bind_symbol(void* library, const char* soname, const char* name, F& function)
{
    auto symbol = library_symbol(library, soname, name);
    if (!symbol)
        return std::move(symbol).error();
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): dlsym's void* to a function
    function = reinterpret_cast<F>(*symbol);
    return {};
}

} // namespace berth

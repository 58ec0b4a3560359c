// image/curl_dl.cpp — libcurl is loaded (dlopen) by the first call into it, i.e. by the first
// pull, not when berthd or the berth CLI starts. Why: linked normally, libcurl brings about 20
// libraries (GnuTLS through LDAP and RTMP, Kerberos, libssh2, nghttp2, p11-kit, ...) whose
// relocations and constructors cost berthd about 4 MB of RSS from its first instant, while a node
// with cached images never pulls (docs/BENCHMARKS.md, berthd's memory). This file defines the
// libcurl functions image/ calls, with libcurl's own names and signatures, and forwards each to
// the real one; image/ code is unchanged. If libcurl cannot be loaded, curl_global_init fails
// (and says why on stderr) and every other function fails the way libcurl reports failure.
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace {

// NOLINTBEGIN(cppcoreguidelines-pro-type-vararg): forwarding libcurl's own variadic functions
struct Api {
    CURLcode (*global_init)(long);
    CURL* (*easy_init)();
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
    CURLcode (*easy_perform)(CURL*);
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
    void (*easy_cleanup)(CURL*);
    char* (*easy_escape)(CURL*, const char*, int);
    const char* (*easy_strerror)(CURLcode);
    void (*free)(void*);
    CURLSH* (*share_init)();
    CURLSHcode (*share_setopt)(CURLSH*, CURLSHoption, ...);
    CURLSHcode (*share_cleanup)(CURLSH*);
    curl_slist* (*slist_append)(curl_slist*, const char*);
    void (*slist_free_all)(curl_slist*);
};

template <typename F>
bool bind(void* library, const char* name, F& f)
{
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): dlsym's void* to a function
    f = reinterpret_cast<F>(::dlsym(library, name));
    return f != nullptr;
}

bool bind_all(void* l, Api& a)
{
    return bind(l, "curl_global_init", a.global_init) && bind(l, "curl_easy_init", a.easy_init) &&
           bind(l, "curl_easy_setopt", a.easy_setopt) &&
           bind(l, "curl_easy_perform", a.easy_perform) &&
           bind(l, "curl_easy_getinfo", a.easy_getinfo) &&
           bind(l, "curl_easy_cleanup", a.easy_cleanup) &&
           bind(l, "curl_easy_escape", a.easy_escape) &&
           bind(l, "curl_easy_strerror", a.easy_strerror) && bind(l, "curl_free", a.free) &&
           bind(l, "curl_share_init", a.share_init) &&
           bind(l, "curl_share_setopt", a.share_setopt) &&
           bind(l, "curl_share_cleanup", a.share_cleanup) &&
           bind(l, "curl_slist_append", a.slist_append) &&
           bind(l, "curl_slist_free_all", a.slist_free_all);
}

// The loaded library, or nullptr once loading failed. Never unloaded: GnuTLS and OpenSSL do
// not support it, and a node that pulled once is likely to pull again.
const Api* api()
{
    static Api loaded{};
    static const Api* result = nullptr;
    static std::once_flag once;
    std::call_once(once, [] {
        // The soname of Debian's libcurl4 (the package berth depends on), as linked before.
        void* library = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (library == nullptr) {
            std::fprintf(stderr, "berth: cannot load libcurl: %s\n", ::dlerror());
            return;
        }
        if (!bind_all(library, loaded)) {
            std::fprintf(stderr, "berth: libcurl.so.4 lacks a function berth uses: %s\n",
                         ::dlerror());
            return;
        }
        result = &loaded;
    });
    return result;
}

} // namespace

// libcurl's signatures end their named parameters with an enum (CURLoption, CURLINFO,
// CURLSHoption) before the "...": clang warns that va_start after a parameter of a promotable type
// is undefined. These enums are int-sized (values up to 40000+, no fixed underlying type), so the
// promoted type has the same representation, as in libcurl's own implementation of them (C).
#ifdef __clang__
#pragma clang diagnostic ignored "-Wvarargs"
#endif

extern "C" {

CURLcode curl_global_init(long flags)
{
    const Api* a = api();
    return a ? a->global_init(flags) : CURLE_FAILED_INIT;
}

CURL* curl_easy_init()
{
    const Api* a = api();
    return a ? a->easy_init() : nullptr;
}

// Every option's type is given by its number range (curl.h, CURLOPTTYPE_*); the argument is read
// with that type, as libcurl itself reads it, and passed on with the same type.
CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...)
{
    const Api* a = api();
    if (!a)
        return CURLE_FAILED_INIT;
    va_list args;
    va_start(args, option);
    CURLcode rc = CURLE_OK;
    const int n = option;
    // NOLINTBEGIN(bugprone-branch-clone): the branches differ in the type va_arg reads
    if (n < CURLOPTTYPE_OBJECTPOINT)
        rc = a->easy_setopt(curl, option, va_arg(args, long));
    else if (n < CURLOPTTYPE_FUNCTIONPOINT)
        rc = a->easy_setopt(curl, option, va_arg(args, void*));
    else if (n < CURLOPTTYPE_OFF_T)
        rc = a->easy_setopt(curl, option, va_arg(args, void (*)()));
    else if (n < CURLOPTTYPE_BLOB)
        rc = a->easy_setopt(curl, option, va_arg(args, curl_off_t));
    else
        rc = a->easy_setopt(curl, option, va_arg(args, void*));
    // NOLINTEND(bugprone-branch-clone)
    va_end(args);
    return rc;
}

CURLcode curl_easy_perform(CURL* curl)
{
    const Api* a = api();
    return a ? a->easy_perform(curl) : CURLE_FAILED_INIT;
}

// Every CURLINFO takes a pointer to where the answer goes.
CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...)
{
    const Api* a = api();
    if (!a)
        return CURLE_FAILED_INIT;
    va_list args;
    va_start(args, info);
    void* out = va_arg(args, void*);
    va_end(args);
    return a->easy_getinfo(curl, info, out);
}

void curl_easy_cleanup(CURL* curl)
{
    if (const Api* a = api())
        a->easy_cleanup(curl);
}

char* curl_easy_escape(CURL* handle, const char* string, int length)
{
    const Api* a = api();
    return a ? a->easy_escape(handle, string, length) : nullptr;
}

const char* curl_easy_strerror(CURLcode code)
{
    const Api* a = api();
    return a ? a->easy_strerror(code) : "libcurl could not be loaded";
}

void curl_free(void* p)
{
    if (const Api* a = api())
        a->free(p);
}

CURLSH* curl_share_init()
{
    const Api* a = api();
    return a ? a->share_init() : nullptr;
}

// The share options image/ uses, with the types libcurl reads them as (curl/curl.h).
CURLSHcode curl_share_setopt(CURLSH* share, CURLSHoption option, ...)
{
    const Api* a = api();
    if (!a)
        return CURLSHE_NOT_BUILT_IN;
    va_list args;
    va_start(args, option);
    CURLSHcode rc = CURLSHE_BAD_OPTION;
    // NOLINTBEGIN(bugprone-branch-clone): the branches differ in the type va_arg reads
    switch (option) {
    case CURLSHOPT_SHARE:
    case CURLSHOPT_UNSHARE: rc = a->share_setopt(share, option, va_arg(args, int)); break;
    case CURLSHOPT_LOCKFUNC:
    case CURLSHOPT_UNLOCKFUNC: rc = a->share_setopt(share, option, va_arg(args, void (*)())); break;
    case CURLSHOPT_USERDATA: rc = a->share_setopt(share, option, va_arg(args, void*)); break;
    default: break;
    }
    // NOLINTEND(bugprone-branch-clone)
    va_end(args);
    return rc;
}

CURLSHcode curl_share_cleanup(CURLSH* share)
{
    const Api* a = api();
    return a ? a->share_cleanup(share) : CURLSHE_NOT_BUILT_IN;
}

curl_slist* curl_slist_append(curl_slist* list, const char* data)
{
    const Api* a = api();
    return a ? a->slist_append(list, data) : nullptr;
}

void curl_slist_free_all(curl_slist* list)
{
    if (const Api* a = api())
        a->slist_free_all(list);
}

} // extern "C"
// NOLINTEND(cppcoreguidelines-pro-type-vararg)

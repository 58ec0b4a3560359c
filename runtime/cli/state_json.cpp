#include "runtime/cli/state_json.hpp"
#include <nss.h>
#include <pwd.h>
#include <sys/stat.h>
#include <cstdio>
#include <ctime>

namespace berth::cli {

std::string rfc3339_nano(std::chrono::system_clock::time_point time)
{
    const auto since_epoch = time.time_since_epoch();
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds);
    if (nanos.count() < 0) { // before 1970: borrow a second so the fraction is positive
        seconds -= std::chrono::seconds(1);
        nanos += std::chrono::seconds(1);
    }
    const std::time_t whole = seconds.count();
    std::tm utc{};
    ::gmtime_r(&whole, &utc);
    char buffer[40];
    std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
    std::string text(buffer, n);
    if (nanos.count() != 0) {
        char fraction[16];
        std::snprintf(fraction, sizeof fraction, ".%09lld", static_cast<long long>(nanos.count()));
        std::string digits = fraction;
        while (digits.back() == '0')
            digits.pop_back();
        text += digits;
    }
    return text + "Z";
}

nlohmann::ordered_json state_object(const runtime::State& state, const std::string& owner)
{
    nlohmann::ordered_json object;
    object["ociVersion"] = state.oci_version;
    object["id"] = state.id;
    object["pid"] = state.pid;
    object["status"] = std::string(runtime::status_name(state.status));
    object["bundle"] = state.bundle;
    object["rootfs"] = state.rootfs;
    object["created"] = rfc3339_nano(state.created);
    object["owner"] = owner;
    if (!state.annotations.empty())
        object["annotations"] = state.annotations;
    return object;
}

std::string state_owner(const std::string& root, const std::string& id)
{
    struct stat info {};
    if (::stat((root + "/" + id).c_str(), &info) < 0)
        return "";
    // berth-runtime is a static-pie (runtime/cli/meson.build): a static glibc that reached for
    // another NSS module (nsswitch.conf's "systemd" after "files" for a uid /etc/passwd does
    // not list) would dlopen a shared libc into the process, and it crashed doing so. The
    // owner is looked up in /etc/passwd only, by glibc's built-in files module (runc's pure-Go
    // lookup reads /etc/passwd too); a uid it does not list shows as "#<uid>", as before.
    static const bool files_only = ::__nss_configure_lookup("passwd", "files") == 0;
    (void)files_only;
    char buffer[4096];
    passwd entry{};
    passwd* found = nullptr;
    if (::getpwuid_r(info.st_uid, &entry, buffer, sizeof buffer, &found) == 0 && found)
        return found->pw_name;
    return cat("#", info.st_uid);
}

} // namespace berth::cli

// runtime/cli/spec.cpp — `spec [-b dir] [--rootless]`: writes runc 1.1's default config.json
// (same fields, order and tab indentation), so bundles made for runc work unchanged. The default
// is the library's (runtime/spec.hpp default_spec, spec_to_json); --rootless is applied here, on
// the JSON, as runc's specconv.ToRootless does.
#include <fcntl.h>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include "base/files.hpp"
#include "runtime/runtime.hpp"
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {
namespace {

using Json = nlohmann::ordered_json;

const Flag spec_flags[] = {
    {"bundle", 'b', true, "path to the root of the bundle directory"},
    {"rootless", 0, false, "generate a configuration for a rootless container"},
};

Json mount(const char* destination, const char* type, const char* source,
           const std::vector<std::string>& options = {})
{
    Json m = {{"destination", destination}, {"type", type}, {"source", source}};
    if (!options.empty())
        m["options"] = options;
    return m;
}

// runc's specconv.ToRootless: a user namespace mapping the caller to root, no network
// namespace, /sys bind-mounted, no gid= on devpts, no resources.
void make_rootless(Json& spec)
{
    auto& linux_section = spec["linux"];
    Json rootless = {
        {"uidMappings", Json::array({{{"containerID", 0}, {"hostID", ::geteuid()}, {"size", 1}}})},
        {"gidMappings", Json::array({{{"containerID", 0}, {"hostID", ::getegid()}, {"size", 1}}})},
    };
    Json namespaces = Json::array();
    for (const auto& ns : linux_section["namespaces"])
        if (ns["type"] != "network")
            namespaces.push_back(ns);
    namespaces.push_back({{"type", "user"}});
    rootless["namespaces"] = namespaces;
    rootless["maskedPaths"] = linux_section["maskedPaths"];
    rootless["readonlyPaths"] = linux_section["readonlyPaths"];
    linux_section = rootless;
    for (auto& m : spec["mounts"]) {
        if (m["destination"] == "/sys") {
            m = mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"});
        } else if (m["destination"] == "/dev/pts") {
            auto& options = m["options"];
            Json kept = Json::array();
            for (const auto& option : options)
                if (option.get<std::string>().rfind("gid=", 0) != 0)
                    kept.push_back(option);
            options = kept;
        }
    }
}

} // namespace

int spec_main(const Options&, Args args)
{
    static const VerbSpec verb{"spec", "", "create a new specification file", spec_flags, 0, 0};
    auto parsed_or_code = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed_or_code))
        return *code;
    const auto& parsed = std::get<Parsed>(parsed_or_code);
    const auto bundle = parsed.value("bundle");
    if (!bundle.empty() && ::chdir(bundle.c_str()) < 0)
        return fail(Error::from_errno("chdir ", bundle));
    if (path_exists("config.json"))
        return fail("File config.json exists. Remove it first");
    auto text = runtime::spec_to_json(runtime::default_spec());
    if (!text)
        return fail(std::move(text).error().wrap("default spec"));
    if (parsed.flag("rootless")) {
        auto spec = Json::parse(*text, nullptr, false);
        if (spec.is_discarded())
            return fail("default spec: not valid JSON");
        make_rootless(spec);
        *text = spec.dump(1, '\t');
    }
    auto fd = open_at(AT_FDCWD, "config.json", O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (!fd)
        return fail(fd.error());
    auto written = write_all(fd->get(), *text);
    if (!written)
        return fail(std::move(written).error().wrap("write config.json"));
    return 0;
}

} // namespace berth::cli

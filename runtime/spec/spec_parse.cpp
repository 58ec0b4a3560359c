// runtime/spec/spec_parse.cpp — config.json bytes to a validated Spec: the JSON document, the
// top-level fields, root, mounts and annotations. The other parts live in spec_*.cpp.
#include <new>
#include "base/files.hpp"
#include "runtime/spec/spec_parts.hpp"

namespace berth::runtime {

using spec_json::At;
using spec_json::Json;
using spec_json::Object;

namespace {

// Real configs nest about six levels deep. The cap keeps hostile input ("[[[[...") from
// costing deep recursion anywhere a JSON tree is walked or destroyed.
constexpr int max_depth = 64;

Result<void> check_depth(std::string_view text)
{
    int depth = 0;
    bool in_string = false, escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return Error::invalid("JSON nested deeper than ", max_depth, " levels");
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return {};
}

// Parses without exceptions; the document must be a JSON object.
Result<Json> parse_document(std::string_view text)
{
    if (text.size() > max_spec_bytes)
        return Error::invalid("config is ", text.size(), " bytes, more than the limit of ",
                              max_spec_bytes);
    auto depth = check_depth(text);
    if (!depth)
        return std::move(depth).error();
    auto json = Json::parse(text.begin(), text.end(), nullptr, false);
    if (json.is_discarded())
        return Error::invalid("not valid JSON");
    if (!json.is_object())
        return Error::invalid("expected a JSON object, got ", spec_json::type_name(json));
    return json;
}

Result<std::string> parse_oci_version(const At& at)
{
    auto text = spec_json::Decoder<std::string>::decode(at);
    if (!text)
        return text;
    // Only the major version decides compatibility; "1.0.2-dev" and "1.1.0" are both fine.
    const auto dot = text->find('.');
    if (dot == std::string::npos || text->substr(0, dot) != "1")
        return at.invalid("unsupported version ", berth::quoted(*text), " (berth reads 1.x)");
    return text;
}

Result<Root> parse_root(const At& at)
{
    Root root;
    Object obj(at);
    obj.require("path", root.path);
    obj.read("readonly", root.readonly);
    if (obj.ok() && root.path.empty())
        obj.fail(at.member("path", at.json).invalid("must not be empty"));
    if (!obj.ok())
        return std::move(obj).error();
    return root;
}

Result<std::string> parse_host_name(const At& at)
{
    auto text = spec_json::Decoder<std::string>::decode(at);
    if (text && text->size() > 64) // HOST_NAME_MAX: sethostname() would fail with EINVAL
        return at.invalid("longer than 64 bytes");
    return text;
}

Result<Mount> parse_mount(const At& at)
{
    Mount mount;
    Object obj(at);
    obj.require("destination", mount.destination);
    obj.read("type", mount.type);
    obj.read("source", mount.source);
    obj.read("options", mount.raw_options);
    obj.refuse("uidMappings", "id-mapped mounts are not supported by berth");
    obj.refuse("gidMappings", "id-mapped mounts are not supported by berth");
    if (!obj.ok())
        return std::move(obj).error();
    if (!spec_json::is_absolute(mount.destination))
        return at.member("destination", at.json)
            .invalid("must be an absolute path, got ", berth::quoted(mount.destination));
    auto options = parse_mount_options(mount.raw_options);
    if (!options)
        return std::move(options).error().wrap(at.member("options", at.json).path);
    mount.options = std::move(*options);
    // A bind mount is a bind mount whatever the type says ("none", "bind"), as in runc.
    if (mount.type == "bind")
        mount.options.bind = true;
    if (mount.options.bind) {
        mount.type.clear();
        if (mount.source.empty())
            return at.member("source", at.json).invalid("required for a bind mount");
    } else if (mount.type.empty()) {
        return at.member("type", at.json).invalid("required unless the mount is a bind mount");
    }
    return mount;
}

Result<std::map<std::string, std::string>> parse_annotations(const At& at)
{
    auto map = spec_json::Decoder<std::map<std::string, std::string>>::decode(at);
    if (map && map->count(""))
        return at.invalid("keys must not be empty");
    return map;
}

Result<Spec> parse_spec_object(const At& at)
{
    Spec spec;
    Object obj(at);
    obj.require("ociVersion", spec.oci_version, parse_oci_version);
    obj.require("root", spec.root, parse_root);
    obj.read("process", spec.process, spec_parts::parse_process);
    obj.read("hostname", spec.hostname, parse_host_name);
    obj.read("domainname", spec.domainname, parse_host_name);
    obj.read("mounts", spec.mounts,
             [](const At& a) { return spec_json::decode_array<Mount>(a, parse_mount); });
    obj.read("hooks", spec.hooks, spec_parts::parse_hooks);
    obj.read("annotations", spec.annotations, parse_annotations);
    obj.read("linux", spec.linux, spec_parts::parse_linux);
    if (!obj.ok())
        return std::move(obj).error();
    auto cross = spec_parts::check_cross_fields(spec);
    if (!cross)
        return std::move(cross).error();
    return spec;
}

} // namespace

Result<Spec> parse_spec(std::string_view text)
{
    // The one place nlohmann::json is driven: the reads above check types first and do not
    // throw, so this catch is a backstop (and turns bad_alloc into an error, not an abort).
    try {
        auto json = parse_document(text);
        if (!json)
            return std::move(json).error();
        return parse_spec_object(At{*json, ""});
    } catch (const std::bad_alloc&) {
        return Error::with_code(ENOMEM, "config too large to hold in memory");
    } catch (const std::exception& e) {
        return Error::invalid("config: ", e.what());
    }
}

Result<Process> parse_process(std::string_view text)
{
    try {
        auto json = parse_document(text);
        if (!json)
            return std::move(json).error();
        return spec_parts::parse_process(At{*json, "process"});
    } catch (const std::bad_alloc&) {
        return Error::with_code(ENOMEM, "process too large to hold in memory");
    } catch (const std::exception& e) {
        return Error::invalid("process: ", e.what());
    }
}

Result<Spec> load_spec(const std::string& bundle)
{
    const auto path = cat(bundle, "/config.json");
    auto text = read_file(path, max_spec_bytes);
    if (!text)
        return std::move(text).error().wrap("load spec");
    auto spec = parse_spec(*text);
    if (!spec)
        return std::move(spec).error().wrap(path);
    return spec;
}

} // namespace berth::runtime

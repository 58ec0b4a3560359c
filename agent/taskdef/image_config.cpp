// agent/taskdef/image_config.cpp — the part of an OCI image config build_spec needs: the
// "config" object's Env, Entrypoint, Cmd, User, WorkingDir, ExposedPorts and Labels. The blob
// comes from a registry, so it is size-capped and every field type-checked.
#include <nlohmann/json.hpp>
#include "agent/taskdef/internal.hpp"

namespace berth::taskdef {

using nlohmann::json;

namespace {

Result<void> read_config(const json& config, ImageRunConfig& out)
{
    if (!config.is_object())
        return Error::invalid("image config: config: expected an object");
    for (auto [key, target] :
         {std::pair{"Env", &out.env}, {"Entrypoint", &out.entrypoint}, {"Cmd", &out.cmd}}) {
        auto it = config.find(key);
        if (it == config.end() || it->is_null())
            continue;
        auto list = json_read::as_strings(*it, cat("image config: config.", key), 65536);
        if (!list)
            return std::move(list).error();
        *target = std::move(*list);
    }
    for (auto [key, target] : {std::pair{"User", &out.user}, {"WorkingDir", &out.working_dir}}) {
        auto it = config.find(key);
        if (it == config.end() || it->is_null())
            continue;
        auto s = json_read::as_string(*it, cat("image config: config.", key));
        if (!s)
            return std::move(s).error();
        *target = std::move(*s);
    }
    if (auto it = config.find("ExposedPorts"); it != config.end() && it->is_object())
        for (const auto& [port, ignored] : it->items())
            out.exposed_ports.push_back(port);
    if (auto it = config.find("Labels"); it != config.end() && !it->is_null()) {
        auto labels = json_read::as_string_map(*it, "image config: config.Labels");
        if (!labels)
            return std::move(labels).error();
        out.labels = std::move(*labels);
    }
    return {};
}

} // namespace

Result<ImageRunConfig> parse_image_run_config(std::string_view image_config_json)
{
    if (image_config_json.size() > max_task_definition_bytes * 4)
        return Error::invalid("image config: larger than ", max_task_definition_bytes * 4,
                              " bytes");
    json document = json::parse(image_config_json, nullptr, false);
    if (document.is_discarded() || !document.is_object())
        return Error::invalid("image config: not a JSON object");
    ImageRunConfig out;
    auto it = document.find("config");
    if (it == document.end() || it->is_null())
        return out; // an image with no run config: everything comes from the task definition
    if (auto r = read_config(*it, out); !r)
        return std::move(r).error();
    return out;
}

} // namespace berth::taskdef

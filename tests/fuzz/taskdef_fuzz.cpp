// tests/fuzz/taskdef_fuzz.cpp — a RegisterTaskDefinition body from an API client (untrusted) ->
// parse_task_definition_text; the same bytes as an image config blob -> parse_image_run_config.
// Properties: refusals explain themselves as bad input (EINVAL) naming a field; what is accepted
// describes (to_json), reads back (from_json) and describes the same again, and keeps the rules
// checks.cpp promises (unique names, an essential container).
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <set>
#include <nlohmann/json.hpp>
#include "agent/taskdef/taskdef.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

namespace {

void check_accepted(const taskdef::TaskDefinition& task)
{
    fuzz::require(!task.family.empty(), "an accepted definition has a family");
    fuzz::require(!task.containers.empty(), "an accepted definition has a container");
    std::set<std::string> names;
    bool essential = false;
    for (const auto& c : task.containers) {
        fuzz::require(names.insert(c.name).second, "container names are unique");
        essential = essential || c.is_essential();
    }
    fuzz::require(essential, "one container is essential");
    const nlohmann::json described = taskdef::to_json(task);
    auto back = taskdef::from_json(described);
    fuzz::require(back.has_value(), "what to_json writes, from_json reads");
    fuzz::require(taskdef::to_json(*back) == described, "describe -> read -> describe is stable");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const std::string_view text = fuzz::as_text(data, size);
    auto task = taskdef::parse_task_definition_text(text);
    if (task) {
        check_accepted(*task);
    } else {
        fuzz::require_explained(task.error());
        fuzz::require(task.error().code == EINVAL && task.error().bad_input,
                      "a refused definition is bad input (EINVAL)");
    }
    auto image = taskdef::parse_image_run_config(text);
    if (!image)
        fuzz::require_explained(image.error());
    return 0;
}

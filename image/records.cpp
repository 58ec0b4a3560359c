// image/records.cpp — see records.hpp. The file name is the sha256 of the canonical reference, so
// any reference (with ':' and '/') maps to one flat, safe name.
#include "image/records.hpp"
#include <nlohmann/json.hpp>
#include "image/store_fs.hpp"
#include "base/small_hash.hpp"

namespace berth::image {

std::string record_to_json(const ImageRecord& r)
{
    nlohmann::json j = {{"reference", r.reference},  {"manifest", r.manifest_digest},
                        {"config", r.config_digest}, {"layers", r.layers},
                        {"chain", r.chain},          {"size", r.size},
                        {"created", r.created}};
    return j.dump(2) + "\n";
}

Result<ImageRecord> record_from_json(std::string_view text)
{
    auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    const auto bad = Error::invalid("image record: not the format berth writes");
    if (!j.is_object())
        return bad;
    ImageRecord r;
    for (const auto* key : {"reference", "manifest", "config"})
        if (!j.contains(key) || !j[key].is_string())
            return bad;
    r.reference = j["reference"].get<std::string>();
    r.manifest_digest = j["manifest"].get<std::string>();
    r.config_digest = j["config"].get<std::string>();
    for (const auto* key : {"layers", "chain"}) {
        if (!j.contains(key) || !j[key].is_array())
            return bad;
        for (const auto& d : j[key]) {
            if (!d.is_string() || !is_valid_digest(d.get<std::string>()))
                return bad;
            (std::string_view(key) == "layers" ? r.layers : r.chain)
                .push_back(d.get<std::string>());
        }
    }
    if (j.contains("size") && j["size"].is_number_unsigned())
        r.size = j["size"].get<std::uint64_t>();
    if (j.contains("created") && j["created"].is_number_integer())
        r.created = j["created"].get<std::int64_t>();
    return r;
}

std::string record_file(const std::string& root, std::string_view canonical_reference)
{
    // The kernel's SHA-256 (base/small_hash.hpp): finding an image a node holds maps no libcrypto.
    return cat(root, "/images/", small_hash::hex(small_hash::sha256({canonical_reference})),
               ".json");
}

} // namespace berth::image

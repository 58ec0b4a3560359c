// image/records.hpp — image records as JSON files under <root>/images, one per reference.
// Internal to image/.
#pragma once
#include <string>
#include <string_view>
#include "image/image.hpp"

namespace berth::image {

std::string record_to_json(const ImageRecord& record);
Result<ImageRecord> record_from_json(std::string_view text);
std::string record_file(const std::string& root, std::string_view canonical_reference);

} // namespace berth::image

// image/media_types.hpp — the media types berth understands, and a layer's compression.
#pragma once
#include <string_view>

namespace berth::image {

inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view docker_manifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view manifest_accept =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

enum class Compression { None, Gzip, Zstd, Unknown };

inline Compression layer_compression(std::string_view media_type)
{
    if (media_type == "application/vnd.oci.image.layer.v1.tar" ||
        media_type == "application/vnd.docker.image.rootfs.diff.tar")
        return Compression::None;
    if (media_type == "application/vnd.oci.image.layer.v1.tar+gzip" ||
        media_type == "application/vnd.docker.image.rootfs.diff.tar.gzip")
        return Compression::Gzip;
    if (media_type == "application/vnd.oci.image.layer.v1.tar+zstd")
        return Compression::Zstd;
    return Compression::Unknown;
}

} // namespace berth::image

// image/layer_pull.hpp — one layer: download -> sha256 -> blob temp file and inflate -> diffID
// sha256 -> tar parse -> confined writer, in a single pass over the bytes as they arrive.
// Committed (blob linked, snapshot renamed) only when size, digest and diffID all verify.
// Internal to image/.
#pragma once
#include <string>
#include "image/image.hpp"
#include "image/registry.hpp"

namespace berth::image {

struct LayerJob {
    Descriptor layer;
    std::string diff_id, chain_id;
};

// Holds the chain ID's lock for the whole pull, so concurrent pulls of the same layer (threads or
// processes) wait and then find the snapshot made.
Result<void> pull_layer(RegistryClient& client, const Store& store, const LayerJob& job,
                        const PullOptions& options);

} // namespace berth::image

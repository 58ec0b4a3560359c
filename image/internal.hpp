// image/internal.hpp — the test-visible internals of image/ (docs/ARCHITECTURE.md): tests and
// fuzz harnesses reach the digests, decompressors, tar parser, confined writer, lock files, the
// gc policy, the container scan, the legacy overlay switch and the registry client
// (registry_scheme) through this header only. Nothing outside image/ but tests/ and bench/ (its
// unpack_alone floor) includes it.
#pragma once
#include "image/archive.hpp"
#include "image/chunk_queue.hpp"
#include "image/credential_helper.hpp"
#include "image/containers.hpp"
#include "image/decompress.hpp"
#include "image/digest.hpp"
#include "image/gc_policy.hpp"
#include "image/registry.hpp"
#include "image/store_fs.hpp"
#include "image/tar.hpp"
#include "image/writer.hpp"

namespace berth::image {

// Tests only: while on, Rootfs::mount takes the mount(2) path of kernels before 6.8 (relative
// layer links, rootfs.cpp) even where "lowerdir+" works, so that path runs on any CI host.
void force_legacy_overlay(bool on);

} // namespace berth::image

// image/internal.hpp — the test-visible internals of image/ (docs/ARCHITECTURE.md): tests and
// fuzz harnesses reach the digests, decompressors, tar parser, confined writer, lock files, the
// gc policy, the container scan and the registry client (registry_scheme) through this header
// only. Nothing outside image/ but tests/ includes it.
#pragma once
#include "image/archive.hpp"
#include "image/chunk_queue.hpp"
#include "image/containers.hpp"
#include "image/decompress.hpp"
#include "image/digest.hpp"
#include "image/gc_policy.hpp"
#include "image/registry.hpp"
#include "image/store_fs.hpp"
#include "image/tar.hpp"
#include "image/writer.hpp"

// image/internal.hpp — the test-visible internals of image/ (docs/ARCHITECTURE.md): tests and
// fuzz harnesses reach the digests, decompressors, tar parser and confined writer through this
// header only. Nothing outside image/ but tests/ includes it.
#pragma once
#include "image/archive.hpp"
#include "image/decompress.hpp"
#include "image/digest.hpp"
#include "image/tar.hpp"
#include "image/writer.hpp"

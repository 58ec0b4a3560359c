// base/base.hpp — the foundation every library uses: the error model (Result, Error), owned
// descriptors (Fd), bounded file I/O, string helpers and the program-level log. It depends on
// nothing else in berth.
#pragma once
#include "base/fd.hpp"
#include "base/files.hpp"
#include "base/result.hpp"
#include "base/strings.hpp"

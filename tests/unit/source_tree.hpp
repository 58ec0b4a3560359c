// tests/unit/source_tree.hpp — files of the source tree the unit tests read (the spec fuzz seeds,
// examples/). tests/unit/meson.build passes the tree's path in the environment
// (BERTH_SOURCE_ROOT), not compiled in: a path in a -D flag differs in every clone, and ccache
// then missed on these test files (the heaviest to compile) in every fresh CI clone.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>

namespace berth::test {

// <source root>/<relative>; without BERTH_SOURCE_ROOT the test program ends saying so.
inline std::string source_path(const std::string& relative)
{
    const char* root = std::getenv("BERTH_SOURCE_ROOT"); // NOLINT(concurrency-mt-unsafe)
    if (root == nullptr || *root == '\0') {
        std::fprintf(stderr, "BERTH_SOURCE_ROOT is not set: run this test with meson test, or set "
                             "it to the source tree\n");
        std::exit(2);
    }
    return std::string(root) + "/" + relative;
}

} // namespace berth::test

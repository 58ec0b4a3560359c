// tests/unit/spec_fixture.hpp — configs for the spec tests, read from the spec fuzz seeds
// (tests/fuzz/corpus/spec), so each config exists once: what `runc spec` (runc 1.1.5) prints,
// verbatim (runc-spec.json, runc-spec-rootless.json), and a config that sets every field berth
// reads (full.json), found through source_path() (tests/unit/source_tree.hpp).
#pragma once
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/unit/source_tree.hpp"

namespace berth::test {

// The seed file's bytes; a missing seed ends the test program saying which file it wanted.
inline std::string read_spec_seed(const char* name)
{
    const std::string path = source_path("tests/fuzz/corpus/spec/") + name;
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof())
        text.clear();
    if (text.empty()) {
        std::fprintf(stderr, "spec_fixture: cannot read the seed %s\n", path.c_str());
        std::exit(2);
    }
    return text;
}

inline const std::string runc_spec = read_spec_seed("runc-spec.json");
inline const std::string runc_spec_rootless = read_spec_seed("runc-spec-rootless.json");
inline const std::string full_spec = read_spec_seed("full.json");

} // namespace berth::test

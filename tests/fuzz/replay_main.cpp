// tests/fuzz/replay_main.cpp — a main() for the harnesses without libFuzzer: feeds each file
// (or each file in each directory) given on the command line to LLVMFuzzerTestOneInput once.
// The unit suite runs every seed corpus this way with GCC (and scripts/sanitize.sh under
// ASan/UBSan), so a regression seed keeps failing a plain `meson test` until it is fixed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void replay(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::printf("replay %s (%zu bytes)\n", path.c_str(), bytes.size());
    std::fflush(stdout); // the name must be out before a crash
    // A copy on the heap of exactly the input's size, as libFuzzer does: ASan then sees reads
    // one past the end.
    std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(copy.data(), copy.size());
}

} // namespace

int main(int argc, char** argv)
{
    std::size_t count = 0;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path arg = argv[i];
        std::vector<std::filesystem::path> files;
        if (std::filesystem::is_directory(arg)) {
            for (const auto& entry : std::filesystem::directory_iterator(arg))
                if (entry.is_regular_file())
                    files.push_back(entry.path());
            std::sort(files.begin(), files.end());
        } else {
            files.push_back(arg);
        }
        for (const auto& file : files) {
            replay(file);
            ++count;
        }
    }
    std::printf("%zu inputs replayed, no crash, every property held\n", count);
    return count == 0 ? 1 : 0;
}

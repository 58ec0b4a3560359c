// agent/cli/archive_commands.cpp — berth load, save and image prune: thin wrappers over
// Store::load, Store::save and Store::gc.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include "agent/cli/cli.hpp"
#include "base/fd.hpp"

namespace berth::cli {
namespace {

int fail(const Error& e)
{
    std::fprintf(stderr, "berth: %s\n", e.message().c_str());
    return 1;
}

int usage(const char* text)
{
    std::fprintf(stderr, "usage: berth %s\n", text);
    return 2;
}

// The archive appears under its name only once complete: an O_TMPFILE in the target's directory,
// linked at the end, so a failed save leaves no half archive behind. Returns its size in bytes.
Result<std::uint64_t> save_to(const image::Store& store, const std::vector<std::string>& refs,
                              const std::string& path)
{
    const auto slash = path.rfind('/');
    const auto dir = slash == std::string::npos ? std::string(".") : path.substr(0, slash + 1);
    Fd fd(::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644));
    if (!fd.valid())
        return Error::from_errno("open a temporary file in ", quoted(dir));
    if (auto r = store.save(refs, fd.get()); !r)
        return std::move(r).error();
    if (::fsync(fd.get()) < 0)
        return Error::from_errno("fsync ", quoted(path));
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0)
        return Error::from_errno("stat ", quoted(path));
    const auto proc = cat("/proc/self/fd/", fd.get());
    ::unlink(path.c_str()); // -o replaces an older archive, as docker save does
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) < 0)
        return Error::from_errno("link ", quoted(path));
    return static_cast<std::uint64_t>(st.st_size);
}

} // namespace

int cmd_load(const Globals& g, const std::vector<std::string>& args)
{
    image::LoadOptions options;
    std::string input;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const bool has_value = i + 1 < args.size();
        if ((args[i] == "-i" || args[i] == "--input") && has_value)
            input = args[++i];
        else if (args[i] == "--name" && has_value)
            options.name = args[++i];
        else if (args[i] == "--platform" && has_value) {
            auto p = image::parse_platform(args[++i]);
            if (!p)
                return fail(p.error());
            options.platform = *p;
        } else
            return usage(
                "load [-i FILE] [--name REPO[:TAG]] [--platform OS/ARCH]  (stdin if no -i)");
    }
    Fd file;
    if (!input.empty()) {
        file.reset(::open(input.c_str(), O_RDONLY | O_CLOEXEC));
        if (!file.valid())
            return fail(Error::from_errno("open ", quoted(input)));
    }
    auto store = image::Store::open(g.image_root());
    if (!store)
        return fail(store.error());
    if (auto r = store->recover(); !r)
        return fail(r.error());
    auto records = store->load(file.valid() ? file.get() : STDIN_FILENO, options);
    if (!records)
        return fail(records.error());
    auto out = nlohmann::json::array();
    for (const auto& r : *records) {
        if (!g.json)
            std::printf("loaded %s %s\n", r.reference.c_str(), r.manifest_digest.c_str());
        out.push_back({{"reference", r.reference}, {"manifest", r.manifest_digest}});
    }
    if (g.json)
        std::printf("%s\n",
                    out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
}

int cmd_save(const Globals& g, const std::vector<std::string>& args)
{
    std::string output;
    std::vector<std::string> refs;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if ((args[i] == "-o" || args[i] == "--output") && i + 1 < args.size())
            output = args[++i];
        else if (!args[i].empty() && args[i].front() != '-')
            refs.push_back(args[i]);
        else
            return usage("save -o FILE REF...");
    }
    if (output.empty() || refs.empty())
        return usage("save -o FILE REF...");
    auto store = image::Store::open(g.image_root());
    if (!store)
        return fail(store.error());
    auto bytes = save_to(*store, refs, output);
    if (!bytes)
        return fail(bytes.error());
    if (!g.json) {
        std::printf("saved %zu image(s) to %s\n", refs.size(), output.c_str());
        return 0;
    }
    auto images = nlohmann::json::array();
    for (const auto& ref : refs) {
        auto r = store->find(ref); // save found each one; an rmi since then leaves only the name
        images.push_back({{"reference", r ? r->reference : ref},
                          {"manifest", r ? r->manifest_digest : std::string()}});
    }
    const nlohmann::json j = {{"path", output}, {"images", images}, {"bytes", *bytes}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
}

int cmd_prune(const Globals& g, const std::vector<std::string>& args)
{
    image::GcOptions options;
    for (const auto& a : args) {
        if (a == "-a" || a == "--all")
            options.unleased_images = true;
        else
            return usage("image prune [--all]  (--all: also images no lease holds)");
    }
    auto store = image::Store::open(g.image_root());
    if (!store)
        return fail(store.error());
    if (auto r = store->recover(); !r)
        return fail(r.error());
    auto report = store->gc(options);
    if (!report)
        return fail(report.error());
    if (g.json) {
        const nlohmann::json j = {{"bytes_freed", report->bytes_freed},
                                  {"blobs", report->blobs},
                                  {"snapshots", report->snapshots},
                                  {"images", report->images}};
        std::printf("%s\n",
                    j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return 0;
    }
    for (const auto& image : report->images)
        std::printf("untagged %s\n", image.c_str());
    std::printf("removed %zu blobs and %zu snapshots, freed %llu bytes\n", report->blobs,
                report->snapshots, static_cast<unsigned long long>(report->bytes_freed));
    return 0;
}

} // namespace berth::cli
